"""Scheme inputs bound to goals: attainment, one goal's progress, check-in rate; lineage."""

from __future__ import annotations

import decimal
import json
from datetime import datetime, timezone
from decimal import Decimal
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from perfkit.errors import DataError, GoalGraphError, SchemeError
from perfkit.goals import GoalGraph, evaluate_goals, metric_values, personal_attainment
from perfkit.metrics.definitions import MetricDefinitions
from perfkit.metrics.records import SourceRecord
from perfkit.numbers import CONTEXT
from perfkit.scheme import Scheme


def scheme(inputs: dict[str, Any], score: str = "okr * 100", **more: Any) -> Scheme:
    return Scheme.from_dict(
        {
            "perfkit": 1,
            "id": "okr",
            "inputs": inputs,
            "kpis": [{"id": "k", "weight": "100%", "score": score}],
            "grades": [{"grade": "A", "min_score": 70}, {"grade": "B"}],
            **more,
        }
    )


def kr(goal_id: str, owner: str, target: int, value: int | None, **more: Any) -> dict[str, Any]:
    goal: dict[str, Any] = {
        "id": goal_id, "title": goal_id, "kind": "key_result", "owner": f"person:{owner}",
        "period": "2026-Q2", "target": target, **more,
    }
    if value is not None:
        goal["checkins"] = [{"at": "2026-05-20", "value": value, "note": "weekly", "by": owner}]
    return goal


def graph(*goals: dict[str, Any]) -> GoalGraph:
    return GoalGraph.from_dict({"perfkit_goals": 1, "goals": list(goals)})


def exact(value: Decimal) -> Decimal:
    return value


class TestAttainment:
    def test_one_objective_over_weighted_key_results_gives_the_objective_progress(self) -> None:
        g = graph(
            {"id": "o", "title": "O", "owner": "person:1", "period": "2026-Q2"},
            kr("a", "1", 4, 3, contributes_to=[{"goal": "o", "weight": "60%"}]),
            kr("b", "1", 10, 5, contributes_to=[{"goal": "o", "weight": "40%"}]),
        )
        found = personal_attainment(g.rollup("2026-06-30"), "1")
        assert found.value == Decimal("0.6") * Decimal("0.75") + Decimal("0.4") * Decimal("0.5")
        assert [t.goal for t in found.goals] == ["o"]
        assert [c.goal for c in found.goals[0].children] == ["a", "b"]

    def test_key_results_under_someone_elses_goal_are_averaged(self) -> None:
        g = graph(
            {"id": "team", "title": "T", "owner": "team:east", "period": "2026-Q2"},
            kr("a", "1", 4, 1, contributes_to=["team"]),
            kr("b", "1", 4, 4, contributes_to=["team"]),
            kr("c", "2", 4, 2, contributes_to=["team"]),
        )
        found = personal_attainment(g.rollup("2026-06-30"), "1")
        assert found.value == (Decimal("0.25") + Decimal(1)) / 2
        assert [t.goal for t in found.goals] == ["a", "b"]

    def test_kinds_choose_the_goals_that_count(self) -> None:
        g = graph(
            {"id": "o", "title": "O", "owner": "person:1", "period": "2026-Q2"},
            kr("a", "1", 4, 3, contributes_to=["o"]),
            kr("b", "1", 4, 1, contributes_to=["o"]),
        )
        rollup = g.rollup("2026-06-30")
        only_krs = personal_attainment(rollup, "1", kinds=["key_result"])
        assert [t.goal for t in only_krs.goals] == ["a", "b"]
        assert only_krs.value == personal_attainment(rollup, "1").value == Decimal("0.5")

    def test_draft_goals_do_not_count_and_nobody_with_nothing_has_no_value(self) -> None:
        g = graph(kr("a", "1", 4, 3, status="draft"))
        found = personal_attainment(g.rollup("2026-06-30"), "1")
        assert found.value is None and found.goals == ()
        assert personal_attainment(g.rollup("2026-06-30"), "nobody").value is None


