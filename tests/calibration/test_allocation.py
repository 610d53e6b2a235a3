"""Calibration allocation: pools, limits, quotas, ties, nesting, merging, and their properties."""

from __future__ import annotations

import math
import random
from collections import Counter
from collections.abc import Mapping, Sequence
from decimal import Decimal
from fractions import Fraction
from typing import Any, ClassVar

import pytest
from calibration.strategies import (
    GRADES,
    SCALE,
    SCHEME_TEXT,
    TEAMS,
    allowed_grades,
    evaluate,
    hybrid_policies,
    people,
    percents,
    relative_policies,
)
from hypothesis import HealthCheck, assume, example, given, settings
from hypothesis import strategies as st

import perfkit as pk
from perfkit.calibration import distribution
from perfkit.calibration.allocation import Allocation, Placement
from perfkit.calibration.distribution import allocate
from perfkit.calibration.policy import Policy, load_policy
from perfkit.calibration.pools import build_pools, members_of
from perfkit.errors import CalibrationError, SchemeError
from perfkit.org import Roster

STANDARD = {"S": "10%", "A": "20%", "B": "50%", "C": "15%", "D": "5%"}
RELATIVE: dict[str, Any] = {"mode": "relative", "group_by": "department", "distribution": STANDARD}
RANK = {grade: i for i, grade in enumerate(GRADES)}
PROPERTY = settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])


# -- building inputs -------------------------------------------------------------------------


def row(eid: str, x: int, department: str = "研发", team: str = "t1", y: int = 0, **limits: int) -> dict[str, Any]:
    """One person: total ``x``; ``late=5`` caps at B, ``mentor=1`` floors at B, ``breach=1`` vetoes to D."""
    base: dict[str, Any] = {"employee_id": eid, "x": x, "y": y, "department": department, "team": team}
    base.update(limits)
    return base


def ranked(scores: Sequence[int], department: str = "研发", prefix: str = "E") -> list[dict[str, Any]]:
    """People ``E01``, ``E02``, ... with these totals, in this order."""
    return [row(f"{prefix}{i:02d}", x, department) for i, x in enumerate(scores, start=1)]


def compiled(policy: Mapping[str, Any]) -> Policy:
    return load_policy(policy, SCALE)


def run(rows: Sequence[Mapping[str, Any]], policy: Mapping[str, Any], **options: Any) -> Allocation:
    return allocate(evaluate(rows), policy, **options)


# -- oracles ---------------------------------------------------------------------------------


def pool_of(person: Mapping[str, Any], policy: Policy) -> str:
    return str(person[policy.group_by[0]]) if policy.group_by else "all"


def pools_of(rows: Sequence[Mapping[str, Any]], policy: Policy) -> dict[str, list[Mapping[str, Any]]]:
    found: dict[str, list[Mapping[str, Any]]] = {}
    for person in rows:
        found.setdefault(pool_of(person, policy), []).append(person)
    return found


def quotas_hold(
    grades: Sequence[str], bounds: Mapping[str, tuple[int, int]], policy: Policy, *, singles: bool = False
) -> bool:
    counts = Counter(grades)
    for quota in policy.quotas:
        if quota.key not in bounds or (singles and len(quota.grades) > 1):
            continue
        low, high = bounds[quota.key]
        if not low <= sum(counts[g] for g in quota.grades) <= high:
            return False
    return True


def meets(people_grades: Sequence[tuple[Mapping[str, Any], str]], policy: Policy) -> bool:
    """Whether grades meet every quota of one pool (and, when nested, of each sub-pool)."""
    if not quotas_hold([g for _, g in people_grades], policy.bounds(len(people_grades)), policy):
        return False
    if policy.nested is None:
        return True
    subs: dict[str, list[str]] = {}
    for person, grade in people_grades:
        subs.setdefault(str(person[policy.nested]), []).append(grade)
    return all(quotas_hold(g, policy.relaxed_bounds(len(g)), policy, singles=True) for g in subs.values())


def feasible(pool: Sequence[Mapping[str, Any]], policy: Policy) -> bool:
    """Whether any grades within everyone's limits meet the pool's quotas (and sub-pools').

    Dynamic programming over head-count vectors, sub-pool by sub-pool; independent of the
    flow it checks.
    """
    zero = (0,) * len(GRADES)
    bounds = policy.bounds(len(pool))
    subs: dict[str | None, list[Mapping[str, Any]]] = {}
    for person in pool:
        subs.setdefault(None if policy.nested is None else str(person[policy.nested]), []).append(person)
    states = {zero}
    for members in subs.values():
        pairs = {(state, zero) for state in states}
        for person in members:
            grown = set()
            for whole, sub in pairs:
                for grade in allowed_grades(person):
                    i = RANK[grade]
                    grown.add((_bump(whole, i), _bump(sub, i)))
            pairs = grown
        relaxed = policy.relaxed_bounds(len(members)) if policy.nested is not None else {}
        states = {
            whole for whole, sub in pairs if all(low <= sub[RANK[key]] <= high for key, (low, high) in relaxed.items())
        }
    return any(
        all(low <= sum(state[RANK[g]] for g in policy.quota(key).grades) <= high for key, (low, high) in bounds.items())
        for state in states
    )


def fewest_steps(pool: Sequence[tuple[Mapping[str, Any], str]], policy: Policy) -> int | None:
    """The fewest grade steps away from the starting grades that meet a pool's quotas (None: none do).

    ``pool`` pairs each person's row with their starting grade; no sub-pools.
    """
    best: dict[tuple[int, ...], int] = {(0,) * len(GRADES): 0}
    for person, start in pool:
        grown: dict[tuple[int, ...], int] = {}
        for counts, steps in best.items():
            for grade in allowed_grades(person):
                key = _bump(counts, RANK[grade])
                cost = steps + abs(RANK[grade] - RANK[start])
                if cost < grown.get(key, cost + 1):
                    grown[key] = cost
        best = grown
    bounds = policy.bounds(len(pool))
    met = [
        steps
        for counts, steps in best.items()
        if all(
            low <= sum(counts[RANK[g]] for g in policy.quota(key).grades) <= high for key, (low, high) in bounds.items()
        )
    ]
    return min(met) if met else None


def _bump(counts: tuple[int, ...], index: int) -> tuple[int, ...]:
    return counts[:index] + (counts[index] + 1,) + counts[index + 1 :]


def fixable_inversions(allocation: Allocation, *, within: str = "subpool") -> list[tuple[str, str]]:
    """Pairs (better score, worse score) in one (sub-)pool where the better score has the worse
    grade although each could take the other's grade: a swap keeps every head count."""
    groups: dict[tuple[str, str | None], list[Placement]] = {}
    for p in allocation:
        groups.setdefault((p.pool, p.subpool if within == "subpool" else None), []).append(p)
    found = []
    for members in groups.values():
        for hi in members:
            for lo in members:
                if (
                    hi.total > lo.total
                    and RANK[hi.proposed] > RANK[lo.proposed]
                    and lo.proposed in hi.allowed
                    and hi.proposed in lo.allowed
                ):
                    found.append((hi.employee_id, lo.employee_id))
    return found


