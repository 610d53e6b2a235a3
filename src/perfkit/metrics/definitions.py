"""Metric definitions: declarative metrics over source records, read from YAML or JSON.

A definitions file says which format version it is and lists metrics, each with a stable
``id`` and a ``kind`` (see ``docs/metrics.md``)::

    perfkit_metrics: 1
    metrics:
      - id: revenue
        kind: simple
        source: crm
        entity: opportunity
        where: {StageName: Closed Won}
        agg: sum
        field: Amount
        attribution: {owner: OwnerId}
      - id: growth
        kind: derived
        formula: revenue / previous(revenue) - 1

Loading checks the shape (pydantic) and the meaning (every metric a metric refers to
exists, derived metrics do not refer to themselves in a cycle, formulas parse and name
what they may) and reports every problem of a file together, as a
:class:`~perfkit.errors.SchemeError` naming the file, line and field path of each.
"""

from __future__ import annotations

import datetime
import difflib
import re
from collections.abc import Collection, Iterator, Mapping
from decimal import Decimal
from pathlib import Path
from typing import Annotated, Any, Literal

import attrs
from pydantic import (
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    PrivateAttr,
    TypeAdapter,
    ValidationError,
    model_validator,
)

from perfkit._files import Positions, dump_json, dump_yaml, line_of, read_file, read_text
from perfkit.errors import FormulaError, SchemeError
from perfkit.metrics.attribution import Attribution
from perfkit.rules.formula import Formula
from perfkit.scheme import FormulaText, Identifier, format_path

__all__ = [
    "CompiledMetrics",
    "CumulativeMetric",
    "DerivedMetric",
    "Metric",
    "MetricDefinitions",
    "RatioMetric",
    "SimpleMetric",
    "load_metrics",
    "validate_metrics",
]

FORMAT_VERSION = 1
PREVIOUS_SUFFIX = "__previous"
"""``previous(revenue)`` in a derived formula reads the name ``revenue__previous``."""

Agg = Literal["sum", "count", "count_distinct", "average", "min", "max"]
NoData = Literal["missing", "zero", "error"]
Grain = Literal["month", "quarter", "half", "year"]
AGGREGATIONS: tuple[str, ...] = ("sum", "count", "count_distinct", "average", "min", "max")
KINDS: tuple[str, ...] = ("simple", "ratio", "derived", "cumulative")


def _selector(value: Any) -> Any:
    """``source: crm`` or ``source: [crm, erp]``: one name or several."""
    if isinstance(value, str):
        return (value,)
    if isinstance(value, list):
        return tuple(value)
    return value


_SCALARS = (str, bool, int, Decimal, datetime.date)


def _where(value: Any) -> Any:
    if not isinstance(value, Mapping):
        return value
    result: dict[Any, Any] = {}
    for field, wanted in value.items():
        options = tuple(wanted) if isinstance(wanted, (list, tuple)) else None
        for option in options if options is not None else (wanted,):
            if option is not None and not isinstance(option, _SCALARS):
                raise ValueError(f"where: {field!r} compares with text, numbers, true/false, dates or null")
        result[field] = options if options is not None else wanted
    return result


Selector = Annotated[tuple[Annotated[str, Field(min_length=1)], ...], BeforeValidator(_selector), Field(min_length=1)]
Where = Annotated[dict[str, Any], BeforeValidator(_where)]


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, str_strip_whitespace=True)


class _Base(_Model):
    id: Identifier
    description: str | None = None
    unit: str | None = None
    """Free text (``CNY``, ``count``, ``ratio``); shown in explanations."""
    no_data: NoData = "missing"
    """What a value with no data is: ``missing`` (None), ``zero`` (0) or ``error`` (a DataError)."""


