"""Step two of a calibration: grades that meet the quotas and every person's limits.

For each pool (see :mod:`perfkit.calibration.pools`):

1. **Start.** ``absolute`` and ``hybrid`` start from the scheme's grades (bands, then rules);
   ``relative`` starts from nothing: grades come from rank alone.
2. **Allocate.** If the start already meets every quota it is kept. Otherwise the grades are
   found as a min-cost flow (networkx ``network_simplex``): people → grades → quota groups,
   each quota an edge with a lower and an upper bound, each person offered only the grades
   their limits allow. The cost keeps what matters, in this order: ``hybrid`` first moves
   the fewest grade steps away from the scheme's grades; then, in both modes, a better
   score never gets a worse grade than a lower score in the same (sub-)pool unless a limit
   or a quota forces it. People without limits who are next to each other in score order
   (and share a starting grade) travel as one flow node, which keeps the graph small.
3. **Ties.** People with equal scores (and equal tie keys, in the same sub-pool) that a cut
   split across grades are resolved by the policy: all to the better grade (``overflow``), all to the worse
   (``underfill``), or left for the session (``escalate``); each is recorded as a
   :class:`TieCut`.
4. **Status.** Every quota's head count per pool, and each sub-pool's when ``nested``.

An allocation that cannot exist raises :class:`CalibrationError` naming the pool and the
quotas and limits that conflict.
"""

from __future__ import annotations

from bisect import bisect_left, bisect_right
from collections.abc import Iterable, Mapping
from decimal import Decimal
from typing import Any

import networkx as nx

from perfkit.calibration.allocation import Allocation, Placement, PoolResult, QuotaStatus, TieCut
from perfkit.calibration.policy import Policy, compile_policy
from perfkit.calibration.pools import Member, Pool, build_pools, members_of
from perfkit.errors import CalibrationError
from perfkit.org import Roster
from perfkit.rules.scorecard import Evaluation, ScoreCard
from perfkit.scheme import Calibration

__all__ = ["allocate", "quota_status"]

Bounds = dict[str, tuple[int, int]]


def allocate(
    evaluation: Evaluation | Iterable[ScoreCard],
    policy: Policy | Calibration | Mapping[str, Any] | None = None,
    *,
    roster: Roster | None = None,
    overrides: Mapping[str, str] | None = None,
    scores: Mapping[str, Decimal] | None = None,
) -> Allocation:
    """Propose grades for everyone in ``evaluation`` under ``policy``.

    ``policy`` is a compiled :class:`Policy`, a ``Calibration`` declaration or its mapping,
    or None for the scheme's own ``calibration:`` section. ``overrides`` (employee id →
    grade) fix those people's grades; ``scores`` (employee id → total) replace the totals
    that order people, e.g. after a rater correction (in ``hybrid`` mode the starting grades
    are still the scheme's: scores change who moves, not where people start). ``roster`` supplies pool columns the
    rows lack and the unit tree ``min_pool_size`` merges along.
    """
    cards = tuple(evaluation)
    policy = _policy(cards, policy)
    members = members_of(cards, policy, roster=roster, overrides=overrides, scores=scores)
    placements: list[Placement] = []
    results: list[PoolResult] = []
    ties: list[TieCut] = []
    for pool in build_pools(members, policy, roster=roster):
        grades = _allocate_pool(pool, policy)
        pool_ties = _resolve_ties(pool, grades, policy)
        if any(t.before for t in pool_ties):
            _repair_inversions(pool, grades, policy, pool_ties)
        ties.extend(pool_ties)
        placements.extend(_placements(pool, grades, policy))
        results.append(_status(pool, grades, policy, pool_ties))
    return Allocation(
        policy=policy,
        placements=tuple(sorted(placements, key=lambda p: p.employee_id)),
        pools=tuple(results),
        ties=tuple(ties),
    )


def quota_status(allocation: Allocation, grades: Mapping[str, str]) -> tuple[PoolResult, ...]:
    """Each pool's quota status for ``grades`` (e.g. after overrides), ties counted as recorded."""
    by_id = {p.employee_id: p for p in allocation.placements}
    results = []
    for pool in allocation.pools:
        members = [by_id[m] for m in pool.members]
        pool_grades = {m.employee_id: grades.get(m.employee_id, m.proposed) for m in members}
        subs = {m.employee_id: m.subpool for m in members}
        pool_ties = [t for t in allocation.ties if t.pool == pool.key]
        results.append(_status_of(pool.key, pool.members, pool.merged_from, subs, pool_grades, allocation.policy, pool_ties))
    return tuple(results)


