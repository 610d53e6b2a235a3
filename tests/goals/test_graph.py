"""GoalGraph (perfkit.goals.graph): goals checked as a whole, navigated, and changed immutably."""

from __future__ import annotations

import datetime
import itertools
from decimal import Decimal
from typing import Any

import networkx as nx
import pytest
from goals.strategies import as_of_dates, goal_graphs, goal_lists, leaf_ids
from hypothesis import given, settings
from hypothesis import strategies as st

from perfkit.errors import GoalGraphError, PerfkitError
from perfkit.goals import Goal, GoalGraph
from perfkit.org import Roster
from perfkit.periods import Calendar

PROPERTY = settings(max_examples=50, deadline=None)


def objective(goal_id: str, **fields: Any) -> dict[str, Any]:
    return {"id": goal_id, "title": goal_id.title(), "owner": "org", "period": "2026", **fields}


def kr(goal_id: str, *parents: Any, target: object = 100, **fields: Any) -> dict[str, Any]:
    data = objective(goal_id, kind="key_result", target=target, **fields)
    if parents:
        data["contributes_to"] = list(parents)
    return data


def problems_of(goals: list[dict[str, Any]], **kwargs: Any) -> list[GoalGraphError]:
    with pytest.raises(GoalGraphError) as info:
        GoalGraph.from_goals(goals, **kwargs)
    found = [p for p in info.value.problems if isinstance(p, GoalGraphError)]
    assert len(found) == len(info.value.problems)
    return found


def only_problem(goals: list[dict[str, Any]], **kwargs: Any) -> GoalGraphError:
    found = problems_of(goals, **kwargs)
    assert len(found) == 1, [str(p) for p in found]
    return found[0]


@pytest.fixture
def tree() -> GoalGraph:
    """grow ← (sales 60%, product 40%); sales ← east, south; product ← launch; launch supports grow."""
    return GoalGraph.from_goals([
        objective("grow"),
        objective("sales", owner="team:east", contributes_to=[{"goal": "grow", "weight": "60%"}]),
        objective("product", owner="team:south", contributes_to=[{"goal": "grow", "weight": "40%"}]),
        kr("east", "sales", owner="person:1001"),
        kr("south", "sales", owner="person:1002"),
        kr("launch", "product", owner="person:1001", supports=["grow"]),
    ])


class TestBuilding:
    def test_from_goals_and_from_dict_agree(self) -> None:
        goals = [objective("grow"), kr("east", "grow")]
        a = GoalGraph.from_goals(goals)
        b = GoalGraph.from_dict({"perfkit_goals": 1, "goals": goals})
        c = GoalGraph.from_goals([Goal.model_validate(g) for g in goals])
        assert a.goals == b.goals == c.goals
        assert a.calendar == b.calendar == Calendar()

    def test_constructor_refused(self) -> None:
        with pytest.raises(TypeError, match="load_goals"):
            GoalGraph()

    def test_from_dict_calendar(self) -> None:
        graph = GoalGraph.from_dict({"perfkit_goals": 1, "calendar": {"tz": "Asia/Shanghai"}, "goals": [objective("grow")]})
        assert graph.calendar == Calendar(tz="Asia/Shanghai")
        assert graph.period("grow").start == datetime.datetime(2026, 1, 1, tzinfo=graph.calendar.zone)

    def test_bad_goal_data_named(self) -> None:
        problem = only_problem([objective("grow"), {"id": "kr", "title": "KR", "owner": "boss", "period": "2026"}])
        assert problem.goals == ("kr",)
        assert problem.path == "goals[1].owner"

    def test_unreadable_period(self) -> None:
        problem = only_problem([objective("grow", period="someday")])
        assert problem.goals == ("grow",)
        assert problem.path == "goals[0].period"

    @PROPERTY
    @given(goal_lists())
    def test_generated_graphs_build(self, goals: list[dict[str, Any]]) -> None:
        graph = GoalGraph.from_goals(goals)
        assert graph.ids == tuple(g["id"] for g in goals)
        assert nx.is_directed_acyclic_graph(graph.nx)


