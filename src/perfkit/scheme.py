"""Schemes: the declarative, versioned description of how people are scored.

A scheme is what an HR user writes, in YAML or JSON (see ``docs/scheme-format.md``)::

    scheme = perfkit.load_scheme("sales.yaml")      # read, check, raise SchemeError
    problems = perfkit.validate_scheme("sales.yaml")  # read, check, return every problem

The classes here are pydantic models that describe the *shape* of a scheme. Loading also
checks its *meaning* (weights sum to 100%, formulas name declared inputs, grade bands cover
every reachable total, rules name real grades): that happens when the scheme is compiled
(:meth:`Scheme.compile`), and loading compiles once to be sure.
"""

from __future__ import annotations

import datetime
import difflib
from collections.abc import Mapping
from decimal import Decimal
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any, Literal

from pydantic import (
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    PlainSerializer,
    PlainValidator,
    PrivateAttr,
    ValidationError,
    WithJsonSchema,
    model_validator,
)

from perfkit._files import Positions, dump_json, dump_yaml, line_of, read_file, read_text
from perfkit.errors import SchemeError
from perfkit.numbers import RoundingMode, plain_text, shift, to_decimal
from perfkit.rules.tables import DecisionTable

if TYPE_CHECKING:
    from perfkit.rules.engine import CompiledScheme

__all__ = [
    "Calibration",
    "Expectation",
    "GradeBand",
    "HistoryPolicy",
    "InputSpec",
    "KPI",
    "QuotaRange",
    "Rounding",
    "Rule",
    "RuleAction",
    "Scheme",
    "SchemeTest",
    "load_scheme",
    "parse_weight",
    "validate_scheme",
]

FORMAT_VERSION = 1


def _number(value: Any) -> Decimal:
    if isinstance(value, Decimal):
        if not value.is_finite():
            raise ValueError("NaN and infinite values are not allowed")
        return value
    try:
        return to_decimal(value)
    except ValueError as exc:
        raise ValueError(str(exc)) from None


def parse_weight(value: Any) -> Decimal:
    """Read a weight: ``"40%"`` or a fraction (``0.4``, ``"0.4"``), as an exact fraction.

    >>> parse_weight("40%"), parse_weight(0.4)
    (Decimal('0.40'), Decimal('0.4'))
    """
    if isinstance(value, str) and not value.strip().endswith("%"):
        value = value.strip()
    weight = _number(value)
    if weight < 0:
        raise ValueError(f"a weight cannot be negative (got {value})")
    if weight > 1:
        raise ValueError(f"a weight of {value} is more than 100%; write a percentage like '40%' or a fraction like 0.4")
    return weight


def format_weight(weight: Decimal) -> str:
    """A weight as a percentage: ``Decimal("0.4")`` → ``"40%"``."""
    return f"{plain_text(shift(weight, 2))}%"


Number = Annotated[Decimal, BeforeValidator(_number)]
Weight = Annotated[
    Decimal,
    BeforeValidator(parse_weight),
    PlainSerializer(format_weight, return_type=str),
    WithJsonSchema({"anyOf": [{"type": "number"}, {"type": "string", "pattern": r"^\s*[0-9.]+\s*%?\s*$"}]}),
]
"""A weight: ``"40%"`` or a fraction (``0.4``); written back as a percentage."""
Identifier = Annotated[str, Field(pattern=r"^[^\W\d]\w*$", max_length=64)]
"""A name formulas can use: letters (any script), digits and _, not starting with a digit."""
Slug = Annotated[str, Field(pattern=r"^\w[\w.\-]*$", max_length=100)]
"""An id: letters, digits, _, - and ., starting with a letter or digit."""
def _formula_text(value: Any) -> Any:
    """A formula that YAML read as a number or a boolean (``score: 100``) is still a formula."""
    if isinstance(value, bool):
        return "True" if value else "False"
    if isinstance(value, (int, Decimal)):
        return str(value)
    return value


FormulaText = Annotated[str, BeforeValidator(_formula_text), Field(min_length=1)]


