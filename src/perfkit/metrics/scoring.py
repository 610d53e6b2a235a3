"""Scoring from source records: a scheme's inputs bound to metric definitions.

An input that names a metric (``sales: {metric: revenue}``) takes its value from that
metric, computed from the records for the period; the other inputs, and extra columns such
as ``department``, come from ``rows``, merged by ``employee_id``. The result keeps the
evaluation, the metric values and the binding, so a grade can be traced back to the
records (source system, record id, contribution) that made it:

>>> from datetime import datetime, timezone
>>> from perfkit.metrics.definitions import MetricDefinitions
>>> from perfkit.metrics.records import SourceRecord
>>> from perfkit.scheme import Scheme
>>> scheme = Scheme.from_dict({"perfkit": 1, "id": "sales", "inputs": {"sales": {"metric": "revenue"}},
...     "kpis": [{"id": "k", "weight": "100%", "score": "min(sales / 1000, 100)"}],
...     "grades": [{"grade": "A", "min_score": 80}, {"grade": "B"}]})
>>> definitions = MetricDefinitions.from_dict({"perfkit_metrics": 1, "metrics": [
...     {"id": "revenue", "kind": "simple", "agg": "sum", "field": "amount", "attribution": {"owner": "owner"}}]})
>>> deal = SourceRecord.create(source="crm", record_id="OPP-1", entity="opportunity",
...     occurred_at=datetime(2026, 5, 6, tzinfo=timezone.utc), fields={"owner": "1001", "amount": 90000})
>>> traced = evaluate_records(scheme, definitions, [deal], "2026-Q2")
>>> traced["1001"].grade, [r.ref for r in traced.bound("1001")[0].metric_value.records()]
('A', ['crm:OPP-1'])

*No data is not zero.* When a bound input's metric has no data for someone, the metric's
``no_data`` policy applies first (``zero`` gives 0, ``error`` refuses), then the input's
``default``; when neither gives a value, the person is not scored and a
:class:`~perfkit.errors.DataError` names the employee, the input and the metric.
"""

from __future__ import annotations

import difflib
import json
from collections.abc import Iterable, Iterator, Mapping, Sequence
from datetime import datetime
from decimal import Decimal
from pathlib import Path
from types import MappingProxyType
from typing import Any, Literal

import attrs

from perfkit.errors import DataError, SchemeError, one_error
from perfkit.io.rows import is_empty, to_row_list
from perfkit.metrics.compute import compute
from perfkit.metrics.definitions import CompiledMetrics, MetricDefinitions, load_metrics
from perfkit.metrics.lineage import InputLineage, MetricResults, MetricValue, record_key
from perfkit.metrics.records import RecordStore, SourceRecord
from perfkit.org import Roster
from perfkit.periods import Calendar, Period
from perfkit.rules.engine import EMPLOYEE_ID, CompiledScheme, _employee_id, as_compiled
from perfkit.rules.explain import Explanation
from perfkit.rules.scorecard import Evaluation, ScoreCard
from perfkit.scheme import Scheme, combine

__all__ = ["LINEAGE_FORMAT", "BoundValue", "Origin", "TracedEvaluation", "TracedExplanation", "evaluate_records"]

LINEAGE_FORMAT = "perfkit-scoring/1"
"""The ``format`` field of :meth:`TracedEvaluation.lineage_json`."""

Origin = Literal["metric", "no_data_zero", "default"]
"""Where a bound input's value came from: the metric's value, the metric's ``no_data: zero``
(no data, counted as 0), or the input's ``default`` (the metric had no data)."""



@attrs.frozen(kw_only=True)
class BoundValue:
    """The value a bound input took for one employee, and the metric value behind it."""

    employee: str
    input: str
    metric: str
    value: Decimal
    """What the score card used."""
    origin: Origin
    metric_value: MetricValue
    """The metric's value (None when it had no data), with its lineage."""

    def to_dict(self) -> dict[str, Any]:
        """Plain data: the input, the metric, the value used, its origin, and the metric value's lineage tree."""
        return {
            "input": self.input,
            "metric": self.metric,
            "value": format(self.value, "f"),
            "origin": self.origin,
            "metric_value": _tree(self.metric_value),
        }