class TestReading:
    def test_lookup(self, tree: GoalGraph) -> None:
        assert len(tree) == 6 and "east" in tree and "west" not in tree
        assert tree["east"].owner.id == "1001"
        assert [g.id for g in tree] == list(tree.ids)
        assert repr(tree) == "<GoalGraph: 6 goals, 6 edges>"

    def test_unknown_id_did_you_mean(self, tree: GoalGraph) -> None:
        with pytest.raises(GoalGraphError, match="did you mean 'east'") as info:
            tree["eest"]
        assert info.value.goals == ("eest",)

    def test_children_and_parents(self, tree: GoalGraph) -> None:
        assert tree.children("grow") == ("sales", "product")
        assert tree.children("grow", kind="supports") == ("launch",)
        assert tree.parents("launch") == ("product",)
        assert tree.parents("launch", kind="supports") == ("grow",)
        assert tree.children("east") == ()

    def test_nx_edges(self, tree: GoalGraph) -> None:
        edges = tree.nx.edges
        assert edges["sales", "grow"] == {"kind": "contributes", "weight": Decimal("0.6")}
        assert edges["east", "sales"] == {"kind": "contributes", "weight": None}
        assert edges["launch", "grow"] == {"kind": "supports"}
        assert tree.nx.nodes["east"]["goal"] == tree["east"]
        with pytest.raises(nx.NetworkXError):
            tree.nx.add_edge("grow", "east")

    def test_roots_ancestors_descendants(self, tree: GoalGraph) -> None:
        assert tree.roots() == ("grow",)
        assert tree.ancestors("east") == ("sales", "grow")
        assert set(tree.ancestors("launch")) == {"product", "grow"}
        nearest_first = tree.descendants("grow")
        assert set(nearest_first[:3]) == {"sales", "product", "launch"}
        assert set(nearest_first[3:]) == {"east", "south"} and len(nearest_first) == 5
        assert tree.descendants("east") == ()

    def test_subgraph(self, tree: GoalGraph) -> None:
        sub = tree.subgraph("sales")
        assert sub.ids == ("sales", "east", "south")
        assert sub["sales"].contributes_to == ()
        assert sub.children("sales") == ("east", "south")
        assert tree["sales"].contributes_to != ()

    def test_owned_by(self, tree: GoalGraph) -> None:
        assert tree.owned_by("1001") == ("east", "launch")
        assert tree.owned_by("9999") == ()

    def test_period(self) -> None:
        graph = GoalGraph.from_goals([objective("grow"), kr("q2", "grow", period="2026-Q2")])
        period = graph.period("q2")
        assert (period.start.date(), period.end.date()) == (datetime.date(2026, 4, 1), datetime.date(2026, 7, 1))

    def test_instant_and_cutoff(self) -> None:
        graph = GoalGraph.from_goals([objective("grow")], calendar=Calendar(tz="Asia/Shanghai"))
        zone = graph.calendar.zone
        assert graph.instant(datetime.date(2026, 3, 1)) == datetime.datetime(2026, 3, 1, tzinfo=zone)
        assert graph.instant("2026-03-01") == datetime.datetime(2026, 3, 1, tzinfo=zone)
        aware = datetime.datetime(2026, 3, 1, 10, tzinfo=datetime.timezone.utc)
        assert graph.instant(aware) == aware
        assert graph.cutoff(datetime.date(2026, 3, 1)) == datetime.datetime(2026, 3, 2, tzinfo=zone)
        assert graph.cutoff(aware) == aware + datetime.timedelta(microseconds=1)
        for naive in (datetime.datetime(2026, 3, 1, 10),):
            with pytest.raises(GoalGraphError, match="time zone"):
                graph.instant(naive)
            with pytest.raises(GoalGraphError, match="time zone"):
                graph.cutoff(naive)

    def test_history_lists_everything(self) -> None:
        graph = GoalGraph.from_goals([kr(
            "east", target=30, created="2026-01-10",
            checkins=[{"at": "2026-05-01", "value": 5}, {"at": "2026-02-01", "value": 2}],
            revisions=[
                {"effective": "2026-04-01", "target": 40, "reason": "up", "proposed_by": "2001"},
                {"effective": "2026-03-01", "target": 20, "reason": "down", "proposed_by": "2001",
                 "state": "rejected", "decided_by": "1001", "decided_at": "2026-03-02"},
                {"effective": "2026-06-01", "target": 25, "reason": "again", "proposed_by": "2001",
                 "state": "approved", "decided_by": "1001", "decided_at": "2026-05-20"},
            ],
        )])
        history = graph.history("east")
        assert [e["event"] for e in history] == ["created", "checkin", "revision", "revision", "checkin", "revision"]
        assert history[0]["target"] == "30" and history[0]["at"].startswith("2026-01-10")
        assert [e.get("state") for e in history if e["event"] == "revision"] == ["rejected", "proposed", "approved"]
        assert [e["index"] for e in history if e["event"] == "revision"] == [1, 0, 2]


