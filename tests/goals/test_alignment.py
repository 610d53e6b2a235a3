"""The alignment report: connection to the strategy, orphans, target gaps, goals past their end."""

from __future__ import annotations

import datetime
import decimal
import itertools
import json
from decimal import Decimal
from typing import Any

import pytest
from goals.test_views import goal_dags
from hypothesis import given, settings
from hypothesis import strategies as st

from perfkit._text import display_width
from perfkit.goals import GoalGraph
from perfkit.goals.alignment import AlignmentReport, TargetGap, _gap, alignment_report
from perfkit.numbers import CONTEXT


def build(goals: list[dict[str, Any]]) -> GoalGraph:
    return GoalGraph.from_dict({"perfkit_goals": 1, "goals": goals})


def objective(goal_id: str, owner: str, **more: Any) -> dict[str, Any]:
    return {"id": goal_id, "title": f"Objective {goal_id}", "owner": owner, "period": "2026", **more}


def key_result(goal_id: str, owner: str, target: int = 10, **more: Any) -> dict[str, Any]:
    return {"id": goal_id, "title": f"KR {goal_id}", "kind": "key_result", "owner": owner, "period": "2026",
            "target": target, **more}


class TestConnection:
    """Strategic roots, connected personal goals and the share."""

    @pytest.fixture
    def report(self) -> AlignmentReport:
        return alignment_report(build([
            objective("strategy", "org"),
            objective("org-2", "org", contributes_to=["strategy"]),
            objective("team", "team:east", contributes_to=["strategy"]),
            key_result("via-contributes", "person:1", contributes_to=["team"]),
            key_result("via-supports", "person:2", supports=["team"]),
            key_result("alone", "person:3"),
            objective("team-adrift", "team:west"),
            key_result("under-adrift", "person:4", contributes_to=["team-adrift"]),
        ]), as_of="2026-06-30")

    def test_a_strategic_root_is_an_org_goal_without_a_parent(self, report: AlignmentReport) -> None:
        assert report.strategic_roots == ("strategy",)

    def test_a_path_of_either_edge_kind_connects(self, report: AlignmentReport) -> None:
        assert report.connected == ("via-contributes", "via-supports")

    def test_share_is_connected_over_personal(self, report: AlignmentReport) -> None:
        assert report.personal == ("alone", "under-adrift", "via-contributes", "via-supports")
        assert report.share == Decimal(2) / Decimal(4)
        assert report.unconnected == ("alone", "under-adrift")

    def test_share_is_none_without_personal_goals(self) -> None:
        report = alignment_report(build([objective("strategy", "org")]), as_of="2026-06-30")
        assert report.personal == () and report.share is None

    def test_a_share_of_one_third_is_a_decimal(self) -> None:
        report = alignment_report(build([
            objective("s", "org"), key_result("a", "person:1", contributes_to=["s"]),
            key_result("b", "person:1"), key_result("c", "person:2"),
        ]), as_of="2026-06-30")
        assert isinstance(report.share, Decimal)
        with decimal.localcontext(CONTEXT):
            assert report.share == Decimal(1) / Decimal(3)

    def test_drafts_count_and_archived_goals_are_left_out(self) -> None:
        report = alignment_report(build([
            objective("s", "org"),
            objective("old-team", "team:east", status="archived", contributes_to=["s"]),
            key_result("draft-linked", "person:1", status="draft", contributes_to=["s"]),
            key_result("archived", "person:2", status="archived", contributes_to=["s"]),
            key_result("under-archived", "person:3", contributes_to=["old-team"]),
        ]), as_of="2026-06-30")
        assert report.personal == ("draft-linked", "under-archived")
        assert report.connected == ("draft-linked",)
        assert report.orphans == ("under-archived",), "a goal whose only parent is archived has none"

    def test_an_archived_org_goal_is_no_root(self) -> None:
        report = alignment_report(build([
            objective("s", "org", status="archived"),
            key_result("a", "person:1", contributes_to=["s"]),
        ]), as_of="2026-06-30")
        assert report.strategic_roots == () and report.connected == ()


class TestOrphans:
    def test_goals_without_a_parent_that_are_not_strategic_roots(self) -> None:
        report = alignment_report(build([
            objective("s", "org"),
            objective("team", "team:east"),
            key_result("person", "person:1"),
            key_result("linked", "person:2", contributes_to=["team"]),
        ]), as_of="2026-06-30")
        assert report.orphans == ("person", "team")
        assert "linked" not in report.orphans and "s" not in report.orphans

    def test_a_fully_aligned_graph_is_ok(self) -> None:
        report = alignment_report(build([
            objective("s", "org"), key_result("a", "person:1", contributes_to=["s"]),
        ]), as_of="2026-06-30")
        assert report.ok and report.orphans == ()
        assert report.to_text().endswith("All aligned.")


