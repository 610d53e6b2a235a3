"""Checking a scheme's meaning and compiling it into a :class:`CompiledScheme`.

Every problem is collected (weights, grade bands, formulas, rule targets, band coverage)
and reported together in one :class:`~perfkit.SchemeError`.
"""

from __future__ import annotations

import decimal
import difflib
from collections.abc import Collection, Mapping, Sequence
from decimal import Decimal

import attrs

from perfkit.calibration.scale import Grade, GradeScale
from perfkit.errors import FormulaError, SchemeError
from perfkit.numbers import CONTEXT, exact_sum, quantize
from perfkit.rules import ir
from perfkit.rules.engine import (
    CompiledInput,
    CompiledKPI,
    CompiledPoints,
    CompiledRule,
    CompiledScheme,
)
from perfkit.rules.formula import Formula
from perfkit.rules.intervals import EVERYTHING, Interval
from perfkit.rules.scorecard import CardAlert, FiredRule
from perfkit.rules.tables import CompiledTable, compile_table
from perfkit.scheme import (
    Points,
    Rule,
    Scheme,
    VetoGrade,
    VetoIneligible,
    combine,
    format_weight,
)

__all__ = ["check_weights", "compile_scheme"]

RESERVED = frozenset({"total", "base_total", "employee_id"})


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
    if total == 1 and not normalize:
        return values, None
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
        kpis.append(CompiledKPI(kpi.id, kpi.name, weight, formula, bounds, scheme.source_of("kpi", kpi.id)))
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

    rules = _rules(scheme, scale, kpi_names, ranges, kpis, ambiguous, problems)

    total_bounds = EVERYTHING
    if len(kpis) == len(scheme.kpis) and (scheme.total is None or total is not None):
        # KPI formulas see the inputs' ranges; the total sees the KPIs' too (never a name
        # that is both: the total refuses those)
        total_ranges = {**ranges, **{k.id: k.bounds for k in kpis if k.id not in ambiguous}}
        total_bounds = _total_bounds(kpis, total, total_ranges, scheme, rules)
        _check_coverage(scheme, scale, total_bounds, kpis, problems)
    _check_calibration(scheme, scale, problems)

    history_calls = _history_calls(kpis, total, rules, scale, problems)
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
        history_calls=history_calls,
    )


def _rules(
    scheme: Scheme,
    scale: GradeScale,
    kpi_names: list[str],
    ranges: dict[str, Interval],
    kpis: list[CompiledKPI],
    ambiguous: dict[str, str],
    problems: _Problems,
) -> list[CompiledRule]:
    """Compile the rules; points rules read ``base_total`` only, the others ``total`` too."""
    rules = []
    rule_ids: set[str] = set()
    points_names = [*kpi_names, "base_total"]
    grade_names = [*points_names, "total"]
    not_yet = {
        **ambiguous,
        "total": "points rules run before the total is final, so they cannot read 'total'; use base_total",
    }
    point_ranges = {**ranges, **{k.id: k.bounds for k in kpis if k.id not in ambiguous}}
    for i, rule in enumerate(scheme.rules):
        path = f"rules[{i}]"
        if rule.id in rule_ids:
            problems.add(f"the rule id {rule.id!r} is used twice", f"{path}.id")
        rule_ids.add(rule.id)
        if rule.table is not None:
            table_rule = _table_rule(rule, path, scale, points_names, grade_names, not_yet, ambiguous, ranges, problems)
            if table_rule is not None:
                table_rule = attrs.evolve(table_rule, source=scheme.source_of("rule", rule.id))
            if table_rule is not None:
                rules.append(table_rule)
            continue
        then = rule.then
        assert then is not None  # a rule has then or table (checked by the model)
        spec = then.add_points or then.subtract_points
        names, refused = (points_names, not_yet) if spec is not None else (grade_names, ambiguous)
        when = None
        if rule.when is not None:
            when = problems.formula(rule.when, names, f"{path}.when", kind="condition", refused=refused)
        for action in ("set_grade", "floor_grade", "cap_grade"):
            grade = getattr(then, action)
            if grade is not None and grade not in scale:
                _unknown_grade(problems, grade, scale, f"{path}.then.{action}")
        veto_grade = then.veto.grade if isinstance(then.veto, VetoGrade) else None
        if veto_grade is not None and veto_grade not in scale:
            _unknown_grade(problems, veto_grade, scale, f"{path}.then.veto.grade")
        points = None
        if spec is not None:
            key = "add_points" if then.add_points is not None else "subtract_points"
            points = _points(spec, +1 if key == "add_points" else -1, f"{path}.then.{key}", points_names, not_yet, point_ranges, problems)
            if points is None:
                continue
        if rule.when is not None and when is None:
            continue
        record = FiredRule(
            id=rule.id,
            reason=rule.reason,
            set_grade=then.set_grade,
            floor_grade=then.floor_grade,
            cap_grade=then.cap_grade,
            veto_grade=veto_grade,
            zero_total=then.veto == "zero_total",
            ineligible=then.veto.ineligible if isinstance(then.veto, VetoIneligible) else (),
            flag=then.flag,
            require_review=then.require_review,
            alert=CardAlert(rule.id, then.alert.severity, then.alert.message) if then.alert else None,
        )
        rules.append(
            CompiledRule(
                id=rule.id,
                when=when,
                priority=rule.priority,
                points=points,
                record=record,
                source=scheme.source_of("rule", rule.id),
            )
        )
    _check_set_grade_conflicts(scheme, problems)
    return rules


