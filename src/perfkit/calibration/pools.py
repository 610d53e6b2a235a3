"""Step one of a calibration: people into pools, each with the grades they may get.

A person's *limits* come from the rules that fired on their score card (``cap_grade``,
``floor_grade``, a veto's grade) and from session overrides; they are hard. A pool is the
set of people sharing the policy's ``group_by`` values; with ``min_pool_size`` and an org
roster, a pool that is too small merges into its parent unit's pool, repeatedly.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from decimal import Decimal
from typing import NamedTuple

import attrs

from perfkit.calibration.allocation import Limit
from perfkit.calibration.policy import Policy
from perfkit.calibration.scale import GradeScale
from perfkit.errors import CalibrationError, DataError, one_error
from perfkit.numbers import to_decimal
from perfkit.org import Roster
from perfkit.rules.scorecard import ScoreCard

__all__ = ["Member", "Pool", "build_pools", "members_of"]

WHOLE = "all"
"""The key of the single pool when a policy has no ``group_by``."""


class Member(NamedTuple):
    """A person as calibration sees them (a tuple: a pool of 100k is built in one pass)."""

    employee_id: str
    total: Decimal
    order: tuple[Decimal, ...]
    """The total, then the tie keys: higher is better."""
    rule_grade: str
    allowed: tuple[str, ...]
    limits: tuple[Limit, ...]
    group: str
    subpool: str | None


@attrs.frozen(kw_only=True)
class Pool:
    """People calibrated together, best first (order, then employee id)."""

    key: str
    members: tuple[Member, ...]
    merged_from: tuple[str, ...] = ()


def members_of(
    cards: Iterable[ScoreCard],
    policy: Policy,
    *,
    roster: Roster | None = None,
    overrides: Mapping[str, str] | None = None,
    scores: Mapping[str, Decimal] | None = None,
) -> list[Member]:
    """Each card as a :class:`Member`; every problem (missing column, bad key) is collected."""
    overrides = dict(overrides or {})
    scores = dict(scores or {})
    members: list[Member] = []
    problems: list[CalibrationError] = []
    seen: set[str] = set()
    tie_keys, group_by, nested, scale = policy.tie_keys, policy.group_by, policy.nested, policy.scale
    every = scale.names
    for card in cards:
        eid = card.employee_id
        seen.add(eid)
        try:
            total = to_decimal(scores[eid]) if eid in scores else card.total
            order = (total, *[_key(card, name, roster) for name in tie_keys]) if tie_keys else (total,)
            if len(group_by) == 1:
                group = _column(card, group_by[0], roster)
            else:
                group = " / ".join([_column(card, column, roster) for column in group_by]) or WHOLE
            subpool = _column(card, nested, roster) if nested else None
            override = overrides.get(eid)
            limits = _limits(card, override, scale) if card.fired or override is not None else ()
        except (CalibrationError, DataError, ValueError) as exc:
            problems.append(exc if isinstance(exc, CalibrationError) else CalibrationError(str(exc), employee_id=eid))
            continue
        members.append(
            Member(
                employee_id=eid,
                total=total,
                order=order,
                rule_grade=card.grade,
                allowed=_allowed(limits, scale) if limits else every,
                limits=limits,
                group=group,
                subpool=subpool,
            )
        )
    for eid in sorted(set(overrides) - seen):
        problems.append(CalibrationError("has an override but is not in the calibration", employee_id=eid))
    for eid in sorted(set(scores) - seen):
        problems.append(CalibrationError("has a score but is not in the calibration", employee_id=eid))
    if problems:
        raise one_error(problems, f"{len(problems)} people cannot be calibrated", CalibrationError)
    return members


def build_pools(members: Iterable[Member], policy: Policy, *, roster: Roster | None = None) -> list[Pool]:
    """Group members into pools, merging small ones upward along the roster's unit tree."""
    groups: dict[str, list[Member]] = {}
    for member in members:
        groups.setdefault(member.group, []).append(member)
    merged: dict[str, list[str]] = {key: [] for key in groups}
    if policy.min_pool_size is not None and any(len(g) < policy.min_pool_size for g in groups.values()):
        _merge_small(groups, merged, policy, roster)
    pools = []
    for key in sorted(groups):
        ordered = sorted(groups[key], key=_rank_key if policy.tie_keys else _total_key)
        pools.append(Pool(key=key, members=tuple(ordered), merged_from=tuple(sorted(merged[key]))))
    return pools