def _label(value: Any) -> Any:
    """``version: 2026.1`` or ``period: 2026-06-30`` unquoted in YAML still mean their text."""
    if isinstance(value, (int, Decimal)) and not isinstance(value, bool):
        return str(value)
    if isinstance(value, (datetime.date, datetime.datetime)):
        return value.isoformat()
    return value


Label = Annotated[str, BeforeValidator(_label)]


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, str_strip_whitespace=True)


class GoalBinding(_Model):
    """Where a goal-bound input's value comes from (:func:`perfkit.goals.evaluate_goals`).

    ``measure`` is ``attainment`` (the progress of the person's own goals, see
    ``docs/goals.md``), ``checkin_rate`` (their on-time check-in rate) or
    ``progress`` (the progress of one goal, ``goal``, whose id may hold ``{employee}``).
    Written ``goals: attainment``, ``goals: checkin_rate`` or ``goals: {progress: kr1-{employee}}``.
    """

    measure: Literal["attainment", "checkin_rate", "progress"]
    goal: Annotated[str, Field(min_length=1)] | None = None
    kinds: tuple[Literal["objective", "key_result", "kpi"], ...] | None = None
    """For ``attainment``: only goals of these kinds count (default: every kind)."""

    @model_validator(mode="before")
    @classmethod
    def _shorthand(cls, value: Any) -> Any:
        if isinstance(value, str):
            return {"measure": value}
        if isinstance(value, Mapping) and set(value) == {"progress"}:
            return {"measure": "progress", "goal": value["progress"]}
        return value

    @model_validator(mode="after")
    def _goal_for_progress(self) -> GoalBinding:
        if (self.measure == "progress") != (self.goal is not None):
            raise ValueError("progress reads one goal: write goals: {progress: <goal id>}; goal: is only for progress")
        if self.kinds is not None and self.measure != "attainment":
            raise ValueError("kinds: chooses the goals an attainment counts; it is only for measure: attainment")
        return self


class InputSpec(_Model):
    """One declared input column."""

    unit: str | None = None
    """Free text: ``CNY``, ``ratio``, ``count``, ``score``... shown in explanations."""
    min: Number | None = None
    """Smallest allowed value; a row below it is bad data."""
    max: Number | None = None
    """Largest allowed value; a row above it is bad data."""
    default: Number | None = None
    """Value used when a row leaves the input empty; without one, an empty input is bad data."""
    source: str | None = None
    """Where the number comes from (``crm``, ``erp``, ``helpdesk``...); informational."""
    metric: Identifier | None = None
    """The id of the metric definition the input is computed from (``revenue``), when the
    scheme is scored from source records (:func:`perfkit.metrics.evaluate_records`); rows
    scored directly still give the input as a column."""
    goals: GoalBinding | None = None
    """The goal measure the input is taken from (``attainment``, ``checkin_rate``, or
    ``{progress: <goal id>}``), when the scheme is scored from a goal graph
    (:func:`perfkit.goals.evaluate_goals`); rows scored directly still give the column."""
    description: str | None = None

    @model_validator(mode="after")
    def _one_binding(self) -> InputSpec:
        if self.metric is not None and self.goals is not None:
            raise ValueError("an input comes from a metric or from goals, not both")
        return self


class KPI(_Model):
    """One scored indicator."""

    id: Identifier
    name: str | None = None
    weight: Weight
    score: FormulaText
    """Formula over the inputs giving the KPI's points."""
    description: str | None = None


class Rounding(_Model):
    """Rounding points: decimal places for each KPI score and for the total, and the mode."""

    kpi: int = Field(default=2, ge=0, le=10)
    total: int = Field(default=2, ge=0, le=10)
    mode: RoundingMode = RoundingMode.HALF_UP


class Points(_Model):
    """Bonus or penalty points (加减分): an amount, an optional cap, an optional block."""

    points: FormulaText
    """Formula for the amount (never negative): ``commendations * 1``, ``violations * 2``."""
    max: Number | None = None
    """The most this rule can add or subtract; required when the amount has no upper bound."""
    unless: FormulaText | None = None
    """A condition that blocks the points: ``disciplinary_cases >= 2``."""


