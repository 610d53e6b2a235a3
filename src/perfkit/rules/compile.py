"""Checking a scheme's meaning and compiling it into a :class:`CompiledScheme`.

Every problem is collected (weights, grade bands, formulas, rule targets, band coverage)
and reported together in one :class:`~perfkit.SchemeError`.
"""

from __future__ import annotations

import decimal
import difflib
from collections.abc import Collection, Mapping, Sequence
from decimal import Decimal

from perfkit.calibration.scale import Grade, GradeScale
from perfkit.errors import FormulaError, SchemeError
from perfkit.numbers import CONTEXT, exact_sum, quantize
from perfkit.rules.engine import CompiledInput, CompiledKPI, CompiledRule, CompiledScheme
from perfkit.rules.formula import Formula
from perfkit.rules.intervals import EVERYTHING, Interval
from perfkit.scheme import Scheme, combine, format_weight

__all__ = ["check_weights", "compile_scheme"]

RESERVED = frozenset({"total", "employee_id"})


class _Problems:
    def __init__(self) -> None:
        self.items: list[SchemeError] = []

    def add(self, message: str, path: str) -> None:
        self.items.append(SchemeError(message, path=path))

    def formula(
        self,
        text: str,
        names: Collection[str],
        path: str,
        kind: str = "number",
        refused: Mapping[str, str] | None = None,
    ) -> Formula | None:
        try:
            return Formula.compile(text, names, kind=kind, path=path, refused=refused)  # type: ignore[arg-type]
        except FormulaError as exc:
            self.items.append(exc)
            return None


def check_weights(
    weights: Sequence[tuple[str, Decimal]], *, normalize: bool = False, what: str = "weights"
) -> tuple[list[Decimal], str | None]:
    """The effective weights, and a problem message if they do not sum to exactly 100%.

    ``weights`` are (label, weight) pairs. With ``normalize``, weights are scaled to sum to
    100% instead (they must not all be 0). The sum is exact: no float tolerance.
    """
    values = [w for _, w in weights]
    total = exact_sum(values)
    listing = ", ".join(f"{label} {format_weight(w)}" for label, w in weights)
    if normalize:
        if total == 0:
            return values, f"the {what} are all 0, so they cannot be scaled to 100% ({listing})"
        with decimal.localcontext(CONTEXT):
            return [w / total for w in values], None
    if total != 1:
        message = f"the {what} must sum to exactly 100%, but they sum to {format_weight(total)} ({listing})"
        if what == "weights":
            message += "; fix them, or set normalize_weights: true to scale them"
        return values, message
    return values, None


def compile_scheme(scheme: Scheme) -> CompiledScheme:
    """Check ``scheme`` as a whole and compile its formulas; raise SchemeError listing every problem."""
    with decimal.localcontext(CONTEXT):
        return _compile(scheme)


def _compile(scheme: Scheme) -> CompiledScheme:
    problems = _Problems()
    inputs = _inputs(scheme, problems)
    input_names = [spec.name for spec in inputs]
    ranges = {spec.name: Interval.of(spec.min, spec.max) for spec in inputs}

    kpis: list[CompiledKPI] = []
    seen: set[str] = set()
    for i, kpi in enumerate(scheme.kpis):
        if kpi.id in seen:
            problems.add(f"the KPI id {kpi.id!r} is used twice", f"kpis[{i}].id")
        if kpi.id in RESERVED:
            problems.add(f"{kpi.id!r} is a reserved name; choose another KPI id", f"kpis[{i}].id")
        seen.add(kpi.id)
    weights, message = check_weights(
        [(kpi.id, kpi.weight) for kpi in scheme.kpis], normalize=scheme.normalize_weights
    )
    if message:
        problems.add(message, "kpis")
    for i, (kpi, weight) in enumerate(zip(scheme.kpis, weights)):
        formula = problems.formula(kpi.score, input_names, f"kpis[{i}].score")
        if formula is None:
            continue
        bounds = formula.bounds(ranges).map_monotone(lambda v: quantize(v, scheme.rounding.kpi, scheme.rounding.mode))
        kpis.append(CompiledKPI(kpi.id, kpi.name, weight, formula, bounds))
    for name in input_names:
        if name in RESERVED:
            problems.add(f"{name!r} is a reserved name; choose another input name", f"inputs.{name}")

    # The total and the rules read inputs and KPI scores; a name that is both is ambiguous there.
    kpi_names = input_names + [kpi.id for kpi in scheme.kpis if kpi.id not in scheme.inputs]
    ambiguous = {
        kpi.id: f"{kpi.id!r} is both an input and a KPI id, so it is ambiguous here; rename the KPI or the input"
        for kpi in scheme.kpis
        if kpi.id in scheme.inputs
    }
    total = None
    if scheme.total is not None:
        total = problems.formula(scheme.total, kpi_names, "total", refused=ambiguous)

    scale = _scale(scheme, problems)

    rules = []
    rule_ids: set[str] = set()
    for i, rule in enumerate(scheme.rules):
        if rule.id in rule_ids:
            problems.add(f"the rule id {rule.id!r} is used twice", f"rules[{i}].id")
        rule_ids.add(rule.id)
        when = problems.formula(
            rule.when, [*kpi_names, "total"], f"rules[{i}].when", kind="condition", refused=ambiguous
        )
        for action in ("cap_grade", "floor_grade"):
            grade = getattr(rule.then, action)
            if grade is not None and grade not in scale:
                _unknown_grade(problems, grade, scale, f"rules[{i}].then.{action}")
        if when is not None:
            rules.append(
                CompiledRule(rule.id, when, rule.then.cap_grade, rule.then.floor_grade, rule.then.flag, rule.reason)
            )

    total_bounds = EVERYTHING
    if len(kpis) == len(scheme.kpis) and (scheme.total is None or total is not None):
        # KPI formulas see the inputs' ranges; the total sees the KPIs' too (never a name
        # that is both: the total refuses those)
        total_ranges = {**ranges, **{k.id: k.bounds for k in kpis if k.id not in ambiguous}}
        total_bounds = _total_bounds(kpis, total, total_ranges, scheme)
        _check_coverage(scheme, scale, total_bounds, kpis, problems)
    _check_calibration(scheme, scale, problems)

    if problems.items:
        raise combine(problems.items, scheme_id=scheme.id)
    return CompiledScheme(
        scheme=scheme,
        inputs=tuple(inputs),
        kpis=tuple(kpis),
        total=total,
        rounding=scheme.rounding,
        rules=tuple(rules),
        scale=scale,
        total_bounds=total_bounds,
    )


