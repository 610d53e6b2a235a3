"""Scoring from goals: scheme inputs bound to a person's goal attainment or check-in rate.

An input that says ``goals: attainment`` takes the person's attainment as of the date (see
:mod:`perfkit.goals.measures`), ``goals: checkin_rate`` their on-time check-in rate (see
:func:`perfkit.goals.on_time_rates`), and ``goals: {progress: kr1-{employee}}`` the
progress of one goal, ``{employee}`` standing for the person's id. Values are fractions
(``0.75`` for 75%). Other inputs come from ``rows``, merged by ``employee_id``. The result
keeps the rollup, so a grade can be followed down to the goals and their check-ins:

>>> from perfkit.goals import GoalGraph
>>> from perfkit.scheme import Scheme
>>> scheme = Scheme.from_dict({"perfkit": 1, "id": "okr", "inputs": {"okr": {"goals": "attainment"}},
...     "kpis": [{"id": "k", "weight": "100%", "score": "okr * 100"}],
...     "grades": [{"grade": "A", "min_score": 70}, {"grade": "B"}]})
>>> graph = GoalGraph.from_dict({"perfkit_goals": 1, "goals": [
...     {"id": "kr1", "title": "Ship", "kind": "key_result", "owner": "person:1001", "period": "2026-Q2",
...      "target": 4, "checkins": [{"at": "2026-05-20", "value": 3}]}]})
>>> traced = evaluate_goals(scheme, graph, as_of="2026-06-30")
>>> traced["1001"].grade, traced.bound("1001")[0].value
('A', Decimal('0.75'))

*No value is not zero.* A person with no counted goal (or nothing due, for the check-in
rate) gets the input's ``default``; without one, they are not scored and a
:class:`~perfkit.errors.DataError` names the employee and the input.
"""

from __future__ import annotations

import datetime
import json
from collections.abc import Iterable, Iterator, Mapping
from decimal import Decimal
from pathlib import Path
from types import MappingProxyType
from typing import Any, Literal

import attrs

from perfkit.errors import DataError, SchemeError, one_error
from perfkit.goals.graph import GoalGraph
from perfkit.goals.measures import GoalTrace, owners, personal_attainment, trace
from perfkit.goals.rollup import Rollup
from perfkit.io.rows import is_empty, to_row_list
from perfkit.metrics.scoring import problem_order, relocated
from perfkit.metrics.scoring import row_id as _row_id
from perfkit.numbers import plain_text
from perfkit.rules.engine import EMPLOYEE_ID, CompiledScheme, as_compiled
from perfkit.rules.explain import Explanation
from perfkit.rules.scorecard import Evaluation, ScoreCard
from perfkit.scheme import GoalBinding, Scheme

__all__ = ["GoalEvaluation", "GoalExplanation", "GoalInput", "evaluate_goals"]


@attrs.frozen(kw_only=True)
class GoalInput:
    """The value a goal-bound input took for one employee, and the goals behind it."""

    employee: str
    input: str
    measure: str
    value: Decimal
    origin: Literal["goals", "default"]
    goals: tuple[GoalTrace, ...]
    """The goals the value was made from (for ``checkin_rate``: none; see ``detail``)."""
    detail: str | None = None
    """A line on how the value was made (``2 of 3 check-ins on time``...)."""

    def to_dict(self) -> dict[str, Any]:
        return {
            "input": self.input,
            "measure": self.measure,
            "value": plain_text(self.value),
            "origin": self.origin,
            "detail": self.detail,
            "goals": [g.to_dict() for g in self.goals],
        }


@attrs.frozen(kw_only=True)
class GoalExplanation:
    """A score card's explanation followed down to the goals and check-ins behind it."""

    card: Explanation
    inputs: tuple[GoalInput, ...]
    as_of: str

    def __str__(self) -> str:
        return self.to_text()

    def to_text(self) -> str:
        lines = [self.card.to_text(), "", f"inputs from goals (as of {self.as_of}):"]
        for bound in self.inputs:
            how = "the input's default (no goal value)" if bound.origin == "default" else f"goals: {bound.measure}"
            lines.append(f"{bound.input} = {plain_text(bound.value)} ← {how}")
            if bound.detail:
                lines.append(f"  {bound.detail}")
            for goal in bound.goals:
                lines.extend(goal.lines(1))
        return "\n".join(lines)

    def to_dict(self) -> dict[str, Any]:
        return {
            "employee_id": self.card.employee_id,
            "card": json.loads(self.card.to_json()),
            "as_of": self.as_of,
            "inputs": [bound.to_dict() for bound in self.inputs],
        }

    def to_json(self) -> str:
        return json.dumps(self.to_dict(), ensure_ascii=False, indent=2)


