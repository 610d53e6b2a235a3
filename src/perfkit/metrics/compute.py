"""Computing metric values for a period, with lineage.

>>> from datetime import datetime, timezone
>>> from perfkit.metrics.records import SourceRecord
>>> defs = MetricDefinitions.from_dict({"perfkit_metrics": 1, "metrics": [
...     {"id": "revenue", "kind": "simple", "agg": "sum", "field": "amount", "attribution": {"owner": "owner"}}]})
>>> deal = SourceRecord.create(source="crm", record_id="OPP-1", entity="opportunity",
...     occurred_at=datetime(2026, 5, 6, tzinfo=timezone.utc), fields={"owner": "1001", "amount": 1200})
>>> compute(defs, [deal], "2026-Q2")["1001", "revenue"].value
Decimal('1200')

:func:`compute` works out which metrics it needs in which periods (a derived metric's
``previous(m)`` reads ``m`` in the previous period, a cumulative metric its metric from
the start of the year), scans the records once per simple metric and period, then
computes ratio, derived and cumulative values in dependency order. Sums and counts are
exact (no rounding), so a value's record contributions add up to it exactly; averages and
ratios are divided in :data:`perfkit.numbers.CONTEXT`.
"""

from __future__ import annotations

import decimal
from array import array
from collections.abc import Callable, Iterable, Mapping
from datetime import date, datetime
from decimal import Decimal
from typing import Any

from perfkit._time import parse_datetime
from perfkit.errors import DataError, one_error
from perfkit.metrics.attribution import ONE as _ONE
from perfkit.metrics.attribution import Attribution, Share, attribute
from perfkit.metrics.definitions import (
    PREVIOUS_SUFFIX,
    CompiledMetrics,
    CumulativeMetric,
    DerivedMetric,
    MetricDefinitions,
    RatioMetric,
    SimpleMetric,
)
from perfkit.metrics.lineage import EXACT, Input, InputLineage, MetricResults, MetricValue, RecordLineage
from perfkit.metrics.records import RecordStore, SourceRecord
from perfkit.numbers import CONTEXT, to_decimal
from perfkit.org import Roster
from perfkit.periods import Calendar, Period
from perfkit.rules.formula import EvalFailure, Formula

__all__ = ["compute"]

_ZERO = Decimal(0)

Need = tuple[str, Period]
Reader = Callable[[SourceRecord], Any]


def compute(
    definitions: MetricDefinitions | CompiledMetrics,
    records: RecordStore | Iterable[SourceRecord],
    period: Period | str,
    *,
    calendar: Calendar | None = None,
    roster: Roster | None = None,
    as_of: datetime | None = None,
    metrics: Iterable[str] | None = None,
    lineage: bool = True,
) -> MetricResults:
    """Every metric's value for every employee in ``period``.

    ``records`` is a :class:`RecordStore` (its current records) or the records themselves.
    ``period`` is a :class:`~perfkit.periods.Period` or a label read with ``calendar``.
    With a ``roster``, its employees all get values (no data where they have no records)
    and ``team`` roll-ups work. ``as_of`` computes from the data as it stood at that
    cut-off; the record versions loaded later are listed in ``excluded``. ``metrics``
    limits the result to some metric ids (the metrics they read are computed too).
    ``lineage=False`` computes the same values without lineage.

    Raises :class:`~perfkit.errors.DataError` listing every record that cannot be read and
    every value a ``no_data: error`` metric lacks.
    """
    compiled = definitions.compile() if isinstance(definitions, MetricDefinitions) else definitions
    when = _period(period, calendar)
    table, excluded = _records(records, as_of)
    wanted = tuple(compiled.order if metrics is None else _known(compiled, metrics))
    wanted = tuple(m.id for m in compiled.definitions.metrics if m.id in wanted)
    plan = _plan(compiled, wanted, when)
    engine = _Engine(compiled, table, roster, lineage)
    results = engine.run(plan)
    problems = [
        DataError(f"metric {m!r} has no data ({v.no_data})", employee_id=e, column=m)
        for m in wanted
        if compiled.metrics[m].no_data == "error"
        for e, v in sorted(results[(m, when)].items())
        if v.value is None
    ]
    _raise(problems, "the metrics lack data they must have")
    employees = engine.employees
    values = {e: {m: results[(m, when)][e] for m in wanted} for e in employees}
    return MetricResults(
        period=when,
        metrics=wanted,
        employees=employees,
        values=values,
        records=table,
        as_of=as_of,
        excluded=excluded,
        lineage=lineage,
    )


