"""The scoring engine: a compiled scheme evaluated over rows.

For each row: read and check the inputs → score each KPI (formula, then rounding) → the
total (weighted sum of rounded KPI scores, or the scheme's total formula, then rounding) →
the band grade from the rounded total → threshold rules on rounded values (floors, then
caps: the most restrictive cap wins, and a cap beats a floor) → flags.

The same function computes a score card and its explanation; only the formula evaluator
differs (compiled callable vs. tree interpreter), and the tests hold those two equal.
"""

from __future__ import annotations

import decimal
import difflib
import numbers
from collections.abc import Iterable, Mapping, Sequence
from decimal import Decimal
from pathlib import Path
from typing import Any, Literal

import attrs

from perfkit.calibration.scale import Grade, GradeScale
from perfkit.errors import DataError, SchemeError
from perfkit.io.rows import is_empty, to_row_list
from perfkit.numbers import CONTEXT, RoundingMode, quantize, quantum, rounder, to_decimal
from perfkit.rules import ir
from perfkit.rules.explain import Explanation, KpiTrace, RuleTrace, TotalTrace
from perfkit.rules.formula import EvalFailure, Formula, Step, Value
from perfkit.rules.history import PastResult, history_value, read_history
from perfkit.rules.intervals import Interval
from perfkit.rules.scorecard import (
    CardAlert,
    Evaluation,
    FiredRule,
    KpiScore,
    PointsApplied,
    ScoreCard,
)
from perfkit.rules.tables import CompiledTable, TableResult
from perfkit.scheme import Rounding, Scheme, load_scheme

__all__ = ["CompiledInput", "CompiledKPI", "CompiledRule", "CompiledScheme"]

EMPLOYEE_ID = "employee_id"


@attrs.frozen
class CompiledInput:
    name: str
    unit: str | None
    min: Decimal | None
    max: Decimal | None
    default: Decimal | None


@attrs.frozen
class CompiledKPI:
    id: str
    name: str | None
    weight: Decimal
    """Effective weight (after ``normalize_weights``, if the scheme asks for it)."""
    formula: Formula
    bounds: Interval
    """Range of the rounded score, from the inputs' declared ranges."""
    source: str | None = None
    """The file the KPI came from, when the scheme ``extends`` others."""


@attrs.frozen
class CompiledPoints:
    sign: int
    """+1 for add_points, -1 for subtract_points."""
    amount: Formula
    max: Decimal | None
    unless: Formula | None


@attrs.frozen(kw_only=True)
class CompiledRule:
    id: str
    when: Formula | None
    """None: the rule always fires."""
    priority: int = 0
    points: CompiledPoints | None = None
    table: CompiledTable | None = None
    """A decision table whose output columns give the actions, row by row."""
    table_points: bool = False
    """The table gives add_points / subtract_points (so it runs in the points phase)."""
    record: FiredRule
    """What a score card keeps when the rule fires: its actions and reason (for a table
    rule, only the reason: the actions come from the row that matched)."""
    source: str | None = None
    """The file the rule came from, when the scheme ``extends`` others."""

    @property
    def reason(self) -> str | None:
        return self.record.reason

    @property
    def is_points(self) -> bool:
        return self.points is not None or self.table_points

    def from_table(self, outputs: Mapping[str, Any]) -> FiredRule:
        """The record of this table rule for the row the outputs came from."""
        message = outputs.get("alert")
        return FiredRule(
            id=self.id,
            reason=self.record.reason,
            set_grade=_text(outputs.get("set_grade")),
            floor_grade=_text(outputs.get("floor_grade")),
            cap_grade=_text(outputs.get("cap_grade")),
            flag=_text(outputs.get("flag")),
            alert=CardAlert(self.id, "warning", str(message)) if message is not None else None,
        )

    def describe(self) -> str:
        """The rule's actions in words."""
        parts = []
        if self.table is not None:
            columns = ", ".join(column.name for column in self.table.columns)
            parts.append(f"decision table ({self.table.hit}) on {columns} → {', '.join(self.table.outputs)}")
        if self.points is not None:
            verb = "add" if self.points.sign > 0 else "subtract"
            text = f"{verb} points {self.points.amount.text}"
            if self.points.max is not None:
                text += f" (at most {self.points.max})"
            if self.points.unless is not None:
                text += f" unless {self.points.unless.text}"
            parts.append(text)
        record = self.record
        if record.set_grade:
            parts.append(f"set grade to {record.set_grade}")
        if record.floor_grade:
            parts.append(f"floor grade at {record.floor_grade}")
        if record.cap_grade:
            parts.append(f"cap grade at {record.cap_grade}")
        if record.zero_total:
            parts.append("veto: total becomes 0")
        if record.veto_grade:
            parts.append(f"veto: grade {record.veto_grade}")
        if record.ineligible:
            parts.append(f"veto: not eligible for {', '.join(record.ineligible)}")
        if record.flag:
            parts.append(f"flag {record.flag}")
        if record.require_review:
            parts.append("require calibration review")
        if record.alert is not None:
            parts.append(f"alert ({record.alert.severity}): {record.alert.message}")
        return ", ".join(parts)