def _tree(value: MetricValue) -> dict[str, Any]:
    """A value's JSON entry with the inputs of ratio, derived and cumulative values nested in full."""
    data = value.to_dict()
    if isinstance(value.lineage, InputLineage):
        data["lineage"]["inputs"] = [{"name": item.name, **_tree(item.value)} for item in value.lineage.inputs]
    return data


@attrs.frozen(kw_only=True)
class TracedExplanation:
    """One score card's explanation, followed down to the records behind its bound inputs."""

    card: Explanation
    """The card's own explanation (inputs → KPIs → total → grade)."""
    inputs: tuple[BoundValue, ...]
    """The bound inputs, in scheme order, each with its metric value and lineage."""
    period: Period
    as_of: datetime | None = None
    excluded: int = 0
    """How many record versions loaded after ``as_of`` were left out."""
    limit: int = 20
    """At most this many records are listed per value in the text."""

    def __str__(self) -> str:
        return self.to_text()

    def to_text(self) -> str:
        """The card's explanation, then each bound input down to its records (plain text)."""
        lines = [self.card.to_text(), "", f"inputs from source records ({self.period.label}):"]
        for bound in self.inputs:
            value = bound.metric_value
            if bound.origin == "default":
                why = f"no data ({value.no_data}), so the input's default"
                lines.append(f"{bound.input} = {bound.value} ← metric {bound.metric}: {why}")
            else:
                lines.append(f"{bound.input} = {bound.value} ← metric {bound.metric}")
            lines.extend("  " + line for line in value.explain(limit=self.limit).splitlines())
        if self.as_of is not None:
            lines.append(f"(data as of {self.as_of.isoformat()}; {self.excluded} later record versions excluded)")
        return "\n".join(lines)

    def to_dict(self) -> dict[str, Any]:
        """JSON-able data: ``card`` (the explanation), ``period``, ``as_of``, ``inputs`` and ``records``.

        Each input holds its metric value with the lineage tree; ``records`` holds every
        record named there, by record key (``source:record_id@version``).
        """
        records: dict[str, SourceRecord] = {}
        for bound in self.inputs:
            for record in bound.metric_value.records():
                records.setdefault(record_key(record), record)
        return {
            "employee_id": self.card.employee_id,
            "card": json.loads(self.card.to_json()),
            "period": self.period.to_dict(),
            "as_of": None if self.as_of is None else self.as_of.isoformat(),
            "inputs": [bound.to_dict() for bound in self.inputs],
            "records": {key: records[key].to_dict() for key in sorted(records)},
        }

    def to_json(self) -> str:
        """:meth:`to_dict` as JSON (decimals as text, so they stay exact)."""
        return json.dumps(self.to_dict(), ensure_ascii=False, indent=2)