def sort_and_cut(rows: Sequence[Mapping[str, Any]], policy: Policy) -> dict[str, str]:
    """Rank each pool by total (distinct) and cut it at the target head counts, best grade first."""
    grades = {}
    for pool in pools_of(rows, policy).values():
        ordered = sorted(pool, key=lambda r: -r["x"])
        bounds = policy.bounds(len(pool))
        cuts = [g for g in GRADES for _ in range(bounds[g][0])]
        grades.update({r["employee_id"]: g for r, g in zip(ordered, cuts)})
    return grades


def swap_keeps_sub_pools(allocation: Allocation, a: str, b: str) -> bool:
    """Whether swapping two people's grades keeps every sub-pool of their pool within its bounds."""
    policy = allocation.policy
    grades = allocation.grades()
    grades[a], grades[b] = grades[b], grades[a]
    pool = allocation[a].pool
    subs: dict[str | None, list[str]] = {}
    for p in allocation:
        if p.pool == pool:
            subs.setdefault(p.subpool, []).append(grades[p.employee_id])
    return all(quotas_hold(g, policy.relaxed_bounds(len(g)), policy, singles=True) for g in subs.values())


# -- examples --------------------------------------------------------------------------------


class TestRelative:
    def test_grades_by_rank_to_the_apportioned_counts(self) -> None:
        # 10 people: S 1, A 2, B 5, C 1.5 → 2 (the earlier of two equal remainders), D 0.5 → 0
        rows = ranked([99, 97, 95, 93, 91, 89, 87, 85, 83, 81])
        allocation = run(rows, RELATIVE)
        assert [allocation[r["employee_id"]].proposed for r in rows] == list("SAABBBBBCC")
        assert allocation.ok
        assert allocation.pool("研发").size == 10

    def test_each_pool_has_its_own_counts(self) -> None:
        rows = ranked([90 - i for i in range(10)], "研发") + ranked([50 - i for i in range(20)], "销售", prefix="F")
        allocation = run(rows, RELATIVE)
        assert [p.key for p in allocation.pools] == ["研发", "销售"]
        sales = [allocation[r["employee_id"]].proposed for r in rows[10:]]
        assert Counter(sales) == {"S": 2, "A": 4, "B": 10, "C": 3, "D": 1}
        assert sales == sorted(sales, key=RANK.__getitem__)

    def test_the_scale_does_not_matter_only_the_rank(self) -> None:
        low = run(ranked([10, 9, 8, 7, 6, 5, 4, 3, 2, 1]), RELATIVE)
        high = run(ranked([100, 99, 98, 97, 96, 95, 94, 93, 92, 91]), RELATIVE)
        assert low.grades() == high.grades()

    def test_a_cap_passes_the_better_grade_to_the_next_person(self) -> None:
        rows = ranked([99, 97, 95, 93, 91, 89, 87, 85, 83, 81])
        rows[0]["late"] = 5  # E01 capped at B
        allocation = run(rows, RELATIVE)
        assert allocation["E01"].proposed == "B"
        assert [limit.source for limit in allocation["E01"].limits] == ["late-cap"]
        assert allocation["E01"].allowed == ("B", "C", "D")
        assert [allocation[f"E{i:02d}"].proposed for i in (2, 3, 4)] == ["S", "A", "A"]
        assert allocation.distribution() == {"S": 1, "A": 2, "B": 5, "C": 2, "D": 0}

    def test_a_floor_holds_a_low_score_up(self) -> None:
        rows = ranked([99, 97, 95, 93, 91, 89, 87, 85, 83, 81])
        rows[-1]["mentor"] = 1  # E10 at worst B
        allocation = run(rows, RELATIVE)
        assert allocation["E10"].proposed == "B"
        assert [allocation[f"E{i:02d}"].proposed for i in (8, 9)] == ["C", "C"]
        assert allocation.distribution() == {"S": 1, "A": 2, "B": 5, "C": 2, "D": 0}

    def test_a_veto_is_d_and_d_is_counted(self) -> None:
        rows = ranked([99, 97, 95, 93, 91, 89, 87, 85, 83, 81, 79, 77, 75, 73, 71, 69, 67, 65, 63, 61])
        rows[0]["breach"] = 1
        allocation = run(
            rows, {**RELATIVE, "distribution": {"S": "10%", "A": "20%", "B": "50%", "C": "15%", "D": "5%"}}
        )
        assert allocation["E01"].proposed == "D" and allocation["E01"].allowed == ("D",)
        assert allocation.distribution()["D"] == 1
        assert allocation["E20"].proposed == "C"

    def test_no_group_by_is_one_pool(self) -> None:
        rows = ranked([90, 80], "研发") + ranked([70, 60], "销售", prefix="F")
        allocation = run(
            rows, {"mode": "relative", "distribution": {"S": "25%", "A": "25%", "B": "25%", "C": "25%", "D": "0%"}}
        )
        assert [p.key for p in allocation.pools] == ["all"]
        assert [allocation[e].proposed for e in ("E01", "E02", "F01", "F02")] == ["S", "A", "B", "C"]

    def test_several_group_by_columns(self) -> None:
        rows = [row("a", 90, "研发", "t1"), row("b", 80, "研发", "t2"), row("c", 70, "研发", "t2")]
        allocation = run(
            rows,
            {
                **RELATIVE,
                "group_by": ["department", "team"],
                "distribution": {"S": "50%", "A": "50%", "B": "0%", "C": "0%", "D": "0%"},
            },
        )
        assert [p.key for p in allocation.pools] == ["研发 / t1", "研发 / t2"]
        assert allocation.grades() == {"a": "S", "b": "S", "c": "A"}

    def test_a_group_target_with_grade_targets_inside(self) -> None:
        rows = ranked([99, 97, 95, 93, 91, 89, 87, 85, 83, 81])
        rows[1]["late"] = 5  # E02 capped at B
        allocation = run(rows, {**RELATIVE, "distribution": {"S+A": "30%", **STANDARD}})
        assert allocation.ok
        assert allocation.distribution() == {"S": 1, "A": 2, "B": 5, "C": 2, "D": 0}
        assert [allocation[f"E{i:02d}"].proposed for i in (1, 2, 3, 4)] == ["S", "B", "A", "A"]

    def test_a_missing_pool_column_is_named(self) -> None:
        rows = [{"employee_id": "a", "x": 90}]
        with pytest.raises(CalibrationError, match="'department'") as caught:
            run(rows, RELATIVE)
        assert caught.value.employee_id == "a"

    def test_the_scheme_section_is_the_default_policy(self) -> None:
        scheme = pk.Scheme.from_yaml(
            SCHEME_TEXT + "calibration:\n  mode: relative\n  distribution: {S: 50%, A: 50%, B: 0%, C: 0%, D: 0%}\n"
        )
        allocation = allocate(pk.evaluate(scheme, ranked([50, 40])))
        assert allocation.grades() == {"E01": "S", "E02": "A"}

    def test_a_scheme_without_a_section_needs_a_policy(self) -> None:
        with pytest.raises(CalibrationError, match="no calibration section"):
            allocate(evaluate(ranked([50, 40])))

    def test_a_bad_policy_mapping_is_a_scheme_error(self) -> None:
        with pytest.raises(SchemeError, match="missing: C, D"):
            run(ranked([50]), {"mode": "relative", "distribution": {"S": "10%", "A": "20%", "B": "70%"}})

    def test_records_and_text(self) -> None:
        rows = ranked([99, 97, 95, 93, 91, 89, 87, 85, 83, 81])
        rows[0]["late"] = 5
        allocation = run(rows, RELATIVE)
        record = allocation.to_records()[0]
        assert record["employee_id"] == "E01" and record["proposed"] == "B" and record["rule_grade"] == "B"
        assert record["allowed"] == "B C D" and "late-cap" in record["limits"]
        text = allocation.to_text()
        assert "pool 研发: 10 people" in text
        assert "S 10%: 1 (allowed 1) ok" in text

    def test_score_cards_in_a_list_and_a_compiled_policy(self) -> None:
        cards = list(evaluate(ranked([99, 97, 95, 93, 91, 89, 87, 85, 83, 81])).cards)
        assert run(ranked([99, 97, 95, 93, 91, 89, 87, 85, 83, 81]), RELATIVE).grades() == (
            allocate(cards, compiled(RELATIVE)).grades()
        )

    def test_nobody_to_calibrate(self) -> None:
        allocation = allocate([], compiled(RELATIVE))
        assert len(allocation) == 0 and allocation.pools == () and allocation.ok
        with pytest.raises(CalibrationError, match="nobody to calibrate"):
            allocate([], RELATIVE)

    def test_unknown_employee_and_pool(self) -> None:
        allocation = run(ranked([50]), RELATIVE)
        with pytest.raises(CalibrationError):
            allocation["nobody"]
        with pytest.raises(CalibrationError):
            allocation.pool("nowhere")