@attrs.frozen(eq=False)
class CompiledScheme:
    """A checked scheme, ready to score. Immutable and safe to share across threads.

    Get one with :meth:`perfkit.Scheme.compile`; score with :meth:`evaluate`.
    """

    scheme: Scheme = attrs.field(repr=False)
    inputs: tuple[CompiledInput, ...]
    kpis: tuple[CompiledKPI, ...]
    total: Formula | None
    rounding: Rounding
    rules: tuple[CompiledRule, ...]
    scale: GradeScale
    total_bounds: Interval
    history_calls: tuple[ir.History, ...] = ()
    """Every history call (``avg_total(3)``) the scheme's formulas read."""
    _input_names: frozenset[str] = attrs.field(init=False, repr=False)
    _kpi_rounding: tuple[decimal.Context, Decimal] = attrs.field(init=False, repr=False)
    """The context and quantum that round a KPI score (the fast path of :func:`_round`)."""
    _fired: dict[str, FiredRule] = attrs.field(init=False, repr=False)
    _order: dict[str, int] = attrs.field(init=False, repr=False)
    _points_rules: tuple[CompiledRule, ...] = attrs.field(init=False, repr=False)
    _grade_rules: tuple[CompiledRule, ...] = attrs.field(init=False, repr=False)

    def __attrs_post_init__(self) -> None:
        set_ = object.__setattr__
        set_(self, "_kpi_rounding", (rounder(self.rounding.mode), quantum(self.rounding.kpi)))
        set_(self, "_input_names", frozenset(spec.name for spec in self.inputs))
        set_(self, "_fired", {rule.id: rule.record for rule in self.rules})
        set_(self, "_order", {rule.id: i for i, rule in enumerate(self.rules)})
        set_(self, "_points_rules", tuple(r for r in self.rules if r.is_points))
        set_(self, "_grade_rules", tuple(r for r in self.rules if not r.is_points))

    @property
    def id(self) -> str:
        return self.scheme.id

    @property
    def version(self) -> str | None:
        return self.scheme.version

    def evaluate(
        self,
        rows: Iterable[Mapping[str, Any]] | Any,
        *,
        errors: Literal["raise", "collect"] = "raise",
        history: Sequence[Any] = (),
    ) -> Evaluation:
        """Score every row.

        ``rows``: an iterable of mappings with ``employee_id`` and the inputs (other columns
        are passed through to the cards), or a pandas / polars DataFrame.

        ``history``: earlier periods' results, oldest first (Evaluations, or lists of
        records with ``employee_id``, ``total`` and ``grade``), for formulas that read
        ``previous_total()``, ``avg_total(n)`` or ``streak("A")``.

        ``errors="raise"`` (default) stops at the first bad row with a
        :class:`~perfkit.DataError`; ``errors="collect"`` scores every good row and lists
        the bad ones in :attr:`Evaluation.problems`. Cards are sorted by employee id, so the
        result does not depend on row order.
        """
        if errors not in ("raise", "collect"):
            raise ValueError(f"errors must be 'raise' or 'collect', not {errors!r}")
        row_list = to_row_list(rows)
        past = read_history(history)
        problems: list[DataError] = []
        ids = self._employee_ids(row_list, problems, errors)
        cards = []
        with decimal.localcontext(CONTEXT):
            for index, row in enumerate(row_list):
                employee_id = ids[index]
                if employee_id is None:
                    continue
                try:
                    env, attributes = self._read_row(index, employee_id, row)
                    if self.history_calls:
                        env.update(self._history(employee_id, past))
                    card = self._score(employee_id, env, attributes, None)
                except DataError as exc:
                    if errors == "raise":
                        raise
                    problems.append(exc)
                    continue
                cards.append(card)
        cards.sort(key=lambda c: c.employee_id)
        problems.sort(key=lambda p: (p.row if p.row is not None else -1))
        return Evaluation(self.id, self.version, tuple(cards), tuple(problems))

    def explain(self, card_or_row: ScoreCard | Mapping[str, Any], *, history: Sequence[Any] = ()) -> Explanation:
        """The trace from inputs to grade for one card (or one row, with its ``history``)."""
        if isinstance(card_or_row, ScoreCard):
            employee_id = card_or_row.employee_id
            env = dict(card_or_row.inputs)
            attributes = card_or_row.attributes
        else:
            employee_id = _employee_id(card_or_row, 0)
            env, attributes = self._read_row(0, employee_id, card_or_row)
            if self.history_calls:
                with decimal.localcontext(CONTEXT):
                    env.update(self._history(employee_id, read_history(history)))
        traces: dict[str, Any] = {}
        with decimal.localcontext(CONTEXT):
            card = self._score(employee_id, env, attributes, traces)
        return Explanation.build(self, card, traces)

    def _history(self, employee_id: str, past: Sequence[Mapping[str, PastResult]]) -> dict[str, Decimal]:
        """The values of the scheme's history calls for one person (see :mod:`perfkit.rules.history`)."""
        periods = [period.get(employee_id) for period in past]
        policy = self.scheme.history
        return {
            call.key: history_value(
                call.func,
                call.argument,
                periods,
                scale=self.scale,
                missing=policy.missing,
                fill=policy.value,
                employee_id=employee_id,
            )
            for call in self.history_calls
        }

    # -- rows -------------------------------------------------------------------------------

    def _employee_ids(
        self, rows: list[Mapping[str, Any]], problems: list[DataError], errors: str
    ) -> list[str | None]:
        ids: list[str | None] = []
        first_seen: dict[str, list[int]] = {}
        for index, row in enumerate(rows):
            try:
                employee_id = _employee_id(row, index)
            except DataError as exc:
                if errors == "raise":
                    raise
                problems.append(exc)
                ids.append(None)
                continue
            first_seen.setdefault(employee_id, []).append(index)
            ids.append(employee_id)
        for employee_id, indexes in first_seen.items():
            if len(indexes) > 1:
                error = DataError(
                    f"the employee id appears {len(indexes)} times (rows {', '.join(map(str, indexes))}); "
                    "none of these rows is scored",
                    employee_id=employee_id,
                    column=EMPLOYEE_ID,
                    row=indexes[1],
                )
                if errors == "raise":
                    raise error
                problems.append(error)
                for index in indexes:
                    ids[index] = None
        return ids

    def _read_row(
        self, index: int, employee_id: str, row: Mapping[str, Any]
    ) -> tuple[dict[str, Decimal], tuple[tuple[str, Any], ...]]:
        env: dict[str, Decimal] = {}
        problems: list[DataError] = []
        for spec in self.inputs:
            raw = row.get(spec.name)
            if raw is None or (type(raw) is str and not raw.strip()):
                if spec.default is not None:
                    env[spec.name] = spec.default
                    continue
                hint = ""
                close = difflib.get_close_matches(spec.name, [str(k) for k in row if k not in self._input_names], n=1)
                if close:
                    hint = f"; the row has a column {close[0]!r}: is it misspelt?"
                problems.append(DataError(f"the required input is missing{hint}", **_cell(employee_id, spec, index)))
                continue
            try:
                value = to_decimal(raw)
            except ValueError as exc:
                problems.append(
                    DataError(str(exc), value=raw, **_cell(employee_id, spec, index))
                )
                continue
            if (spec.min is not None and value < spec.min) or (spec.max is not None and value > spec.max):
                low = "" if spec.min is None else f"{spec.min}"
                high = "" if spec.max is None else f"{spec.max}"
                problems.append(
                    DataError(
                        f"{raw} is outside the declared range {low}..{high}",
                        value=raw,
                        **_cell(employee_id, spec, index),
                    )
                )
                continue
            env[spec.name] = value
        if problems:
            if len(problems) == 1:
                raise problems[0]
            text = "; ".join(f"column {p.column!r}: {p.message}" for p in problems)
            raise DataError(text, employee_id=employee_id, row=index, problems=tuple(problems))
        attributes = tuple((str(k), v) for k, v in row.items() if k != EMPLOYEE_ID and k not in self._input_names)
        return env, attributes

    # -- scoring ----------------------------------------------------------------------------

    def _score(
        self,
        employee_id: str,
        inputs: Mapping[str, Decimal],
        attributes: tuple[tuple[str, Any], ...],
        traces: dict[str, Any] | None,
    ) -> ScoreCard:
        mode = self.rounding.mode
        context, places = self._kpi_rounding
        scores = []
        weighted_sum = Decimal(0)
        for kpi in self.kpis:
            raw = None
            if traces is None:  # the compiled path; on any failure, the reference path below
                try:
                    raw = kpi.formula.fast(inputs)
                    score = context.quantize(raw, places)
                except ArithmeticError:
                    raw = None
            if raw is None:  # explaining, or locating a failure: this path raises DataError
                raw = _run(kpi.formula, inputs, employee_id, traces)
                assert isinstance(raw, Decimal)
                score = _round(raw, self.rounding.kpi, mode, employee_id, kpi.formula.path)
            assert isinstance(raw, Decimal)
            weighted_sum += kpi.weight * score
            scores.append(KpiScore(kpi.id, kpi.name, kpi.weight, score))
            if traces is not None:
                traces[kpi.id] = KpiTrace.of(kpi, raw, score, traces.pop(kpi.formula.path or ""))
        # The total and the rules read inputs and rounded KPI scores (a name that is both is
        # refused in those formulas when the scheme is compiled).
        env: dict[str, Decimal] = dict(inputs)
        for kpi_score in scores:
            env[kpi_score.id] = kpi_score.score
        if self.total is not None:
            raw_total = _run(self.total, env, employee_id, traces)
            assert isinstance(raw_total, Decimal)
        else:
            raw_total = weighted_sum
        total = _round(raw_total, self.rounding.total, mode, employee_id, "total")
        base_total = total
        env["base_total"] = base_total
        if traces is not None:
            steps = traces.pop(self.total.path or "")[1] if self.total is not None else ()
            traces["total"] = TotalTrace(self.total.text if self.total else None, steps, raw_total, total)
        fired: list[tuple[CompiledRule, FiredRule]] = []
        points: list[PointsApplied] = []
        if self._points_rules:
            adjusted = self._apply_points(env, employee_id, traces, fired, points)
            total = _round(adjusted, self.rounding.total, mode, employee_id, "total")
        env["total"] = total
        if traces is not None:
            traces["banded_total"] = total
        band = self.scale.band(total)
        if band is None:
            lowest = self.scale.grades[-1]
            raise DataError(
                f"the total {total} is below every grade band (the lowest, {lowest.name}, starts at "
                f"{lowest.min_score}); lower that band's min_score or leave it out",
                employee_id=employee_id,
                path="grades",
            )
        for rule in self._grade_rules:
            holds = True if rule.when is None else _run(rule.when, env, employee_id, traces)
            record: FiredRule | None = self._fired[rule.id] if holds else None
            note = ""
            if holds and rule.table is not None:
                result = _lookup(rule, {**env, "band_grade": band.name}, employee_id)
                record = rule.from_table(result.outputs) if result.outputs else None
                note = _matched(result, rule.table.hit)
            if traces is not None:
                trace = RuleTrace.of(rule, record is not None, _steps(traces, rule.when))
                traces[f"rule:{rule.id}"] = attrs.evolve(trace, effect=note)
            if record is not None:
                fired.append((rule, record))
        effects: dict[str, list[str]] | None = {} if traces is not None else None
        grade, total = self._resolve_grade(band, total, fired, effects) if fired else (band, total)
        if traces is not None:
            traces["effects"] = effects
        if self._points_rules and fired:  # points rules were evaluated first: back to scheme order
            fired.sort(key=lambda pair: self._order[pair[0].id])
        records = tuple(record for _, record in fired)
        return ScoreCard(
            employee_id=employee_id,
            kpis=tuple(scores),
            base_total=base_total,
            points=tuple(points),
            total=total,
            band_grade=band.name,
            grade=grade.name,
            multiplier=grade.multiplier,
            flags=tuple(sorted({r.flag for r in records if r.flag})) if records else (),
            fired=records,
            ineligible=tuple(sorted({name for r in records for name in r.ineligible})) if records else (),
            alerts=tuple(r.alert for r in records if r.alert is not None) if records else (),
            review_required=any(r.require_review for r in records) if records else False,
            inputs=tuple(inputs.items()),
            attributes=attributes,
            scheme=self,
        )

    def _apply_points(
        self,
        env: Mapping[str, Decimal],
        employee_id: str,
        traces: dict[str, Any] | None,
        fired: list[tuple[CompiledRule, FiredRule]],
        applied: list[PointsApplied],
    ) -> Decimal:
        """Phase 1: bonus and penalty points change the base total, before banding."""
        adjusted = env["base_total"]
        for rule in self._points_rules:
            if rule.table is not None:
                adjusted = self._table_points(rule, env, adjusted, employee_id, traces, fired, applied)
                continue
            points = rule.points
            assert points is not None
            holds = True if rule.when is None else _run(rule.when, env, employee_id, traces)
            blocked = bool(holds) and points.unless is not None and bool(_run(points.unless, env, employee_id, traces))
            effect = ""
            if holds and not blocked:
                amount = _run(points.amount, env, employee_id, traces)
                assert isinstance(amount, Decimal)
                if amount < 0:
                    raise DataError(
                        f"points are never negative, but this formula gave {amount} "
                        "(use subtract_points for penalties)",
                        employee_id=employee_id,
                        path=points.amount.path,
                        formula=points.amount.text,
                    )
                capped = amount if points.max is None or amount <= points.max else points.max
                signed = capped if points.sign > 0 else -capped
                before = adjusted
                if signed:  # a rule that moves the total by 0 points has not changed anything
                    adjusted = before + signed
                    applied.append(PointsApplied(rule.id, signed))
                    fired.append((rule, self._fired[rule.id]))
                cap_note = f", capped at {points.max}" if capped != amount else ""
                effect = f"{'+' if signed > 0 else ''}{signed} points{cap_note}: total {before} → {adjusted}"
                if not signed:
                    effect = "0 points: no change"
            elif blocked:
                effect = "blocked by its unless condition; no points"
            if traces is not None:
                steps = _steps(traces, rule.when, points.unless, points.amount)
                trace = RuleTrace.of(rule, bool(applied) and applied[-1].rule_id == rule.id, steps)
                traces[f"rule:{rule.id}"] = attrs.evolve(trace, effect=effect)
        return adjusted

    def _table_points(
        self,
        rule: CompiledRule,
        env: Mapping[str, Decimal],
        adjusted: Decimal,
        employee_id: str,
        traces: dict[str, Any] | None,
        fired: list[tuple[CompiledRule, FiredRule]],
        applied: list[PointsApplied],
    ) -> Decimal:
        holds = True if rule.when is None else _run(rule.when, env, employee_id, traces)
        effect = ""
        signed = Decimal(0)
        if holds:
            result = _lookup(rule, env, employee_id)
            plus, minus = result.outputs.get("add_points", 0), result.outputs.get("subtract_points", 0)
            assert isinstance(plus, (Decimal, int)) and isinstance(minus, (Decimal, int))
            signed = Decimal(plus) - Decimal(minus)
            effect = _matched(result, rule.table.hit if rule.table else "")
            if signed:
                applied.append(PointsApplied(rule.id, signed))
                fired.append((rule, self._fired[rule.id]))
                effect += f"; {'+' if signed > 0 else ''}{signed} points: total {adjusted} → {adjusted + signed}"
        if traces is not None:
            trace = RuleTrace.of(rule, bool(signed), _steps(traces, rule.when))
            traces[f"rule:{rule.id}"] = attrs.evolve(trace, effect=effect)
        return adjusted + signed

    def _resolve_grade(
        self,
        band: Grade,
        total: Decimal,
        fired: list[tuple[CompiledRule, FiredRule]],
        effects: dict[str, list[str]] | None,
    ) -> tuple[Grade, Decimal]:
        """Phase 3: set, then floors, then caps, then vetoes; each later step wins."""
        scale = self.scale
        name = band.name

        def change(rule: FiredRule, new: str) -> None:
            nonlocal name
            if effects is not None:
                note = f"grade {name} → {new}" if new != name else f"no change (grade {name})"
                effects.setdefault(rule.id, []).append(note)
            name = new

        for _, rule in sorted((pair for pair in fired if pair[1].set_grade), key=lambda pair: pair[0].priority):
            change(rule, rule.set_grade or name)
        records = [record for _, record in fired]
        for rule in records:
            if rule.floor_grade:
                change(rule, scale.better(name, rule.floor_grade))
        for rule in records:
            if rule.cap_grade:
                change(rule, scale.worse(name, rule.cap_grade))
        for rule in records:
            if rule.zero_total:
                zero_band = scale.band(Decimal(0))
                if zero_band is None:
                    raise AssertionError("the scheme check guarantees a band for a total of 0")
                if effects is not None:
                    effects.setdefault(rule.id, []).append(f"total {total} → 0")
                total = Decimal(0).quantize(total)
                change(rule, scale.worse(name, zero_band.name))
            if rule.veto_grade:
                change(rule, scale.worse(name, rule.veto_grade))
        return scale.grade(name), total