@attrs.frozen(kw_only=True)
class TracedEvaluation:
    """An evaluation scored from records: the cards, the metric values and the binding.

    Indexing, iteration, ``cards``, ``problems`` and ``ok`` are those of :attr:`evaluation`.
    """

    evaluation: Evaluation
    metrics: MetricResults
    """The metric values the bound inputs read, with their lineage."""
    bindings: Mapping[str, str]
    """Input name → metric id, in scheme order."""
    values: Mapping[str, tuple[BoundValue, ...]] = attrs.field(repr=False)
    """Employee id → the bound inputs' values, for every employee whose inputs could be bound."""

    @property
    def period(self) -> Period:
        return self.metrics.period

    @property
    def cards(self) -> tuple[ScoreCard, ...]:
        return self.evaluation.cards

    @property
    def problems(self) -> tuple[DataError, ...]:
        return self.evaluation.problems

    @property
    def ok(self) -> bool:
        return self.evaluation.ok

    def __len__(self) -> int:
        return len(self.evaluation)

    def __iter__(self) -> Iterator[ScoreCard]:
        return iter(self.evaluation)

    def __getitem__(self, employee_id: str) -> ScoreCard:
        return self.evaluation[employee_id]

    def bound(self, employee_id: str) -> tuple[BoundValue, ...]:
        """The bound inputs' values for one employee; a DataError when there are none."""
        found = self.values.get(str(employee_id))
        if found is None:
            raise self._unscored(str(employee_id))
        return found

    def explain(self, employee_id: str, *, limit: int = 20) -> TracedExplanation:
        """From the grade back to the records: the card's explanation, then each bound input's lineage."""
        employee = str(employee_id)
        try:
            card = self.evaluation[employee]
        except KeyError:
            raise self._unscored(employee) from None
        return TracedExplanation(
            card=card.explain(),
            inputs=self.values[employee],
            period=self.metrics.period,
            as_of=self.metrics.as_of,
            excluded=len(self.metrics.excluded),
            limit=limit,
        )

    def lineage_dict(self) -> dict[str, Any]:
        """The whole result's lineage as JSON-able data (see ``docs/from-crm-to-grade.md``)."""
        return {
            "format": LINEAGE_FORMAT,
            "scheme": {"id": self.evaluation.scheme_id, "version": self.evaluation.scheme_version},
            "period": self.metrics.period.label,
            "bindings": dict(self.bindings),
            "inputs": [
                {
                    "employee": employee,
                    "input": b.input,
                    "metric": b.metric,
                    "value": format(b.value, "f"),
                    "origin": b.origin,
                }
                for employee in sorted(self.values)
                for b in self.values[employee]
            ],
            "cards": json.loads(self.evaluation.to_json()),
            "problems": [problem.to_dict() for problem in self.evaluation.problems],
            "metrics": self.metrics.to_dict(),
        }

    def lineage_json(self, *, indent: int | None = 2) -> str:
        """:meth:`lineage_dict` as JSON; the ``metrics`` part is the ``perfkit-metrics/1`` document."""
        return json.dumps(self.lineage_dict(), ensure_ascii=False, indent=indent) + "\n"

    def _unscored(self, employee: str) -> DataError:
        mine = [p for p in self.evaluation.problems if p.employee_id == employee]
        if mine:
            reasons = "; ".join(p.message for p in mine)
            return DataError(f"the employee was not scored: {reasons}", employee_id=employee)
        return DataError(
            f"no score card: the employee has no records for the bound metrics in {self.metrics.period.label} "
            "and no row",
            employee_id=employee,
        )