class TestBadInput:
    """Each bad input is a GoalGraphError problem whose ``goals`` names the ids involved."""

    def test_unknown_parent_did_you_mean(self) -> None:
        problem = only_problem([objective("revenue"), kr("east", "revenu")])
        assert problem.goals == ("east", "revenu")
        assert "did you mean 'revenue'" in problem.message
        assert problem.path == "goals[1].contributes_to[0].goal"

    def test_unknown_supported_goal(self) -> None:
        problem = only_problem([objective("revenue"), kr("east", supports=["nowhere"])])
        assert problem.goals == ("east", "nowhere")
        assert problem.path == "goals[1].supports[0]"

    def test_cycle_names_the_goals_around_it(self) -> None:
        problem = only_problem([
            objective("a", contributes_to=["c"]), objective("b", contributes_to=["a"]),
            objective("c", contributes_to=["b"]), kr("leaf", "a"),
        ])
        assert problem.goals[0] == problem.goals[-1]
        assert sorted(problem.goals[:-1]) == ["a", "b", "c"]
        assert "cycle" in problem.message

    def test_cycle_through_supports(self) -> None:
        problem = only_problem([objective("a", supports=["b"]), objective("b", contributes_to=["a"])])
        assert set(problem.goals) == {"a", "b"} and len(problem.goals) == 3

    def test_two_cycles_two_problems(self) -> None:
        found = problems_of([
            objective("a", contributes_to=["b"]), objective("b", contributes_to=["a"]),
            objective("x", contributes_to=["y"]), objective("y", contributes_to=["x"]),
        ])
        assert sorted(set(p.goals) for p in found if "cycle" in p.message) == [{"a", "b"}, {"x", "y"}]

    def test_self_link(self) -> None:
        problem = only_problem([objective("a", contributes_to=["a"])])
        assert problem.goals == ("a",)

    def test_duplicate_ids(self) -> None:
        problem = only_problem([objective("grow"), kr("east", "grow"), kr("east", "grow")])
        assert problem.goals == ("east",)
        assert problem.path == "goals[2].id"
        assert "goals[1]" in problem.message

    def test_linked_twice(self) -> None:
        problem = only_problem([objective("grow"), kr("east", "grow", "grow")])
        assert problem.goals == ("east", "grow")

    def test_key_result_without_target(self) -> None:
        problem = only_problem([objective("grow"), kr("east", "grow", target=None)])
        assert problem.goals == ("east",)
        assert problem.path == "goals[1].target"

    def test_checkins_goal_without_target(self) -> None:
        problem = only_problem([objective("ops", kind="kpi", progress="checkins")])
        assert problem.goals == ("ops",)

    def test_sum_without_target(self) -> None:
        problem = only_problem([objective("grow", rollup="sum"), kr("east", "grow")])
        assert problem.goals == ("grow",)
        assert problem.path == "goals[0].target"

    def test_target_equal_to_baseline(self) -> None:
        problem = only_problem([kr("east", target=10, baseline=10)])
        assert problem.goals == ("east",)

    def test_metric_mode_without_metric(self) -> None:
        problem = only_problem([kr("east", progress="metric", owner="team:east")])
        assert problem.goals == ("east",) and problem.path == "goals[0].metric"

    def test_metric_on_an_org_goal(self) -> None:
        problem = only_problem([kr("east", metric="revenue")])
        assert problem.goals == ("east",) and problem.path == "goals[0].owner"

    def test_metric_named_on_a_checkins_goal(self) -> None:
        problem = only_problem([kr("east", metric="revenue", progress="checkins", owner="team:east")])
        assert problem.goals == ("east",) and problem.path == "goals[0].metric"

    def test_checkins_on_a_rolled_up_goal(self) -> None:
        problem = only_problem([objective("grow", checkins=[{"at": "2026-03-01", "value": 1}]), kr("east", "grow")])
        assert problem.goals == ("grow",)

    def test_weights_not_summing_to_100(self) -> None:
        problem = only_problem([
            objective("grow"),
            kr("east", {"goal": "grow", "weight": "40%"}),
            kr("south", {"goal": "grow", "weight": "50%"}),
        ])
        assert problem.goals == ("grow", "east", "south")
        assert "100%" in problem.message and "90%" in problem.message

    def test_weights_exact_no_tolerance(self) -> None:
        problem = only_problem([
            objective("grow"),
            *(kr(f"k{i}", {"goal": "grow", "weight": "33.33%"}) for i in range(3)),
        ])
        assert problem.goals == ("grow", "k0", "k1", "k2")

    def test_mixed_weighted_and_unweighted(self) -> None:
        problem = only_problem([
            objective("grow"),
            kr("east", {"goal": "grow", "weight": "100%"}),
            kr("south", "grow"),
        ])
        assert problem.goals == ("grow", "east", "south")
        assert "south" in problem.message

    def test_weights_checked_per_parent(self) -> None:
        """A child with weights under two parents: each parent's set is checked on its own."""
        graph = GoalGraph.from_goals([
            objective("a"), objective("b"),
            kr("x", {"goal": "a", "weight": "30%"}, {"goal": "b", "weight": "100%"}),
            kr("y", {"goal": "a", "weight": "70%"}),
        ])
        assert graph.nx.edges["x", "b"]["weight"] == Decimal(1)
        problem = only_problem([
            objective("a"), objective("b"),
            kr("x", {"goal": "a", "weight": "30%"}, {"goal": "b", "weight": "90%"}),
            kr("y", {"goal": "a", "weight": "70%"}),
        ])
        assert problem.goals == ("b", "x")

    def test_revision_predating_the_goal(self) -> None:
        revision = {"effective": "2026-01-15", "target": 50, "reason": "r", "proposed_by": "1"}
        problem = only_problem([kr("east", created="2026-02-01", revisions=[revision])])
        assert problem.goals == ("east",)
        assert problem.path == "goals[0].revisions[0].effective"

    def test_revision_predating_the_period(self) -> None:
        revision = {"effective": "2025-12-31", "target": 50, "reason": "r", "proposed_by": "1"}
        problem = only_problem([kr("east", revisions=[revision])])
        assert problem.goals == ("east",)

    def test_revision_decided_before_the_goal(self) -> None:
        revision = {"effective": "2026-03-01", "target": 50, "reason": "r", "proposed_by": "1",
                    "state": "approved", "decided_by": "2", "decided_at": "2026-01-20"}
        problem = only_problem([kr("east", created="2026-02-01", revisions=[revision])])
        assert problem.goals == ("east",) and problem.path == "goals[0].revisions[0].decided_at"

    def test_revised_target_equal_to_baseline(self) -> None:
        revision = {"effective": "2026-03-01", "target": 0, "reason": "r", "proposed_by": "1"}
        problem = only_problem([kr("east", revisions=[revision])])
        assert problem.goals == ("east",) and problem.path == "goals[0].revisions[0].target"

    def test_naive_time_text_named(self) -> None:
        """A check-in time without a zone is a problem of that goal (not an anonymous error)."""
        problem = only_problem([kr("east", checkins=[{"at": "2026-03-01T10:00", "value": 1}])])
        assert problem.goals == ("east",)
        assert problem.path is not None and "checkins[0]" in problem.path

    @pytest.mark.parametrize(("inner", "outer"), [("2027", "2026"), ("2026", "2026-H1"), ("2025-12-01..2026-03-31", "2026")])
    def test_child_period_outside_parent(self, inner: str, outer: str) -> None:
        problem = only_problem([objective("grow", period=outer), kr("east", "grow", period=inner)])
        assert problem.goals == ("east", "grow")
        assert problem.path == "goals[1].contributes_to[0].goal"

    def test_child_period_inside_parent(self) -> None:
        graph = GoalGraph.from_goals([objective("grow"), kr("q4", "grow", period="2026-Q4"), kr("d", "grow", period="2026-03-01..2026-05-31")])
        assert graph.children("grow") == ("q4", "d")

    def test_sum_over_weighted_average_child(self) -> None:
        problem = only_problem([
            objective("grow", rollup="sum", target=100), objective("sales", contributes_to=["grow"]), kr("east", "sales"),
        ])
        assert problem.goals == ("grow", "sales")
        assert problem.path == "goals[0].rollup"

    def test_sum_over_sum_child_is_fine(self) -> None:
        graph = GoalGraph.from_goals([
            objective("grow", rollup="sum", target=100),
            objective("sales", rollup="sum", target=60, contributes_to=["grow"]),
            kr("east", "sales"),
        ])
        assert graph.children("grow") == ("sales",)

    def test_formula_without_formula(self) -> None:
        problem = only_problem([objective("grow", rollup="formula"), kr("a", "grow")])
        assert problem.goals == ("grow",) and problem.path == "goals[0].formula"

    def test_formula_without_rollup_formula(self) -> None:
        problem = only_problem([objective("grow", formula="min(a, a)"), kr("a", "grow")])
        assert problem.goals == ("grow",) and problem.path == "goals[0].formula"

    def test_formula_naming_a_non_child(self) -> None:
        problem = only_problem([objective("grow", rollup="formula", formula="kr_a + kr_c"), kr("kr_a", "grow"), kr("kr_b", "grow")])
        assert problem.goals == ("grow",)
        assert "kr_c" in str(problem)

    def test_formula_syntax_error(self) -> None:
        problem = only_problem([objective("grow", rollup="formula", formula="min(kr_a,"), kr("kr_a", "grow")])
        assert problem.goals == ("grow",)

    def test_every_problem_together(self) -> None:
        found = problems_of([
            objective("grow"),
            kr("east", "grw"),
            kr("east", "grow"),
            kr("south", "grow", target=None),
            objective("x", contributes_to=["y"]), objective("y", contributes_to=["x"]),
        ])
        assert {p.goals for p in found} >= {("east", "grw"), ("east",), ("south",)}
        assert any("cycle" in p.message for p in found)
        assert all(p.path and p.path.startswith("goals[") for p in found)