class TestHybrid:
    def test_the_lowest_score_moves_even_when_the_best_tie_with_a_capped_person(self) -> None:
        """E003 (61, capped at B) ties with E004; E001 (60) is the lowest who may move to D.

        Found by hypothesis: a run [E004, E001] once weighed as much as E003, so the flow
        could send E003 to D instead of E001.
        """
        rows = [row("E001", 60), row("E002", 21, late=5, mentor=1), row("E003", 61, late=5), row("E004", 61)]
        allocation = run(rows, {"mode": "hybrid", "group_by": "department", "nested": "team", "distribution": {"D": "17%"}})
        assert allocation.grades() == {"E001": "D", "E002": "B", "E003": "B", "E004": "B"}
        assert fixable_inversions(allocation) == []

    def test_grades_already_within_the_quotas_are_kept(self) -> None:
        rows = ranked([95, 85, 75, 72, 65, 62, 50, 45, 30, 20])  # S A B B B B C C D D
        allocation = run(rows, {"group_by": "department", "distribution": {"S": {"max": "20%"}, "D": {"max": "20%"}}})
        assert allocation.grades() == {p.employee_id: p.rule_grade for p in allocation}
        assert not any(p.moved for p in allocation)

    def test_too_many_at_the_top_move_down_the_fewest_steps(self) -> None:
        rows = ranked([99, 97, 95, 85, 75, 72, 65, 62, 50, 45])  # S S S A B B B B C C
        allocation = run(rows, {"group_by": "department", "distribution": {"S": {"max": "10%"}}})
        assert [allocation[f"E{i:02d}"].proposed for i in (1, 2, 3, 4)] == ["S", "A", "A", "A"]
        assert [p.employee_id for p in allocation if p.moved] == ["E02", "E03"]
        assert allocation.ok

    def test_a_minimum_moves_the_nearest_people_up(self) -> None:
        rows = ranked([95, 85, 75, 72, 65, 62, 50, 45, 30, 20])  # S A B B B B C C D D
        allocation = run(rows, {"group_by": "department", "distribution": {"S+A": {"min": "40%"}}})
        assert [allocation[f"E{i:02d}"].proposed for i in range(1, 6)] == ["S", "A", "A", "A", "B"]
        assert allocation.ok

    def test_a_group_maximum(self) -> None:
        rows = ranked([95, 93, 85, 83, 75, 72, 65, 62, 50, 45])  # S S A A B B B B C C
        allocation = run(rows, {"group_by": "department", "distribution": {"S+A": {"max": "30%"}, "S": {"max": "20%"}}})
        assert [allocation[f"E{i:02d}"].proposed for i in range(1, 6)] == ["S", "S", "A", "B", "B"]
        (status,) = [q for q in allocation.pool("研发").quotas if q.key == "S+A"]
        assert (status.low, status.high, status.count, status.ok) == (0, 3, 3, True)

    def test_exact_targets_without_limits_are_sort_and_cut(self) -> None:
        rows = ranked([99, 91, 90, 88, 70, 69, 66, 62, 41, 12])
        policy = {"mode": "hybrid", "group_by": "department", "distribution": STANDARD}
        assert run(rows, policy).grades() == sort_and_cut(rows, compiled(policy))

    def test_absolute_mode_reports_but_never_moves(self) -> None:
        rows = ranked([99, 97, 95, 85])
        allocation = run(rows, {"mode": "absolute", "distribution": {"S": {"max": "25%"}}})
        assert allocation.grades() == {"E01": "S", "E02": "S", "E03": "S", "E04": "A"}
        assert not allocation.ok
        assert allocation.unmet() == ("pool all: S at most 25%: 3 (allowed 0–1) NOT MET",)


class TestSmallPools:
    def test_a_pool_still_too_small_at_the_top_is_named(self) -> None:
        """Two units under one parent: merged they make 4 people, still under 5, and there is no grandparent."""
        rows = [row("a", 90, department="east"), row("b", 80, department="east"), row("c", 70, department="west"), row("d", 60, department="west")]
        roster = Roster.from_records(
            employees=[{"id": r["employee_id"], "unit": r["department"]} for r in rows],
            units=[{"id": "east", "parent": "sales"}, {"id": "west", "parent": "sales"}, {"id": "sales"}],
        )
        policy = {"mode": "hybrid", "group_by": "department", "min_pool_size": 5, "distribution": {"S": {"max": "50%"}}}
        allocation = run(rows, policy, roster=roster)
        assert [p.key for p in allocation.small_pools()] == ["sales"]
        assert "pool sales: 4 people (merged: east, west); below min_pool_size 5, nothing left to merge into" in allocation.to_text()

    def test_no_minimum_no_small_pools(self) -> None:
        assert run([row("a", 90)], RELATIVE).small_pools() == ()


