"""The result of running a calibration policy over scored people: proposed grades, per pool.

:func:`allocate` is the pipeline; the steps live in :mod:`perfkit.calibration.pools`
(people into pools, with their per-person limits) and
:mod:`perfkit.calibration.distribution` (grades that meet the quotas and the limits).
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping
from decimal import Decimal
from typing import Any

import attrs

from perfkit.calibration.policy import Policy
from perfkit.errors import CalibrationError

__all__ = ["Allocation", "Limit", "Placement", "PoolResult", "QuotaStatus", "TieCut"]


@attrs.frozen(kw_only=True)
class Limit:
    """A hard limit on a person's grade: a rule's cap, floor or veto, or a session override."""

    kind: str
    """``cap`` (at best ``grade``), ``floor`` (at worst ``grade``), ``veto`` (at best ``grade``)
    or ``override`` (exactly ``grade``)."""
    grade: str
    source: str
    """The rule id, or ``override`` for a session override."""

    def describe(self) -> str:
        words = {"cap": "at best", "veto": "at best (veto)", "floor": "at worst", "override": "exactly"}
        return f"{words.get(self.kind, self.kind)} {self.grade} ({self.source})"


@attrs.frozen(kw_only=True)
class Placement:
    """One person in a calibration: their score, their limits and the grade proposed."""

    employee_id: str
    pool: str
    subpool: str | None
    total: Decimal
    rule_grade: str
    """The grade the scheme gave (bands, then rules): the pre-calibration grade."""
    allowed: tuple[str, ...]
    """The grades this person may get, best first (all of them unless a limit applies)."""
    limits: tuple[Limit, ...]
    proposed: str
    """The grade the policy proposes."""
    boundary: tuple[str, ...] = ()
    """Why this person is a boundary case (near a band edge or a quota cut), in words."""

    @property
    def moved(self) -> bool:
        """Whether the proposal differs from the scheme's grade."""
        return self.proposed != self.rule_grade


@attrs.frozen(kw_only=True)
class QuotaStatus:
    """How one quota stands in one pool: the head counts it allows and the count it has."""

    key: str
    description: str
    low: int
    high: int
    count: int
    tie_allowance: int = 0
    """People a recorded tie resolution (``overflow``/``underfill``) moved across this quota;
    the count may miss the bounds by that many and still be met."""

    @property
    def ok(self) -> bool:
        return self.low - self.tie_allowance <= self.count <= self.high + self.tie_allowance

    def describe(self) -> str:
        allowed = str(self.low) if self.low == self.high else f"{self.low}–{self.high}"
        verdict = "ok" if self.ok else "NOT MET"
        tie = f", {self.tie_allowance} moved by a tie" if self.tie_allowance else ""
        return f"{self.description}: {self.count} (allowed {allowed}{tie}) {verdict}"


@attrs.frozen(kw_only=True)
class TieCut:
    """People with equal scores that a quota cut ran through, and what the tie policy did."""

    pool: str
    employee_ids: tuple[str, ...]
    total: Decimal
    grades: tuple[str, ...]
    """The grades the cut split them over, best first."""
    policy: str
    """``overflow``, ``underfill`` or ``escalate``."""
    resolved: str | None
    """The grade all of them got, or None when the tie is escalated to the session."""
    before: tuple[tuple[str, str], ...] = ()
    """(employee id, grade) for each person the resolution moved, with the grade the cut gave."""


@attrs.frozen(kw_only=True)
class PoolResult:
    """One calibration pool: who is in it, where it came from, and its quota status."""

    key: str
    members: tuple[str, ...]
    merged_from: tuple[str, ...] = ()
    """Smaller pools merged into this one (``min_pool_size``), by their keys."""
    quotas: tuple[QuotaStatus, ...] = ()
    subpools: tuple[tuple[str, tuple[QuotaStatus, ...]], ...] = ()
    """For ``nested`` policies: each sub-pool's quota status."""

    @property
    def size(self) -> int:
        return len(self.members)

    @property
    def ok(self) -> bool:
        return all(q.ok for q in self.quotas) and all(q.ok for _, qs in self.subpools for q in qs)