class VetoGrade(_Model):
    """Veto by grade: the final grade is set to this grade (never improved by it)."""

    grade: str


class VetoIneligible(_Model):
    """Veto by eligibility: the person is not eligible for these outcomes."""

    ineligible: tuple[Slug, ...] = Field(min_length=1)
    """For example ``[bonus, promotion]``; later outcome stages read them."""


class Alert(_Model):
    """An alert raised on the score card."""

    severity: Literal["info", "warning", "critical"] = "warning"
    message: str


Veto = Literal["zero_total"] | VetoGrade | VetoIneligible
"""一票否决: ``zero_total`` (the total becomes 0), ``{grade: D}`` or ``{ineligible: [bonus]}``."""


class RuleAction(_Model):
    """What a rule does when it fires; at least one action.

    Points (``add_points`` / ``subtract_points``) change the total before it is banded and
    stand alone in their rule; the other actions combine freely.
    """

    add_points: Points | None = None
    """Bonus points added to the total before banding."""
    subtract_points: Points | None = None
    """Penalty points taken from the total before banding."""
    set_grade: str | None = None
    """The grade becomes this grade (the highest ``priority`` wins among set_grade rules)."""
    floor_grade: str | None = None
    """The final grade is no worse than this grade."""
    cap_grade: str | None = None
    """The final grade is no better than this grade (the most restrictive cap wins)."""
    veto: Veto | None = None
    """一票否决; beats every other grade action."""
    flag: Slug | None = None
    """A flag attached to the score card (``needs_improvement``)."""
    require_review: bool = False
    """Calibration must look at this person."""
    alert: Alert | None = None

    @model_validator(mode="after")
    def _one_action(self) -> RuleAction:
        if not any(value not in (None, False) for value in self.__dict__.values()):
            raise ValueError(
                "a rule needs an action: add_points, subtract_points, set_grade, floor_grade, cap_grade, "
                "veto, flag, require_review or alert"
            )
        points = self.add_points is not None or self.subtract_points is not None
        others = [k for k, v in self.__dict__.items() if k not in ("add_points", "subtract_points") and v not in (None, False)]
        if points and (others or (self.add_points is not None and self.subtract_points is not None)):
            raise ValueError(
                "points change the total before banding, so a points rule has no other action; "
                "put the other actions in a rule of their own"
            )
        return self


class Rule(_Model):
    """A threshold rule: when the condition holds, the actions apply.

    Instead of ``then``, a rule can give a decision ``table`` whose output columns are
    actions (``cap_grade``, ``floor_grade``, ``set_grade``, ``flag``, ``alert``, or
    ``add_points`` / ``subtract_points``).
    """

    id: Slug
    when: FormulaText | None = None
    """Condition over inputs, KPI ids (rounded scores), ``base_total`` and ``total``
    (rounded); left out, the rule always fires. Points rules cannot read ``total``."""
    then: RuleAction | None = None
    table: DecisionTable | None = None
    """A decision table deciding the actions (see ``docs/rules.md``)."""
    priority: int = 0
    """Orders rules within a phase: among ``set_grade`` rules that fire, the highest wins."""
    reason: str | None = None
    """Why the rule exists; recorded on every card where it fires."""
    description: str | None = None

    @model_validator(mode="after")
    def _then_or_table(self) -> Rule:
        if (self.then is None) == (self.table is None):
            raise ValueError("a rule has either then: (its actions) or table: (a decision table), not both")
        return self


class GradeBand(_Model):
    """A grade and the lowest total that earns it."""

    grade: Annotated[str, Field(min_length=1, max_length=20)]
    min_score: Number | None = None
    """Lowest total for this grade; may be left out on the last (worst) band only."""
    multiplier: Number | None = None
    """Bonus multiplier for this grade; informational until outcomes land."""
    description: str | None = None


class QuotaRange(_Model):
    """A share of a pool a grade (or group of grades) must stay within: ``{min: 5%, max: 15%}``."""

    min: Weight | None = None
    max: Weight | None = None

    @model_validator(mode="after")
    def _ordered(self) -> QuotaRange:
        if self.min is None and self.max is None:
            raise ValueError("a quota range needs min, max or both")
        if self.min is not None and self.max is not None and self.min > self.max:
            raise ValueError(f"min ({format_weight(self.min)}) is more than max ({format_weight(self.max)})")
        return self