class TestInfeasible:
    def test_a_range_no_whole_head_count_fits_is_named(self) -> None:
        """10%–15% of 3 people is 0.3 to 0.45 people: at least 1, at most 0."""
        rows = [row("a", 90), row("b", 80), row("c", 70)]
        with pytest.raises(CalibrationError) as caught:
            run(rows, {"mode": "hybrid", "group_by": "department", "distribution": {"S": {"min": "10%", "max": "15%"}}})
        assert caught.value.pool == "研发"
        assert caught.value.constraints == (
            "S 10%–15%: no whole number of people in a pool of 3 is within that range (at least 1, at most 0); "
            "widen the range or set min_pool_size",
        )

    def test_everyone_capped_below_a_target(self) -> None:
        rows = [row(f"E{i:02d}", 90 - i, late=5) for i in range(10)]
        with pytest.raises(CalibrationError) as caught:
            run(rows, RELATIVE)
        error = caught.value
        assert error.pool == "研发"
        text = "\n".join(error.constraints)
        assert "S 10%" in text and "A 20%" in text
        assert "E00" in text and "late-cap" in text

    def test_floors_above_a_maximum(self) -> None:
        rows = [row(f"E{i:02d}", 50 - i, mentor=1 if i < 4 else 0) for i in range(10)]
        with pytest.raises(CalibrationError) as caught:
            run(rows, {"group_by": "department", "distribution": {"S+A+B": {"max": "30%"}}})
        assert caught.value.pool == "研发"
        text = "\n".join(caught.value.constraints)
        assert "S+A+B at most 30%" in text and "mentor-floor" in text

    def test_only_the_impossible_pool_is_named(self) -> None:
        rows = ranked([90, 80, 70], "研发") + [row(f"F{i}", 90, "销售", late=5) for i in range(10)]
        with pytest.raises(CalibrationError) as caught:
            run(rows, {**RELATIVE, "distribution": {"S": "30%", "A": "20%", "B": "50%", "C": "0%", "D": "0%"}})
        assert caught.value.pool == "销售"

    def test_the_error_reads_well(self) -> None:
        rows = [row(f"E{i:02d}", 90 - i, late=5) for i in range(10)]
        with pytest.raises(CalibrationError) as caught:
            run(rows, RELATIVE)
        text = str(caught.value)
        assert text.startswith("pool '研发': no allocation of 10 people")
        assert caught.value.to_dict()["pool"] == "研发"


OVERFLOW_PAST_A_FLOOR = [
    row("E001", 0, breach=1),
    row("E008", 0, breach=1),
    row("E004", 2),
    row("E007", 1, mentor=1),
    row("E002", 2, late=5),
]
"""Of 5: A 1, B 1, C 1, D 2 (the two vetoed). E002 (capped at B) and E004 tie at 2; E007 (1) has a floor of B."""
OVERFLOW_PAST_A_FLOOR_POLICY = {
    "mode": "relative",
    "group_by": "department",
    "ties": "overflow",
    "distribution": {"S": "0%", "A": "9%", "B": "13%", "C": "29%", "D": "49%"},
}


class TestTies:
    TIED: ClassVar[list[dict[str, Any]]] = [
        row("a", 99),
        row("b", 95),
        row("c", 95),
        *ranked([90, 85, 80, 75, 70, 65, 60]),
    ]
    ONE_S: ClassVar[dict[str, Any]] = {
        **RELATIVE,
        "distribution": {"S": "20%", "A": "20%", "B": "40%", "C": "20%", "D": "0%"},
    }

    def test_overflow_gives_everyone_tied_the_better_grade(self) -> None:
        # 10 people, S 2: a, then b and c tied at 95 for the second S
        allocation = run(self.TIED, {**self.ONE_S, "ties": "overflow"})
        assert (allocation["b"].proposed, allocation["c"].proposed) == ("S", "S")
        (tie,) = allocation.ties
        assert tie.employee_ids == ("b", "c") and tie.total == Decimal("95.00")
        assert tie.grades == ("S", "A") and tie.policy == "overflow" and tie.resolved == "S"
        assert tie.before == (("c", "A"),)
        assert allocation.distribution()["S"] == 3
        status = allocation.pool("研发").quotas[0]
        assert (status.key, status.count, status.tie_allowance, status.ok) == ("S", 3, 1, True)
        assert allocation.ok

    def test_underfill_gives_everyone_tied_the_worse_grade(self) -> None:
        allocation = run(self.TIED, {**self.ONE_S, "ties": "underfill"})
        assert (allocation["b"].proposed, allocation["c"].proposed) == ("A", "A")
        (tie,) = allocation.ties
        assert tie.resolved == "A" and tie.before == (("b", "S"),)
        assert allocation.distribution()["S"] == 1
        assert allocation.ok

    def test_escalate_leaves_the_cut_to_the_session(self) -> None:
        allocation = run(self.TIED, {**self.ONE_S, "ties": "escalate"})
        (tie,) = allocation.ties
        assert tie.resolved is None and tie.policy == "escalate" and tie.before == ()
        assert tie.employee_ids == ("b", "c") and tie.grades == ("S", "A")
        assert sorted([allocation["b"].proposed, allocation["c"].proposed]) == ["A", "S"]
        assert allocation.distribution()["S"] == 2
        assert allocation.ok

    def test_tie_keys_order_tied_totals(self) -> None:
        rows = [row("a", 99), row("b", 95, y=10), row("c", 95, y=30), *ranked([90, 85, 80, 75, 70, 65, 60])]
        allocation = run(rows, {**self.ONE_S, "tie_keys": ["q"]})
        assert (allocation["b"].proposed, allocation["c"].proposed) == ("A", "S")
        assert allocation.ties == ()

    def test_tie_keys_may_name_an_input(self) -> None:
        rows = [row("a", 99), row("b", 95, y=30), row("c", 95, y=10), *ranked([90, 85, 80, 75, 70, 65, 60])]
        allocation = run(rows, {**self.ONE_S, "tie_keys": ["y"]})
        assert (allocation["b"].proposed, allocation["c"].proposed) == ("S", "A")

    def test_equal_tie_keys_are_still_a_tie(self) -> None:
        rows = [row("a", 99), row("b", 95, y=10), row("c", 95, y=10), *ranked([90, 85, 80, 75, 70, 65, 60])]
        allocation = run(rows, {**self.ONE_S, "tie_keys": ["q"]})
        assert len(allocation.ties) == 1

    def test_overflow_does_not_leave_a_lower_score_above_the_tie(self) -> None:
        """E004 (2) ends at B under overflow while E007 (1) holds A; E004 A and E007 B keep every count.

        The cut gave E002 B and E004 C (E002 is capped at B); overflow lifts E004 to B but not
        past E007, who got A only because the cut split the tie that way.
        """
        allocation = run(OVERFLOW_PAST_A_FLOOR, OVERFLOW_PAST_A_FLOOR_POLICY)
        assert not (allocation["E004"].proposed == "B" and allocation["E007"].proposed == "A")
        assert fixable_inversions(allocation) == []

    def test_overflow_near_a_floor_still_meets_the_quotas_and_keeps_its_record(self) -> None:
        """Whatever overflow does here, the quotas count as met and each TieCut says what happened:
        everyone it lists holds the resolved grade, and whoever moved is in ``before``."""
        allocation = run(OVERFLOW_PAST_A_FLOOR, OVERFLOW_PAST_A_FLOOR_POLICY)
        assert allocation.ok, allocation.unmet()
        for tie in allocation.ties:
            assert all(allocation[eid].proposed == tie.resolved for eid in tie.employee_ids)

    def test_no_cut_no_tie(self) -> None:
        rows = [row("a", 99), row("b", 99), *ranked([90, 85, 80, 75, 70, 65, 60, 55])]
        assert run(rows, self.ONE_S).ties == ()