def revenue(children: list[tuple[str, int]], *, target: int = 100, **child_more: Any) -> list[dict[str, Any]]:
    return [
        objective("revenue", "org", rollup="sum", target=target, unit="CNY"),
        *(key_result(c, "team:east", t, contributes_to=["revenue"], **child_more) for c, t in children),
    ]


class TestTargetGaps:
    def test_children_summing_below_the_target_are_short(self) -> None:
        report = alignment_report(build(revenue([("a", 60), ("b", 30)])), as_of="2026-06-30")
        (gap,) = report.target_gaps
        assert (gap.goal, gap.status, gap.target, gap.children_total, gap.difference) == (
            "revenue", "short", Decimal(100), Decimal(90), Decimal(-10))
        assert gap.children == ("a", "b") and gap.unit == "CNY"
        assert report.short == (gap,) and report.over == ()

    def test_children_summing_above_the_target_are_over(self) -> None:
        report = alignment_report(build(revenue([("a", 60), ("b", 50)])), as_of="2026-06-30")
        (gap,) = report.over
        assert gap.difference == Decimal(10) and gap.children_total == Decimal(110)

    def test_an_exact_sum_is_balanced_not_a_gap(self) -> None:
        report = alignment_report(build(revenue([("a", 60), ("b", 40)])), as_of="2026-06-30")
        assert report.target_gaps == () and report.balanced == ("revenue",)

    def test_targets_in_force_on_the_date_are_compared(self) -> None:
        goals = revenue([("a", 60), ("b", 40)])
        goals[2]["revisions"] = [{"effective": "2026-07-01", "target": 25, "reason": "市场变化", "proposed_by": "2001",
                                  "state": "approved", "decided_by": "1001", "decided_at": "2026-06-20"}]
        graph = build(goals)
        assert alignment_report(graph, as_of="2026-06-30").target_gaps == ()
        (gap,) = alignment_report(graph, as_of="2026-07-01").target_gaps
        assert gap.status == "short" and gap.children_total == Decimal(85)

    def test_children_left_out_of_the_rollup_are_not_added(self) -> None:
        goals = revenue([("a", 60), ("b", 40)])
        goals[2]["status"] = "draft"
        (gap,) = alignment_report(build(goals), as_of="2026-06-30").target_gaps
        assert gap.children == ("a",) and gap.left_out == ("b",)
        assert gap.children_total == Decimal(60) and gap.status == "short"

    def test_averaging_parents_are_not_compared(self) -> None:
        graph = build([objective("s", "org", target=100), key_result("a", "person:1", 10, contributes_to=["s"])])
        report = alignment_report(graph, as_of="2026-06-30")
        assert report.target_gaps == () and report.balanced == ()

    def test_a_counted_child_without_a_target_makes_the_comparison_incomplete(self) -> None:
        """Goal files cannot express this (every child of a sum has a target); the rule is
        checked on a stand-in rollup."""

        class State:
            def __init__(self, target: Decimal | None) -> None:
                self.target, self.counted = target, True

        class StandIn:
            def __init__(self) -> None:
                self.states = {"a": State(Decimal(60)), "b": State(None)}

            def __getitem__(self, goal_id: str) -> State:
                return self.states[goal_id]

        gap = _gap("revenue", Decimal(100), ("a", "b"), StandIn(), None)  # type: ignore[arg-type]
        assert gap is not None
        assert (gap.status, gap.children_total, gap.difference, gap.missing) == ("incomplete", None, None, ("b",))
        report = AlignmentReport(as_of="2026-06-30", strategic_roots=(), personal=(), connected=(), orphans=(),
                                 target_gaps=(gap,), balanced=(), past_end=())
        assert report.incomplete == (gap,)
        assert "no target: b" in report.to_text()