# -- policy ----------------------------------------------------------------------------------


def _policy(cards: tuple[ScoreCard, ...], policy: Policy | Calibration | Mapping[str, Any] | None) -> Policy:
    if isinstance(policy, Policy):
        return policy
    if not cards:
        raise CalibrationError("there is nobody to calibrate: the evaluation has no score cards")
    compiled = cards[0]._scheme
    if compiled is None:
        raise CalibrationError("these score cards were built by hand; pass a compiled Policy (it carries the grades)")
    if policy is None:
        policy = compiled.scheme.calibration
        if policy is None:
            raise CalibrationError(f"scheme {compiled.scheme.id!r} has no calibration section; pass policy=...")
    if not isinstance(policy, Calibration):
        from perfkit.calibration.policy import load_policy

        return load_policy(policy, compiled.scale)
    return compile_policy(policy, compiled.scale)


# -- allocation ------------------------------------------------------------------------------


def _start(member: Member, policy: Policy) -> str:
    """The grade a person starts from: the scheme's, moved inside their limits."""
    grade = member.rule_grade
    if grade in member.allowed:
        return grade
    rank = policy.scale.rank(grade)
    ranks = [policy.scale.rank(g) for g in member.allowed]
    return policy.scale.names[min(ranks, key=lambda r: (abs(r - rank), r))]


def _allocate_pool(pool: Pool, policy: Policy) -> dict[str, str]:
    start = {m.employee_id: _start(m, policy) for m in pool.members}
    if policy.mode == "absolute" or not policy.quotas:
        return start
    if policy.mode == "hybrid" and _status_of_ok(pool, start, policy):
        return start
    if policy.mode == "relative":
        # Rank order cut at the head counts is the answer whenever it breaks no limit and
        # meets the group and sub-pool quotas too.
        cut = _sort_and_cut(pool, policy)
        if all(cut[m.employee_id] in m.allowed for m in pool.members) and _status_of_ok(pool, cut, policy):
            return cut
        if _caps_only(pool, policy):
            greedy = _greedy_caps(pool, policy)
            if greedy is not None:
                return greedy
    return _flow(pool, policy, start)


def _caps_only(pool: Pool, policy: Policy) -> bool:
    """Only per-grade quotas, no sub-pools, and every limit a cap (allowed: a grade and all worse)."""
    worst = policy.scale.names[-1]
    return (
        policy.nested is None
        and all(len(q.grades) == 1 for q in policy.quotas)
        and all(m.allowed[-1] == worst for m in pool.members)
    )


def _greedy_caps(pool: Pool, policy: Policy) -> dict[str, str] | None:
    """Best grade first, fill each grade's count with the best people it may take.

    With caps only this is the flow's answer (tests hold it to that): whoever is eligible
    for a grade is eligible for every worse one, so taking the best eligible people for
    each grade in turn leaves no inversion a swap could fix. None when it runs out.
    """
    bounds = policy.bounds(len(pool.members))
    rest = list(pool.members)
    grades: dict[str, str] = {}
    for grade in policy.scale.names:
        need = bounds[grade][0]
        keep = []
        for member in rest:
            if need and grade in member.allowed:
                grades[member.employee_id] = grade
                need -= 1
            else:
                keep.append(member)
        if need:
            return None
        rest = keep
    return grades


def _sort_and_cut(pool: Pool, policy: Policy) -> dict[str, str]:
    bounds = policy.bounds(len(pool.members))
    grades: dict[str, str] = {}
    members = iter(pool.members)
    for grade in policy.scale.names:
        for _ in range(bounds[grade][0]):
            grades[next(members).employee_id] = grade
    return grades


def _status_of_ok(pool: Pool, grades: Mapping[str, str], policy: Policy) -> bool:
    subs = {m.employee_id: m.subpool for m in pool.members}
    ids = tuple(m.employee_id for m in pool.members)
    return _status_of(pool.key, ids, (), subs, grades, policy, []).ok