class TestRoster:
    ROSTER = Roster.from_records(
        [{"id": "1001", "unit": "east"}, {"id": "1002", "unit": "south", "manager": "1001"}],
        [{"id": "company"}, {"id": "east", "parent": "company"}, {"id": "south", "parent": "company"}],
    )

    def test_known_owners(self) -> None:
        graph = GoalGraph.from_goals(
            [objective("grow"), kr("east", "grow", owner="team:east"), kr("mine", "grow", owner="person:1002")],
            roster=self.ROSTER,
        )
        assert graph.roster is self.ROSTER

    def test_unknown_person(self) -> None:
        problem = only_problem([objective("grow"), kr("mine", "grow", owner="person:9999")], roster=self.ROSTER)
        assert problem.goals == ("mine",) and problem.path == "goals[1].owner"
        assert "person:9999" in problem.message

    def test_unknown_team(self) -> None:
        problem = only_problem([objective("grow", owner="team:west")], roster=self.ROSTER)
        assert problem.goals == ("grow",) and "team:west" in problem.message

    def test_no_roster_no_check(self) -> None:
        assert "mine" in GoalGraph.from_goals([kr("mine", owner="person:9999")])


class TestLink:
    def test_link_adds_an_edge(self, tree: GoalGraph) -> None:
        extra = tree.add(kr("west", owner="person:1002"))
        linked = extra.link("west", "sales")
        assert linked.children("sales") == ("east", "south", "west")
        assert linked["west"].parents == ("sales",)
        assert "west" not in tree and extra.children("sales") == ("east", "south")

    def test_link_with_weight(self) -> None:
        """The weights under the parent are checked again with the new edge."""
        graph = GoalGraph.from_goals([objective("grow"), kr("a"), kr("b", {"goal": "grow", "weight": "100%"})])
        with pytest.raises(GoalGraphError) as info:
            graph.link("a", "grow", weight="50%")
        assert info.value.problems[0].goals == ("grow", "a", "b")  # type: ignore[attr-defined]
        assert "150%" in info.value.problems[0].message
        with pytest.raises(GoalGraphError) as info:
            graph.link("a", "grow")
        assert info.value.problems[0].goals == ("grow", "a", "b")  # type: ignore[attr-defined]
        linked = graph.link("a", "grow", weight="0%")
        assert linked.nx.edges["a", "grow"]["weight"] == Decimal(0)

    def test_link_supports(self, tree: GoalGraph) -> None:
        linked = tree.link("east", "product", kind="supports")
        assert linked.parents("east", kind="supports") == ("product",)
        assert linked.nx.edges["east", "product"]["kind"] == "supports"
        with pytest.raises(GoalGraphError, match="no weight"):
            tree.link("east", "product", kind="supports", weight="10%")

    def test_link_refuses_a_cycle(self, tree: GoalGraph) -> None:
        with pytest.raises(GoalGraphError, match="cycle") as info:
            tree.link("grow", "east")
        assert info.value.goals == ("grow", "east", "sales", "grow")

    def test_link_refuses_a_cycle_through_supports(self, tree: GoalGraph) -> None:
        with pytest.raises(GoalGraphError, match="cycle") as info:
            tree.link("grow", "launch", kind="supports")
        cycle = info.value.goals
        assert cycle[0] == cycle[-1] == "grow" and set(cycle) == {"grow", "launch"}

    def test_link_refuses_self_existing_unknown(self, tree: GoalGraph) -> None:
        with pytest.raises(GoalGraphError) as info:
            tree.link("east", "east")
        assert info.value.goals == ("east",)
        with pytest.raises(GoalGraphError, match="already linked") as info:
            tree.link("east", "sales")
        assert info.value.goals == ("east", "sales")
        with pytest.raises(GoalGraphError, match="did you mean 'sales'") as info:
            tree.link("east", "sale")
        assert info.value.goals == ("sale",)

    def test_link_checks_periods(self) -> None:
        graph = GoalGraph.from_goals([objective("h1", period="2026-H1"), kr("year")])
        with pytest.raises(GoalGraphError) as info:
            graph.link("year", "h1")
        assert info.value.problems[0].goals == ("year", "h1")  # type: ignore[attr-defined]

    @PROPERTY
    @given(goal_graphs(), st.data())
    def test_link_never_makes_a_cycle(self, graph: GoalGraph, data: st.DataObject) -> None:
        """Any link either gives an acyclic graph or is refused naming a cycle through both goals."""
        child = data.draw(st.sampled_from(graph.ids))
        parent = data.draw(st.sampled_from(graph.ids))
        kind = data.draw(st.sampled_from(["contributes", "supports"]))
        if child == parent or graph.nx.has_edge(child, parent):
            with pytest.raises(GoalGraphError):
                graph.link(child, parent, kind=kind)  # type: ignore[arg-type]
            return
        if nx.has_path(graph.nx, parent, child):
            with pytest.raises(GoalGraphError, match="cycle") as info:
                graph.link(child, parent, kind=kind)  # type: ignore[arg-type]
            cycle = info.value.goals
            assert cycle[0] == cycle[-1] == child and cycle[1] == parent
            assert all(graph.nx.has_edge(a, b) for a, b in itertools.pairwise(cycle[1:]))
            return
        try:
            linked = graph.link(child, parent, kind=kind)  # type: ignore[arg-type]
        except GoalGraphError as exc:  # refused for another reason: weights or periods
            assert all(p.goals for p in exc.problems)  # type: ignore[attr-defined]
            return
        assert nx.is_directed_acyclic_graph(linked.nx)
        assert linked.nx.edges[child, parent]["kind"] == kind