TABLE_ACTIONS = ("set_grade", "floor_grade", "cap_grade", "flag", "alert", "add_points", "subtract_points")
"""The output columns a decision table may have: each is an action."""
_POINTS_ACTIONS = ("add_points", "subtract_points")


def _table_rule(
    rule: Rule,
    path: str,
    scale: GradeScale,
    points_names: list[str],
    grade_names: list[str],
    not_yet: dict[str, str],
    ambiguous: dict[str, str],
    ranges: dict[str, Interval],
    problems: _Problems,
) -> CompiledRule | None:
    """A rule whose actions come from a decision table's output columns."""
    table = rule.table
    assert table is not None
    where = f"{path}.table"
    count = len(problems.items)
    outputs = set(table.outputs)
    for name in table.outputs:
        if name not in TABLE_ACTIONS:
            close = difflib.get_close_matches(name, TABLE_ACTIONS, n=1)
            hint = f"; did you mean {close[0]!r}?" if close else f"; the actions a table can give are {', '.join(TABLE_ACTIONS)}"
            problems.add(f"the output column {name!r} is not an action{hint}", f"{where}.outputs")
    is_points = bool(outputs & set(_POINTS_ACTIONS))
    if is_points and outputs - set(_POINTS_ACTIONS):
        problems.add(
            "points change the total before banding, so a table with add_points or subtract_points gives no other action",
            f"{where}.outputs",
        )
    if table.hit == "collect" and (not is_points or table.aggregate not in ("sum", "min", "max")):
        problems.add("hit: collect combines points only, with aggregate sum, min or max", f"{where}.hit")
    names, refused = (points_names, not_yet) if is_points else ([*grade_names, "band_grade"], ambiguous)
    for name in table.inputs:
        if name in refused:
            problems.add(refused[name], f"{where}.inputs")
        elif name not in names:
            close = difflib.get_close_matches(name, names, n=1)
            hint = f"; did you mean {close[0]!r}?" if close else ""
            problems.add(f"unknown input {name!r}{hint}", f"{where}.inputs")
    when = None
    if rule.when is not None:
        when = problems.formula(rule.when, names, f"{path}.when", kind="condition", refused=refused)
    if len(problems.items) > count:
        return None
    spans = {name: (ranges[name].lo, ranges[name].hi) for name in table.inputs if name in ranges and ranges[name].bounded}
    try:
        compiled = compile_table(table, path=where, names={"band_grade": scale.names}, spans=spans)
    except SchemeError as exc:
        problems.items.extend(p for p in exc.problems if isinstance(p, SchemeError))
        return None
    rows = [row.outputs for row in compiled.rows] + ([compiled.default] if compiled.default is not None else [])
    for values in rows:
        for name, value in zip(compiled.outputs, values):
            if value is None:
                continue
            if name in ("set_grade", "floor_grade", "cap_grade") and (not isinstance(value, str) or value not in scale):
                _unknown_grade(problems, str(value), scale, f"{where}.rows")
            if name in _POINTS_ACTIONS and (not isinstance(value, Decimal) or value < 0):
                problems.add(f"{name} in a table is a number of points, not negative; got {value!r}", f"{where}.rows")
    if len(problems.items) > count:
        return None
    return CompiledRule(
        id=rule.id,
        when=when,
        priority=rule.priority,
        table=compiled,
        table_points=is_points,
        record=FiredRule(id=rule.id, reason=rule.reason),
    )