def _units(pool: Pool, start: Mapping[str, str], grades: int, by_start: bool) -> list[tuple[list[Member], int]]:
    """Flow sources: runs of people without limits, and each limited person alone.

    A run is people next to each other in the pool's score order, with every grade allowed,
    in the same sub-pool (and, when ``by_start``, with the same starting grade); its order
    weight is that of its best member. Because a run never reaches past anyone else, every
    unit's weight sits in score order with everyone else's, which is what makes the flow's
    answer free of fixable inversions.
    """
    size = len(pool.members)
    # People with equal scores (and tie keys) weigh the same, so the flow has no reason to
    # prefer one of them: the tie policy decides, not the employee id.
    weights: list[int] = []
    for position, member in enumerate(pool.members):
        tied = position and pool.members[position - 1].order == member.order
        weights.append(weights[-1] if tied else size - position)
    # A run must not hold both someone tied with a limited person and someone below them,
    # or its weight would claim the lower one is as good: such tie groups run on their own.
    contested = {m.order for m in pool.members if len(m.allowed) != grades}
    units: list[tuple[list[Member], int]] = []
    run: list[Member] = []
    run_weight = 0
    for position, member in enumerate(pool.members):
        free = len(member.allowed) == grades
        if run and (
            not free
            or member.subpool != run[0].subpool
            or (by_start and start[run[0].employee_id] != start[member.employee_id])
            or (member.order != run[-1].order and (member.order in contested or run[-1].order in contested))
        ):
            units.append((run, run_weight))
            run = []
        if not free:
            units.append(([member], weights[position]))
            continue
        if not run:
            run_weight = weights[position]
        run.append(member)
    if run:
        units.append((run, run_weight))
    return units


def _flow(pool: Pool, policy: Policy, start: Mapping[str, str]) -> dict[str, str]:
    names = policy.scale.names
    rank = {g: i for i, g in enumerate(names)}
    size = len(pool.members)
    steps = len(names) - 1
    big = steps * size * size + 1 if policy.mode == "hybrid" else 0
    graph: nx.DiGraph[Any] = nx.DiGraph()
    demand: dict[Any, int] = {}

    def edge(u: Any, v: Any, low: int, high: int, cost: int = 0) -> None:
        graph.add_edge(u, v, capacity=high - low, weight=cost)
        if low:
            demand[u] = demand.get(u, 0) + low
            demand[v] = demand.get(v, 0) - low

    units = _units(pool, start, len(names), by_start=policy.mode == "hybrid")
    nested = policy.nested is not None
    for index, (run, weight) in enumerate(units):
        node = ("unit", index)
        demand[node] = demand.get(node, 0) - len(run)
        home = rank[start[run[0].employee_id]]
        for grade in run[0].allowed:
            target = ("sub", run[0].subpool, grade) if nested else ("grade", grade)
            cost = big * abs(rank[grade] - home) + rank[grade] * weight
            edge(node, target, 0, len(run), cost)
    if nested:
        subs = sorted({m.subpool for m in pool.members}, key=str)
        for sub in subs:
            count = sum(1 for m in pool.members if m.subpool == sub)
            relaxed = policy.relaxed_bounds(count)
            for grade in names:
                low, high = relaxed.get(grade, (0, count))
                edge(("sub", sub, grade), ("grade", grade), low, high)
    bounds = policy.bounds(size)
    groups = [q for q in policy.quotas if len(q.grades) > 1]

    def parent(grades: frozenset[str]) -> Any:
        containing = [q for q in groups if grades < frozenset(q.grades)]
        if not containing:
            return "sink"
        return ("quota", min(containing, key=lambda q: len(q.grades)).key)

    for grade in names:
        low, high = bounds.get(grade, (0, size))
        edge(("grade", grade), parent(frozenset((grade,))), low, high)
    for quota in groups:
        low, high = bounds[quota.key]
        edge(("quota", quota.key), parent(frozenset(quota.grades)), low, high)
    demand["sink"] = demand.get("sink", 0) + size
    for node in graph.nodes:
        graph.nodes[node]["demand"] = demand.get(node, 0)
    try:
        _, flows = nx.network_simplex(graph)
    except nx.NetworkXUnfeasible:
        raise _no_allocation(pool, policy, bounds) from None
    grades: dict[str, str] = {}
    for index, (run, _) in enumerate(units):
        out = flows[("unit", index)]
        people = iter(run)
        for grade in names:
            target = ("sub", run[0].subpool, grade) if nested else ("grade", grade)
            for _ in range(out.get(target, 0)):
                grades[next(people).employee_id] = grade
    return grades