class TestEvaluateGoals:
    def test_attainment_feeds_the_score_and_the_grade(self) -> None:
        g = graph(kr("a", "1", 4, 3), kr("b", "2", 4, 1))
        traced = evaluate_goals(scheme({"okr": {"goals": "attainment"}}), g, as_of="2026-06-30")
        assert [c.employee_id for c in traced] == ["1", "2"]
        assert (traced["1"].total, traced["1"].grade) == (Decimal("75.00"), "A")
        assert (traced["2"].total, traced["2"].grade) == (Decimal("25.00"), "B")
        assert traced.ok

    def test_progress_of_a_templated_goal(self) -> None:
        g = graph(kr("kr1-1", "1", 4, 2), kr("kr1-2", "2", 4, 4))
        traced = evaluate_goals(scheme({"p": {"goals": {"progress": "kr1-{employee}"}}}, "p * 100"), g, as_of="2026-06-30")
        assert [traced.bound(e)[0].value for e in ("1", "2")] == [Decimal("0.5"), Decimal(1)]

    def test_rows_give_the_other_inputs(self) -> None:
        g = graph(kr("a", "1", 4, 3))
        s = scheme({"okr": {"goals": "attainment"}, "bonus": {"min": 0}}, "okr * 100 - bonus")
        traced = evaluate_goals(s, g, as_of="2026-06-30", rows=[{"employee_id": "1", "bonus": 5}])
        assert traced["1"].total == Decimal("70.00")

    def test_a_bad_row_is_named_by_its_place_in_the_rows(self) -> None:
        g = graph(kr("a", "1", 4, 3), kr("b", "2", 4, 3))
        s = scheme({"okr": {"goals": "attainment"}, "bonus": {"min": 0}}, "okr * 100 - bonus")
        rows = [{"employee_id": "2", "bonus": 1}, {"employee_id": "1", "bonus": "lots"}]
        with pytest.raises(DataError) as caught:
            evaluate_goals(s, g, as_of="2026-06-30", rows=rows)
        assert (caught.value.employee_id, caught.value.column, caught.value.row) == ("1", "bonus", 1)

    def test_a_row_that_also_gives_a_bound_input_is_refused(self) -> None:
        g = graph(kr("a", "1", 4, 3))
        with pytest.raises(DataError, match="comes from goals") as caught:
            evaluate_goals(scheme({"okr": {"goals": "attainment"}}), g, as_of="2026-06-30", rows=[{"employee_id": "1", "okr": 1}])
        assert (caught.value.employee_id, caught.value.column) == ("1", "okr")

    def test_no_value_uses_the_default_or_is_reported(self) -> None:
        g = graph(kr("a", "1", 4, 3))
        rows = [{"employee_id": "9"}]
        with pytest.raises(DataError, match="no value from goals: attainment") as caught:
            evaluate_goals(scheme({"okr": {"goals": "attainment"}}), g, as_of="2026-06-30", rows=rows)
        assert caught.value.employee_id == "9"
        collected = evaluate_goals(scheme({"okr": {"goals": "attainment"}}), g, as_of="2026-06-30", rows=rows, errors="collect")
        assert [c.employee_id for c in collected] == ["1"]
        assert [p.employee_id for p in collected.problems] == ["9"]
        defaulted = evaluate_goals(scheme({"okr": {"goals": "attainment", "default": 0}}), g, as_of="2026-06-30", rows=rows)
        assert defaulted.bound("9")[0].origin == "default"
        assert defaulted["9"].total == Decimal("0.00")

    def test_a_scheme_without_goal_inputs_is_refused(self) -> None:
        with pytest.raises(SchemeError, match="no input is bound to goals"):
            evaluate_goals(scheme({"okr": {}}), graph(kr("a", "1", 4, 3)), as_of="2026-06-30")

    def test_an_input_bound_to_a_metric_and_goals_is_refused(self) -> None:
        with pytest.raises(SchemeError, match="from a metric or from goals, not both"):
            scheme({"okr": {"goals": "attainment", "metric": "revenue"}})

    def test_progress_needs_a_goal_and_kinds_only_go_with_attainment(self) -> None:
        with pytest.raises(SchemeError, match="progress reads one goal"):
            scheme({"okr": {"goals": {"measure": "progress"}}})
        with pytest.raises(SchemeError, match="kinds: chooses"):
            scheme({"okr": {"goals": {"measure": "checkin_rate", "kinds": ["key_result"]}}})

    def test_the_goal_binding_survives_save_and_load(self) -> None:
        s = scheme({"okr": {"goals": "attainment"}, "p": {"goals": {"progress": "kr-{employee}"}}}, "okr * 50 + p * 50")
        again = Scheme.from_yaml(s.to_yaml())
        assert again == s
        assert again.inputs["p"].goals is not None and again.inputs["p"].goals.goal == "kr-{employee}"

    @settings(max_examples=30, deadline=None)
    @given(st.permutations(["1", "2", "3", "4"]))
    def test_scores_do_not_depend_on_the_order_of_goals_or_rows(self, order: list[str]) -> None:
        goals = [kr(f"kr-{e}", e, 8, int(e) * 2) for e in order]
        rows = [{"employee_id": e} for e in order]
        traced = evaluate_goals(scheme({"okr": {"goals": "attainment"}}), graph(*goals), as_of="2026-06-30", rows=rows)
        assert [(c.employee_id, c.total) for c in traced] == [
            ("1", Decimal("25.00")), ("2", Decimal("50.00")), ("3", Decimal("75.00")), ("4", Decimal("100.00"))
        ]