def _quota_value(value: Any) -> Decimal | QuotaRange:
    """``10%`` (a target share) or ``{min: 5%, max: 15%}`` (a range); one clear message either way."""
    if isinstance(value, QuotaRange):
        return value
    if isinstance(value, Mapping):
        unknown = sorted(str(k) for k in value if k not in ("min", "max"))
        if unknown:
            raise ValueError(f"a quota range has min and max only, not {', '.join(unknown)}")
        bounds = {k: parse_weight(v) for k, v in value.items() if v is not None}
        if not bounds:
            raise ValueError("a quota range needs min, max or both")
        low, high = bounds.get("min"), bounds.get("max")
        if low is not None and high is not None and low > high:
            raise ValueError(f"min ({format_weight(low)}) is more than max ({format_weight(high)})")
        return QuotaRange(min=low, max=high)
    return parse_weight(value)


def _dump_quota(value: Decimal | QuotaRange) -> Any:
    if isinstance(value, QuotaRange):
        return {k: format_weight(v) for k, v in (("min", value.min), ("max", value.max)) if v is not None}
    return format_weight(value)


_SHARE_SCHEMA = {"anyOf": [{"type": "string", "pattern": r"^\s*[0-9.]+\s*%\s*$"}, {"type": "number"}]}
QuotaValue = Annotated[
    Decimal | QuotaRange,
    PlainValidator(_quota_value),
    PlainSerializer(_dump_quota),
    WithJsonSchema(
        {
            "anyOf": [
                _SHARE_SCHEMA,
                {
                    "type": "object",
                    "properties": {"min": _SHARE_SCHEMA, "max": _SHARE_SCHEMA},
                    "additionalProperties": False,
                },
            ]
        }
    ),
]
"""A quota: a target share (``10%``) or a range of shares (``{min: 5%, max: 15%}``)."""


class Calibration(_Model):
    """A calibration policy: how scores become grades that are comparable across managers.

    See ``docs/calibration.md``. Checked against the scheme's grades when the scheme is
    compiled; run by :func:`perfkit.calibration.calibrate`.
    """

    mode: Literal["absolute", "relative", "hybrid"] = "hybrid"
    """``absolute``: grades from the bands (and rules) only; quotas are reported, never applied.
    ``relative``: grades by rank within each pool, to the quotas (every grade needs a target).
    ``hybrid``: grades from the bands, then the fewest grade steps that meet the quotas."""
    group_by: str | tuple[str, ...] | None = None
    """The column(s) that define calibration pools (``department``); no value: one pool."""
    distribution: dict[str, QuotaValue] | None = None
    """Quotas per grade or group of grades (``S+A``): a target share (``10%``) or a range
    (``{max: 30%}``)."""
    apportionment: Literal["largest_remainder", "sainte_lague", "dhondt"] = "largest_remainder"
    """How target shares become head counts that sum to the pool size."""
    min_pool_size: Annotated[int, Field(ge=1)] | None = None
    """A pool with fewer people merges into its parent unit's pool (needs an org roster)."""
    nested: str | None = None
    """A column naming sub-pools (``team``) inside each pool; their quotas are met too, within
    a head of their proportional share, solved together with the pool's."""
    ties: Literal["overflow", "underfill", "escalate"] = "escalate"
    """People tied at a quota cut: all get the better grade, all the worse, or the session decides."""
    tie_keys: tuple[Identifier, ...] = ()
    """Secondary keys (KPI ids, inputs or row columns; higher is better) that order tied totals."""
    enforcement: Literal["warn", "enforce"] = "warn"
    """At finalisation: report quotas that are not met (``warn``) or refuse to finalise (``enforce``)."""
    boundary_margin: Number = Decimal(1)
    """People whose total is within this of a band edge or a quota cut are boundary cases."""