class TestOverridesAndScores:
    ROWS: ClassVar[list[dict[str, Any]]] = ranked([99, 97, 95, 93, 91, 89, 87, 85, 83, 81])

    def test_an_override_fixes_the_grade_and_the_rest_follow_the_counts(self) -> None:
        allocation = run(self.ROWS, RELATIVE, overrides={"E10": "S"})
        assert allocation["E10"].proposed == "S"
        assert allocation["E10"].allowed == ("S",)
        assert [limit.kind for limit in allocation["E10"].limits] == ["override"]
        assert allocation["E01"].proposed == "A"
        assert allocation.distribution() == {"S": 1, "A": 2, "B": 5, "C": 2, "D": 0}

    def test_an_override_beats_a_rule_limit(self) -> None:
        rows = [dict(r) for r in self.ROWS]
        rows[0]["late"] = 5
        allocation = run(rows, RELATIVE, overrides={"E01": "S"})
        assert allocation["E01"].proposed == "S"

    def test_scores_replace_totals_for_ordering(self) -> None:
        scores = {f"E{i:02d}": Decimal(i) for i in range(1, 11)}  # the order turned round
        allocation = run(self.ROWS, RELATIVE, scores=scores)
        assert allocation["E10"].proposed == "S" and allocation["E01"].proposed == "C"
        assert allocation["E10"].total == Decimal(10)

    def test_scores_for_some_people_only(self) -> None:
        allocation = run(self.ROWS, RELATIVE, scores={"E10": Decimal(100)})
        assert allocation["E10"].proposed == "S" and allocation["E01"].proposed == "A"

    def test_an_override_for_someone_unknown(self) -> None:
        with pytest.raises(CalibrationError, match="override") as caught:
            run(self.ROWS, RELATIVE, overrides={"E99": "S"})
        assert caught.value.employee_id == "E99"

    def test_an_override_to_an_unknown_grade(self) -> None:
        with pytest.raises(CalibrationError, match="unknown grade 'Z'") as caught:
            run(self.ROWS, RELATIVE, overrides={"E01": "Z"})
        assert caught.value.employee_id == "E01" and caught.value.grade == "Z"

    def test_a_score_for_someone_unknown(self) -> None:
        with pytest.raises(CalibrationError) as caught:
            run(self.ROWS, RELATIVE, scores={"E99": Decimal(1)})
        assert caught.value.employee_id == "E99"

    def test_every_bad_id_is_reported(self) -> None:
        with pytest.raises(CalibrationError) as caught:
            run(self.ROWS, RELATIVE, overrides={"E98": "S", "E01": "Z"}, scores={"E99": Decimal(1)})
        assert {p.to_dict().get("employee_id") for p in caught.value.problems} == {"E98", "E01", "E99"}

    def test_overrides_that_break_a_quota_are_refused(self) -> None:
        with pytest.raises(CalibrationError) as caught:
            run(self.ROWS, RELATIVE, overrides={"E01": "S", "E02": "S"})
        assert caught.value.pool == "研发"
        assert "override" in "\n".join(caught.value.constraints)


class TestMinPoolSize:
    ROSTER: ClassVar[Roster] = Roster.from_records(
        [],
        [
            {"id": "company"},
            {"id": "sales", "parent": "company"},
            {"id": "east", "parent": "sales"},
            {"id": "west", "parent": "sales"},
            {"id": "north", "parent": "sales"},
            {"id": "rd", "parent": "company"},
        ],
    )
    POLICY: ClassVar[dict[str, Any]] = {**RELATIVE, "group_by": "team", "min_pool_size": 5}

    @staticmethod
    def team(name: str, scores: Sequence[int]) -> list[dict[str, Any]]:
        return [row(f"{name}-{i}", x, team=name) for i, x in enumerate(scores)]

    def test_a_small_team_merges_into_its_parent_unit(self) -> None:
        rows = self.team("east", [90, 80, 70, 60, 50, 40]) + self.team("west", [95, 35]) + self.team("sales", [1, 2, 3])
        allocation = run(rows, self.POLICY, roster=self.ROSTER)
        assert [p.key for p in allocation.pools] == ["east", "sales"]
        sales = allocation.pool("sales")
        assert sales.merged_from == ("west",)
        assert sales.members == ("sales-0", "sales-1", "sales-2", "west-0", "west-1")
        assert allocation["west-0"].proposed == "S"  # the best of the merged pool of 5
        assert allocation["west-0"].pool == "sales"
        assert allocation.pool("east").merged_from == ()

    def test_merging_goes_on_up_until_the_pool_is_big_enough(self) -> None:
        rows = self.team("west", [95, 35]) + self.team("north", [60]) + self.team("rd", [70, 71, 72])
        allocation = run(rows, self.POLICY, roster=self.ROSTER)
        assert [p.key for p in allocation.pools] == ["company"]
        assert allocation.pool("company").merged_from == ("north", "rd", "sales", "west")
        assert allocation.pool("company").size == 6

    def test_small_teams_merge_together_with_their_parents_own_people(self) -> None:
        rows = self.team("west", [95, 35]) + self.team("north", [60, 61]) + self.team("sales", [50])
        allocation = run(rows, self.POLICY, roster=self.ROSTER)
        assert [p.key for p in allocation.pools] == ["sales"]
        assert allocation.pool("sales").merged_from == ("north", "west")
        assert allocation.pool("sales").size == 5
        assert allocation.distribution() == {"S": 1, "A": 1, "B": 2, "C": 1, "D": 0}  # of 5: .5 1 2.5 .75 .25

    def test_the_top_unit_stays_small_if_it_must(self) -> None:
        rows = self.team("rd", [70, 60])
        allocation = run(rows, self.POLICY, roster=self.ROSTER)
        assert [(p.key, p.size) for p in allocation.pools] == [("company", 2)]

    def test_without_a_roster(self) -> None:
        rows = self.team("east", [90, 80, 70, 60, 50, 40]) + self.team("west", [95, 35])
        with pytest.raises(CalibrationError, match="roster"):
            run(rows, self.POLICY)

    def test_merging_needs_a_single_unit_column(self) -> None:
        rows = self.team("east", [90, 80, 70, 60, 50, 40]) + self.team("west", [95, 35])
        with pytest.raises(CalibrationError, match="single org unit column"):
            run(rows, {**self.POLICY, "group_by": ["department", "team"]}, roster=self.ROSTER)

    def test_big_enough_pools_do_not_need_a_roster(self) -> None:
        rows = self.team("east", [90, 80, 70, 60, 50])
        assert [p.key for p in run(rows, self.POLICY).pools] == ["east"]

    def test_a_pool_that_is_not_a_unit(self) -> None:
        rows = self.team("east", [90, 80, 70, 60, 50, 40]) + self.team("mars", [95])
        with pytest.raises(CalibrationError, match="mars") as caught:
            run(rows, self.POLICY, roster=self.ROSTER)
        assert caught.value.pool == "mars"

    def test_the_roster_supplies_a_missing_pool_column(self) -> None:
        roster = Roster.from_records([{"id": "a", "department": "east"}, {"id": "b", "department": "east"}])
        rows = [{"employee_id": "a", "x": 90}, {"employee_id": "b", "x": 80}]
        allocation = run(
            rows, {**RELATIVE, "distribution": {"S": "50%", "A": "50%", "B": "0%", "C": "0%", "D": "0%"}}, roster=roster
        )
        assert [p.key for p in allocation.pools] == ["east"]
        assert allocation.grades() == {"a": "S", "b": "A"}