def evaluate_records(
    scheme: Scheme | CompiledScheme | str | Path,
    definitions: MetricDefinitions | CompiledMetrics | str | Path,
    records: RecordStore | Iterable[SourceRecord],
    period: Period | str,
    *,
    calendar: Calendar | None = None,
    roster: Roster | None = None,
    as_of: datetime | None = None,
    rows: Iterable[Mapping[str, Any]] | Any = None,
    errors: Literal["raise", "collect"] = "raise",
    history: Sequence[Any] = (),
) -> TracedEvaluation:
    """Score ``scheme`` for ``period``, its bound inputs computed from ``records``.

    ``scheme`` and ``definitions`` are objects or file paths. The metrics the scheme's inputs
    name are computed with :func:`~perfkit.metrics.compute` (``calendar``, ``roster`` and
    ``as_of`` as there). ``rows`` (mappings or a DataFrame, with ``employee_id``) give the
    unbound inputs and extra columns; they are merged with the metric values by employee
    id, and everyone in either is scored. ``errors`` and ``history`` are as for
    :meth:`~perfkit.CompiledScheme.evaluate`.

    Raises :class:`~perfkit.errors.SchemeError` when an input names an unknown metric (at
    ``inputs.<name>.metric``) or no input names one, and :class:`~perfkit.errors.DataError`
    for records that cannot be read and (with ``errors="raise"``) for people whose bound
    inputs have no value, or whose row is bad.
    """
    if errors not in ("raise", "collect"):
        raise DataError(f"errors must be 'raise' or 'collect', not {errors!r}", column="errors", value=errors)
    compiled = as_compiled(scheme)
    metrics = _definitions(definitions)
    bindings = _bindings(compiled, metrics)
    relaxed, strict = _relaxed(metrics, set(bindings.values()))
    wanted = list(dict.fromkeys(bindings.values()))
    results = compute(relaxed, records, period, calendar=calendar, roster=roster, as_of=as_of, metrics=wanted)
    row_list = [] if rows is None else to_row_list(rows)
    ids = [row_id(row, index) for index, row in enumerate(row_list)]
    newcomers = sorted({e for e in ids if e is not None} - set(results.employees))
    if newcomers:
        results = _with_employees(results, relaxed, newcomers, wanted)
    binder = _Binder(compiled, bindings, results, strict)
    merged: list[Mapping[str, Any]] = []
    positions: list[int | None] = []
    for index, (row, employee) in enumerate(zip(row_list, ids)):
        cells = {} if employee is None else binder.bind(employee, row, index)
        if cells is not None:
            merged.append({**row, **cells})
            positions.append(index)
    with_rows = set(ids)
    for employee in results.employees:
        if employee not in with_rows:
            cells = binder.bind(employee, {}, None)
            if cells is not None:
                merged.append({EMPLOYEE_ID: employee, **cells})
                positions.append(None)
    problems = sorted(binder.problems, key=problem_order)
    if problems and errors == "raise":
        raise _one(problems, "some bound inputs cannot be filled")
    try:
        evaluation = compiled.evaluate(merged, errors=errors, history=history)
    except DataError as error:
        raise relocated(error, positions) from None
    found = [relocated(p, positions) for p in evaluation.problems] + problems
    if found:
        found.sort(key=problem_order)
        evaluation = Evaluation(evaluation.scheme_id, evaluation.scheme_version, evaluation.cards, tuple(found))
    return TracedEvaluation(
        evaluation=evaluation,
        metrics=results,
        bindings=MappingProxyType(bindings),
        values=MappingProxyType(dict(sorted(binder.values.items()))),
    )


# -- preparing ------------------------------------------------------------------------------


def _definitions(definitions: MetricDefinitions | CompiledMetrics | str | Path) -> MetricDefinitions:
    if isinstance(definitions, (str, Path)):
        return load_metrics(definitions)
    if isinstance(definitions, CompiledMetrics):
        return definitions.definitions
    if isinstance(definitions, MetricDefinitions):
        return definitions
    raise SchemeError(f"expected metric definitions or a definitions file's path, got {type(definitions).__name__}")


def _bindings(compiled: CompiledScheme, definitions: MetricDefinitions) -> dict[str, str]:
    """Input name → metric id for the inputs that name a metric; SchemeError for unknown ids."""
    scheme = compiled.scheme
    known = definitions.ids
    bindings: dict[str, str] = {}
    problems: list[SchemeError] = []
    for name, spec in scheme.inputs.items():
        if spec.metric is None:
            continue
        if spec.metric not in known:
            close = difflib.get_close_matches(spec.metric, list(known), n=1, cutoff=0.6)
            hint = f"; did you mean {close[0]!r}?" if close else f"; the definitions have {', '.join(known)}"
            problems.append(SchemeError(f"unknown metric {spec.metric!r}{hint}", path=f"inputs.{name}.metric"))
        bindings[name] = spec.metric
    if problems:
        raise combine(problems, scheme_id=scheme.id)
    if not bindings:
        raise SchemeError(
            "no input names a metric, so nothing would come from the records; "
            "bind an input with metric: <metric id> (e.g. sales: {metric: revenue})",
            path="inputs",
            scheme_id=scheme.id,
        )
    return bindings


def _relaxed(definitions: MetricDefinitions, bound: set[str]) -> tuple[MetricDefinitions, frozenset[str]]:
    """The definitions with the bound metrics' ``no_data: error`` turned into ``missing``.

    Those metrics are reported here, per employee and input, rather than by compute() at once.
    """
    strict = frozenset(m.id for m in definitions.metrics if m.id in bound and m.no_data == "error")
    if not strict:
        return definitions, strict
    metrics = tuple(m.model_copy(update={"no_data": "missing"}) if m.id in strict else m for m in definitions.metrics)
    relaxed = MetricDefinitions(
        perfkit_metrics=definitions.perfkit_metrics, description=definitions.description, metrics=metrics
    )
    return relaxed, strict


