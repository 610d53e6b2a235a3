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
from collections.abc import Iterable, Mapping
from decimal import Decimal
from typing import Any, Literal

import attrs

from perfkit.calibration.scale import Grade, GradeScale
from perfkit.errors import DataError
from perfkit.io.rows import to_row_list
from perfkit.numbers import CONTEXT, RoundingMode, quantize, to_decimal
from perfkit.rules.explain import Explanation, KpiTrace, RuleTrace, TotalTrace
from perfkit.rules.formula import EvalFailure, Formula, Step, Value
from perfkit.rules.intervals import Interval
from perfkit.rules.scorecard import Evaluation, FiredRule, KpiScore, ScoreCard
from perfkit.scheme import Rounding, Scheme

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


@attrs.frozen
class CompiledRule:
    id: str
    when: Formula
    cap_grade: str | None
    floor_grade: str | None
    flag: str | None
    reason: str | None

    @property
    def fired(self) -> FiredRule:
        """The record a score card keeps when this rule fires."""
        return FiredRule(self.id, self.reason, self.cap_grade, self.floor_grade, self.flag)


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
    _input_names: frozenset[str] = attrs.field(init=False, repr=False)
    _fired: dict[str, FiredRule] = attrs.field(init=False, repr=False)

    def __attrs_post_init__(self) -> None:
        object.__setattr__(self, "_input_names", frozenset(spec.name for spec in self.inputs))
        object.__setattr__(self, "_fired", {rule.id: rule.fired for rule in self.rules})

    @property
    def id(self) -> str:
        return self.scheme.id

    @property
    def version(self) -> str | None:
        return self.scheme.version

    def evaluate(
        self, rows: Iterable[Mapping[str, Any]] | Any, *, errors: Literal["raise", "collect"] = "raise"
    ) -> Evaluation:
        """Score every row.

        ``rows``: an iterable of mappings with ``employee_id`` and the inputs (other columns
        are passed through to the cards), or a pandas / polars DataFrame.

        ``errors="raise"`` (default) stops at the first bad row with a
        :class:`~perfkit.DataError`; ``errors="collect"`` scores every good row and lists
        the bad ones in :attr:`Evaluation.problems`. Cards are sorted by employee id, so the
        result does not depend on row order.
        """
        if errors not in ("raise", "collect"):
            raise ValueError(f"errors must be 'raise' or 'collect', not {errors!r}")
        row_list = to_row_list(rows)
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

    def explain(self, card_or_row: ScoreCard | Mapping[str, Any]) -> Explanation:
        """The trace from inputs to grade for one card (or one row)."""
        if isinstance(card_or_row, ScoreCard):
            employee_id = card_or_row.employee_id
            env = dict(card_or_row.inputs)
            attributes = card_or_row.attributes
        else:
            employee_id = _employee_id(card_or_row, 0)
            env, attributes = self._read_row(0, employee_id, card_or_row)
        traces: dict[str, Any] = {}
        with decimal.localcontext(CONTEXT):
            card = self._score(employee_id, env, attributes, traces)
        return Explanation.build(self, card, traces)

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
        scores = []
        for kpi in self.kpis:
            raw = _run(kpi.formula, inputs, employee_id, traces)
            assert isinstance(raw, Decimal)
            score = _round(raw, self.rounding.kpi, mode, employee_id, kpi.formula.path)
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
            raw_total = sum((k.weight * k.score for k in scores), Decimal(0))
        total = _round(raw_total, self.rounding.total, mode, employee_id, "total")
        env["total"] = total
        if traces is not None:
            steps = traces.pop(self.total.path or "")[1] if self.total is not None else ()
            traces["total"] = TotalTrace(self.total.text if self.total else None, steps, raw_total, total)
        band = self.scale.band(total)
        if band is None:
            lowest = self.scale.grades[-1]
            raise DataError(
                f"the total {total} is below every grade band (the lowest, {lowest.name}, starts at "
                f"{lowest.min_score}); lower that band's min_score or leave it out",
                employee_id=employee_id,
                path="grades",
            )
        fired = []
        for rule in self.rules:
            holds = _run(rule.when, env, employee_id, traces)
            if traces is not None:
                traces[f"rule:{rule.id}"] = RuleTrace.of(rule, traces.pop(rule.when.path or ""))
            if holds:
                fired.append(self._fired[rule.id])
        grade = self._final_grade(band, fired)
        return ScoreCard(
            employee_id=employee_id,
            kpis=tuple(scores),
            total=total,
            band_grade=band.name,
            grade=grade.name,
            multiplier=grade.multiplier,
            flags=tuple(sorted({r.flag for r in fired if r.flag})) if fired else (),
            fired=tuple(fired),
            inputs=tuple(inputs.items()),
            attributes=attributes,
            scheme=self,
        )

    def _final_grade(self, band: Grade, fired: list[FiredRule]) -> Grade:
        scale = self.scale
        name = band.name
        floors = [r.floor_grade for r in fired if r.floor_grade]
        if floors:
            highest_floor = min(floors, key=scale.rank)
            name = scale.better(name, highest_floor)
        caps = [r.cap_grade for r in fired if r.cap_grade]
        if caps:
            lowest_cap = max(caps, key=scale.rank)
            name = scale.worse(name, lowest_cap)
        return scale.grade(name)


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
    if _is_missing(raw):
        raise DataError("the row has no employee_id", column=EMPLOYEE_ID, row=index)
    if isinstance(raw, str):
        return raw.strip()
    if isinstance(raw, numbers.Integral) and not isinstance(raw, bool):
        return str(int(raw))
    if isinstance(raw, (numbers.Real, Decimal)) and not isinstance(raw, bool):
        # a numeric id column with a blank cell is float in pandas: 1001.0 is employee 1001
        number = raw if isinstance(raw, Decimal) else Decimal(repr(float(raw)))
        if number.is_finite() and number == number.to_integral_value():
            return str(int(number))
    raise DataError(f"an employee id is text or a whole number, got {raw!r}", column=EMPLOYEE_ID, row=index)


def _cell(employee_id: str, spec: CompiledInput, index: int) -> dict[str, Any]:
    return {"employee_id": employee_id, "column": spec.name, "row": index}


def _is_missing(value: Any) -> bool:
    return value is None or (isinstance(value, str) and not value.strip())