def _period(period: Period | str, calendar: Calendar | None) -> Period:
    if isinstance(period, Period):
        if calendar is not None and calendar != period.calendar:
            raise DataError(
                f"the period {period.label} belongs to {period.calendar!r}, not {calendar!r}", column="period"
            )
        return period
    return (calendar or Calendar()).period(period)


def _records(
    records: RecordStore | Iterable[SourceRecord], as_of: datetime | None
) -> tuple[tuple[SourceRecord, ...], tuple[SourceRecord, ...]]:
    if as_of is not None:
        store = records if isinstance(records, RecordStore) else RecordStore.empty().add(records)[0]
        view = store.as_of(as_of)
        return view.records, view.excluded
    if isinstance(records, RecordStore):
        return records.current(), ()
    table = records if isinstance(records, tuple) else tuple(records)
    for index, record in enumerate(table):
        if not isinstance(record, SourceRecord):
            raise DataError(f"records are SourceRecords, got {type(record).__name__}", row=index)
    return table, ()


def _known(compiled: CompiledMetrics, metrics: Iterable[str]) -> list[str]:
    names = [metrics] if isinstance(metrics, str) else list(metrics)
    for name in names:
        if name not in compiled.metrics:
            compiled.definitions[name]  # raises with a did-you-mean
    return names


def window(period: Period, grain: str) -> Period:
    """From the start of the ``grain`` period containing ``period``'s start to ``period``'s end."""
    first = period.calendar.period_of(period.start, grain)  # type: ignore[arg-type]
    if first.start == period.start and first.end == period.end:
        return period
    return period.calendar.custom(first.start, period.end, label=f"{period.label} ({grain} to date)")


def _plan(compiled: CompiledMetrics, wanted: Iterable[str], period: Period) -> list[Need]:
    """Every (metric, period) needed, each after what it reads."""
    order: dict[Need, None] = {}

    def need(metric_id: str, when: Period) -> None:
        if (metric_id, when) in order:
            return
        for item in _reads(compiled, metric_id, when):
            need(*item)
        order[(metric_id, when)] = None

    for metric_id in wanted:
        need(metric_id, period)
    return list(order)


def _reads(compiled: CompiledMetrics, metric_id: str, when: Period) -> list[Need]:
    metric = compiled.metrics[metric_id]
    if isinstance(metric, RatioMetric):
        return [(metric.numerator, when), (metric.denominator, when)]
    if isinstance(metric, CumulativeMetric):
        return [(metric.metric, window(when, metric.grain))]
    if isinstance(metric, DerivedMetric):
        formula = compiled.formulas[f"{metric_id}.formula"]
        current = [(n, when) for n in formula.names if not n.endswith(PREVIOUS_SUFFIX)]
        return current + [(n, when.previous()) for n in compiled.previous[metric_id]]
    return []


def _raise(problems: list[DataError], summary: str) -> None:
    if problems:
        raise one_error(problems, f"{summary} ({len(problems)} problems)", DataError)