@attrs.frozen(kw_only=True)
class Allocation:
    """Proposed grades for everyone, with pools, quota status and tie decisions."""

    policy: Policy = attrs.field(repr=False)
    placements: tuple[Placement, ...]
    pools: tuple[PoolResult, ...]
    ties: tuple[TieCut, ...] = ()
    _index: dict[str, Placement] = attrs.field(init=False, eq=False, repr=False)

    def __attrs_post_init__(self) -> None:
        object.__setattr__(self, "_index", {p.employee_id: p for p in self.placements})

    def __len__(self) -> int:
        return len(self.placements)

    def __iter__(self) -> Iterator[Placement]:
        return iter(self.placements)

    def __getitem__(self, employee_id: str) -> Placement:
        try:
            return self._index[employee_id]
        except KeyError:
            raise CalibrationError("is not in this calibration", employee_id=employee_id) from None

    def __contains__(self, employee_id: object) -> bool:
        return employee_id in self._index

    def grades(self) -> dict[str, str]:
        """Employee id → proposed grade."""
        return {p.employee_id: p.proposed for p in self.placements}

    def pool(self, key: str) -> PoolResult:
        for pool in self.pools:
            if pool.key == key:
                return pool
        raise CalibrationError("no such pool", pool=key)

    def distribution(self, grades: Mapping[str, str] | None = None) -> dict[str, int]:
        """Head count per grade (best first), of the proposals or of ``grades``."""
        chosen = self.grades() if grades is None else grades
        return grade_counts(chosen.values(), self.policy.scale.names)

    def small_pools(self) -> tuple[PoolResult, ...]:
        """Pools still smaller than ``min_pool_size`` after merging (their top unit has no parent)."""
        minimum = self.policy.min_pool_size
        return () if minimum is None else tuple(pool for pool in self.pools if pool.size < minimum)

    @property
    def ok(self) -> bool:
        """Whether every pool meets every quota."""
        return all(pool.ok for pool in self.pools)

    def unmet(self) -> tuple[str, ...]:
        """Every quota not met, in words, pool by pool."""
        found: list[str] = []
        for pool in self.pools:
            found.extend(f"pool {pool.key}: {q.describe()}" for q in pool.quotas if not q.ok)
            for sub, statuses in pool.subpools:
                found.extend(f"pool {pool.key} / {sub}: {q.describe()}" for q in statuses if not q.ok)
        return tuple(found)

    def to_records(self) -> list[dict[str, Any]]:
        """One plain row per person (numbers as exact text)."""
        return [
            {
                "employee_id": p.employee_id,
                "pool": p.pool,
                "total": str(p.total),
                "rule_grade": p.rule_grade,
                "proposed": p.proposed,
                "allowed": "".join(f"{g} " for g in p.allowed).strip(),
                "limits": "; ".join(limit.describe() for limit in p.limits),
                "boundary": "; ".join(p.boundary),
            }
            for p in self.placements
        ]

    def to_text(self) -> str:
        """Per pool: the quota status and the head counts before and after."""
        lines = []
        names = self.policy.scale.names
        for pool in self.pools:
            merged = f" (merged: {', '.join(pool.merged_from)})" if pool.merged_from else ""
            small = self.policy.min_pool_size is not None and pool.size < self.policy.min_pool_size
            note = f"; below min_pool_size {self.policy.min_pool_size}, nothing left to merge into" if small else ""
            lines.append(f"pool {pool.key}: {pool.size} people{merged}{note}")
            members = [self._index[m] for m in pool.members]
            before = grade_counts((p.rule_grade for p in members), names)
            after = grade_counts((p.proposed for p in members), names)
            lines.append("  grade   " + "".join(f"{n:>6}" for n in names))
            lines.append("  before  " + "".join(f"{before[n]:>6}" for n in names))
            lines.append("  after   " + "".join(f"{after[n]:>6}" for n in names))
            lines.extend(f"  {q.describe()}" for q in pool.quotas)
        return "\n".join(lines)


def grade_counts(grades: Iterable[str], names: tuple[str, ...]) -> dict[str, int]:
    """Head count per grade, in the order of ``names`` (best first), zeros included."""
    counts = dict.fromkeys(names, 0)
    for grade in grades:
        counts[grade] += 1
    return counts