class SimpleMetric(_Base):
    """An aggregation over the records a selector picks, attributed to employees."""

    kind: Literal["simple"]
    source: Selector | None = None
    """The source system(s) whose records count (``crm``); left out: every source."""
    entity: Selector | None = None
    """The entity type(s) that count (``opportunity``); left out: every entity."""
    where: Where = Field(default_factory=dict)
    """Field equality (``{StageName: Closed Won}``) or membership (``{status: [solved, closed]}``)."""
    filter: FormulaText | None = None
    """A condition over record fields (``Amount > 0``)."""
    agg: Agg
    field: Annotated[str, Field(min_length=1)] | None = None
    """The record field aggregated (not for ``count``)."""
    expr: FormulaText | None = None
    """A number formula over record fields aggregated instead of ``field``."""
    attribution: Attribution
    """Whose record it is: ``{owner: OwnerId}``, ``{split: Splits}``, with ``team:`` to roll up."""
    time: Annotated[str, Field(min_length=1)] = "occurred_at"
    """The timestamp that puts a record in a period: ``occurred_at``, ``loaded_at`` or a field."""

    @model_validator(mode="after")
    def _what_is_aggregated(self) -> SimpleMetric:
        given = [name for name in ("field", "expr") if getattr(self, name) is not None]
        if self.agg == "count" and given:
            raise ValueError(f"count counts records and takes no {given[0]}; choose records with where: or filter:")
        if self.agg == "count_distinct" and (self.field is None or self.expr is not None):
            raise ValueError("count_distinct counts the distinct values of a field: give field:")
        if self.agg not in ("count", "count_distinct") and len(given) != 1:
            raise ValueError(f"{self.agg} aggregates a field or a formula: give field: or expr: (one of them)")
        return self


class RatioMetric(_Base):
    """``numerator / denominator``; a zero denominator is no data."""

    kind: Literal["ratio"]
    numerator: Identifier
    denominator: Identifier


class DerivedMetric(_Base):
    """A formula over other metrics; ``previous(m)`` reads metric m in the previous period."""

    kind: Literal["derived"]
    formula: FormulaText


class CumulativeMetric(_Base):
    """Period-to-date: ``metric`` computed from the start of the ``grain`` period to the period's end."""

    kind: Literal["cumulative"]
    metric: Identifier
    grain: Grain = "year"


Metric = Annotated[SimpleMetric | RatioMetric | DerivedMetric | CumulativeMetric, Field(discriminator="kind")]


@attrs.frozen(kw_only=True, eq=False)
class CompiledMetrics:
    """Checked definitions, ready to compute: formulas compiled, metrics in dependency order."""

    definitions: MetricDefinitions
    order: tuple[str, ...]
    """Metric ids, each after the metrics it reads."""
    metrics: Mapping[str, Metric]
    formulas: Mapping[str, Formula]
    """Compiled formulas by ``<metric id>.<field>`` (``revenue.expr``, ``growth.formula``)."""
    previous: Mapping[str, tuple[str, ...]]
    """For each derived metric, the metrics it reads in the previous period."""