def _lookup(rule: CompiledRule, values: Mapping[str, Any], employee_id: str) -> TableResult:
    """Apply a rule's decision table to a row's values; bad values name the employee."""
    assert rule.table is not None
    try:
        return rule.table.evaluate(values)
    except DataError as exc:
        raise DataError(exc.message, employee_id=employee_id, path=f"rule {rule.id!r} (table)") from None


def _matched(result: TableResult, hit: str) -> str:
    """A table's result in words: which rows decided and what they gave."""
    gave = ", ".join(f"{k} {v}" for k, v in result.outputs.items()) or "nothing"
    if result.used_default:
        return f"no row matched; the default gives {gave}"
    if not result.matched:
        return "no row matched"
    if hit == "first":
        return f"row {result.matched[0]} matched first: {gave}"
    rows = ", ".join(str(i) for i in result.matched)
    return f"row{'s' if len(result.matched) > 1 else ''} {rows} matched ({hit}): {gave}"


def _text(value: Any) -> str | None:
    return None if value is None else str(value)


def _steps(traces: dict[str, Any], *formulas: Formula | None) -> tuple[Step, ...]:
    """The recorded steps of the formulas a rule evaluated (those it did not reach add none)."""
    steps: list[Step] = []
    for formula in formulas:
        if formula is not None and (formula.path or "") in traces:
            steps.extend(traces.pop(formula.path or "")[1])
    return tuple(steps)