def _total_key(member: Member) -> tuple[Decimal, str]:
    return -member.total, member.employee_id


def _rank_key(member: Member) -> tuple[tuple[Decimal, ...], str]:
    return tuple(-v for v in member.order), member.employee_id


def _merge_small(
    groups: dict[str, list[Member]], merged: dict[str, list[str]], policy: Policy, roster: Roster | None
) -> None:
    if roster is None or len(policy.group_by) != 1:
        raise CalibrationError(
            "min_pool_size merges a small pool into its parent unit, so it needs an org roster (roster=...) "
            "and group_by naming a single org unit column"
        )
    unknown = sorted(key for key in groups if key not in {u.id for u in roster.units})
    if unknown:
        raise CalibrationError(
            f"pools {unknown} are not units of the roster, so they cannot merge into a parent unit", pool=unknown[0]
        )
    minimum = policy.min_pool_size or 0
    # Deepest units first, so a merged parent is itself checked after its children.
    pending = sorted(groups, key=lambda k: (-len(roster.unit_chain(k)), k))
    while pending:
        key = pending.pop(0)
        if key not in groups or len(groups[key]) >= minimum:
            continue
        parent = roster.parent_unit(key)
        if parent is None:
            continue
        groups.setdefault(parent, []).extend(groups.pop(key))
        merged.setdefault(parent, []).extend([key, *merged.pop(key)])
        if parent not in pending:
            pending.append(parent)
            pending.sort(key=lambda k: (-len(roster.unit_chain(k)), k))


def _column(card: ScoreCard, column: str, roster: Roster | None) -> str:
    value = None
    for name, found in card.attributes:
        if name == column:
            value = found
            break
    if value is None and roster is not None and card.employee_id in roster:
        person = roster.employee(card.employee_id)
        value = person.attribute("unit" if column == "department" else column)
    if value is None or value == "":
        where = "the row or the roster" if roster is not None else "the row (or pass roster=...)"
        raise CalibrationError(f"has no {column!r} to pool by; add it to {where}", employee_id=card.employee_id)
    return str(value)


def _key(card: ScoreCard, name: str, roster: Roster | None) -> Decimal:
    scores = card.kpi_scores
    if name in scores:
        return scores[name]
    inputs = dict(card.inputs)
    if name in inputs:
        return inputs[name]
    try:
        return to_decimal(_column(card, name, roster))
    except ValueError:
        raise CalibrationError(f"tie key {name!r} is not a number", employee_id=card.employee_id) from None


def _limits(card: ScoreCard, override: str | None, scale: GradeScale) -> tuple[Limit, ...]:
    limits = []
    for fired in card.fired:
        if fired.cap_grade is not None:
            limits.append(Limit(kind="cap", grade=fired.cap_grade, source=fired.id))
        if fired.floor_grade is not None:
            limits.append(Limit(kind="floor", grade=fired.floor_grade, source=fired.id))
        if fired.veto_grade is not None:
            limits.append(Limit(kind="veto", grade=fired.veto_grade, source=fired.id))
    if override is not None:
        if override not in scale:
            raise CalibrationError(
                f"override to unknown grade {override!r}; the grades are {', '.join(scale.names)}",
                employee_id=card.employee_id,
                grade=override,
            )
        limits.append(Limit(kind="override", grade=override, source="override"))
    return tuple(limits)


def _allowed(limits: tuple[Limit, ...], scale: GradeScale) -> tuple[str, ...]:
    """The grades the limits leave, best first; an override or a cap over a floor wins."""
    for limit in limits:
        if limit.kind == "override":
            return (limit.grade,)
    best, worst = 0, len(scale.names) - 1
    for limit in limits:
        if limit.kind in ("cap", "veto"):
            best = max(best, scale.rank(limit.grade))
    for limit in limits:
        if limit.kind == "floor":
            worst = min(worst, scale.rank(limit.grade))
    if worst < best:  # a cap below a floor: the cap wins, as it does in the scheme's rules
        return (scale.names[best],)
    return scale.names[best : worst + 1]