class HistoryPolicy(_Model):
    """How formulas that read earlier periods treat a period a person is missing from."""

    missing: Literal["fail", "skip", "value"] = "fail"
    """``fail``: a data error; ``skip``: use the periods that are there; ``value``: count the
    missing period as ``value``."""
    value: Number | None = None

    @model_validator(mode="after")
    def _value_with_value(self) -> HistoryPolicy:
        if (self.missing == "value") != (self.value is not None):
            raise ValueError("give value: exactly when missing is 'value'")
        return self


class Expectation(_Model):
    """What a scheme test expects of the score card; fields left out are not checked."""

    kpis: dict[str, Number] | None = None
    """Expected rounded KPI scores, by KPI id (only the ids listed are checked)."""
    base_total: Number | None = None
    """The total before points."""
    points: dict[str, Number] | None = None
    """Points applied, by rule id (+ bonus, - penalty; only the rules listed are checked)."""
    total: Number | None = None
    band_grade: str | None = None
    grade: str | None = None
    flags: tuple[str, ...] | None = None
    """The complete set of flags, in any order."""
    rules: tuple[str, ...] | None = None
    """The ids of every rule that fired, in any order."""
    ineligible: tuple[str, ...] | None = None
    """The complete set of outcomes a veto removed."""
    alerts: tuple[str, ...] | None = None
    """The messages of every alert raised, in any order."""
    review_required: bool | None = None
    error: str | None = None
    """The row must fail with a DataError whose message contains this text."""


class SchemeTest(_Model):
    """A worked example carried by the scheme: one row and what scoring it must give."""

    name: str
    description: str | None = None
    inputs: dict[str, Any]
    """The row (``employee_id`` may be left out)."""
    expect: Expectation


class Scheme(_Model):
    """A complete evaluation scheme (format version 1).

    Build one with :func:`load_scheme`, :meth:`from_yaml`, :meth:`from_json` or
    :meth:`from_dict`; each raises :class:`~perfkit.SchemeError` listing every problem.
    """

    perfkit: Literal[1]
    """Format version of the file (not the package version)."""
    id: Slug
    name: str | None = None
    version: Label | None = None
    """The scheme's own version, recorded on every result."""
    period: Label | None = None
    description: str | None = None
    inputs: dict[Identifier, InputSpec]
    kpis: tuple[KPI, ...] = Field(min_length=1)
    total: FormulaText | None = None
    """Optional total formula over KPI ids and inputs; default: weighted sum of rounded KPI scores."""
    normalize_weights: bool = False
    """Scale the weights to sum to 100% instead of requiring that they do."""
    rounding: Rounding = Rounding()
    rules: tuple[Rule, ...] = ()
    grades: tuple[GradeBand, ...] = Field(min_length=1)
    calibration: Calibration | None = None
    history: HistoryPolicy = HistoryPolicy()
    """How ``previous_total()``, ``avg_total(n)`` and ``streak(...)`` treat missing periods."""
    tests: tuple[SchemeTest, ...] = ()
    """Worked examples that ``perfkit test`` checks (see :mod:`perfkit.testing`)."""

    _sources: dict[str, str] = PrivateAttr(default_factory=dict)
    """For a scheme built with ``extends``: ``kpi:<id>`` / ``rule:<id>`` → the file it came from."""

    def __eq__(self, other: object) -> bool:
        """Schemes are equal when their declarations are (where they were read from does not count)."""
        if not isinstance(other, Scheme):
            return NotImplemented
        return self.__dict__ == other.__dict__

    __hash__ = _Model.__hash__

    def source_of(self, kind: Literal["kpi", "rule"], item_id: str) -> str | None:
        """The file a KPI or rule came from, for a scheme that ``extends`` others."""
        return self._sources.get(f"{kind}:{item_id}")

    # -- building ---------------------------------------------------------------------

    def __init__(self, **data: Any) -> None:
        """Build and check a scheme from keyword arguments; raises SchemeError.

        (pydantic also runs this for ``Scheme.model_validate``, which then wraps the
        SchemeError in its own error: use :meth:`from_dict` instead.)
        """
        try:
            super().__init__(**data)
        except ValidationError as exc:
            raise _shape_error(exc, data, source=None, positions={}) from None
        self.compile()

    @classmethod
    def from_dict(cls, data: Mapping[str, Any], *, source: str | None = None) -> Scheme:
        """Validate plain data (as parsed from YAML/JSON) and check the scheme."""
        return _build(data, source=source, positions={})

    @classmethod
    def from_yaml(cls, text: str, *, source: str | None = None) -> Scheme:
        data, positions = read_text(text, source=source, fmt="yaml")
        return _build(data, source=source, positions=positions)

    @classmethod
    def from_json(cls, text: str, *, source: str | None = None) -> Scheme:
        data, positions = read_text(text, source=source, fmt="json")
        return _build(data, source=source, positions=positions)

    # -- using --------------------------------------------------------------------------

    def compile(self) -> CompiledScheme:
        """Check the scheme's meaning and compile its formulas; raises SchemeError."""
        from perfkit.rules.compile import compile_scheme

        return compile_scheme(self)

    def to_dict(self) -> dict[str, Any]:
        """Plain data, as it would be written to a file (weights as percentages)."""
        data: dict[str, Any] = self.model_dump(mode="python", exclude_defaults=True)
        data = {"perfkit": self.perfkit, **data}
        return data

    def to_yaml(self) -> str:
        return dump_yaml(self.to_dict())

    def to_json(self) -> str:
        return dump_json(self.to_dict())

    @classmethod
    def json_schema(cls) -> dict[str, Any]:
        """The JSON Schema of the scheme format (also ``perfkit schema``)."""
        schema = cls.model_json_schema(mode="validation")
        schema["$schema"] = "https://json-schema.org/draft/2020-12/schema"
        schema["title"] = "perfkit scheme (format version 1)"
        return schema