class TestCheckinRate:
    def test_the_on_time_rate_is_an_input(self) -> None:
        schedule = {"every": "2 weeks", "start": "2026-04-01"}
        on_time = [{"at": "2026-04-14", "value": 1}, {"at": "2026-04-29", "value": 2}]
        late = [{"at": "2026-04-20", "value": 1}]
        g = graph(
            {"id": "a", "title": "A", "kind": "key_result", "owner": "person:1", "period": "2026-Q2",
             "target": 4, "checkin": schedule, "checkins": on_time},
            {"id": "b", "title": "B", "kind": "key_result", "owner": "person:2", "period": "2026-Q2",
             "target": 4, "checkin": schedule, "checkins": late},
        )
        s = scheme({"rate": {"goals": "checkin_rate"}}, "rate * 100")
        traced = evaluate_goals(s, g, as_of="2026-05-01")
        # due 04-15 and 04-29: person 1 met both; person 2's check-in on 04-20 is late for 04-15
        # and counts for 04-29, so one of two
        assert [(c.employee_id, c.total) for c in traced] == [("1", Decimal("100.00")), ("2", Decimal("50.00"))]
        assert traced.bound("2")[0].detail == "1 of 2 check-ins on time"
        assert "1 of 2 check-ins on time" in traced.explain("2").to_text()

    def test_nobody_with_nothing_due_gets_the_default(self) -> None:
        g = graph(kr("a", "1", 4, 3))
        s = scheme({"rate": {"goals": "checkin_rate", "default": 1}}, "rate * 100")
        traced = evaluate_goals(s, g, as_of="2026-05-01")
        assert traced.bound("1")[0].origin == "default"