class _Engine:
    """One computation: the record table, the values found so far, the employees seen."""

    def __init__(
        self, compiled: CompiledMetrics, table: tuple[SourceRecord, ...], roster: Roster | None, lineage: bool
    ):
        self.compiled = compiled
        self.table = table
        self.roster = roster
        self.lineage = lineage
        self.employees: tuple[str, ...] = ()

    def run(self, plan: list[Need]) -> dict[Need, dict[str, MetricValue]]:
        scanned: dict[Need, dict[str, tuple[Decimal | None, RecordLineage | None]]] = {}
        problems: list[DataError] = []
        for metric_id, when in plan:
            metric = self.compiled.metrics[metric_id]
            if isinstance(metric, SimpleMetric):
                scanned[(metric_id, when)] = self._scan(metric, when, problems)
        _raise(problems, "some records cannot be read")
        people = {e for found in scanned.values() for e in found}
        if self.roster is not None:
            people.update(e.id for e in self.roster.employees)
        self.employees = tuple(sorted(people))
        results: dict[Need, dict[str, MetricValue]] = {}
        for need in plan:
            metric = self.compiled.metrics[need[0]]
            if isinstance(metric, SimpleMetric):
                results[need] = self._simple(metric, need[1], scanned[need])
            else:
                results[need] = {e: self._combined(metric, need[1], e, results, problems) for e in self.employees}
        _raise(problems, "some metric formulas cannot be computed")
        return results

    # -- simple metrics ---------------------------------------------------------------------

    def _simple(
        self, metric: SimpleMetric, when: Period, found: dict[str, tuple[Decimal | None, RecordLineage | None]]
    ) -> dict[str, MetricValue]:
        values = {}
        for employee in self.employees:
            value, lineage = found.get(employee, (None, None))
            reason = "no records" if employee not in found else None if value is not None else "no values"
            values[employee] = _value(metric.id, employee, when, value, reason, metric.no_data, lineage)
        return values

    def _scan(
        self, metric: SimpleMetric, when: Period, problems: list[DataError]
    ) -> dict[str, tuple[Decimal | None, RecordLineage | None]]:
        sources = frozenset(metric.source) if metric.source else None
        entities = frozenset(metric.entity) if metric.entity else None
        start, end = when.start_utc, when.end_utc
        stamp = _stamp(metric.time, when.calendar)
        where = tuple(metric.where.items())
        condition = self.compiled.formulas.get(f"{metric.id}.filter")
        read = _reader(metric, self.compiled.formulas.get(f"{metric.id}.expr"))
        owners = _parties(metric.attribution, self.roster)
        agg = metric.agg
        is_sum, is_count = agg == "sum", agg == "count"
        lineage = self.lineage
        totals: dict[str, Any] = {}
        weights: dict[str, Decimal] = {}
        indices: dict[str, array[int]] = {}
        shares: dict[str, dict[int, Decimal]] = {}
        errors: list[DataError] = []
        with decimal.localcontext(EXACT):
            for index, record in enumerate(self.table):
                if sources is not None and record.source not in sources:
                    continue
                if entities is not None and record.entity not in entities:
                    continue
                try:
                    at = record.occurred_at if stamp is None else stamp(record)
                    if not start <= at < end:
                        continue
                    if where and not _matches(record, where):
                        continue
                    if condition is not None and not _evaluate(condition, record):
                        continue
                    value: Any = None if read is None else read(record)
                    parties = owners(record)
                except DataError as error:
                    errors.append(error)
                    continue
                for employee, share in parties:
                    if is_sum:
                        amount = value if share is _ONE else share * value
                        totals[employee] = totals.get(employee, _ZERO) + amount
                    elif is_count:
                        totals[employee] = totals.get(employee, _ZERO) + share
                    elif agg == "average":
                        totals[employee] = totals.get(employee, _ZERO) + share * value
                        weights[employee] = weights.get(employee, _ZERO) + share
                    elif agg == "count_distinct":
                        totals.setdefault(employee, set()).add(value)
                    else:
                        best = totals.get(employee)
                        if best is None or (value < best if agg == "min" else value > best):
                            totals[employee] = value
                    if lineage:
                        positions = indices.get(employee)
                        if positions is None:
                            positions = indices[employee] = array("I")
                        if share is not _ONE and share != 1:
                            shares.setdefault(employee, {})[len(positions)] = share
                        positions.append(index)
        problems.extend(_in_metric(e, metric.id) for e in errors)
        found: dict[str, tuple[Decimal | None, RecordLineage | None]] = {}
        for employee, total in totals.items():
            if agg == "count_distinct":
                result: Decimal | None = Decimal(len(total))
            elif agg == "average":
                weight = weights[employee]
                result = None if weight == 0 else CONTEXT.divide(total, weight)
            else:
                result = total
            trail = None
            if lineage:
                trail = RecordLineage(agg, self.table, indices[employee], shares.get(employee), read)
            found[employee] = (result, trail)
        return found

    # -- ratio, derived, cumulative ----------------------------------------------------------

    def _combined(
        self,
        metric: RatioMetric | DerivedMetric | CumulativeMetric,
        when: Period,
        employee: str,
        results: Mapping[Need, Mapping[str, MetricValue]],
        problems: list[DataError],
    ) -> MetricValue:
        def value_of(metric_id: str, at: Period) -> MetricValue:
            return results[(metric_id, at)][employee]

        value: Decimal | None = None
        reason: str | None = None
        inputs: tuple[Input, ...]
        if isinstance(metric, RatioMetric):
            inputs = (
                Input("numerator", value_of(metric.numerator, when)),
                Input("denominator", value_of(metric.denominator, when)),
            )
            formula = f"{metric.numerator} / {metric.denominator}"
            top, bottom = inputs[0].value.value, inputs[1].value.value
            reason = _missing(inputs)
            if reason is None and bottom == 0:
                reason = f"the denominator {metric.denominator} is 0"
            elif reason is None:
                assert top is not None and bottom is not None
                value = CONTEXT.divide(top, bottom)
        elif isinstance(metric, CumulativeMetric):
            inner = value_of(metric.metric, window(when, metric.grain))
            inputs = (Input("to_date", inner),)
            formula = f"{metric.metric} ({metric.grain} to date)"
            value, reason = inner.value, inner.no_data if inner.value is None else None
        else:
            compiled = self.compiled.formulas[f"{metric.id}.formula"]
            inputs = tuple(
                Input(
                    f"previous({name[: -len(PREVIOUS_SUFFIX)]})",
                    value_of(name[: -len(PREVIOUS_SUFFIX)], when.previous()),
                )
                if name.endswith(PREVIOUS_SUFFIX)
                else Input(name, value_of(name, when))
                for name in compiled.names
            )
            formula = compiled.text
            reason = _missing(inputs)
            if reason is None:
                try:
                    value = _derive(compiled, [item.value.value for item in inputs])
                except DataError as error:
                    error.employee_id = employee
                    problems.append(error)
        trail = InputLineage(kind=metric.kind, formula=formula, inputs=inputs) if self.lineage else None
        return _value(metric.id, employee, when, value, reason, metric.no_data, trail)