def row_id(row: Mapping[str, Any], index: int) -> str | None:
    """The row's employee id, read as the engine reads it; None when it cannot be (the engine reports it)."""
    try:
        return _employee_id(row, index)
    except DataError:
        return None


def _with_employees(
    results: MetricResults, definitions: MetricDefinitions, employees: list[str], wanted: list[str]
) -> MetricResults:
    """``results`` with values for people who have rows but no records.

    Their values are computed from no records at all, so each metric's own rules say what
    "no data" gives (a ratio of two zero-policy sums is still no data, for instance).
    """
    roster = Roster.from_records([{"id": employee} for employee in employees])
    extra = compute(definitions, (), results.period, roster=roster, metrics=wanted)
    return attrs.evolve(
        results,
        employees=tuple(sorted((*results.employees, *employees))),
        values={**results.values, **extra.values},
    )


class _Binder:
    """Fills each employee's bound inputs from the metric values, collecting what cannot be."""

    def __init__(
        self, compiled: CompiledScheme, bindings: dict[str, str], results: MetricResults, strict: frozenset[str]
    ) -> None:
        self.inputs = compiled.scheme.inputs
        self.bindings = bindings
        self.results = results
        self.strict = strict
        self.values: dict[str, tuple[BoundValue, ...]] = {}
        self.problems: list[DataError] = []

    def bind(self, employee: str, row: Mapping[str, Any], index: int | None) -> dict[str, Decimal] | None:
        """The bound inputs' cells for one row; None (and problems noted) when one has no value."""
        cells: dict[str, Decimal] = {}
        bound: list[BoundValue] = []
        problems: list[DataError] = []
        label = self.results.period.label
        for name, metric in self.bindings.items():
            value = self.results.value(employee, metric)
            given = row.get(name)
            if not is_empty(given):
                problems.append(
                    DataError(
                        f"the input is computed from metric {metric!r}, and the row gives it too ({given!r}); "
                        "drop the column from the rows, or the metric: from the input",
                        value=given,
                        employee_id=employee,
                        column=name,
                        row=index,
                    )
                )
                continue
            origin: Origin
            if value.value is not None:
                cells[name], origin = value.value, ("metric" if value.no_data is None else "no_data_zero")
            elif metric in self.strict:
                problems.append(
                    DataError(
                        f"metric {metric!r} has no data in {label} ({value.no_data}) and says no_data: error",
                        employee_id=employee,
                        column=name,
                        row=index,
                    )
                )
                continue
            elif self.inputs[name].default is not None:
                default = self.inputs[name].default
                assert default is not None
                cells[name], origin = default, "default"
            else:
                problems.append(
                    DataError(
                        f"metric {metric!r} has no data in {label} ({value.no_data}) and the input has no default; "
                        "give the input a default:, or the metric no_data: zero",
                        employee_id=employee,
                        column=name,
                        row=index,
                    )
                )
                continue
            bound.append(
                BoundValue(
                    employee=employee, input=name, metric=metric, value=cells[name], origin=origin, metric_value=value
                )
            )
        if problems:
            self.problems.extend(problems)
            return None
        self.values[employee] = tuple(bound)
        return cells


# -- errors ---------------------------------------------------------------------------------


def problem_order(problem: DataError) -> tuple[str, int, str]:
    return (problem.employee_id or "", -1 if problem.row is None else problem.row, problem.column or "")


def relocated(error: DataError, positions: list[int | None]) -> DataError:
    """The engine's error with its row number turned back into the caller's row (None: no row)."""
    for problem in (error, *(p for p in error.problems if p is not error)):
        if isinstance(problem, DataError) and problem.row is not None and problem.row < len(positions):
            problem.row = positions[problem.row]
    return error


def _one(problems: list[DataError], summary: str) -> DataError:
    return one_error(problems, f"{summary} ({len(problems)} problems)", DataError)