NESTED_EXAMPLE = {
    "mode": "relative",
    "nested": "team",
    "distribution": {"S": "0%", "A": "20%", "B": "40%", "C": "20%", "D": "20%"},
}
"""With 4 people: A 1, B 1, C 1, D 1; a team of 3 needs B 1–2 and at most one each of A, C, D."""
NESTED_PEOPLE = [row("p0", 93, team="t2"), row("p1", 88, team="t1"), row("p3", 82, team="t2"), row("p2", 44, team="t2")]


TIED_TEAM = [row("a", 99), row("b", 95), row("c", 95), *ranked([90, 85, 80, 75, 70, 65, 60])]
"""Ten people in team t1; b and c tie at 95 for the second S of ``S 20%``."""
TIED_TEAM_POLICY = {
    **RELATIVE,
    "nested": "team",
    "ties": "overflow",
    "distribution": {"S": "20%", "A": "20%", "B": "40%", "C": "20%", "D": "0%"},
}
TIED_ACROSS = [row("p3", 80), row("p2", 70), row("p0", 60), row("p4", 50), row("p1", 50, team="t2")]
"""Of 5, S 3 and C 2: t1 (4 people) takes exactly 2 S, so the third S must go to p1, alone in t2,
who ties at 50 with p4, last in t1."""
TIED_ACROSS_POLICY = {
    **RELATIVE,
    "nested": "team",
    "ties": "overflow",
    "distribution": {"S": "50%", "A": "0%", "B": "0%", "C": "40%", "D": "10%"},
}


class TestNested:
    POLICY: ClassVar[dict[str, Any]] = {**RELATIVE, "nested": "team"}

    def test_department_counts_exact_and_each_team_within_a_head(self) -> None:
        # team t1 holds the five best: cut alone, it would take S A A B B; t2 the rest: B B B C C.
        rows = [row(f"P{i}", 99 - i, team="t1") for i in range(5)] + [row(f"Q{i}", 80 - i, team="t2") for i in range(5)]
        allocation = run(rows, self.POLICY)
        assert allocation.distribution() == {"S": 1, "A": 2, "B": 5, "C": 2, "D": 0}
        policy = compiled(self.POLICY)
        relaxed = policy.relaxed_bounds(5)
        for team in ("t1", "t2"):
            counts = Counter(p.proposed for p in allocation if p.subpool == team)
            assert all(low <= counts[g] <= high for g, (low, high) in relaxed.items()), (team, counts)
        pool = allocation.pool("研发")
        assert [name for name, _ in pool.subpools] == ["t1", "t2"]
        assert pool.ok and allocation.ok
        assert allocation["P0"].proposed == "S" and allocation["Q0"].proposed == "A"
        assert fixable_inversions(allocation) == []

    def test_sub_pool_status_is_reported(self) -> None:
        rows = [row(f"P{i}", 99 - i, team="t1") for i in range(5)] + [row(f"Q{i}", 80 - i, team="t2") for i in range(5)]
        allocation = run(rows, self.POLICY)
        name, statuses = allocation.pool("研发").subpools[0]
        assert name == "t1"
        assert [q.key for q in statuses] == list(GRADES)
        assert all(q.ok for q in statuses)

    def test_a_better_score_in_another_team_is_not_passed_over(self) -> None:
        """p1 (88, alone in t1) got D while p2 (44, t2) got C; swapping keeps every team's share.

        t2 (p0 93, p3 82, p2 44) needs one B and at most one each of A, C, D, so p0 A, p3 B,
        p2 D and p1 C meet everything with no one passed over who need not be.
        """
        allocation = run(NESTED_PEOPLE, NESTED_EXAMPLE)
        assert allocation.ok
        assert (allocation["p1"].proposed, allocation["p2"].proposed) == ("C", "D")

    def test_an_overflow_tie_inside_a_team_is_still_met(self) -> None:
        """The pool's S count may miss by the one person the tie moved; so may the team's."""
        allocation = run(TIED_TEAM, TIED_TEAM_POLICY)
        (tie,) = allocation.ties
        assert tie.resolved == "S" and allocation.distribution()["S"] == 3
        assert allocation.ok, allocation.unmet()

    def test_a_tie_across_teams_does_not_lift_someone_over_a_teammate(self) -> None:
        """p1 (t2) must be S and p4 (t1) is last in t1: with overflow p4 must not end above p0 (60)."""
        allocation = run(TIED_ACROSS, TIED_ACROSS_POLICY)
        assert allocation["p1"].proposed == "S"
        assert RANK[allocation["p0"].proposed] <= RANK[allocation["p4"].proposed]

    def test_a_missing_team_is_named(self) -> None:
        rows = [{"employee_id": "a", "x": 90, "department": "研发"}]
        with pytest.raises(CalibrationError, match="'team'"):
            run(rows, self.POLICY)


class TestBoundary:
    def test_near_a_band_edge(self) -> None:
        rows = ranked([95, 90, 85, 80, 75, 70, 65, 60, 55, 50])
        placement = run(rows, {**RELATIVE, "boundary_margin": "0.5"})["E02"]  # 90 is the S edge
        assert any("S band edge" in reason for reason in placement.boundary)

    def test_near_a_quota_cut(self) -> None:
        rows = ranked([99, 98, 95, 93, 91, 89, 87, 85, 83, 81])
        allocation = run(rows, {**RELATIVE, "boundary_margin": 1})
        assert any("S/A cut" in reason for reason in allocation["E01"].boundary)
        assert any("S/A cut" in reason for reason in allocation["E02"].boundary)
        assert not any("S/A cut" in reason for reason in allocation["E03"].boundary)


# -- properties ------------------------------------------------------------------------------