def _points(
    spec: Points,
    sign: int,
    path: str,
    names: list[str],
    refused: dict[str, str],
    ranges: dict[str, Interval],
    problems: _Problems,
) -> CompiledPoints | None:
    amount = problems.formula(spec.points, names, f"{path}.points", refused=refused)
    unless = None
    if spec.unless is not None:
        unless = problems.formula(spec.unless, names, f"{path}.unless", kind="condition", refused=refused)
    if spec.max is not None and spec.max < 0:
        problems.add(f"max cannot be negative (got {spec.max})", f"{path}.max")
    if amount is None or (spec.unless is not None and unless is None):
        return None
    if spec.max is None and not amount.bounds(ranges).hi.is_finite():
        problems.add(
            f"the points {spec.points!r} have no upper bound; add max: to cap them "
            "(or declare max: on the inputs they read)",
            f"{path}.points",
        )
    return CompiledPoints(sign, amount, spec.max, unless)


def _history_calls(
    kpis: list[CompiledKPI], total: Formula | None, rules: list[CompiledRule], scale: GradeScale, problems: _Problems
) -> tuple[ir.History, ...]:
    """Every history call of the scheme, once; a streak must name a grade of the scheme."""
    candidates: list[Formula | None] = [k.formula for k in kpis]
    candidates.append(total)
    for rule in rules:
        candidates.append(rule.when)
        if rule.points is not None:
            candidates.extend((rule.points.amount, rule.points.unless))
    calls: dict[str, ir.History] = {}
    for formula in (f for f in candidates if f is not None):
        for call in formula.history:
            if call.func == "streak" and call.argument not in scale:
                names = ", ".join(scale.names)
                problems.add(f"{call.key}: unknown grade {call.argument!r}; the grades are {names}", formula.path or "")
            calls.setdefault(call.key, call)
    return tuple(calls.values())


def _check_set_grade_conflicts(scheme: Scheme, problems: _Problems) -> None:
    """Two set_grade rules that could both fire with the same priority cannot be ordered."""
    seen: dict[int, tuple[int, str, str]] = {}
    for i, rule in enumerate(scheme.rules):
        grade = rule.then.set_grade if rule.then is not None else None
        if rule.table is not None and "set_grade" in rule.table.outputs:
            grade = "the grade its table gives"  # differs from any other rule's grade
        if grade is None:
            continue
        other = seen.get(rule.priority)
        if other is not None and (other[2] != grade or rule.table is not None):
            problems.add(
                f"rules {other[1]!r} and {rule.id!r} both set the grade ({other[2]} and {grade}) with the same "
                f"priority {rule.priority}; when both fire the engine cannot choose: give them different priorities",
                f"rules[{i}].priority",
            )
        seen.setdefault(rule.priority, (i, rule.id, grade))


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
    kpis: list[CompiledKPI],
    total: Formula | None,
    ranges: dict[str, Interval],
    scheme: Scheme,
    rules: list[CompiledRule],
) -> Interval:
    """Every total a row can reach: the base total, moved by points, or 0 after a veto."""
    if total is not None:
        raw = total.bounds(ranges)
    else:
        raw = Interval.point(Decimal(0))
        for kpi in kpis:
            raw = raw + kpi.bounds * Interval.point(kpi.weight)

    def rounded(interval: Interval) -> Interval:
        return interval.map_monotone(lambda v: quantize(v, scheme.rounding.total, scheme.rounding.mode))

    result = rounded(raw)
    ranges = {**ranges, "base_total": result}
    for rule in rules:
        if rule.points is not None:
            most = rule.points.amount.bounds(ranges).hi
            if rule.points.max is not None:
                most = min(most, rule.points.max)
            swing = Interval(Decimal(0), max(most, Decimal(0)))
            result = result + (swing if rule.points.sign > 0 else -swing)
        elif rule.table is not None and rule.table_points:
            for name, sign in (("add_points", 1), ("subtract_points", -1)):
                swing = Interval(Decimal(0), _table_points_most(rule.table, name))
                result = result + (swing if sign > 0 else -swing)
    result = rounded(result)
    if any(rule.record.zero_total for rule in rules):
        result = result.hull(Interval.point(Decimal(0)))
    return result


def _table_points_most(table: CompiledTable, column: str) -> Decimal:
    """The most points a table's column can give one person."""
    if column not in table.outputs:
        return Decimal(0)
    k = table.outputs.index(column)
    rows = [row.outputs for row in table.rows] + ([table.default] if table.default is not None else [])
    values = [v for values in rows if isinstance(v := values[k], Decimal)]
    if not values:
        return Decimal(0)
    return exact_sum(values) if table.hit == "collect" and table.aggregate == "sum" else max(values)


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
    if scheme.calibration is None:
        return
    from perfkit.calibration.policy import compile_policy

    try:
        compile_policy(scheme.calibration, scale)
    except SchemeError as exc:
        for problem in exc.problems:
            assert isinstance(problem, SchemeError)
            problems.add(problem.message, problem.path or "calibration")