class MetricDefinitions(_Model):
    """A definitions file (format version 1): a list of metrics with unique ids.

    Build one with :func:`load_metrics`, :meth:`from_yaml`, :meth:`from_json` or
    :meth:`from_dict`; each raises :class:`~perfkit.SchemeError` listing every problem.
    """

    perfkit_metrics: Literal[1]
    """Format version of the file (not the package version)."""
    description: str | None = None
    metrics: tuple[Metric, ...] = Field(min_length=1)

    _compiled: CompiledMetrics | None = PrivateAttr(default=None)

    def __init__(self, **data: Any) -> None:
        """Build and check definitions from keyword arguments; raises SchemeError."""
        try:
            super().__init__(**data)
        except ValidationError as exc:
            errors = exc.errors()
            inner = {tuple(e["loc"][:n]) for e in errors for n in range(1, len(e["loc"]))}
            # An item that fails also makes pydantic call its list too short; report the item only.
            problems = [_translate(e) for e in errors if not (e["type"] == "too_short" and tuple(e["loc"]) in inner)]
            problems += _check_valid_parts(data.get("metrics"))
            raise _combine(problems, None, {}) from None
        self.compile()

    def __eq__(self, other: object) -> bool:
        """Definitions are equal when their declarations are."""
        if not isinstance(other, MetricDefinitions):
            return NotImplemented
        return self.__dict__ == other.__dict__

    __hash__ = _Model.__hash__

    def compile(self) -> CompiledMetrics:
        """Check references, cycles and formulas; the compiled form (computed once)."""
        if self._compiled is None:
            compiled, problems = _check(list(enumerate(self.metrics)), set(self.ids))
            if problems:
                raise _combine(problems, None, {})
            self._compiled = CompiledMetrics(definitions=self, **compiled)
        return self._compiled

    def __getitem__(self, metric_id: str) -> Metric:
        """The metric with this id; a SchemeError with a did-you-mean otherwise."""
        for metric in self.metrics:
            if metric.id == metric_id:
                return metric
        raise SchemeError(_unknown("metric", metric_id, self.ids))

    @property
    def ids(self) -> tuple[str, ...]:
        return tuple(m.id for m in self.metrics)

    @classmethod
    def from_dict(cls, data: Mapping[str, Any], *, source: str | None = None) -> MetricDefinitions:
        return _build(data, source, {})

    @classmethod
    def from_yaml(cls, text: str, *, source: str | None = None) -> MetricDefinitions:
        data, positions = read_text(text, source=source, fmt="yaml")
        return _build(data, source, positions)

    @classmethod
    def from_json(cls, text: str, *, source: str | None = None) -> MetricDefinitions:
        data, positions = read_text(text, source=source, fmt="json")
        return _build(data, source, positions)

    def to_dict(self) -> dict[str, Any]:
        """Plain data, as it would be written to a file."""
        data: dict[str, Any] = self.model_dump(mode="python", exclude_defaults=True)
        metrics = [{"id": m["id"], "kind": m["kind"], **m} for m in data.pop("metrics")]
        return {"perfkit_metrics": self.perfkit_metrics, **data, "metrics": metrics}

    def to_yaml(self) -> str:
        return dump_yaml(self.to_dict())

    def to_json(self) -> str:
        return dump_json(self.to_dict())


def load_metrics(path: str | Path) -> MetricDefinitions:
    """Read a definitions file (``.yaml``, ``.yml`` or ``.json``), check it, and return it."""
    source = str(path)
    text = read_file(path, lambda reason: SchemeError(reason, source=source))
    data, positions = read_text(text, source=source)
    return _build(data, source, positions)


def validate_metrics(definitions: str | Path | Mapping[str, Any]) -> list[SchemeError]:
    """Every problem of a definitions file (a path or plain data), without raising."""
    try:
        if isinstance(definitions, Mapping):
            MetricDefinitions.from_dict(definitions)
        else:
            load_metrics(definitions)
    except SchemeError as exc:
        return [p for p in exc.problems if isinstance(p, SchemeError)]
    return []


# -- building and locating problems -------------------------------------------------------


def _build(data: Any, source: str | None, positions: Positions) -> MetricDefinitions:
    if not isinstance(data, Mapping):
        raise SchemeError("a definitions file is a mapping (perfkit_metrics: 1, metrics: [...])", source=source, line=1)
    try:
        return MetricDefinitions(**{str(k): v for k, v in data.items()})
    except SchemeError as exc:
        problems = [p for p in exc.problems if isinstance(p, SchemeError)]
        raise _combine(problems, source, positions) from None


def _combine(problems: list[SchemeError], source: str | None, positions: Positions) -> SchemeError:
    located = [p.located(source=source, line=p.line or line_of(p.path, positions)) for p in problems]
    located.sort(key=lambda p: p.line or 0)
    if len(located) == 1:
        return located[0]
    where = f" ({source})" if source else ""
    lines = [f"the metric definitions{where} have {len(located)} problems:"]
    lines += [f"{n}. " + str(p).replace("\n", "\n   ") for n, p in enumerate(located, 1)]
    return SchemeError("\n".join(lines), source=source, problems=tuple(located))


_FIELDS = sorted(
    {
        name
        for model in (MetricDefinitions, SimpleMetric, RatioMetric, DerivedMetric, CumulativeMetric)
        for name in model.model_fields
    }
)