@attrs.frozen(kw_only=True)
class GoalEvaluation:
    """An evaluation scored from goals: the cards, the rollup and each bound input's value."""

    evaluation: Evaluation
    rollup: Rollup
    bindings: Mapping[str, GoalBinding]
    values: Mapping[str, tuple[GoalInput, ...]] = attrs.field(repr=False)

    @property
    def cards(self) -> tuple[ScoreCard, ...]:
        return self.evaluation.cards

    @property
    def problems(self) -> tuple[DataError, ...]:
        return self.evaluation.problems

    @property
    def ok(self) -> bool:
        return not self.evaluation.problems

    def __len__(self) -> int:
        return len(self.evaluation)

    def __iter__(self) -> Iterator[ScoreCard]:
        return iter(self.evaluation)

    def __getitem__(self, employee_id: str) -> ScoreCard:
        return self.evaluation[employee_id]

    def bound(self, employee_id: str) -> tuple[GoalInput, ...]:
        """The goal-bound inputs of one scored employee, in scheme order."""
        self.evaluation[employee_id]
        return self.values.get(employee_id, ())

    def explain(self, employee_id: str) -> GoalExplanation:
        """From the grade down to the goals and check-ins behind each goal-bound input."""
        card = self.evaluation[employee_id]
        return GoalExplanation(card=card.explain(), inputs=self.bound(employee_id), as_of=str(self.rollup.as_of))


def evaluate_goals(
    scheme: Scheme | CompiledScheme | str | Path,
    graph: GoalGraph,
    *,
    as_of: datetime.date | datetime.datetime | str,
    rows: Iterable[Mapping[str, Any]] | Any = None,
    metric_values: Mapping[str, object] | None = None,
    since: datetime.date | str | None = None,
    errors: Literal["raise", "collect"] = "raise",
) -> GoalEvaluation:
    """Score ``scheme`` with its goal-bound inputs taken from ``graph`` as of ``as_of``.

    Everyone who owns a goal, or has a row in ``rows``, is scored. ``metric_values`` is
    passed to the rollup (for metric-bound goals); ``since`` starts the window of the
    check-in rate (default: each goal's schedule start). ``errors`` is as for
    :meth:`~perfkit.CompiledScheme.evaluate`.

    Raises :class:`~perfkit.errors.SchemeError` when no input is bound to goals, and
    :class:`~perfkit.errors.DataError` (with ``errors="raise"``) for people whose bound
    inputs have no value, a row that also gives a bound input, or a bad row.
    """
    if errors not in ("raise", "collect"):
        raise DataError(f"errors must be 'raise' or 'collect', not {errors!r}", column="errors", value=errors)
    compiled = as_compiled(scheme)
    bindings = {name: spec.goals for name, spec in compiled.scheme.inputs.items() if spec.goals is not None}
    if not bindings:
        raise SchemeError(
            "no input is bound to goals; bind one with goals: attainment (or checkin_rate, or {progress: <goal id>})",
            path="inputs",
            scheme_id=compiled.scheme.id,
        )
    rollup = graph.rollup(as_of, metric_values=metric_values)
    rates = None
    if any(b.measure == "checkin_rate" for b in bindings.values()):
        from perfkit.goals.checkins import on_time_rates

        rates = on_time_rates(graph, as_of=as_of, since=since)
    row_list = [] if rows is None else to_row_list(rows)
    ids = [_row_id(row, index) for index, row in enumerate(row_list)]
    binder = _Binder(compiled, bindings, rollup, rates)
    merged: list[Mapping[str, Any]] = []
    positions: list[int | None] = []  # each merged row's place in ``rows`` (None: a goal owner without one)
    for index, (row, employee) in enumerate(zip(row_list, ids)):
        cells = {} if employee is None else binder.bind(employee, row, index)  # no id: the engine says so
        if cells is not None:
            merged.append({**row, **cells})
            positions.append(index)
    with_rows = set(ids)
    for employee in owners(graph):
        if employee not in with_rows:
            cells = binder.bind(employee, {}, None)
            if cells is not None:
                merged.append({EMPLOYEE_ID: employee, **cells})
                positions.append(None)
    problems = sorted(binder.problems, key=problem_order)
    if problems and errors == "raise":
        raise one_error(problems, f"some goal-bound inputs cannot be filled ({len(problems)} problems)", DataError)
    try:
        evaluation = compiled.evaluate(merged, errors=errors)
    except DataError as error:
        raise relocated(error, positions) from None
    found = [relocated(p, positions) for p in evaluation.problems] + problems
    if found:
        found.sort(key=problem_order)
        evaluation = Evaluation(evaluation.scheme_id, evaluation.scheme_version, evaluation.cards, tuple(found))
    return GoalEvaluation(
        evaluation=evaluation,
        rollup=rollup,
        bindings=MappingProxyType(bindings),
        values=MappingProxyType(dict(sorted(binder.values.items()))),
    )