def _value(
    metric: str,
    employee: str,
    when: Period,
    value: Decimal | None,
    reason: str | None,
    policy: str,
    lineage: RecordLineage | InputLineage | None,
) -> MetricValue:
    if value is None and policy == "zero":
        value = _ZERO
    return MetricValue(metric=metric, employee=employee, period=when, value=value, no_data=reason, lineage=lineage)


def _missing(inputs: tuple[Input, ...]) -> str | None:
    for item in inputs:
        if item.value.value is None:
            return f"{item.value.metric} in {item.value.period.label} has no data"
    return None


def _derive(formula: Formula, values: list[Decimal | None]) -> Decimal:
    env = dict(zip(formula.names, values))
    with decimal.localcontext(CONTEXT):
        try:
            result = formula.fast(env)  # type: ignore[arg-type]
        except ArithmeticError:
            try:
                result = formula.interpret(env)  # type: ignore[arg-type]
            except EvalFailure as failure:
                raise formula.data_error(failure) from None
    assert isinstance(result, Decimal)
    return result


def _in_metric(error: DataError, metric: str) -> DataError:
    return DataError(
        f"{error.message} (metric {metric!r})",
        column=error.column,
        path=error.path,
        value=error.value,
        formula=error.formula,
    )


# -- reading records ----------------------------------------------------------------------------