class TestImmutability:
    def test_graph_attributes_cannot_be_set(self, tree: GoalGraph) -> None:
        with pytest.raises(AttributeError):
            tree.foo = 1
        with pytest.raises(AttributeError):
            tree._goals = ()
        assert len(tree) == 6

    def test_changes_return_new_graphs(self, tree: GoalGraph) -> None:
        before = tree.goals
        edges = set(tree.nx.edges)
        changed = [
            tree.add(kr("west", "sales")),
            tree.link("east", "product"),
            tree.check_in("east", 10, at="2026-03-01"),
            tree.propose("east", target=120, effective="2026-07-01", reason="r", proposed_by="1"),
            tree.with_status("east", "closed"),
            tree.subgraph("sales"),
        ]
        for graph in changed:
            assert graph is not tree
        assert tree.goals == before and set(tree.nx.edges) == edges
        assert tree["east"].checkins == () and tree["east"].revisions == () and tree["east"].status == "active"

    def test_decisions_leave_the_proposal(self, tree: GoalGraph) -> None:
        proposed = tree.propose("east", target=120, effective="2026-07-01", reason="r", proposed_by="1")
        approved = proposed.approve("east", by="9", at="2026-06-20")
        rejected = proposed.reject("east", by="9", at="2026-06-20")
        assert proposed["east"].revisions[0].state == "proposed"
        assert approved["east"].revisions[0].state == "approved"
        assert approved["east"].revisions[0].decided_at == datetime.date(2026, 6, 20)
        assert rejected["east"].revisions[0].state == "rejected"

    @PROPERTY
    @given(goal_graphs(), as_of_dates(), st.data())
    def test_check_in_changes_only_the_new_graph(self, graph: GoalGraph, as_of: datetime.date, data: st.DataObject) -> None:
        leaves = leaf_ids(graph)
        if not leaves:
            return
        goal = data.draw(st.sampled_from(leaves))
        before = graph.rollup(as_of).to_rows()
        goals = graph.goals
        graph.check_in(goal, 1, at="2026-06-01")
        assert graph.goals == goals
        assert graph.rollup(as_of).to_rows() == before