def _translate(error: Mapping[str, Any]) -> SchemeError:
    loc = tuple(error["loc"])
    # A discriminated union puts the kind in the location: metrics[0].simple.agg
    loc = tuple(p for i, p in enumerate(loc) if not (p in KINDS and i > 0 and isinstance(loc[i - 1], int)))
    kind, given = error["type"], error.get("input")
    message = str(error["msg"]).removeprefix("Value error, ")
    if kind == "extra_forbidden":
        message = _unknown("field", str(loc[-1]), _FIELDS)
    elif kind == "missing":
        message = f"the field {loc[-1]!r} is required"
    elif kind == "union_tag_not_found":
        message = f"a metric needs kind: one of {', '.join(KINDS)}"
    elif kind == "union_tag_invalid":
        message = _unknown("kind", str(error.get("ctx", {}).get("tag", given)), KINDS)
    elif kind == "literal_error" and loc and loc[-1] == "agg":
        message = _unknown("agg", str(given), AGGREGATIONS)
    elif kind == "literal_error" and loc == ("perfkit_metrics",):
        message = f"this perfkit reads metric definitions format version {FORMAT_VERSION}; the file says {given!r}"
    elif kind == "string_pattern_mismatch":
        message = f"{given!r} is not a valid metric id: use letters, digits and _, starting with a letter"
    elif kind == "too_short" and loc == ("metrics",):
        message = "a definitions file needs at least one metric"
    elif message.startswith("Input should be"):
        message = f"expected {message.removeprefix('Input should be ')}, got {given!r}"
    return SchemeError(message, path=format_path(loc) or None)


def _unknown(what: str, name: str, known: Collection[str]) -> str:
    close = difflib.get_close_matches(name, list(known), n=1, cutoff=0.6)
    if close:
        return f"unknown {what} {name!r}; did you mean {close[0]!r}?"
    return f"unknown {what} {name!r}; expected one of: {', '.join(sorted(known)) or 'none'}"


# -- checking meaning ---------------------------------------------------------------------


class _AnyField(Collection[str]):
    """Record formulas may read any field: fields are only known when records arrive."""

    def __contains__(self, name: object) -> bool:
        return isinstance(name, str)

    def __iter__(self) -> Iterator[str]:
        return iter(())

    def __len__(self) -> int:
        return 0


_PREVIOUS = re.compile(r"\bprevious[ \t]*\([ \t]*([^\W\d]\w*)[ \t]*\)")


def _check_valid_parts(raw: Any) -> list[SchemeError]:
    """The meaning problems of the metrics that have a valid shape, when others do not."""
    if not isinstance(raw, (list, tuple)):
        return []
    valid: list[tuple[int, Metric]] = []
    for index, item in enumerate(raw):
        try:
            valid.append((index, _METRIC.validate_python(item)))
        except ValidationError:
            pass
    known = {str(item["id"]) for item in raw if isinstance(item, Mapping) and isinstance(item.get("id"), str)}
    return _check(valid, known)[1]


_METRIC: TypeAdapter[Metric] = TypeAdapter(Metric)


def _check(items: list[tuple[int, Metric]], known: set[str]) -> tuple[dict[str, Any], list[SchemeError]]:
    """Check references, cycles and formulas; the parts of :class:`CompiledMetrics` and the problems."""
    problems: list[SchemeError] = []
    metrics: dict[str, Metric] = {}
    for index, metric in items:
        path = f"metrics[{index}].id"
        if metric.id in metrics:
            problems.append(SchemeError(f"the metric id {metric.id!r} is declared twice", path=path))
        elif "__" in metric.id:
            problems.append(SchemeError(f"{metric.id!r}: a metric id cannot contain '__'", path=path))
        metrics.setdefault(metric.id, metric)
    names = sorted(known | set(metrics))
    formulas: dict[str, Formula] = {}
    previous: dict[str, tuple[str, ...]] = {}
    reads: dict[str, tuple[str, ...]] = {}
    for index, metric in items:
        where = f"metrics[{index}]"
        try:
            if isinstance(metric, SimpleMetric):
                for name, kind in (("filter", "condition"), ("expr", "number")):
                    text = getattr(metric, name)
                    if text is not None:
                        formulas[f"{metric.id}.{name}"] = _compile(text, _AnyField(), kind, f"{where}.{name}")  # type: ignore[arg-type]
                reads[metric.id] = ()
            elif isinstance(metric, (RatioMetric, CumulativeMetric)):
                refs = (metric.numerator, metric.denominator) if isinstance(metric, RatioMetric) else (metric.metric,)
                fields = ("numerator", "denominator") if isinstance(metric, RatioMetric) else ("metric",)
                for ref, field in zip(refs, fields):
                    if ref not in names:
                        problems.append(SchemeError(_unknown("metric", ref, names), path=f"{where}.{field}"))
                reads[metric.id] = refs
            else:
                formula, earlier = _derived(metric.formula, names, f"{where}.formula")
                formulas[f"{metric.id}.formula"] = formula
                previous[metric.id] = earlier
                reads[metric.id] = tuple(n for n in formula.names if not n.endswith(PREVIOUS_SUFFIX)) + earlier
        except FormulaError as exc:
            problems.append(exc)
    order, cycles = _order(reads)
    for cycle in cycles:
        index = next(i for i, m in items if m.id == cycle[0])
        chain = " → ".join((*cycle, cycle[0]))
        problems.append(SchemeError(f"the metrics refer to each other in a cycle: {chain}", path=f"metrics[{index}]"))
    compiled = {"order": order, "metrics": metrics, "formulas": formulas, "previous": previous}
    return compiled, problems


