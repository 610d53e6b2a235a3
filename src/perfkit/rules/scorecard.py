"""What an evaluation produces: a :class:`ScoreCard` per employee, in an :class:`Evaluation`."""

from __future__ import annotations

import json
from collections.abc import Iterator
from decimal import Decimal
from typing import TYPE_CHECKING, Any

import attrs

from perfkit.errors import DataError

if TYPE_CHECKING:
    from perfkit.rules.engine import CompiledScheme
    from perfkit.rules.explain import Explanation

__all__ = ["CardAlert", "Evaluation", "FiredRule", "KpiScore", "PointsApplied", "ScoreCard"]


@attrs.frozen
class KpiScore:
    """A KPI's rounded score and its effective weight."""

    id: str
    name: str | None
    weight: Decimal
    score: Decimal


@attrs.frozen
class CardAlert:
    """An alert a rule raised."""

    rule_id: str
    severity: str
    message: str


@attrs.frozen(kw_only=True)
class FiredRule:
    """A rule whose condition held, with what it does and why.

    These are the per-person limits later stages read (calibration treats caps, floors and
    vetoes as hard limits; outcomes read ``ineligible``).
    """

    id: str
    reason: str | None = None
    set_grade: str | None = None
    floor_grade: str | None = None
    cap_grade: str | None = None
    veto_grade: str | None = None
    zero_total: bool = False
    ineligible: tuple[str, ...] = ()
    flag: str | None = None
    require_review: bool = False
    alert: CardAlert | None = None


@attrs.frozen
class PointsApplied:
    """Points a rule added (positive) or subtracted (negative), after its cap."""

    rule_id: str
    points: Decimal


@attrs.frozen(kw_only=True)
class ScoreCard:
    """One employee's result. Immutable; :meth:`explain` says how every number came about."""

    employee_id: str
    kpis: tuple[KpiScore, ...]
    base_total: Decimal
    """The total before bonus and penalty points (rounded)."""
    points: tuple[PointsApplied, ...] = ()
    """Bonus (+) and penalty (-) points applied, by rule."""
    total: Decimal
    """The final total: base total plus points (rounded), or 0 after a ``zero_total`` veto."""
    band_grade: str
    """The grade the total's band gives, before grade rules."""
    grade: str
    """The final grade, after set, floor, cap and veto rules."""
    multiplier: Decimal | None
    flags: tuple[str, ...] = ()
    fired: tuple[FiredRule, ...] = ()
    ineligible: tuple[str, ...] = ()
    """Outcomes a veto removed (``bonus``, ``promotion``), sorted."""
    alerts: tuple[CardAlert, ...] = ()
    review_required: bool = False
    """A rule asked calibration to look at this person."""
    inputs: tuple[tuple[str, Decimal], ...]
    """The input values used (defaults filled in), in declaration order."""
    attributes: tuple[tuple[str, Any], ...] = ()
    """Other columns of the row (department, manager, ...), passed through unchanged."""
    _scheme: CompiledScheme | None = attrs.field(default=None, eq=False, repr=False, alias="scheme")

    def score(self, kpi_id: str) -> Decimal:
        """The rounded score of one KPI."""
        for kpi in self.kpis:
            if kpi.id == kpi_id:
                return kpi.score
        known = ", ".join(k.id for k in self.kpis)
        raise KeyError(f"no KPI {kpi_id!r} on this card; the KPIs are: {known}")

    @property
    def kpi_scores(self) -> dict[str, Decimal]:
        return {k.id: k.score for k in self.kpis}

    @property
    def rules(self) -> tuple[str, ...]:
        """Ids of the rules that fired, in scheme order."""
        return tuple(r.id for r in self.fired)

    def input(self, name: str) -> Decimal:
        return dict(self.inputs)[name]

    def explain(self) -> Explanation:
        """The full trace from inputs to grade (same values as this card)."""
        if self._scheme is None:
            raise ValueError("this card was built by hand; explain() needs the compiled scheme that scored it")
        return self._scheme.explain(self)

    def to_dict(self) -> dict[str, Any]:
        """``employee_id``, ``kpis`` {id: score}, ``total``, ``grade``, ``flags``, ``rules``, and more."""
        return {
            "employee_id": self.employee_id,
            "kpis": self.kpi_scores,
            "base_total": self.base_total,
            "points": {p.rule_id: p.points for p in self.points},
            "total": self.total,
            "band_grade": self.band_grade,
            "grade": self.grade,
            "multiplier": self.multiplier,
            "flags": list(self.flags),
            "rules": list(self.rules),
            "ineligible": list(self.ineligible),
            "alerts": [{"rule": a.rule_id, "severity": a.severity, "message": a.message} for a in self.alerts],
            "review_required": self.review_required,
            "attributes": dict(self.attributes),
        }


@attrs.frozen
class Evaluation:
    """The score cards of one evaluation, sorted by employee id, and the rows that failed."""

    scheme_id: str
    scheme_version: str | None
    cards: tuple[ScoreCard, ...]
    problems: tuple[DataError, ...] = attrs.field(default=(), eq=False)
    """Bad rows, when evaluated with ``errors="collect"`` (they have no card)."""
    _index: dict[str, ScoreCard] = attrs.field(init=False, eq=False, repr=False)

    def __attrs_post_init__(self) -> None:
        object.__setattr__(self, "_index", {card.employee_id: card for card in self.cards})

    def __len__(self) -> int:
        return len(self.cards)

    def __iter__(self) -> Iterator[ScoreCard]:
        return iter(self.cards)

    def __getitem__(self, employee_id: str) -> ScoreCard:
        try:
            return self._index[str(employee_id)]
        except KeyError:
            raise KeyError(f"no score card for employee {employee_id!r}") from None

    @property
    def ok(self) -> bool:
        """True when every row was scored."""
        return not self.problems

    def to_records(self) -> list[dict[str, Any]]:
        """One flat dict per card: employee_id, attributes, KPI scores, total, grades, flags, rules."""
        records = []
        for card in self.cards:
            record: dict[str, Any] = {"employee_id": card.employee_id}
            record.update(card.attributes)
            record.update(card.kpi_scores)
            record.update(
                base_total=card.base_total,
                total=card.total,
                band_grade=card.band_grade,
                grade=card.grade,
                multiplier=card.multiplier,
                flags=card.flags,
                rules=card.rules,
                ineligible=card.ineligible,
                review_required=card.review_required,
            )
            records.append(record)
        return records

    def to_pandas(self) -> Any:
        """A pandas DataFrame of :meth:`to_records` (numbers stay exact Decimals)."""
        try:
            import pandas as pd
        except ImportError:
            raise ImportError("to_pandas() needs pandas: pip install 'perfkit[pandas]'") from None
        return pd.DataFrame.from_records(self.to_records())

    def to_json(self) -> str:
        """The cards as a JSON list; decimals are strings so they stay exact."""
        return json.dumps([card.to_dict() for card in self.cards], default=_exact, ensure_ascii=False, indent=2)


def _exact(value: Any) -> str:
    """Decimals (and anything else JSON has no type for) as text."""
    return str(value)