class TestRelativeProperties:
    @PROPERTY
    @example(rows=OVERFLOW_PAST_A_FLOOR, policy=OVERFLOW_PAST_A_FLOOR_POLICY)
    @given(
        rows=people(limits=("cap", "floor", "veto")),
        policy=relative_policies(ties=st.sampled_from(["escalate", "overflow", "underfill"])),
    )
    def test_allowed_grades_and_exact_counts_or_a_named_impossibility(
        self, rows: list[dict[str, Any]], policy: dict[str, Any]
    ) -> None:
        checked = compiled(policy)
        pools = pools_of(rows, checked)
        possible = {key: feasible(members, checked) for key, members in pools.items()}
        if not all(possible.values()):
            with pytest.raises(CalibrationError) as caught:
                run(rows, policy)
            assert caught.value.pool == min(key for key, ok in possible.items() if not ok)
            return
        allocation = run(rows, policy)
        for person in rows:
            assert allocation[person["employee_id"]].proposed in allowed_grades(person)
            assert allocation[person["employee_id"]].allowed == allowed_grades(person)
        assert allocation.ok
        if policy["ties"] == "escalate":
            for members in pools.values():
                counts = Counter(allocation[m["employee_id"]].proposed for m in members)
                bounds = checked.bounds(len(members))
                assert {g: counts[g] for g in GRADES} == {g: bounds[g][0] for g in GRADES}

    @PROPERTY
    @example(rows=OVERFLOW_PAST_A_FLOOR, policy=OVERFLOW_PAST_A_FLOOR_POLICY)
    @given(
        rows=people(limits=("cap", "floor", "veto")),
        policy=relative_policies(ties=st.sampled_from(["escalate", "overflow", "underfill"])),
    )
    def test_no_fixable_inversion(self, rows: list[dict[str, Any]], policy: dict[str, Any]) -> None:
        try:
            allocation = run(rows, policy)
        except CalibrationError:
            assume(False)
            raise
        assert fixable_inversions(allocation) == []

    @PROPERTY
    @given(
        rows=people(limits=("cap", "floor", "veto")),
        policy=relative_policies(ties=st.sampled_from(["escalate", "overflow", "underfill"])),
        rnd=st.randoms(use_true_random=False),
    )
    def test_row_order_does_not_matter(
        self, rows: list[dict[str, Any]], policy: dict[str, Any], rnd: random.Random
    ) -> None:
        try:
            first = run(rows, policy)
        except CalibrationError as exc:
            with pytest.raises(CalibrationError) as again:
                run(rnd.sample(rows, len(rows)), policy)
            assert (again.value.pool, again.value.constraints) == (exc.pool, exc.constraints)
            return
        second = run(rnd.sample(rows, len(rows)), policy)
        assert second.grades() == first.grades()
        assert second.placements == first.placements
        assert second.pools == first.pools
        assert second.ties == first.ties

    @PROPERTY
    @given(rows=people(), policy=relative_policies(group_by=st.sampled_from([None, "department"])))
    def test_without_limits_it_is_sort_and_cut(self, rows: list[dict[str, Any]], policy: dict[str, Any]) -> None:
        allocation = run(rows, policy)
        checked = compiled(policy)
        for members in pools_of(rows, checked).values():
            ordered = sorted(members, key=lambda r: (-r["x"], r["employee_id"]))
            grades = [allocation[r["employee_id"]].proposed for r in ordered]
            assert grades == sorted(grades, key=RANK.__getitem__)

    @PROPERTY
    @given(rows=people(limits=("cap",), distinct=True), policy=relative_policies(), overrides=st.booleans())
    def test_fast_path_equals_flow_on_caps_only_pools(
        self, rows: list[dict[str, Any]], policy: dict[str, Any], overrides: bool
    ) -> None:
        checked = compiled(policy)
        evaluation = evaluate(rows)
        chosen = {rows[0]["employee_id"]: "D"} if overrides else None  # an override to the worst grade is a cap too
        for pool in build_pools(members_of(evaluation.cards, checked, overrides=chosen), checked):
            assert distribution._caps_only(pool, checked)
            start = {m.employee_id: distribution._start(m, checked) for m in pool.members}
            greedy = distribution._greedy_caps(pool, checked)
            if greedy is None:
                with pytest.raises(CalibrationError):
                    distribution._flow(pool, checked, start)
            else:
                assert greedy == distribution._flow(pool, checked, start)

    @PROPERTY
    @given(rows=people(limits=("cap", "floor", "veto")), policy=relative_policies(ties=st.just("escalate")))
    def test_every_split_tie_is_recorded_for_the_session(
        self, rows: list[dict[str, Any]], policy: dict[str, Any]
    ) -> None:
        try:
            allocation = run(rows, policy)
        except CalibrationError:
            assume(False)
            raise
        recorded = {(t.pool, eid) for t in allocation.ties for eid in t.employee_ids}
        assert all(t.resolved is None for t in allocation.ties)
        free = [p for p in allocation if p.allowed == GRADES]
        for a in free:
            for b in free:
                if a.pool == b.pool and a.total == b.total and a.proposed != b.proposed:
                    assert (a.pool, a.employee_id) in recorded and (b.pool, b.employee_id) in recorded

    @PROPERTY
    @example(rows=OVERFLOW_PAST_A_FLOOR, policy=OVERFLOW_PAST_A_FLOOR_POLICY)
    @given(
        rows=people(limits=("cap", "floor", "veto")),
        policy=relative_policies(ties=st.sampled_from(["overflow", "underfill"])),
    )
    def test_resolved_ties_give_the_same_grade(self, rows: list[dict[str, Any]], policy: dict[str, Any]) -> None:
        try:
            allocation = run(rows, policy)
        except CalibrationError:
            assume(False)
            raise
        free = [p for p in allocation if p.allowed == GRADES]
        for a in free:
            for b in free:
                if a.pool == b.pool and a.total == b.total:
                    assert a.proposed == b.proposed
        assert all(
            t.resolved == (t.grades[0] if policy["ties"] == "overflow" else t.grades[-1]) for t in allocation.ties
        )
        for tie in allocation.ties:  # "the grade all of them got"
            assert all(allocation[eid].proposed == tie.resolved for eid in tie.employee_ids)