def _record_error(record: SourceRecord, field: str, message: str, value: object = None) -> DataError:
    return DataError(message, column=field, path=f"record {record.ref}", value=value)


def _stamp(name: str, calendar: Calendar) -> Callable[[SourceRecord], datetime] | None:
    """What puts a record in a period: None for ``occurred_at`` (read inline), else a reader."""
    if name == "occurred_at":
        return None
    if name == "loaded_at":
        return lambda record: record.loaded_at

    def read(record: SourceRecord) -> datetime:
        raw = record.field(name)
        value = raw
        if isinstance(value, str):
            try:
                value = (
                    parse_datetime(value)
                    if "T" in value or " " in value.strip()
                    else date.fromisoformat(value.strip())
                )
            except ValueError:
                raise _record_error(record, name, f"{raw!r} is not a date or an ISO 8601 timestamp", raw) from None
        if isinstance(value, datetime):
            if value.tzinfo is None or value.utcoffset() is None:
                raise _record_error(
                    record, name, f"{value.isoformat()} has no time zone, so its period is unknown", raw
                )
            return value
        if isinstance(value, date):
            return calendar.start_of(value)
        raise _record_error(record, name, f"is {raw!r}, not a date or a timestamp", raw)

    return read


def _parties(attribution: Attribution, roster: Roster | None) -> Callable[[SourceRecord], tuple[Share, ...]]:
    """``attribute`` for many records; by owner, the result is remembered per owner id."""
    if attribution.owner is None:
        return attribution.bind(roster)
    field = attribution.owner
    known: dict[str, tuple[Share, ...]] = {}

    def parties(record: SourceRecord) -> tuple[Share, ...]:
        raw = record.fields.get(field)
        found = known.get(raw) if type(raw) is str else None
        if found is None:
            found = attribute(record, attribution, roster)
            if type(raw) is str:
                known[raw] = found
        return found

    return parties


def _matches(record: SourceRecord, where: tuple[tuple[str, Any], ...]) -> bool:
    for name, wanted in where:
        value = record.field(name)
        if isinstance(wanted, tuple):
            if value not in wanted:
                return False
        elif value != wanted:
            return False
    return True


def _numbers(record: SourceRecord, formula: Formula) -> dict[str, Decimal]:
    env = {}
    for name in formula.names:
        raw = record.field(name)
        try:
            env[name] = to_decimal(raw)
        except ValueError as exc:
            raise _record_error(record, name, f"is {raw!r}: {exc}", raw) from None
    return env


def _evaluate(formula: Formula, record: SourceRecord) -> Decimal | bool:
    env = _numbers(record, formula)
    with decimal.localcontext(CONTEXT):
        try:
            return formula.fast(env)
        except ArithmeticError:
            try:
                return formula.interpret(env)
            except EvalFailure as failure:
                error = formula.data_error(failure)
                error.path = f"record {record.ref}"
                raise error from None


def _reader(metric: SimpleMetric, expr: Formula | None) -> Reader | None:
    """A record's value for the aggregation: None for count (nothing is read)."""
    if metric.agg == "count":
        return None
    if expr is not None:

        def from_expr(record: SourceRecord) -> Decimal:
            result = _evaluate(expr, record)
            assert isinstance(result, Decimal)
            return result

        return from_expr
    field = metric.field
    assert field is not None
    if metric.agg == "count_distinct":

        def distinct(record: SourceRecord) -> object:
            value = record.field(field)
            if value is None or isinstance(value, (Mapping, tuple)):
                raise _record_error(record, field, f"is {value!r}; count_distinct counts text, numbers or dates", value)
            return value

        return distinct

    def number(record: SourceRecord) -> Decimal:
        raw = record.fields.get(field)
        if type(raw) is Decimal:  # the common case first: records hold finite decimals
            return raw
        raw = record.field(field)
        try:
            return to_decimal(raw)
        except ValueError as exc:
            raise _record_error(record, field, f"is {raw!r}: {exc}", raw) from None

    return number