def _compile(text: str, names: Collection[str], kind: Literal["number", "condition"], path: str) -> Formula:
    formula = Formula.compile(text, names, kind=kind, path=path)
    if formula.history:
        node = formula.history[0]
        raise FormulaError(
            f"{node.func}() reads scheme results, which a metric cannot",
            text=formula.text,
            column=node.span.column,
            end_column=node.span.end_column if node.span.line == node.span.end_line else None,
            formula_line=node.span.line,
            hint="read a metric in the previous period with previous(metric_id)",
            path=path,
        )
    return formula


def _derived(text: str, metrics: Collection[str], path: str) -> tuple[Formula, tuple[str, ...]]:
    """Compile a derived formula; ``previous(m)`` becomes the name ``m__previous`` (same length)."""
    text = text.strip()
    earlier: list[str] = []

    def rewrite(match: re.Match[str]) -> str:
        name = match.group(1)
        if name not in metrics:
            line = text.count("\n", 0, match.start(1)) + 1
            column = match.start(1) - (text.rfind("\n", 0, match.start(1)) + 1) + 1
            raise FormulaError(
                _unknown("metric", name, metrics),
                text=text,
                formula_line=line,
                column=column,
                end_column=column + len(name),
                path=path,
            )
        if name not in earlier:
            earlier.append(name)
        return (name + PREVIOUS_SUFFIX).ljust(len(match.group(0)))

    rewritten = _PREVIOUS.sub(rewrite, text)
    names = [*metrics, *(n + PREVIOUS_SUFFIX for n in earlier)]
    try:
        formula = _compile(rewritten, names, "number", path)
    except FormulaError as exc:
        exc.text = text
        if "attribute access" in exc.message:
            exc.hint = "read a metric in the previous period with previous(metric_id)"
        elif "'previous'" in exc.message:
            exc.hint = "previous() takes one metric id: previous(revenue)"
            exc.suggestion = None
        raise
    return attrs.evolve(formula, text=text), tuple(earlier)


def _order(reads: Mapping[str, tuple[str, ...]]) -> tuple[tuple[str, ...], list[tuple[str, ...]]]:
    """Metric ids in dependency order, and each cycle found (as the ids around it)."""
    order: list[str] = []
    state: dict[str, int] = {}  # 1: on the current path, 2: done
    cycles: list[tuple[str, ...]] = []
    for start in reads:
        if state.get(start):
            continue
        path: list[str] = [start]
        stack: list[Iterator[str]] = [iter(reads[start])]
        state[start] = 1
        while stack:
            child = next(stack[-1], None)
            if child is None:
                stack.pop()
                done = path.pop()
                state[done] = 2
                order.append(done)
            elif child not in reads or state.get(child) == 2:
                continue
            elif state.get(child) == 1:
                cycles.append(tuple(path[path.index(child) :]))
            else:
                state[child] = 1
                path.append(child)
                stack.append(iter(reads[child]))
    return tuple(order), cycles