def _no_allocation(pool: Pool, policy: Policy, bounds: Bounds) -> CalibrationError:
    """Name the quotas and limits that cannot all hold, as precisely as simple counting allows."""
    conflicts: list[str] = []
    for quota in policy.quotas:
        low, high = bounds[quota.key]
        if low > high:
            conflicts.append(
                f"{quota.describe()}: no whole number of people in a pool of {len(pool.members)} is within that range "
                f"(at least {low}, at most {high}); widen the range or set min_pool_size"
            )
            continue
        grades = set(quota.grades)
        able = [m for m in pool.members if grades & set(m.allowed)]
        forced = [m for m in pool.members if set(m.allowed) <= grades]
        if len(able) < low:
            limited = [m for m in pool.members if m not in able]
            conflicts.append(
                f"{quota.describe()} needs at least {low} of {len(pool.members)} people, but only {len(able)} may be "
                f"{quota.key}; limited: {_who(limited)}"
            )
        if len(forced) > high:
            conflicts.append(
                f"{quota.describe()} allows at most {high} of {len(pool.members)} people, but {len(forced)} can only "
                f"be {quota.key}: {_who(forced)}"
            )
    if not conflicts:
        conflicts.extend(f"{q.describe()}: {bounds[q.key][0]}–{bounds[q.key][1]} people" for q in policy.quotas)
        limited = [m for m in pool.members if m.limits]
        if limited:
            conflicts.append(f"limited: {_who(limited)}")
        if policy.nested:
            conflicts.append(f"and every {policy.nested} within a head of its share")
    return CalibrationError(
        f"no allocation of {len(pool.members)} people meets every quota and every person's limits",
        pool=pool.key,
        constraints=tuple(conflicts),
    )


def _who(members: Iterable[Member], most: int = 10) -> str:
    shown = []
    people = list(members)
    for member in people[:most]:
        limits = ", ".join(limit.describe() for limit in member.limits) or "no limits"
        shown.append(f"{member.employee_id} ({limits})")
    more = f" and {len(people) - most} more" if len(people) > most else ""
    return "; ".join(shown) + more


# -- ties ------------------------------------------------------------------------------------


def _resolve_ties(pool: Pool, grades: dict[str, str], policy: Policy) -> list[TieCut]:
    """Apply the tie policy where a cut runs through equal scores; changes ``grades`` in place."""
    if policy.mode == "absolute" or not policy.quotas:
        return []
    rank = policy.scale.rank
    cuts = []
    # With sub-pools, each ranks on its own: a tie is between people of the same sub-pool.
    groups: dict[tuple[str | None, tuple[Decimal, ...]], list[Member]] = {}
    for member in pool.members:
        groups.setdefault((member.subpool, member.order), []).append(member)
    for (_, order), tied in groups.items():
        if len(tied) < 2:
            continue
        split = {grades[m.employee_id] for m in tied}
        free = [m for m in tied if split <= set(m.allowed)]
        chosen = sorted({grades[m.employee_id] for m in free}, key=rank)
        if len(chosen) < 2:
            continue
        resolved: str | None = None
        if policy.ties == "overflow":
            resolved = chosen[0]
        elif policy.ties == "underfill":
            resolved = chosen[-1]
        before = []
        if resolved is not None:
            for member in free:
                if grades[member.employee_id] != resolved:
                    before.append((member.employee_id, grades[member.employee_id]))
                grades[member.employee_id] = resolved
        cuts.append(
            TieCut(
                pool=pool.key,
                employee_ids=tuple(sorted(m.employee_id for m in free)),
                total=order[0],
                grades=tuple(chosen),
                policy=policy.ties,
                resolved=resolved,
                before=tuple(sorted(before)),
            )
        )
    return cuts


def _repair_inversions(pool: Pool, grades: dict[str, str], policy: Policy, ties: list[TieCut]) -> None:
    """Swap grades where a tie resolution left a better score below a worse one that could swap.

    Moving a whole tie group to one grade can leave one of them below someone with a lower
    score whose limits kept them apart before. A swap keeps every head count (within a
    sub-pool), so the quotas still hold; repeat until no such pair is left.
    """
    rank = policy.scale.rank
    settled = {eid for tie in ties if tie.resolved is not None for eid in tie.employee_ids}
    changed = True
    while changed:
        changed = False
        for i, high in enumerate(pool.members):
            for low in pool.members[i + 1 :]:
                if low.subpool != high.subpool or low.order >= high.order:
                    continue
                if high.employee_id in settled or low.employee_id in settled:
                    continue  # a resolved tie keeps the grade its record says
                a, b = grades[high.employee_id], grades[low.employee_id]
                if rank(a) > rank(b) and b in high.allowed and a in low.allowed:
                    grades[high.employee_id], grades[low.employee_id] = b, a
                    changed = True


# -- results ---------------------------------------------------------------------------------