class _Binder:
    """Fills each employee's goal-bound inputs, collecting what cannot be filled."""

    def __init__(
        self, compiled: CompiledScheme, bindings: Mapping[str, GoalBinding], rollup: Rollup, rates: Any
    ) -> None:
        self.inputs = compiled.scheme.inputs
        self.bindings = bindings
        self.rollup = rollup
        self.rates = rates
        self.values: dict[str, tuple[GoalInput, ...]] = {}
        self.problems: list[DataError] = []

    def bind(self, employee: str, row: Mapping[str, Any], index: int | None) -> dict[str, Decimal] | None:
        cells: dict[str, Decimal] = {}
        bound: list[GoalInput] = []
        problems: list[DataError] = []
        for name, binding in self.bindings.items():
            given = row.get(name)
            if not is_empty(given):
                problems.append(
                    DataError(
                        f"the input comes from goals ({binding.measure}), and the row gives it too ({given!r}); "
                        "drop the column from the rows, or goals: from the input",
                        employee_id=employee, column=name, row=index, value=given,
                    )
                )
                continue
            value, goals, detail, why = self._measure(employee, binding)
            origin: Literal["goals", "default"] = "goals"
            if value is None:
                default = self.inputs[name].default
                if default is None:
                    problems.append(
                        DataError(
                            f"no value from goals: {binding.measure} ({why}) and the input has no default",
                            employee_id=employee, column=name, row=index,
                        )
                    )
                    continue
                value, origin = default, "default"
            cells[name] = value
            bound.append(
                GoalInput(
                    employee=employee, input=name, measure=binding.measure, value=value,
                    origin=origin, goals=goals, detail=detail,
                )
            )
        if problems:
            self.problems.extend(problems)
            return None
        self.values[employee] = tuple(bound)
        return cells

    def _measure(
        self, employee: str, binding: GoalBinding
    ) -> tuple[Decimal | None, tuple[GoalTrace, ...], str | None, str]:
        if binding.measure == "attainment":
            found = personal_attainment(self.rollup, employee, kinds=binding.kinds)
            detail = f"the average progress of {len(found.goals)} top goal(s)" if found.goals else None
            return found.value, found.goals, detail, "the person owns no counted goal of those kinds"
        if binding.measure == "progress":
            goal_id = (binding.goal or "").replace("{employee}", employee)
            if goal_id not in self.rollup.graph:
                return None, (), None, f"there is no goal {goal_id!r}"
            state = self.rollup[goal_id]
            return state.progress, (trace(self.rollup, goal_id),), None, f"goal {goal_id!r} has no progress"
        rate = self.rates.get(employee) if self.rates is not None else None
        if rate is None or rate.rate is None:
            return None, (), None, "no check-in was due"
        return rate.rate, (), f"{rate.on_time} of {rate.due} check-ins on time", ""