def load_scheme(path: str | Path) -> Scheme:
    """Read a scheme file (``.yaml``, ``.yml`` or ``.json``), check it, and return it.

    Raises :class:`~perfkit.SchemeError` naming the file, line and field of each problem.
    """
    source, text = _read_file(path)
    data, positions = read_text(text, source=source)
    return _build(data, source=source, positions=positions)


def validate_scheme(scheme: str | Path | Mapping[str, Any] | Scheme) -> list[SchemeError]:
    """Every problem in a scheme (a path, plain data or a Scheme), without raising."""
    try:
        if isinstance(scheme, Scheme):
            scheme.compile()
        elif isinstance(scheme, Mapping):
            Scheme.from_dict(scheme)
        else:
            load_scheme(scheme)
    except SchemeError as exc:
        return [p for p in exc.problems if isinstance(p, SchemeError)]
    return []


def _read_file(path: str | Path) -> tuple[str, str]:
    source = str(path)
    return source, read_file(path, lambda reason: SchemeError(reason, source=source))


def _build(data: Any, *, source: str | None, positions: Positions) -> Scheme:
    if not isinstance(data, Mapping):
        raise SchemeError("a scheme is a mapping of fields (perfkit: 1, id: ..., kpis: ...)", source=source, line=1)
    for key in data:
        if not isinstance(key, str):
            raise SchemeError(f"unknown field {key!r}", source=source, line=line_of(str(key), positions))
    scheme_id = data.get("id") if isinstance(data.get("id"), str) else None
    resolved = None
    if "extends" in data:
        from perfkit._extends import resolve

        resolved = resolve(data, source=source, positions=positions)
        data = resolved.data
    try:
        scheme = Scheme(**data)
    except SchemeError as exc:
        problems = [p for p in exc.problems if isinstance(p, SchemeError)]
        if resolved is not None:
            problems = [resolved.locate(p) for p in problems]
        raise combine(problems, source=source, positions=positions, scheme_id=scheme_id) from None
    if resolved is not None:
        sources = {f"kpi:{k}": v for k, v in resolved.kpi_sources.items() if v is not None}
        sources.update({f"rule:{k}": v for k, v in resolved.rule_sources.items() if v is not None})
        scheme._sources = sources
    return scheme