def _run(formula: Formula, env: Mapping[str, Decimal], employee_id: str, traces: dict[str, Any] | None) -> Value:
    """Evaluate one formula: compiled path, or the interpreter to trace or to locate a failure."""
    if traces is None:
        try:
            return formula.fast(env)
        except ArithmeticError:
            pass
    steps: list[Step] = []
    try:
        value = formula.interpret(env, steps)
    except EvalFailure as failure:
        raise formula.data_error(failure, employee_id=employee_id) from None
    if traces is not None:
        traces[formula.path or ""] = (value, tuple(steps))
    return value


def _round(value: Decimal, places: int, mode: RoundingMode, employee_id: str, path: str | None) -> Decimal:
    try:
        return quantize(value, places, mode)
    except ArithmeticError:
        raise DataError(
            f"the value {value} is too large to round to {places} decimal places", employee_id=employee_id, path=path
        ) from None


def _employee_id(row: Mapping[str, Any], index: int) -> str:
    raw = row.get(EMPLOYEE_ID)
    if is_empty(raw):
        raise DataError("the row has no employee_id", column=EMPLOYEE_ID, row=index)
    if isinstance(raw, str):
        return raw.strip()
    if isinstance(raw, (numbers.Real, Decimal)):
        # a numeric id column with a blank cell is float in pandas: 1001.0 is employee 1001
        try:
            number = to_decimal(raw)  # refuses booleans, NaN and infinities
        except ValueError:
            number = Decimal("NaN")
        if number.is_finite() and number == number.to_integral_value():
            return str(int(number))
    raise DataError(f"an employee id is text or a whole number, got {raw!r}", column=EMPLOYEE_ID, row=index)


def _cell(employee_id: str, spec: CompiledInput, index: int) -> dict[str, Any]:
    return {"employee_id": employee_id, "column": spec.name, "row": index}


def as_compiled(scheme: Scheme | CompiledScheme | str | Path) -> CompiledScheme:
    """A Scheme, a compiled scheme or a scheme file's path, compiled (files are loaded)."""
    if isinstance(scheme, (str, Path)):
        scheme = load_scheme(scheme)
    if isinstance(scheme, Scheme):
        return scheme.compile()
    if isinstance(scheme, CompiledScheme):
        return scheme
    raise SchemeError(f"expected a Scheme, a compiled scheme or a scheme file's path, got {type(scheme).__name__}")