class TestHybridProperties:
    @staticmethod
    def hybrid(draw_policy: dict[str, Any]) -> dict[str, Any]:
        try:
            compiled(draw_policy)
        except SchemeError:
            assume(False)
        return draw_policy

    @PROPERTY
    @given(
        rows=people(max_size=10, limits=("cap", "floor", "veto")),
        policy=hybrid_policies(ties=st.sampled_from(["escalate", "overflow", "underfill"])),
    )
    def test_quotas_hold_whenever_they_can(self, rows: list[dict[str, Any]], policy: dict[str, Any]) -> None:
        checked = compiled(self.hybrid(policy))
        pools = pools_of(rows, checked)
        possible = {key: feasible(members, checked) for key, members in pools.items()}
        if not all(possible.values()):
            with pytest.raises(CalibrationError) as caught:
                run(rows, policy)
            assert caught.value.pool == min(key for key, ok in possible.items() if not ok)
            return
        allocation = run(rows, policy)
        assert allocation.ok, allocation.unmet()
        for person in rows:
            assert allocation[person["employee_id"]].proposed in allowed_grades(person)
        assert fixable_inversions(allocation) == []

    @PROPERTY
    @given(rows=people(max_size=12, limits=("cap", "floor", "veto")), policy=hybrid_policies())
    def test_the_fewest_grade_steps(self, rows: list[dict[str, Any]], policy: dict[str, Any]) -> None:
        checked = compiled(self.hybrid(policy))
        evaluation = evaluate(rows)
        try:
            allocation = allocate(evaluation, policy)
        except CalibrationError:
            assume(False)
            raise
        for members in pools_of(rows, checked).values():
            moved = sum(
                abs(RANK[allocation[m["employee_id"]].proposed] - RANK[evaluation[m["employee_id"]].grade])
                for m in members
            )
            assert moved == fewest_steps([(m, evaluation[m["employee_id"]].grade) for m in members], checked)

    @PROPERTY
    @given(rows=people(max_size=12, limits=("cap", "floor", "veto")), policy=hybrid_policies(nested="team"))
    def test_nested_quotas_hold_whenever_they_can(self, rows: list[dict[str, Any]], policy: dict[str, Any]) -> None:
        checked = compiled(self.hybrid(policy))
        pools = pools_of(rows, checked)
        possible = {key: feasible(members, checked) for key, members in pools.items()}
        if not all(possible.values()):
            with pytest.raises(CalibrationError) as caught:
                run(rows, policy)
            assert caught.value.pool == min(key for key, ok in possible.items() if not ok)
            return
        allocation = run(rows, policy)
        assert allocation.ok, allocation.unmet()
        assert fixable_inversions(allocation) == []

    @PROPERTY
    @given(rows=people(limits=("cap", "floor", "veto")), data=st.data())
    def test_a_pool_that_meets_its_quotas_keeps_the_scheme_grades(
        self, rows: list[dict[str, Any]], data: st.DataObject
    ) -> None:
        """Quotas drawn around the scheme's own head counts: nothing may move."""
        evaluation = evaluate(rows)
        counts = Counter(card.grade for card in evaluation)
        size = len(rows)

        def around(grades: str) -> dict[str, str]:
            share = Fraction(sum(counts[g] for g in grades), size) * 1000  # in tenths of a percent
            low = max(0, math.floor(share) - data.draw(st.integers(0, 60)))
            high = min(1000, math.ceil(share) + data.draw(st.integers(0, 60)))
            kind = data.draw(st.sampled_from(["min", "max", "range"]))
            chosen = {"min": f"{Decimal(low) / 10}%", "max": f"{Decimal(high) / 10}%"}
            return chosen if kind == "range" else {kind: chosen[kind]}

        keys = data.draw(st.lists(st.sampled_from(["S", "A", "B", "C", "D", "SA", "CD"]), min_size=1, unique=True))
        distribution = {"+".join(key): around(key) for key in keys}
        policy = {"mode": "hybrid", "distribution": distribution}
        assert meets([(r, evaluation[r["employee_id"]].grade) for r in rows], compiled(policy))
        allocation = allocate(evaluation, policy)
        assert [(p.employee_id, p.proposed) for p in allocation] == [
            (c.employee_id, c.grade) for c in sorted(evaluation, key=lambda c: c.employee_id)
        ]
        assert not any(p.moved for p in allocation)
        assert allocation.ok

    @PROPERTY
    @given(rows=people(distinct=True), shares=percents())
    def test_exact_targets_without_limits_are_sort_and_cut(
        self, rows: list[dict[str, Any]], shares: dict[str, str]
    ) -> None:
        policy = {"mode": "hybrid", "group_by": "department", "distribution": shares}
        assert run(rows, policy).grades() == sort_and_cut(rows, compiled(policy))

    @PROPERTY
    @given(
        rows=people(limits=("cap", "floor", "veto")), policy=hybrid_policies(), rnd=st.randoms(use_true_random=False)
    )
    def test_row_order_does_not_matter(
        self, rows: list[dict[str, Any]], policy: dict[str, Any], rnd: random.Random
    ) -> None:
        self.hybrid(policy)
        try:
            first = run(rows, policy)
        except CalibrationError as exc:
            with pytest.raises(CalibrationError) as again:
                run(rnd.sample(rows, len(rows)), policy)
            assert again.value.pool == exc.pool
            return
        second = run(rnd.sample(rows, len(rows)), policy)
        assert second.placements == first.placements and second.pools == first.pools and second.ties == first.ties


class TestNestedProperties:
    @PROPERTY
    @given(rows=people(max_size=12, limits=("cap", "floor", "veto")), policy=relative_policies(nested="team"))
    def test_pool_counts_exact_and_teams_within_a_head(
        self, rows: list[dict[str, Any]], policy: dict[str, Any]
    ) -> None:
        checked = compiled(policy)
        pools = pools_of(rows, checked)
        possible = {key: feasible(members, checked) for key, members in pools.items()}
        if not all(possible.values()):
            with pytest.raises(CalibrationError) as caught:
                run(rows, policy)
            assert caught.value.pool == min(key for key, ok in possible.items() if not ok)
            return
        allocation = run(rows, policy)
        assert allocation.ok, allocation.unmet()
        for members in pools.values():
            counts = Counter(allocation[m["employee_id"]].proposed for m in members)
            bounds = checked.bounds(len(members))
            assert {g: counts[g] for g in GRADES} == {g: bounds[g][0] for g in GRADES}
            for team in TEAMS:
                inside = [allocation[m["employee_id"]].proposed for m in members if m["team"] == team]
                assert quotas_hold(inside, checked.relaxed_bounds(len(inside)), checked, singles=True)
        assert fixable_inversions(allocation) == []

    @PROPERTY
    @example(rows=NESTED_PEOPLE, policy=NESTED_EXAMPLE)
    @given(rows=people(max_size=10, distinct=True), policy=relative_policies(group_by=None, nested="team"))
    def test_no_inversion_across_teams_that_a_swap_could_fix(
        self, rows: list[dict[str, Any]], policy: dict[str, Any]
    ) -> None:
        """The department is the pool: a better score gets a worse grade only when a team's share forces it."""
        try:
            allocation = run(rows, policy)
        except CalibrationError:
            assume(False)
            raise
        fixable = [
            (a, b) for a, b in fixable_inversions(allocation, within="pool") if swap_keeps_sub_pools(allocation, a, b)
        ]
        assert fixable == []

    @PROPERTY
    @example(rows=TIED_TEAM, policy=TIED_TEAM_POLICY)
    @given(
        rows=people(max_size=10, limits=("cap", "floor", "veto")),
        policy=relative_policies(nested="team", ties=st.sampled_from(["overflow", "underfill"])),
    )
    def test_resolved_ties_still_meet_the_quotas(self, rows: list[dict[str, Any]], policy: dict[str, Any]) -> None:
        """A recorded tie resolution lets a count miss its bounds by the people it moved, in teams too."""
        try:
            allocation = run(rows, policy)
        except CalibrationError:
            assume(False)
            raise
        assert allocation.ok, allocation.unmet()

    @PROPERTY
    @example(rows=TIED_ACROSS, policy=TIED_ACROSS_POLICY)
    @given(
        rows=people(max_size=10, limits=("cap", "floor", "veto")),
        policy=relative_policies(nested="team", ties=st.sampled_from(["overflow", "underfill"])),
    )
    def test_resolved_ties_leave_no_fixable_inversion_in_a_team(
        self, rows: list[dict[str, Any]], policy: dict[str, Any]
    ) -> None:
        try:
            allocation = run(rows, policy)
        except CalibrationError:
            assume(False)
            raise
        assert fixable_inversions(allocation) == []

    @PROPERTY
    @given(rows=people(max_size=12, limits=("cap", "floor", "veto")), policy=relative_policies(nested="team"))
    def test_row_order_does_not_matter(self, rows: list[dict[str, Any]], policy: dict[str, Any]) -> None:
        try:
            first = run(rows, policy)
        except CalibrationError:
            assume(False)
            raise
        assert run(rows[::-1], policy).placements == first.placements