class TestChanging:
    def test_add_checks_links(self, tree: GoalGraph) -> None:
        with pytest.raises(GoalGraphError) as info:
            tree.add(kr("west", "sails"))
        assert "did you mean 'sales'" in str(info.value.problems[0])
        with pytest.raises(GoalGraphError) as info:
            tree.add(kr("east"))
        assert info.value.problems[0].goals == ("east",)  # type: ignore[attr-defined]

    def test_add_bad_data(self, tree: GoalGraph) -> None:
        with pytest.raises(GoalGraphError):
            tree.add({"id": "west", "title": "", "owner": "org", "period": "2026"})

    def test_check_in(self, tree: GoalGraph) -> None:
        graph = tree.check_in("east", "12.5", at="2026-03-01T10:00+08:00", note="ok", by="1001")
        checkin = graph["east"].checkins[-1]
        assert (checkin.value, checkin.note, checkin.by) == (Decimal("12.5"), "ok", "1001")

    @pytest.mark.parametrize(
        ("value", "at"), [("abc", "2026-03-01"), (1, "yesterday"), (1, datetime.datetime(2026, 3, 1, 10)), (True, "2026-03-01")]
    )
    def test_bad_check_in(self, tree: GoalGraph, value: object, at: Any) -> None:
        with pytest.raises(GoalGraphError) as info:
            tree.check_in("east", value, at=at)
        assert info.value.goals == ("east",)

    def test_check_in_on_unknown_goal(self, tree: GoalGraph) -> None:
        with pytest.raises(GoalGraphError) as info:
            tree.check_in("eats", 1, at="2026-03-01")
        assert info.value.goals == ("eats",)

    def test_propose_and_decide(self, tree: GoalGraph) -> None:
        graph = tree.propose("east", target=120, effective="2026-07-01", reason="market", proposed_by="2001", baseline=10)
        revision = graph["east"].revisions[-1]
        assert (revision.target, revision.baseline, revision.state) == (Decimal(120), Decimal(10), "proposed")
        with pytest.raises(GoalGraphError, match="already approved"):
            graph.approve("east", by="1", at="2026-06-01").approve("east", by="1", at="2026-06-01")
        with pytest.raises(GoalGraphError, match="no revision 3") as info:
            graph.approve("east", by="1", at="2026-06-01", revision=3)
        assert info.value.goals == ("east",)

    def test_propose_before_the_goal(self, tree: GoalGraph) -> None:
        with pytest.raises(GoalGraphError) as info:
            tree.propose("east", target=120, effective="2025-07-01", reason="r", proposed_by="1")
        assert info.value.problems[0].goals == ("east",)  # type: ignore[attr-defined]

    def test_propose_without_reason(self, tree: GoalGraph) -> None:
        with pytest.raises(GoalGraphError) as info:
            tree.propose("east", target=120, effective="2026-07-01", reason="", proposed_by="1")
        assert info.value.goals == ("east",)

    def test_with_status(self, tree: GoalGraph) -> None:
        assert tree.with_status("east", "archived")["east"].status == "archived"
        with pytest.raises(GoalGraphError) as info:
            tree.with_status("east", "expired")
        assert info.value.goals == ("east",)

    def test_errors_are_perfkit_errors(self, tree: GoalGraph) -> None:
        with pytest.raises(PerfkitError):
            tree.link("nope", "east")