class TestLineage:
    def test_the_explanation_goes_down_to_the_check_ins(self) -> None:
        g = graph(
            {"id": "o", "title": "季度目标", "owner": "person:1", "period": "2026-Q2"},
            kr("a", "1", 4, 3, contributes_to=[{"goal": "o", "weight": "60%"}]),
            kr("b", "1", 10, 5, contributes_to=[{"goal": "o", "weight": "40%"}]),
        )
        explanation = evaluate_goals(scheme({"okr": {"goals": "attainment"}}), g, as_of="2026-06-30").explain("1")
        text = explanation.to_text()
        assert "okr = 0.65" in text
        assert "60.0% × a a (key_result, active): progress 75.0%, 3 of target 4" in text
        assert 'check-in 2026-05-20: 3 by 1 "weekly"' in text
        data = json.loads(explanation.to_json())
        goal = data["inputs"][0]["goals"][0]
        assert goal["goal"] == "o" and goal["rollup"] == "weighted_average"
        assert [c["checkin"]["value"] for c in goal["children"]] == ["3", "5"]

    def test_a_revised_target_is_named_in_the_lineage(self) -> None:
        revision = {
            "effective": "2026-05-01", "target": 6, "reason": "scope cut", "proposed_by": "1",
            "state": "approved", "decided_by": "9", "decided_at": "2026-05-02",
        }
        g = graph(kr("a", "1", 4, 3, revisions=[revision]))
        traced = evaluate_goals(scheme({"okr": {"goals": "attainment"}}), g, as_of="2026-06-30")
        assert traced.bound("1")[0].value == Decimal("0.5")
        assert "target revised from 2026-05-01: scope cut (by 1, approved by 9)" in traced.explain("1").to_text()


class TestMetricValues:
    def definitions(self) -> MetricDefinitions:
        return MetricDefinitions.from_dict(
            {"perfkit_metrics": 1, "metrics": [
                {"id": "revenue", "kind": "simple", "agg": "sum", "field": "amount", "attribution": {"owner": "owner"}}
            ]}
        )

    def deal(self, record_id: str, day: int, amount: int) -> SourceRecord:
        return SourceRecord.create(
            source="crm", record_id=record_id, entity="opportunity",
            occurred_at=datetime(2026, 5, day, tzinfo=timezone.utc), fields={"owner": "1", "amount": amount},
        )

    def test_a_metric_bound_goal_takes_its_owners_value_up_to_the_date(self) -> None:
        g = graph(
            {"id": "rev", "title": "Revenue", "kind": "key_result", "owner": "person:1", "period": "2026-Q2",
             "metric": "revenue", "target": 1000}
        )
        records = [self.deal("A", 3, 300), self.deal("B", 25, 200)]
        values = metric_values(g, self.definitions(), records, as_of="2026-05-10")
        assert values["rev"].value == Decimal(300)
        assert [r.record_id for r in values["rev"].records()] == ["A"]
        assert g.rollup("2026-05-10", metric_values=values).progress("rev") == Decimal("0.3")
        later = metric_values(g, self.definitions(), records, as_of="2026-06-30")
        assert g.rollup("2026-06-30", metric_values=later)["rev"].value == Decimal(500)

    def test_definitions_must_define_the_metrics_goals_name(self) -> None:
        g = graph(
            {"id": "rev", "title": "Revenue", "kind": "key_result", "owner": "person:1", "period": "2026-Q2",
             "metric": "bookings", "target": 1000}
        )
        with pytest.raises(GoalGraphError, match="rev \\(bookings\\)") as caught:
            metric_values(g, self.definitions(), [], as_of="2026-06-30")
        assert caught.value.goals == ("rev",)

    def test_a_metric_value_for_a_goal_not_bound_to_a_metric_is_refused(self) -> None:
        g = graph(kr("a", "1", 4, 3))
        with pytest.raises(GoalGraphError, match="not bound to a metric"):
            g.rollup("2026-06-30", metric_values={"a": 1})


def test_exact_context_is_used_whatever_the_callers_context() -> None:
    g = graph(kr("a", "1", 3, 1), kr("b", "1", 3, 2))
    with decimal.localcontext() as ctx:
        ctx.prec = 5
        value = personal_attainment(g.rollup("2026-06-30"), "1").value
    with decimal.localcontext(CONTEXT):
        assert value == (Decimal(1) / 3 + Decimal(2) / 3) / 2
