"""Bulk assignment: a goal template instantiated for everyone matching a roster filter."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import pytest

from perfkit.errors import DataError, GoalGraphError
from perfkit.goals import GoalGraph
from perfkit.goals.templates import assign, instantiate, matching
from perfkit.org import Roster


@pytest.fixture
def roster() -> Roster:
    return Roster.from_records(
        employees=[
            {"id": "1003", "name": "张伟", "unit": "east-shanghai", "role": "sales", "level": "P5", "region": "华东"},
            {"id": "1001", "name": "王芳", "unit": "east", "role": "manager", "level": "M1", "region": "华东"},
            {"id": "1002", "name": "李娜", "manager": "1001", "unit": "east", "role": "sales", "level": "P6",
             "region": "华东"},
            {"id": "2001", "name": "刘洋", "unit": "south", "role": "sales", "level": "P5", "region": "华南"},
            {"id": "2002", "unit": "south", "role": "support"},
        ],
        units=[{"id": "sales"}, {"id": "east", "parent": "sales"}, {"id": "east-shanghai", "parent": "east"},
               {"id": "south", "parent": "sales"}],
    )


def region(goal_id: str, **extra: Any) -> dict[str, Any]:
    return {"id": goal_id, "title": goal_id, "owner": f"team:{goal_id}", "period": "2026", "rollup": "sum",
            "target": 30_000_000, **extra}


@pytest.fixture
def graph() -> GoalGraph:
    return GoalGraph.from_dict({"perfkit_goals": 1, "goals": [region("east"), region("south")]})


TEMPLATE = {"id": "rev", "title": "{name} 的销售额", "kind": "key_result", "target": 1_000_000, "unit": "CNY"}


class TestMatching:
    def test_a_unit_takes_its_members_and_those_of_units_inside_it(self, roster: Roster) -> None:
        assert matching(roster, unit="east") == ("1001", "1002", "1003")
        assert matching(roster, department="sales") == ("1001", "1002", "1003", "2001", "2002")

    def test_criteria_combine_and_a_list_means_any_of(self, roster: Roster) -> None:
        assert matching(roster, unit="east", role="sales") == ("1002", "1003")
        assert matching(roster, level=["P5", "M1"]) == ("1001", "1003", "2001")

    def test_any_roster_column_filters_and_where_is_the_same_as_keywords(self, roster: Roster) -> None:
        assert matching(roster, {"region": "华南"}) == ("2001",)
        assert matching(roster, {"region": "华东"}, role="sales") == ("1002", "1003")

    def test_no_criteria_match_everyone_in_id_order(self, roster: Roster) -> None:
        assert matching(roster) == ("1001", "1002", "1003", "2001", "2002")

    def test_an_unknown_column_or_unit_is_a_data_error(self, roster: Roster) -> None:
        with pytest.raises(DataError, match="did you mean 'region'"):
            matching(roster, regoin="华东")
        with pytest.raises(DataError, match="unit 'west' is not in the roster"):
            matching(roster, unit="west")


class TestAssign:
    def test_one_goal_per_matching_person_linked_under_the_parent(self, graph: GoalGraph, roster: Roster) -> None:
        result = assign(graph, TEMPLATE, parent="east", roster=roster, where={"unit": "east", "role": "sales"})
        assert result.children("east") == ("rev-1002", "rev-1003")
        goal = result["rev-1003"]
        assert str(goal.owner) == "person:1003"
        assert goal.title == "张伟 的销售额"
        assert (goal.period, goal.kind, goal.target, goal.unit) == ("2026", "key_result", Decimal(1_000_000), "CNY")
        assert result.owned_by("1002") == ("rev-1002",)
        assert len(graph) == 2, "the input graph is left as it was"

    def test_goals_are_created_in_employee_id_order(self, graph: GoalGraph, roster: Roster) -> None:
        """The roster lists 1003 first; the goals still come in id order."""
        result = assign(graph, {**TEMPLATE, "title": "{employee}"}, parent="south", roster=roster,
                        where={"unit": "sales"})
        assert result.ids[2:] == ("rev-1001", "rev-1002", "rev-1003", "rev-2001", "rev-2002")
        assert result.children("south") == result.ids[2:]

    def test_all_placeholders_and_id_format(self, graph: GoalGraph, roster: Roster) -> None:
        template = {"title": "{employee} {name} {unit} {role} {level} {{literal}}", "kind": "kpi", "target": 5,
                    "description": "for {role}s"}
        result = assign(graph, template, parent="east", roster=roster, where={"role": "sales", "unit": "east"},
                        id_format="{unit}/{employee}")
        goal = result["east-shanghai/1003"]
        assert goal.title == "1003 张伟 east-shanghai sales P5 {literal}"
        assert goal.description == "for saless"

    def test_the_template_may_set_its_own_period_within_the_parents(self, graph: GoalGraph, roster: Roster) -> None:
        result = assign(graph, {**TEMPLATE, "period": "2026-Q2"}, parent="south", roster=roster,
                        where={"unit": "south", "role": "sales"})
        assert result["rev-2001"].period == "2026-Q2"
        with pytest.raises(GoalGraphError, match="not within the period 2026"):
            assign(graph, {**TEMPLATE, "period": "2027"}, parent="south", roster=roster, where={"role": "sales"})

    def test_the_graphs_roster_is_used_when_none_is_given(self, roster: Roster) -> None:
        graph = GoalGraph.from_dict({"perfkit_goals": 1, "goals": [region("south")]}, roster=roster)
        assert assign(graph, TEMPLATE, parent="south", where={"role": "sales"}).children("south") == (
            "rev-1002", "rev-1003", "rev-2001")

    def test_instantiate_gives_the_goals_without_adding_them(self, graph: GoalGraph, roster: Roster) -> None:
        goals = instantiate(graph, TEMPLATE, parent="east", roster=roster, where={"unit": "east-shanghai"})
        assert [g.id for g in goals] == ["rev-1003"]
        assert goals[0].parents == ("east",)


class TestWeights:
    @pytest.fixture
    def weighted(self, roster: Roster) -> GoalGraph:
        krs = [
            {"id": kr, "title": kr, "kind": "key_result", "owner": "team:east", "period": "2026", "target": 10,
             "contributes_to": [{"goal": "okr", "weight": "50%"}]}
            for kr in ("east-new", "east-old")
        ]
        okr = {"id": "okr", "title": "O", "owner": "team:east", "period": "2026"}
        empty = {"id": "empty", "title": "O", "owner": "team:east", "period": "2026"}
        return GoalGraph.from_dict({"perfkit_goals": 1, "goals": [okr, empty, *krs]})

    def test_unweighted_parents_get_unweighted_children(self, graph: GoalGraph, roster: Roster) -> None:
        result = assign(graph, TEMPLATE, parent="east", roster=roster, where={"unit": "east"})
        assert all(link.weight is None for g in result.goals[2:] for link in g.contributes_to)

    def test_weighted_children_need_a_weight(self, weighted: GoalGraph, roster: Roster) -> None:
        with pytest.raises(GoalGraphError, match=r"carry weights \(east-new 50%, east-old 50%\); give weight=") as caught:
            assign(weighted, TEMPLATE, parent="okr", roster=roster, where={"role": "sales", "unit": "east"})
        assert caught.value.goals == ("okr", "east-new", "east-old")

    def test_a_weight_is_given_to_each_new_goal_and_the_total_is_checked(
        self, weighted: GoalGraph, roster: Roster
    ) -> None:
        result = assign(weighted, TEMPLATE, parent="empty", roster=roster, where={"role": "sales", "unit": "east"},
                        weight="50%")
        assert [g.contributes_to[0].weight for g in result.goals[4:]] == [Decimal("0.5"), Decimal("0.5")]
        with pytest.raises(GoalGraphError, match="sum to exactly 100%, but they sum to 75%"):
            assign(weighted, TEMPLATE, parent="empty", roster=roster, where={"role": "sales"}, weight="25%")
        with pytest.raises(GoalGraphError, match="sum to exactly 100%, but they sum to 150%"):
            assign(weighted, TEMPLATE, parent="okr", roster=roster, where={"role": "sales", "unit": "east"},
                   weight="25%")

    def test_a_bad_weight_is_named(self, graph: GoalGraph, roster: Roster) -> None:
        with pytest.raises(GoalGraphError) as caught:
            assign(graph, TEMPLATE, parent="east", roster=roster, where={"level": "P5"}, weight="lots")
        assert caught.value.path == "weight"


class TestAssignErrors:
    def test_nobody_matching_is_an_error(self, graph: GoalGraph, roster: Roster) -> None:
        with pytest.raises(GoalGraphError, match="nobody in the roster matches") as caught:
            assign(graph, TEMPLATE, parent="east", roster=roster, where={"role": "ceo"})
        assert caught.value.goals == ("east",)

    def test_an_unknown_parent_gets_a_did_you_mean(self, graph: GoalGraph, roster: Roster) -> None:
        with pytest.raises(GoalGraphError, match="did you mean 'east'"):
            assign(graph, TEMPLATE, parent="eats", roster=roster)

    def test_an_id_already_taken_is_named(self, graph: GoalGraph, roster: Roster) -> None:
        once = assign(graph, TEMPLATE, parent="east", roster=roster, where={"unit": "east-shanghai"})
        with pytest.raises(GoalGraphError, match="'rev-1003' made for employee 1003 is already taken") as caught:
            assign(once, TEMPLATE, parent="south", roster=roster, where={"unit": "east"})
        assert caught.value.goals == ("rev-1003",)

    def test_an_id_format_that_repeats_ids_is_refused(self, graph: GoalGraph, roster: Roster) -> None:
        with pytest.raises(GoalGraphError, match="already taken by the goal made for 1002"):
            assign(graph, TEMPLATE, parent="east", roster=roster, where={"unit": "east"}, id_format="{template}-{role}")

    def test_an_id_format_that_makes_no_goal_id_is_named(self, graph: GoalGraph, roster: Roster) -> None:
        with pytest.raises(GoalGraphError, match="id_format gives 'rev 2001'") as caught:
            assign(graph, TEMPLATE, parent="south", roster=roster, where={"unit": "south", "role": "sales"},
                   id_format="{template} {employee}")
        assert caught.value.path == "id_format"

    def test_a_template_field_problem_names_the_template_field(self, graph: GoalGraph, roster: Roster) -> None:
        with pytest.raises(GoalGraphError) as caught:
            assign(graph, {**TEMPLATE, "kind": "wish", "targte": 5}, parent="east", roster=roster,
                   where={"unit": "east"})
        paths = sorted(p.path or "" for p in caught.value.problems)
        assert paths == ["template.kind", "template.targte"], "each problem once, not once per person"
        assert "did you mean 'target'" in str(caught.value)

    def test_problems_the_graph_finds_are_read_as_template_fields(self, graph: GoalGraph, roster: Roster) -> None:
        template = {key: value for key, value in TEMPLATE.items() if key != "target"}
        with pytest.raises(GoalGraphError) as caught:
            assign(graph, template, parent="east", roster=roster, where={"unit": "east"})
        assert caught.value.path == "template.target"
        assert "needs a target" in caught.value.message

    def test_fields_assign_sets_itself_are_refused_in_a_template(self, graph: GoalGraph, roster: Roster) -> None:
        with pytest.raises(GoalGraphError) as caught:
            assign(graph, {**TEMPLATE, "owner": "person:1", "contributes_to": ["south"]}, parent="east",
                   roster=roster)
        assert [p.path for p in caught.value.problems] == ["template.owner", "template.contributes_to"]

    def test_placeholders_must_be_known_and_filled(self, graph: GoalGraph, roster: Roster) -> None:
        with pytest.raises(GoalGraphError, match=r"unknown placeholder \{nmae\}"):
            assign(graph, {**TEMPLATE, "title": "{nmae}"}, parent="east", roster=roster)
        with pytest.raises(GoalGraphError, match=r"employee 2002 has no name to fill \{name\}"):
            assign(graph, TEMPLATE, parent="south", roster=roster, where={"unit": "south"})
        with pytest.raises(GoalGraphError, match="literal braces"):
            assign(graph, {**TEMPLATE, "title": "{name"}, parent="east", roster=roster)

    def test_the_template_id_is_needed_for_the_default_id_format(self, graph: GoalGraph, roster: Roster) -> None:
        template = {key: value for key, value in TEMPLATE.items() if key != "id"}
        with pytest.raises(GoalGraphError, match="needs an id") as caught:
            assign(graph, template, parent="east", roster=roster)
        assert caught.value.path == "template.id"
        result = assign(graph, template, parent="east", roster=roster, where={"unit": "east-shanghai"},
                        id_format="q2-{employee}")
        assert result.children("east") == ("q2-1003",)

    def test_without_any_roster_there_is_nobody_to_assign_to(self, graph: GoalGraph) -> None:
        with pytest.raises(GoalGraphError, match="needs a roster"):
            assign(graph, TEMPLATE, parent="east")

    def test_a_filter_on_an_unknown_column_is_a_goal_graph_error(self, graph: GoalGraph, roster: Roster) -> None:
        with pytest.raises(GoalGraphError, match="did you mean 'role'") as caught:
            assign(graph, TEMPLATE, parent="east", roster=roster, where={"rol": "sales"})
        assert caught.value.goals == ("east",)