class TestReweight:
    """reweight(parent, weights): the contributing children are exactly the ones named."""

    @staticmethod
    def base() -> GoalGraph:
        return GoalGraph.from_dict({"perfkit_goals": 1, "goals": [
            {"id": "o", "title": "O", "owner": "org", "period": "2026"},
            {"id": "a", "title": "A", "kind": "key_result", "owner": "org", "period": "2026", "target": 1,
             "contributes_to": [{"goal": "o", "weight": "60%"}], "checkins": [{"at": "2026-03-01", "value": 1}]},
            {"id": "b", "title": "B", "kind": "key_result", "owner": "org", "period": "2026", "target": 1,
             "contributes_to": [{"goal": "o", "weight": "40%"}]},
            {"id": "n", "title": "N", "kind": "key_result", "owner": "org", "period": "2026", "target": 1}]})

    def test_a_weighted_child_is_added_in_one_step(self) -> None:
        graph = self.base()
        changed = graph.reweight("o", {"a": "50%", "b": "30%", "n": "20%"})
        assert changed.children("o") == ("a", "b", "n")
        assert changed.rollup("2026-06-30").progress("o") == Decimal("0.5")
        assert graph.children("o") == ("a", "b")  # the original is unchanged
        assert graph.rollup("2026-06-30").progress("o") == Decimal("0.6")

    def test_every_current_child_must_be_named(self) -> None:
        with pytest.raises(GoalGraphError, match="missing: b") as caught:
            self.base().reweight("o", {"a": "100%"})
        assert caught.value.goals == ("o", "b")

    def test_the_weights_must_sum_to_100_percent(self) -> None:
        with pytest.raises(GoalGraphError, match="sum to 90%"):
            self.base().reweight("o", {"a": "50%", "b": "30%", "n": "10%"})

    def test_a_new_link_that_closes_a_cycle_is_refused(self) -> None:
        graph = self.base().reweight("o", {"a": "50%", "b": "30%", "n": "20%"})
        with pytest.raises(GoalGraphError, match="would make a cycle") as caught:
            graph.reweight("n", {"o": "100%"})
        assert caught.value.goals == ("o", "n", "o")


def test_a_link_with_an_unreadable_weight_names_the_goal() -> None:
    graph = GoalGraph.from_dict({"perfkit_goals": 1, "goals": [
        {"id": "o", "title": "O", "owner": "org", "period": "2026"},
        {"id": "a", "title": "A", "kind": "key_result", "owner": "org", "period": "2026", "target": 1}]})
    for weight in ("abc", "150%"):
        with pytest.raises(GoalGraphError) as caught:
            graph.link("a", "o", weight=weight)
        assert caught.value.goals == ("a",)