def _placements(pool: Pool, grades: Mapping[str, str], policy: Policy) -> list[Placement]:
    margin = policy.boundary_margin
    scale = policy.scale
    # Quota cuts: where the proposed grade changes between neighbours in score order.
    cuts: list[tuple[str, str, Decimal]] = []
    previous: Member | None = None
    for member in pool.members:
        if len(member.allowed) < len(scale.names):
            continue  # limited people sit where their limits put them, not at a cut
        if previous is not None and grades[previous.employee_id] != grades[member.employee_id]:
            cuts.append((grades[previous.employee_id], grades[member.employee_id], previous.total))
        previous = member
    # Reasons are built by concatenation: formatting a Decimal with an f-string is slow.
    edges = [
        (g.min_score - margin, g.min_score + margin, f" is within {margin} of the {g.name} band edge ({g.min_score})")
        for g in scale.grades[:-1]
        if g.min_score is not None
    ]
    near_cuts = [
        (at - margin, at + margin, (better, worse), f" is within {margin} of the {better}/{worse} cut ({at})")
        for better, worse, at in cuts
    ]
    if policy.mode == "absolute":
        near_cuts = []
    # Members are in score order (best first), so those near a point are one slice: bisect.
    keys = [-m.total for m in pool.members]
    found: dict[int, list[str]] = {}
    for low, high, text in edges:
        for i in range(bisect_left(keys, -high), bisect_right(keys, -low)):
            found.setdefault(i, []).append("total " + str(pool.members[i].total) + text)
    for low, high, pair, text in near_cuts:
        for i in range(bisect_left(keys, -high), bisect_right(keys, -low)):
            if grades[pool.members[i].employee_id] in pair:
                found.setdefault(i, []).append("total " + str(pool.members[i].total) + text)
    placements = []
    for i, member in enumerate(pool.members):
        reasons = found.get(i, [])
        placements.append(
            Placement(
                employee_id=member.employee_id,
                pool=pool.key,
                subpool=member.subpool,
                total=member.total,
                rule_grade=member.rule_grade,
                allowed=member.allowed,
                limits=member.limits,
                proposed=grades[member.employee_id],
                boundary=tuple(dict.fromkeys(reasons)) if len(reasons) > 1 else tuple(reasons),
            )
        )
    return placements


def _status(pool: Pool, grades: Mapping[str, str], policy: Policy, ties: list[TieCut]) -> PoolResult:
    subs = {m.employee_id: m.subpool for m in pool.members}
    ids = tuple(sorted(m.employee_id for m in pool.members))
    return _status_of(pool.key, ids, pool.merged_from, subs, grades, policy, ties)


def _status_of(
    key: str,
    members: tuple[str, ...],
    merged_from: tuple[str, ...],
    subs: Mapping[str, str | None],
    grades: Mapping[str, str],
    policy: Policy,
    ties: Iterable[TieCut],
) -> PoolResult:
    moves = _tie_moves(ties, grades)
    statuses = _quota_statuses(policy, [grades[m] for m in members], policy.bounds(len(members)), moves.values())
    sub_results = []
    if policy.nested is not None:
        singles = tuple(q for q in policy.quotas if len(q.grades) == 1)
        for sub in sorted({subs[m] for m in members}, key=str):
            inside = [m for m in members if subs[m] == sub]
            relaxed = policy.relaxed_bounds(len(inside))
            sub_moves = [moves[m] for m in inside if m in moves]
            sub_results.append((str(sub), _quota_statuses(policy, [grades[m] for m in inside], relaxed, sub_moves, singles)))
    return PoolResult(
        key=key,
        members=tuple(sorted(members)),
        merged_from=merged_from,
        quotas=statuses,
        subpools=tuple(sub_results),
    )


def _tie_moves(ties: Iterable[TieCut], grades: Mapping[str, str]) -> dict[str, tuple[str, str]]:
    """Employee id → (from, to) grades, for each person a recorded tie resolution moved who is still there."""
    moves: dict[str, tuple[str, str]] = {}
    for tie in ties:
        if tie.resolved is None:
            continue
        for eid, before in tie.before:
            if grades.get(eid) == tie.resolved:
                moves[eid] = (before, tie.resolved)
    return moves


def _quota_statuses(
    policy: Policy,
    grades: list[str],
    bounds: Bounds,
    moves: Iterable[tuple[str, str]],
    quotas: Iterable[Any] | None = None,
) -> tuple[QuotaStatus, ...]:
    statuses = []
    moves = list(moves)
    for quota in policy.quotas if quotas is None else quotas:
        if quota.key not in bounds:
            continue
        low, high = bounds[quota.key]
        count = sum(1 for g in grades if g in quota.grades)
        tie = sum(1 for before, after in moves if (before in quota.grades) != (after in quota.grades))
        statuses.append(
            QuotaStatus(key=quota.key, description=quota.describe(), low=low, high=high, count=count, tie_allowance=tie)
        )
    return tuple(statuses)
