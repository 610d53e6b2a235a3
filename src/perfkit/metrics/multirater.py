"""Multi-rater (360) metrics: ratings combined by role weights, with an anonymity threshold.

Ratings are records (entity ``rating``) saying who rated whom, in which role, on which item,
with which value. A :class:`MultiRaterMetric` declares the role weights, what a missing
role does and the anonymity threshold; :func:`score` computes one value per ratee:

>>> metric = MultiRaterMetric(id="lead-360", roles={"self": "10%", "manager": "60%", "peer": "30%"})
>>> ratings = [Rating(rater="E1", ratee="E1", role="self", value=5),
...            Rating(rater="M1", ratee="E1", role="manager", value=4)]
>>> ratings += [Rating(rater=p, ratee="E1", role="peer", value=v) for p, v in (("P1", 3), ("P2", 4), ("P3", 5))]
>>> result = score(metric, ratings)
>>> result["E1"].value                       # 10% × 5 + 60% × 4 + 30% × 4
Decimal('4.1')
>>> score(metric, ratings[:3])["E1"].value   # one peer is below k = 3: dropped, weights renormalised
Decimal('4.142857142857142857142857142857143')

**How a value is made.** Within a role, each item's mean is taken over the raters who rated
it, and the role's mean is the item-weighted mean of those (weights renormalised over the
items the role rated; without declared items every item weighs the same). The value is the
sum over roles of effective weight × role mean, computed with exact fractions and rounded
once (to ``places`` when the metric sets it, else to 34 significant digits).

**Missing roles** (no ratings, or dropped below the threshold): ``renormalize`` (default)
spreads the missing role's weight over the counted roles in proportion to their weights;
``fail`` raises a :class:`~perfkit.errors.DataError` naming the ratee and the role; ``zero``
counts the missing role as a mean of 0 at its full weight.

**Anonymity.** Roles are *protected* or not: by default every role except ``self`` and
``manager`` is protected (set ``protected`` per role to change that). A protected role with
fewer than ``min_raters`` raters (k, default 3) is *below the threshold*: with
``below_threshold: drop`` (the default) it does not count and is treated as missing; with
``hide`` it still counts but its figures are hidden from managers and employees. What each
audience sees is described in :meth:`MultiRaterResult.view`.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Iterator, Mapping
from datetime import datetime
from decimal import Decimal
from fractions import Fraction
from typing import Annotated, Any, Literal

import attrs
from pydantic import BaseModel, BeforeValidator, ConfigDict, Field, ValidationError, model_validator

from perfkit.errors import DataError, SchemeError
from perfkit.metrics.records import SourceRecord
from perfkit.numbers import CONTEXT, exact_sum, plain_text, quantize, shift, to_decimal
from perfkit.periods import Period
from perfkit.scheme import Slug, Weight, format_path, format_weight

__all__ = [
    "AUDIENCES",
    "RATING_FIELDS",
    "Audience",
    "ItemScore",
    "MultiRaterMetric",
    "MultiRaterResult",
    "RateeScore",
    "Rating",
    "RoleScore",
    "RoleSpec",
    "ratings_from_records",
    "score",
]

Audience = Literal["hr", "manager", "employee"]
AUDIENCES: tuple[Audience, ...] = ("hr", "manager", "employee")
UNPROTECTED_BY_DEFAULT = frozenset({"self", "manager"})
"""Role ids that are not protected unless a role says ``protected: true``."""
RATING_FIELDS: Mapping[str, str] = {
    "rater": "rater",
    "ratee": "ratee",
    "role": "rater_role",
    "item": "item",
    "value": "value",
}
"""Default record field for each part of a rating (override with ``fields=``)."""
RoleStatus = Literal["ok", "below_threshold", "missing"]
RecordKey = tuple[str, str]

# -- the declaration ---------------------------------------------------------------------


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, str_strip_whitespace=True)


class RoleSpec(_Model):
    """One rater role: its weight and, optionally, a label, protection and threshold."""

    weight: Weight
    label: str | None = None
    """Shown in explanations (``同事``); the role id when absent."""
    protected: bool | None = None
    """Anonymity applies to the role; default: every role except ``self`` and ``manager``."""
    min_raters: int | None = Field(default=None, ge=1)
    """The role's own threshold k (protected roles only); default: the metric's ``min_raters``."""


def _role(value: Any) -> Any:
    """``peer: 30%`` is short for ``peer: {weight: 30%}``."""
    return value if isinstance(value, (Mapping, RoleSpec)) else {"weight": value}


class MultiRaterMetric(_Model):
    """A 360 metric: role weights, items, the missing-role policy and the anonymity threshold.

    Building one checks it; a bad declaration is a :class:`~perfkit.errors.SchemeError`
    naming the field (use :meth:`from_dict` for data read from YAML or JSON).
    """

    id: Slug
    name: str | None = None
    description: str | None = None
    roles: dict[str, Annotated[RoleSpec, BeforeValidator(_role)]] = Field(min_length=1)
    """Role id → weight (``"30%"``) or :class:`RoleSpec`; the weights sum to exactly 100%."""
    items: dict[str, Weight] | tuple[str, ...] | None = None
    """Item weights (sum 100%), a list of items weighted equally, or None: any item, equal weights."""
    missing_role: Literal["renormalize", "fail", "zero"] = "renormalize"
    min_raters: int = Field(default=3, ge=1)
    """The anonymity threshold k for protected roles."""
    below_threshold: Literal["drop", "hide"] = "drop"
    """A protected role with fewer than k raters: ``drop`` (not counted) or ``hide`` (counted, hidden)."""
    places: int | None = Field(default=None, ge=0, le=10)
    """Decimal places the value is rounded to (half-up); None: not rounded."""

    def __init__(self, **data: Any) -> None:
        try:
            super().__init__(**data)
        except ValidationError as exc:
            raise _declaration_error(exc, data) from None

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> MultiRaterMetric:
        """Build from plain data (as read from YAML or JSON); :class:`SchemeError` when bad."""
        if not isinstance(data, Mapping):
            raise SchemeError(f"a multi-rater metric is a mapping, got {type(data).__name__}")
        return cls(**dict(data))

    @model_validator(mode="after")
    def _check(self) -> MultiRaterMetric:
        if any(not role for role in self.roles):
            raise ValueError("a role id cannot be empty")
        total = exact_sum(spec.weight for spec in self.roles.values())
        if total != 1:
            raise ValueError(f"the role weights add up to {format_weight(total)}, not 100%")
        for role, spec in self.roles.items():
            if spec.min_raters is not None and not self.is_protected(role):
                raise ValueError(
                    f"role {role!r} sets min_raters but is not protected; set protected: true to give it a threshold"
                )
        if isinstance(self.items, dict):
            if not self.items or any(weight == 0 for weight in self.items.values()):
                raise ValueError("item weights must be above 0%; leave an item out instead")
            total = exact_sum(self.items.values())
            if total != 1:
                raise ValueError(f"the item weights add up to {format_weight(total)}, not 100%")
        elif self.items is not None and (
            not self.items or len(set(self.items)) != len(self.items) or not all(self.items)
        ):
            raise ValueError("items must be distinct, non-empty names")
        return self

    def is_protected(self, role: str) -> bool:
        """Whether the anonymity threshold applies to ``role``."""
        spec = self.roles[role].protected
        return role not in UNPROTECTED_BY_DEFAULT if spec is None else spec

    def threshold(self, role: str) -> int:
        """The fewest raters a role needs to be shown and (with ``drop``) counted; 1 if unprotected."""
        if not self.is_protected(role):
            return 1
        return self.roles[role].min_raters or self.min_raters

    def label(self, role: str) -> str:
        return self.roles[role].label or role

    def item_weight(self, item: str | None) -> Fraction:
        """The declared weight of an item (1 when items are not weighted)."""
        return Fraction(self.items[item]) if isinstance(self.items, dict) and item is not None else Fraction(1)


def _declaration_error(exc: ValidationError, data: Mapping[str, Any]) -> SchemeError:
    problems = []
    for error in exc.errors():
        message = str(error["msg"]).removeprefix("Value error, ")
        if error["type"] == "extra_forbidden":
            message = f"unknown field {error['loc'][-1]!r}"
        problems.append(SchemeError(message, path=format_path(tuple(error["loc"])) or None))
    name = f"multi-rater metric {data.get('id')!r}" if isinstance(data.get("id"), str) else "the multi-rater metric"
    if len(problems) == 1:
        problem = problems[0]
        return SchemeError(f"{name}: {problem.message}", path=problem.path)
    lines = [f"{name} has {len(problems)} problems:"] + [f"{n}. {p}" for n, p in enumerate(problems, 1)]
    return SchemeError("\n".join(lines), problems=tuple(problems))


# -- ratings -----------------------------------------------------------------------------


@attrs.frozen(kw_only=True)
class Rating:
    """One value one rater gave one ratee, in a role, optionally on an item.

    ``value`` is read with :func:`perfkit.numbers.to_decimal`; ``record`` is the key of the
    source record it came from (None for a rating built by hand) and ``occurred_at`` when it
    was given (needed to place it in a period).
    """

    rater: str
    ratee: str
    role: str
    value: Decimal
    item: str | None = None
    record: RecordKey | None = None
    occurred_at: datetime | None = None

    def __attrs_post_init__(self) -> None:
        path = None if self.record is None else f"record {self.record[0]}:{self.record[1]}"
        ratee = self.ratee if isinstance(self.ratee, str) and self.ratee else None
        for name in ("rater", "ratee", "role"):
            value = getattr(self, name)
            if not isinstance(value, str) or not value.strip():
                raise DataError(
                    f"a rating's {name} must be a non-empty text id, got {value!r}",
                    employee_id=ratee,
                    column=name,
                    path=path,
                    value=value,
                )
        if self.item is not None and (not isinstance(self.item, str) or not self.item.strip()):
            raise DataError(
                f"a rating's item is a non-empty text or None, got {self.item!r}", employee_id=ratee, path=path
            )
        try:
            object.__setattr__(self, "value", to_decimal(self.value))
        except ValueError as exc:
            raise DataError(
                f"the value rater {self.rater!r} gave is not a number: {exc}",
                employee_id=ratee,
                column="value",
                path=path,
                value=self.value,
            ) from None
        if self.occurred_at is not None and (
            not isinstance(self.occurred_at, datetime) or self.occurred_at.utcoffset() is None
        ):
            raise DataError("a rating's occurred_at is an aware datetime", employee_id=ratee, path=path)

    @property
    def sort_key(self) -> tuple[str, str, str, str, RecordKey]:
        return (self.ratee, self.role, self.rater, self.item or "", self.record or ("", ""))


def ratings_from_records(
    records: Iterable[SourceRecord], *, fields: Mapping[str, str | None] | None = None, entity: str | None = "rating"
) -> tuple[Rating, ...]:
    """Read :class:`Rating` values from source records.

    ``fields`` maps ``rater``, ``ratee``, ``role``, ``item`` and ``value`` to record field
    names (defaults in :data:`RATING_FIELDS`; ``item: None`` means the ratings have no
    items). A missing or bad field, or a record whose entity is not ``entity``, is a
    :class:`~perfkit.errors.DataError` naming the record and the field.
    """
    names = dict(RATING_FIELDS)
    for part, name in (fields or {}).items():
        if part not in RATING_FIELDS:
            raise DataError(f"unknown rating part {part!r} in fields; the parts are {', '.join(RATING_FIELDS)}")
        if name is None and part != "item":
            raise DataError(f"every rating needs a {part}; only item can be None in fields")
        names[part] = name  # type: ignore[assignment]
    ratings = []
    for position, record in enumerate(records):
        if not isinstance(record, SourceRecord):
            raise DataError(f"expected a SourceRecord or a Rating, got {type(record).__name__}", row=position)
        where = f"record {record.ref}"
        if entity is not None and record.entity != entity:
            raise DataError(f"is a {record.entity!r} record, not a {entity!r}", column="entity", path=where)
        parts: dict[str, Any] = {}
        for part in ("rater", "ratee", "role"):
            value = record.field(names[part])
            if isinstance(value, int) and not isinstance(value, bool):
                value = str(value)
            if not isinstance(value, str) or not value.strip():
                raise DataError(
                    f"the {part} must be a non-empty text id, got {value!r}", column=names[part], path=where
                )
            parts[part] = value.strip()
        item_field = names["item"]
        item = None if item_field is None else record.get(item_field)
        if item is not None and (not isinstance(item, str) or not item.strip()):
            raise DataError(f"the item must be a non-empty text, got {item!r}", column=item_field, path=where)
        value = record.field(names["value"])
        if value is None or isinstance(value, bool):
            raise DataError(f"the rating value must be a number, got {value!r}", column=names["value"], path=where)
        ratings.append(
            Rating(
                **parts,
                item=None if item is None else item.strip(),
                value=value,
                record=record.key,
                occurred_at=record.occurred_at,
            )
        )
    return tuple(ratings)


# -- results -----------------------------------------------------------------------------


@attrs.frozen(kw_only=True)
class ItemScore:
    """The mean of one item within one role, over the raters who rated it."""

    item: str | None
    mean: Decimal
    raters: int


@attrs.frozen(kw_only=True)
class RoleScore:
    """One role's figures for one ratee.

    ``status`` is ``ok``, ``below_threshold`` (a protected role with fewer than
    ``min_raters`` raters) or ``missing`` (no ratings). ``counted`` says whether the role's
    mean went into the value; ``effective_weight`` is its weight after the missing-role
    policy (exact; 0 when not counted under ``renormalize``).
    """

    role: str
    label: str
    protected: bool
    min_raters: int
    weight: Decimal
    effective_weight: Fraction
    status: RoleStatus
    counted: bool
    raters: int
    mean: Decimal | None
    items: tuple[ItemScore, ...] = ()
    ratings: tuple[Rating, ...] = ()
    exact_mean: Fraction | None = attrs.field(default=None, repr=False)


@attrs.frozen(kw_only=True)
class RateeScore:
    """One ratee's value, per-role figures and lineage (the record keys of counted ratings).

    ``value`` is None when nothing could be counted (``note`` says why).
    """

    ratee: str
    value: Decimal | None
    roles: tuple[RoleScore, ...]
    lineage: tuple[RecordKey, ...] = ()
    note: str | None = None

    def role(self, role: str) -> RoleScore:
        for entry in self.roles:
            if entry.role == role:
                return entry
        raise KeyError(f"no role {role!r}; the roles are {', '.join(r.role for r in self.roles)}")


@attrs.frozen(kw_only=True)
class MultiRaterResult:
    """The scores of one metric, sorted by ratee; explanations filtered by audience.

    ``outside_period`` lists ratings given outside ``period`` (not used, not lost).
    """

    metric: MultiRaterMetric = attrs.field(repr=False)
    period: Period | None
    scores: tuple[RateeScore, ...]
    outside_period: tuple[Rating, ...] = ()
    _index: dict[str, RateeScore] = attrs.field(init=False, eq=False, repr=False)

    def __attrs_post_init__(self) -> None:
        object.__setattr__(self, "_index", {entry.ratee: entry for entry in self.scores})

    def __getitem__(self, ratee: str) -> RateeScore:
        try:
            return self._index[ratee]
        except KeyError:
            raise KeyError(f"no 360 score for {ratee!r}") from None

    def __contains__(self, ratee: object) -> bool:
        return ratee in self._index

    def __iter__(self) -> Iterator[RateeScore]:
        return iter(self.scores)

    def __len__(self) -> int:
        return len(self.scores)

    @property
    def values(self) -> dict[str, Decimal | None]:
        """Ratee → value, in ratee order."""
        return {entry.ratee: entry.value for entry in self.scores}

    def view(self, ratee: str, *, audience: Audience) -> dict[str, Any]:
        """What ``audience`` may see of one ratee's score, as plain data.

        ==============================================  ========  =========  ==========
        figure                                          hr        manager    employee
        ==============================================  ========  =========  ==========
        value (overall score)                           yes       yes [1]    yes [1]
        role mean and rater count, role ``ok``          yes       yes        yes
        role below threshold: mean                      yes       no         no
        role below threshold: rater count               yes       yes        no
        item means of a role                            yes       yes [2]    yes [2]
        individual ratings and rater ids, unprotected   yes       yes        no
        individual ratings and rater ids, protected     yes       no         no
        lineage (record keys)                           all       unprot.    none
        ==============================================  ========  =========  ==========

        [1] Withheld when roles below the threshold count (``below_threshold: hide``) and
        have fewer than k raters together: the value minus the shown roles would give them
        away. [2] For a protected role, only when every item has at least k raters.
        """
        return _view(self[ratee], self.metric, self.period, _audience(audience))

    def explain(self, ratee: str, *, audience: Audience) -> str:
        """:meth:`view` as text; it shows nothing the view does not hold."""
        return _text(self.view(ratee, audience=audience), self.metric)

    def to_json(self, *, audience: Audience, ratee: str | None = None) -> str:
        """The views of every ratee (or of one) as JSON; numbers are exact decimal strings."""
        audience = _audience(audience)
        data: Any = (
            self.view(ratee, audience=audience)
            if ratee is not None
            else [_view(entry, self.metric, self.period, audience) for entry in self.scores]
        )
        return json.dumps(data, default=str, ensure_ascii=False, indent=2)


# -- scoring -----------------------------------------------------------------------------


def score(
    metric: MultiRaterMetric,
    ratings: Iterable[Rating | SourceRecord],
    period: Period | None = None,
    *,
    ratees: Iterable[str] = (),
) -> MultiRaterResult:
    """Score every ratee of ``ratings`` (plus ``ratees``, who may have none) on ``metric``.

    Records are read with :func:`ratings_from_records` (default fields). With a ``period``,
    ratings given outside it are left out and listed in ``outside_period``. Raises
    :class:`~perfkit.errors.DataError` for a role or item the metric does not declare, a
    rater who rated the same ratee and item twice or in two roles, and (``missing_role:
    fail``) a ratee missing a role.
    """
    if not isinstance(metric, MultiRaterMetric):
        raise DataError(f"score() takes a MultiRaterMetric, got {type(metric).__name__}")
    checked: list[Rating] = []
    for position, entry in enumerate(ratings):
        if isinstance(entry, SourceRecord):
            checked.extend(ratings_from_records([entry]))
        elif isinstance(entry, Rating):
            checked.append(entry)
        else:
            raise DataError(f"expected a Rating or a SourceRecord, got {type(entry).__name__}", row=position)
    for rating in checked:
        _check_declared(metric, rating)
    kept, outside = checked, list[Rating]()
    if period is not None:
        kept, outside = [], []
        for rating in checked:
            if rating.occurred_at is None:
                raise DataError(
                    f"the rating by {rating.rater!r} has no occurred_at, so it cannot be placed in {period.label}",
                    employee_id=rating.ratee,
                    path=_where(rating),
                )
            (kept if period.contains(rating.occurred_at) else outside).append(rating)
    by_ratee = _grouped(kept)
    names = sorted(set(by_ratee) | {str(name) for name in ratees})
    return MultiRaterResult(
        metric=metric,
        period=period,
        scores=tuple(_score_ratee(metric, name, by_ratee.get(name, [])) for name in names),
        outside_period=tuple(sorted(outside, key=lambda r: r.sort_key)),
    )


def _where(rating: Rating) -> str | None:
    return None if rating.record is None else f"record {rating.record[0]}:{rating.record[1]}"


def _check_declared(metric: MultiRaterMetric, rating: Rating) -> None:
    if rating.role not in metric.roles:
        raise DataError(
            f"the rating by {rating.rater!r} is in role {rating.role!r}, which metric {metric.id!r} does not declare; "
            f"its roles are {', '.join(metric.roles)}",
            employee_id=rating.ratee,
            column="role",
            path=_where(rating),
        )
    if metric.items is not None and rating.item not in metric.items:
        what = "has no item" if rating.item is None else f"is on item {rating.item!r}"
        raise DataError(
            f"the rating by {rating.rater!r} {what}; metric {metric.id!r} rates {', '.join(metric.items)}",
            employee_id=rating.ratee,
            column="item",
            path=_where(rating),
        )


def _grouped(ratings: list[Rating]) -> dict[str, list[Rating]]:
    """Ratings by ratee, sorted; refuses a rater who rated an item twice or in two roles."""
    seen: dict[tuple[str, str, str | None], Rating] = {}
    roles: dict[tuple[str, str], Rating] = {}
    groups: dict[str, list[Rating]] = {}
    for rating in sorted(ratings, key=lambda r: r.sort_key):
        earlier = roles.setdefault((rating.ratee, rating.rater), rating)
        if earlier.role != rating.role:
            raise DataError(
                f"rater {rating.rater!r} rated this person both as {earlier.role!r} and as {rating.role!r}; "
                "a rater has one role per ratee",
                employee_id=rating.ratee,
                column="role",
                path=_where(rating),
            )
        earlier = seen.setdefault((rating.ratee, rating.rater, rating.item), rating)
        if earlier is not rating:
            on = "" if rating.item is None else f" on item {rating.item!r}"
            refs = [f"{r.record[0]}:{r.record[1]}" for r in (earlier, rating) if r.record is not None]
            records = f" (records {' and '.join(refs)})" if refs else ""
            raise DataError(
                f"rater {rating.rater!r} rated this person twice{on}{records}; keep one",
                employee_id=rating.ratee,
                column="item",
            )
        groups.setdefault(rating.ratee, []).append(rating)
    return groups


def _score_ratee(metric: MultiRaterMetric, ratee: str, ratings: list[Rating]) -> RateeScore:
    roles = [_role_score(metric, role, [r for r in ratings if r.role == role]) for role in metric.roles]
    counted = [role for role in roles if role.counted]
    absent = [role for role in roles if not role.counted]
    if metric.missing_role == "fail" and absent:
        role = absent[0]
        why = (
            "has no ratings"
            if role.status == "missing"
            else (f"has {role.raters} rater(s), fewer than the {role.min_raters} needed to count")
        )
        raise DataError(
            f"role {role.role!r} {why}, and metric {metric.id!r} fails on a missing role "
            "(missing_role: fail); use renormalize or zero to score anyway",
            employee_id=ratee,
            column=role.role,
        )
    note = None
    if metric.missing_role == "zero":
        weights = {role.role: Fraction(role.weight) for role in roles}
    else:
        total = sum((Fraction(role.weight) for role in counted), Fraction(0))
        weights = {
            role.role: Fraction(role.weight) / total if role.counted and total else Fraction(0) for role in roles
        }
        if not total:
            note = "no ratings count (no role with weight above 0 has enough raters)"
    exact = None if note else sum((weights[role.role] * (role.exact_mean or 0) for role in counted), Fraction(0))
    lineage = sorted({r.record for role in counted for r in role.ratings if r.record is not None})
    return RateeScore(
        ratee=ratee,
        value=None if exact is None else _decimal(exact, metric.places),
        roles=tuple(attrs.evolve(role, effective_weight=weights[role.role]) for role in roles),
        lineage=tuple(lineage),
        note=note,
    )


def _role_score(metric: MultiRaterMetric, role: str, ratings: list[Rating]) -> RoleScore:
    items: dict[str | None, list[Rating]] = {}
    for rating in ratings:
        items.setdefault(rating.item, []).append(rating)
    order = list(metric.items) if metric.items is not None else sorted(items, key=lambda i: (i is not None, i or ""))
    position = {item: index for index, item in enumerate(order)}
    ratings = sorted(ratings, key=lambda r: (r.rater, position[r.item], r.record or ("", "")))
    item_scores, weighted, weight_total = [], Fraction(0), Fraction(0)
    for item in order:
        given = items.get(item)
        if not given:
            continue
        mean = sum((Fraction(r.value) for r in given), Fraction(0)) / len(given)
        weight = metric.item_weight(item)
        weighted += weight * mean
        weight_total += weight
        item_scores.append(ItemScore(item=item, mean=_decimal(mean, None), raters=len(given)))
    raters = len({r.rater for r in ratings})
    threshold = metric.threshold(role)
    status: RoleStatus = "missing" if not ratings else "below_threshold" if raters < threshold else "ok"
    exact_mean = weighted / weight_total if weight_total else None
    counted = status == "ok" or (status == "below_threshold" and metric.below_threshold == "hide")
    return RoleScore(
        role=role,
        label=metric.label(role),
        protected=metric.is_protected(role),
        min_raters=threshold,
        weight=metric.roles[role].weight,
        effective_weight=Fraction(0),
        status=status,
        counted=counted,
        raters=raters,
        mean=None if exact_mean is None else _decimal(exact_mean, None),
        items=tuple(item_scores),
        ratings=tuple(ratings),
        exact_mean=exact_mean,
    )


def _decimal(value: Fraction, places: int | None) -> Decimal:
    """An exact fraction as a Decimal, rounded once: to ``places`` half-up, or to 34 digits."""
    if places is None:
        return CONTEXT.divide(Decimal(value.numerator), Decimal(value.denominator))
    scaled = value * 10**places
    whole = scaled.numerator // scaled.denominator
    rest = scaled - whole
    if rest > Fraction(1, 2) or (rest == Fraction(1, 2) and value > 0):  # ties away from zero
        whole += 1
    return shift(Decimal(whole), -places)


# -- what each audience sees ---------------------------------------------------------------


def _audience(audience: object) -> Audience:
    if audience not in AUDIENCES:
        raise DataError(
            f"unknown audience {audience!r}; use hr, manager or employee", column="audience", value=audience
        )
    return audience


def _withheld(entry: RateeScore) -> bool:
    """Counted roles below the threshold, fewer than k raters together: the value would give them away."""
    hidden = [r for r in entry.roles if r.counted and r.effective_weight and r.status == "below_threshold"]
    return bool(hidden) and sum(role.raters for role in hidden) < max(role.min_raters for role in hidden)


def _view(entry: RateeScore, metric: MultiRaterMetric, period: Period | None, audience: Audience) -> dict[str, Any]:
    hr = audience == "hr"
    withheld = not hr and _withheld(entry)
    data: dict[str, Any] = {
        "metric": metric.id,
        "ratee": entry.ratee,
        "period": None if period is None else period.label,
        "audience": audience,
        "value": None if withheld else entry.value,
        "note": "withheld: it would reveal ratings of roles with too few raters" if withheld else entry.note,
        "roles": [_role_view(role, audience) for role in entry.roles],
    }
    if hr:
        data["lineage"] = [list(key) for key in entry.lineage]
    elif audience == "manager":
        keys = sorted(
            {r.record for role in entry.roles if role.counted and not role.protected for r in role.ratings if r.record}
        )
        data["lineage"] = [list(key) for key in keys]
    return data


def _role_view(role: RoleScore, audience: Audience) -> dict[str, Any]:
    hr = audience == "hr"
    data: dict[str, Any] = {
        "role": role.role,
        "label": role.label,
        "weight": format_weight(role.weight),
        "effective_weight": _decimal(role.effective_weight, None),
        "counted": role.counted,
    }
    if role.status == "missing":
        data["status"] = "missing"
        return data
    if role.status == "below_threshold" and not hr:
        data.update(status="not_enough_raters", min_raters=role.min_raters)
        if audience == "manager":
            data["raters"] = role.raters
        return data
    data.update(status=role.status, raters=role.raters, mean=role.mean)
    if hr or not role.protected or all(item.raters >= role.min_raters for item in role.items):
        data["items"] = [{"item": i.item, "raters": i.raters, "mean": i.mean} for i in role.items]
    if hr or (audience == "manager" and not role.protected):
        data["ratings"] = [
            {"rater": r.rater, "item": r.item, "value": r.value, "record": None if r.record is None else list(r.record)}
            for r in role.ratings
        ]
    return data


def _text(view: Mapping[str, Any], metric: MultiRaterMetric) -> str:
    places = 2 if metric.places is None else metric.places

    def number(value: Decimal) -> str:
        return plain_text(quantize(value, places))

    period = f", {view['period']}" if view["period"] else ""
    lines = [f"{metric.name or metric.id}: {view['ratee']}{period} (for {view['audience']})"]
    value = view["value"]
    lines.append(f"score: {'-' if value is None else number(value)}" + (f" ({view['note']})" if view["note"] else ""))
    for role in view["roles"]:
        name = role["label"] if role["label"] == role["role"] else f"{role['label']} ({role['role']})"
        share = f"weight {role['weight']}"
        if role["counted"] and role["effective_weight"] != shift(Decimal(role["weight"].rstrip("%")), -2):
            share += f", counted at {plain_text(quantize(shift(role['effective_weight'], 2), 2))}%"
        if role["status"] == "missing":
            lines.append(f"  {name}: no ratings; {share}, not counted")
            continue
        if role["status"] == "not_enough_raters":
            count = f"{role['raters']} of " if "raters" in role else "fewer than "
            counted = share if role["counted"] else f"{share}, not counted"
            lines.append(f"  {name}: not enough raters ({count}{role['min_raters']} needed to show); {counted}")
            continue
        raters = _raters(role["raters"])
        below = ", below the threshold" if role["status"] == "below_threshold" else ""
        counted = share if role["counted"] else f"{share}, not counted"
        lines.append(f"  {name}: mean {number(role['mean'])} ({raters}{below}); {counted}")
        for item in role.get("items", ()):
            if item["item"] is not None:
                lines.append(f"    {item['item']}: {number(item['mean'])} ({_raters(item['raters'])})")
        for rating in role.get("ratings", ()):
            on = "" if rating["item"] is None else f" on {rating['item']}"
            record = "" if rating["record"] is None else f" [{rating['record'][0]}:{rating['record'][1]}]"
            lines.append(f"    - {rating['rater']}{on}: {plain_text(rating['value'])}{record}")
    if "lineage" in view:
        lines.append(f"records: {len(view['lineage'])}")
    return "\n".join(lines)


def _raters(count: int) -> str:
    return f"{count} rater" + ("" if count == 1 else "s")