def _inputs(scheme: Scheme, problems: _Problems) -> list[CompiledInput]:
    inputs = []
    for name, spec in scheme.inputs.items():
        if spec.min is not None and spec.max is not None and spec.min > spec.max:
            problems.add(f"min ({spec.min}) is greater than max ({spec.max})", f"inputs.{name}.min")
        if spec.default is not None and (
            (spec.min is not None and spec.default < spec.min) or (spec.max is not None and spec.default > spec.max)
        ):
            problems.add(f"the default {spec.default} is outside the declared range", f"inputs.{name}.default")
        inputs.append(CompiledInput(name, spec.unit, spec.min, spec.max, spec.default))
    return inputs


def _scale(scheme: Scheme, problems: _Problems) -> GradeScale:
    grades: list[Grade] = []
    names: set[str] = set()
    last = len(scheme.grades) - 1
    previous: Grade | None = None
    for i, band in enumerate(scheme.grades):
        if band.grade in names:
            problems.add(f"the grade {band.grade!r} appears twice", f"grades[{i}].grade")
        names.add(band.grade)
        if band.multiplier is not None and band.multiplier < 0:
            problems.add(f"a multiplier cannot be negative (got {band.multiplier})", f"grades[{i}].multiplier")
        if band.min_score is None and i != last:
            problems.add(
                f"only the last (worst) grade may leave out min_score; {band.grade!r} is not last",
                f"grades[{i}].min_score",
            )
        if previous is not None and previous.min_score is not None and band.min_score is not None:
            if not band.min_score < previous.min_score:
                problems.add(
                    "grades go from best to worst with strictly decreasing min_score, but "
                    f"{band.grade} ({band.min_score}) is not below {previous.name} ({previous.min_score}); "
                    "bands that overlap or are out of order are not allowed",
                    f"grades[{i}].min_score",
                )
        grade = Grade(band.grade, band.min_score, band.multiplier)
        grades.append(grade)
        previous = grade
    return GradeScale(tuple(grades))


def _unknown_grade(problems: _Problems, grade: str, scale: GradeScale, path: str) -> None:
    names = list(dict.fromkeys(scale.names))
    close = [n for n in names if n.casefold() == grade.casefold()] or difflib.get_close_matches(
        grade, names, n=1, cutoff=0.5
    )
    hint = f"; did you mean {close[0]!r}?" if close else f"; the grades are {', '.join(names)}"
    problems.add(f"unknown grade {grade!r}{hint}", path)


def _total_bounds(
    kpis: list[CompiledKPI], total: Formula | None, ranges: dict[str, Interval], scheme: Scheme
) -> Interval:
    if total is not None:
        raw = total.bounds(ranges)
    else:
        raw = Interval.point(Decimal(0))
        for kpi in kpis:
            raw = raw + kpi.bounds * Interval.point(kpi.weight)
    return raw.map_monotone(lambda v: quantize(v, scheme.rounding.total, scheme.rounding.mode))


def _check_coverage(
    scheme: Scheme, scale: GradeScale, bounds: Interval, kpis: list[CompiledKPI], problems: _Problems
) -> None:
    lowest = scale.lowest_min_score
    if lowest is None or bounds.lo >= lowest:
        return
    path = f"grades[{len(scheme.grades) - 1}].min_score"
    worst = scale.grades[-1].name
    if bounds.lo.is_finite():
        problems.add(
            f"totals can be as low as {bounds.lo}, but the worst grade {worst} starts at {lowest}: "
            "lower totals would get no grade; lower its min_score or leave min_score out of the last grade",
            path,
        )
        return
    unbounded = [k.id for k in kpis if not k.bounds.lo.is_finite()]
    because = f" (no lower bound is known for: {', '.join(unbounded)})" if unbounded else ""
    problems.add(
        f"the total has no lower bound{because}, but the worst grade {worst} starts at {lowest}; "
        "declare min/max on the inputs, clamp the scores, or leave min_score out of the last grade",
        path,
    )


def _check_calibration(scheme: Scheme, scale: GradeScale, problems: _Problems) -> None:
    if scheme.calibration is None or not scheme.calibration.distribution:
        return
    distribution = scheme.calibration.distribution
    for grade in distribution:
        if grade not in scale:
            _unknown_grade(problems, grade, scale, f"calibration.distribution.{grade}")
    _, message = check_weights(list(distribution.items()), what="distribution shares")
    if message:
        problems.add(message, "calibration.distribution")