def _shape_error(
    exc: ValidationError, data: Mapping[str, Any], *, source: str | None, positions: Positions
) -> SchemeError:
    errors = exc.errors()
    inner = {tuple(e["loc"][:n]) for e in errors for n in range(1, len(e["loc"]))}
    # An item that fails also makes pydantic call its list too short; report the item only.
    problems = [_translate(e) for e in errors if not (e["type"] == "too_short" and tuple(e["loc"]) in inner)]
    scheme_id = data.get("id") if isinstance(data.get("id"), str) else None
    return combine(problems, source=source, positions=positions, scheme_id=scheme_id)


def combine(
    problems: list[SchemeError],
    *,
    source: str | None = None,
    positions: Positions | None = None,
    scheme_id: str | None = None,
) -> SchemeError:
    """One error for several problems, each located in the file when possible."""
    def elsewhere(problem: SchemeError) -> bool:  # found in a base file (extends)
        return problem.source not in (None, source)

    def line_in_file(problem: SchemeError) -> int | None:
        return problem.line if elsewhere(problem) else problem.line or line_of(problem.path, positions or {})

    located = []
    for problem in sorted(problems, key=lambda p: (elsewhere(p), p.source or "", line_in_file(p) or 0)):
        copy = problem.located(source=problem.source if elsewhere(problem) else source, line=line_in_file(problem))
        copy.scheme_id = scheme_id
        located.append(copy)
    if len(located) == 1:
        return located[0]
    name = f"scheme {scheme_id!r}" if scheme_id else "the scheme"
    where = f" ({source})" if source else ""
    lines = [f"{name}{where} has {len(located)} problems:"]
    for number, problem in enumerate(located, 1):
        text = str(problem).replace("\n", "\n   ")
        lines.append(f"{number}. {text}")
    return SchemeError("\n".join(lines), source=source, scheme_id=scheme_id, problems=tuple(located))


def format_path(loc: tuple[Any, ...]) -> str:
    """``("kpis", 2, "weight")`` → ``kpis[2].weight``."""
    text = ""
    for part in loc:
        if isinstance(part, int):
            text += f"[{part}]"
        else:
            text += f".{part}" if text else str(part)
    return text


_FIELDS = sorted(
    {
        name
        for model in (
            Scheme, InputSpec, KPI, Rounding, Rule, RuleAction, GradeBand, Calibration, SchemeTest, Expectation, HistoryPolicy
        )
        for name in model.model_fields
    }
)


def _translate(error: Mapping[str, Any]) -> SchemeError:
    loc = tuple(error["loc"])
    kind = error["type"]
    message = str(error["msg"])
    if message.startswith("Value error, "):
        message = message[len("Value error, ") :]
    if kind == "extra_forbidden":
        field = loc[-1] if loc else "?"
        close = difflib.get_close_matches(str(field), _FIELDS, n=1, cutoff=0.6)
        message = f"unknown field {field!r}" + (f"; did you mean {close[0]!r}?" if close else "")
        if not str(field).isidentifier():
            message += " (in YAML, a formula with commas inside {...} must be quoted: score: 'min(a, b)')"
    elif kind == "dict_type" or (kind == "string_type" and loc and isinstance(loc[-1], int)):
        message = message.replace("Input should be", "expected") + f", got {error.get('input')!r}"
    elif kind == "missing":
        message = f"the field {loc[-1]!r} is required" if loc else "a required field is missing"
    elif kind == "literal_error" and loc == ("perfkit",):
        message = f"this perfkit reads scheme format version {FORMAT_VERSION}; the file says {error.get('input')!r}"
    elif kind == "string_pattern_mismatch":
        message = (
            f"{error.get('input')!r} is not a valid name: use letters, digits and _ "
            "(and - or . in ids), starting with a letter"
        )
    elif kind == "too_short" and loc and loc[-1] in ("kpis", "grades"):
        message = f"a scheme needs at least one entry in {loc[-1]!r}"
    elif message.startswith("Input should be"):
        expected = message[len("Input should be ") :].replace("a valid tuple", "a list").replace("a valid dictionary", "a mapping")
        message = f"expected {expected}, got {error.get('input')!r}"
    return SchemeError(message, path=format_path(loc) or None)