class TestPastEnd:
    @pytest.fixture
    def graph(self) -> GoalGraph:
        return build([
            objective("s", "org"),
            key_result("q1", "person:1", period="2026-Q1", contributes_to=["s"]),
            key_result("q1-closed", "person:1", period="2026-Q1", status="closed", contributes_to=["s"]),
            key_result("q1-archived", "person:1", period="2026-Q1", status="archived", contributes_to=["s"]),
            key_result("q1-draft", "person:2", period="2026-Q1", status="draft", contributes_to=["s"]),
        ])

    def test_nothing_on_the_last_day(self, graph: GoalGraph) -> None:
        assert alignment_report(graph, as_of="2026-03-31").past_end == ()

    def test_the_day_after_the_end(self, graph: GoalGraph) -> None:
        report = alignment_report(graph, as_of=datetime.date(2026, 4, 1))
        assert [(p.goal, p.status) for p in report.past_end] == [("q1", "expired"), ("q1-draft", "draft")]
        first = report.past_end[0]
        assert first.last_day == datetime.date(2026, 3, 31) and first.days_over == 1
        assert first.owner == "person:1" and first.period == "2026-Q1"

    def test_agrees_with_the_rollup_status(self, graph: GoalGraph) -> None:
        rollup = graph.rollup("2026-05-10")
        report = alignment_report(graph, as_of="2026-05-10")
        expired = {p.goal for p in report.past_end if p.status == "expired"}
        assert expired == {g for g in graph.ids if rollup.status(g) == "expired"}
        assert {p.days_over for p in report.past_end} == {40}

    def test_a_time_just_after_the_end_in_another_zone(self) -> None:
        graph = GoalGraph.from_dict({
            "perfkit_goals": 1, "calendar": {"tz": "Asia/Shanghai"},
            "goals": [key_result("q1", "person:1", period="2026-Q1")],
        })
        before = datetime.datetime(2026, 3, 31, 15, 59, tzinfo=datetime.timezone.utc)  # 23:59 in Shanghai
        after = datetime.datetime(2026, 3, 31, 16, 1, tzinfo=datetime.timezone.utc)
        assert alignment_report(graph, as_of=before).past_end == ()
        (item,) = alignment_report(graph, as_of=after).past_end
        assert item.last_day == datetime.date(2026, 3, 31) and item.days_over == 1


class TestOutput:
    @pytest.fixture
    def report(self) -> AlignmentReport:
        goals = [
            *revenue([("华东", 600), ("华南", 300)], target=1000),
            key_result("销售一部目标", "person:张三", period="2026-Q1", contributes_to=["华东"]),
            key_result("kr", "person:1001", period="2026-Q1", title="小目标 [A]"),
        ]
        return alignment_report(build(goals), as_of="2026-04-10")

    def test_to_dict_is_plain_json_data(self, report: AlignmentReport) -> None:
        data = json.loads(json.dumps(report.to_dict(), ensure_ascii=False))
        assert Decimal(data["share"]) == report.share
        assert data["orphans"] == list(report.orphans)
        assert [g["goal"] for g in data["target_gaps"]] == [g.goal for g in report.target_gaps]
        assert Decimal(data["target_gaps"][0]["difference"]) == report.target_gaps[0].difference
        assert data["past_end"][0]["last_day"] == "2026-03-31"

    def test_text_names_every_finding(self, report: AlignmentReport) -> None:
        text = report.to_text()
        assert "1 of 2 (50.0%)" in text
        assert "小目标 [A]" in text and "short" in text and "-100" in text
        for item in report.past_end:
            assert item.goal in text

    def test_text_columns_line_up_with_wide_characters(self, report: AlignmentReport) -> None:
        lines = report.to_text().splitlines()
        start = lines.index(next(line for line in lines if line.startswith("Past their end")))
        table = lines[start + 1: start + 1 + 1 + len(report.past_end)]
        assert len(report.past_end) == 2
        columns = {display_width(line[: line.index("2026-03-31" if i else "ended")]) for i, line in enumerate(table)}
        assert len(columns) == 1, table
        gaps = lines[lines.index(next(line for line in lines if line.startswith("Target gaps"))) + 1:][:2]
        assert len({display_width(line) for line in gaps}) == 1, gaps


class TestOrder:
    """The report does not depend on the order of the goal file."""

    GOALS = (
        objective("s", "org"),
        objective("team", "team:east", contributes_to=["s"]),
        key_result("a", "person:1", period="2026-Q1", contributes_to=["team"]),
        key_result("b", "person:2", supports=["team"]),
        key_result("c", "person:3"),
        objective("sum", "team:west", rollup="sum", target=50),
        key_result("d", "person:4", 20, contributes_to=["sum"]),
    )

    @pytest.mark.parametrize("order", list(itertools.islice(itertools.permutations(range(7)), 0, 5040, 251)))
    def test_explicit_permutations(self, order: tuple[int, ...]) -> None:
        expected = alignment_report(build(list(self.GOALS)), as_of="2026-05-01").to_dict()
        assert alignment_report(build([self.GOALS[i] for i in order]), as_of="2026-05-01").to_dict() == expected

    @settings(max_examples=40, deadline=None)
    @given(data=st.data())
    def test_any_permutation_of_any_graph(self, data: st.DataObject) -> None:
        goals = data.draw(goal_dags())
        permuted = data.draw(st.permutations(goals))
        as_of = data.draw(st.sampled_from(["2026-01-01", "2026-12-31", "2027-01-05"]))
        report = alignment_report(build(goals), as_of=as_of)
        assert alignment_report(build(permuted), as_of=as_of) == report
        assert len(report.connected) <= len(report.personal)
        assert set(report.orphans).isdisjoint(report.strategic_roots)
        for gap in report.target_gaps:
            assert isinstance(gap, TargetGap) and gap.difference != 0
