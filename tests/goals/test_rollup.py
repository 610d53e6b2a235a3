"""Rollup (perfkit.goals.rollup): progress as of a date, exact, full or incremental."""

from __future__ import annotations

import datetime
import decimal
from decimal import Decimal
from fractions import Fraction
from typing import Any, ClassVar

import attrs
import pytest
from goals.strategies import AS_OF, as_of_dates, checkin_events, goal_graphs, goal_lists
from hypothesis import given, settings
from hypothesis import strategies as st

from perfkit.errors import GoalGraphError
from perfkit.goals import GoalGraph, GoalProgress, Rollup, attainment
from perfkit.numbers import CONTEXT
from perfkit.periods import Calendar

PROPERTY = settings(max_examples=60, deadline=None)
D = Decimal


def objective(goal_id: str, *parents: Any, **fields: Any) -> dict[str, Any]:
    data = {"id": goal_id, "title": goal_id, "owner": "org", "period": "2026", **fields}
    if parents:
        data["contributes_to"] = list(parents)
    return data


def kr(goal_id: str, *parents: Any, target: object = 100, value: object = None, at: str = "2026-03-01", **fields: Any) -> dict[str, Any]:
    data = objective(goal_id, *parents, kind="key_result", target=target, **fields)
    if value is not None:
        data["checkins"] = [{"at": at, "value": value}]
    return data


def w(parent: str, weight: str) -> dict[str, str]:
    return {"goal": parent, "weight": weight}


def rolled(*goals: dict[str, Any], as_of: Any = "2026-06-30", **kwargs: Any) -> Rollup:
    return GoalGraph.from_goals(goals).rollup(as_of, **kwargs)  # type: ignore[no-any-return]


def exact(numerator: int, denominator: int) -> Decimal:
    """numerator / denominator correctly rounded to the 34 digits of CONTEXT."""
    return CONTEXT.divide(D(numerator), D(denominator))


class TestAttainment:
    @pytest.mark.parametrize(
        ("value", "kwargs", "expected"),
        [
            (30, {"target": 40}, D("0.75")),
            (150, {"target": 100}, D(1)),
            (150, {"target": 100, "cap": D("1.2")}, D("1.2")),
            (110, {"target": 100, "cap": D("1.2")}, D("1.1")),
            (300, {"target": 100, "cap": None}, D(3)),
            (-10, {"target": 100}, D(0)),
            (-10, {"target": 100, "cap": None}, D(0)),
            (60, {"target": 100, "baseline": 50}, D("0.2")),
            (12, {"target": 10, "baseline": 20, "direction": "decrease"}, D("0.8")),
            (5, {"target": 10, "baseline": 20, "direction": "decrease"}, D(1)),
            (25, {"target": 10, "baseline": 20, "direction": "decrease"}, D(0)),
            (99, {"target": 100, "curve": "binary"}, D(0)),
            (100, {"target": 100, "curve": "binary"}, D(1)),
            (250, {"target": 100, "curve": "binary", "cap": None}, D(1)),
            (11, {"target": 10, "baseline": 20, "direction": "decrease", "curve": "binary"}, D(0)),
            (1, {"target": 3}, exact(1, 3)),
        ],
    )
    def test_hand_computed(self, value: int, kwargs: dict[str, Any], expected: Decimal) -> None:
        args = {k: D(v) if isinstance(v, int) else v for k, v in kwargs.items()}
        assert attainment(D(value), **args) == expected  # type: ignore[arg-type]

    def test_ignores_the_callers_context(self, caller_context: decimal.Context) -> None:
        caller_context.prec = 3
        assert attainment(D(1), target=D(3)) == exact(1, 3)


class TestChildren:
    def test_weighted_average_with_weights(self) -> None:
        r = rolled(objective("grow"), kr("a", w("grow", "60%"), value=50), kr("b", w("grow", "40%"), value=25))
        assert r.progress("grow") == D("0.4")
        assert r.contributions("grow") == (("a", D("0.60"), D("0.5")), ("b", D("0.40"), D("0.25")))

    def test_weighted_average_equal_weights(self) -> None:
        r = rolled(objective("grow"), kr("a", "grow", value=50), kr("b", "grow", value=25), kr("c", "grow", value=75))
        assert r.progress("grow") == D("0.5")
        assert [c[1] for c in r.contributions("grow")] == [exact(1, 3)] * 3

    def test_sum_toward_a_target(self) -> None:
        r = rolled(
            objective("revenue", rollup="sum", target=100),
            kr("east", "revenue", target=40, value=30), kr("south", "revenue", target=60, value="25.5"),
            kr("west", "revenue", target=10),
        )
        p = r["revenue"]
        assert (p.value, p.progress, p.target, p.baseline) == (D("55.5"), D("0.555"), D(100), D(0))

    def test_sum_of_sums(self) -> None:
        r = rolled(
            objective("revenue", rollup="sum", target=200),
            objective("east", "revenue", rollup="sum", target=100),
            kr("e1", "east", value=30), kr("e2", "east", value=20), kr("south", "revenue", value=50),
        )
        assert (r["east"].value, r["revenue"].value, r["revenue"].progress) == (D(50), D(100), D("0.5"))

    def test_min(self) -> None:
        r = rolled(objective("grow", rollup="min"), kr("a", "grow", value=50), kr("b", "grow", value=25))
        assert r.progress("grow") == D("0.25")
        assert [c[1] for c in r.contributions("grow")] == [D(1), D(1)]

    def test_formula(self) -> None:
        r = rolled(
            objective("grow", rollup="formula", formula="min(kr_a, kr_b) * 0.5 + kr_c * 0.5"),
            kr("kr_a", "grow", value=50), kr("kr_b", "grow", value=80), kr("kr_c", "grow", value=20),
        )
        assert r.progress("grow") == D("0.35")

    def test_formula_that_fails(self) -> None:
        graph = GoalGraph.from_goals([
            objective("grow", rollup="formula", formula="kr_a / kr_b"), kr("kr_a", "grow", value=5), kr("kr_b", "grow"),
        ])
        with pytest.raises(GoalGraphError, match="formula") as info:
            graph.rollup("2026-06-30")
        assert info.value.goals == ("grow",)

    def test_three_levels(self) -> None:
        r = rolled(
            objective("company"),
            objective("sales", w("company", "75%")), objective("product", w("company", "25%"), rollup="min"),
            kr("east", w("sales", "50%"), value=80), kr("south", w("sales", "50%"), value=40),
            kr("launch", "product", value=100), kr("quality", "product", value=20),
        )
        assert (r.progress("sales"), r.progress("product")) == (D("0.6"), D("0.2"))
        assert r.progress("company") == D("0.5")

    def test_multiple_parents(self) -> None:
        r = rolled(objective("a"), objective("b"), kr("shared", "a", "b", value=30), kr("only_b", "b", value=90))
        assert (r.progress("a"), r.progress("b")) == (D("0.3"), D("0.6"))

    def test_supports_do_not_feed(self) -> None:
        r = rolled(objective("grow"), kr("a", "grow", value=50), kr("b", value=100, supports=["grow"]))
        assert r.progress("grow") == D("0.5")

    def test_no_check_in_is_the_baseline(self) -> None:
        p = rolled(kr("a", target=10, baseline=4))["a"]
        assert (p.value, p.progress, p.baseline, p.checkin) == (None, D(0), D(4), None)

    def test_decrease_and_cap_in_a_goal(self) -> None:
        r = rolled(
            kr("churn", target=2, baseline=10, direction="decrease", value=4),
            kr("stretch", target=100, cap="120%", value=150),
            kr("open", target=100, cap=None, value=150),
            kr("binary", target=100, curve="binary", value=99),
        )
        assert [r.progress(g) for g in ("churn", "stretch", "open", "binary")] == [D("0.75"), D("1.2"), D("1.5"), D(0)]


class TestRounding:
    """Averages are exact up to one rounding: they stay between the children's progress."""

    def test_equal_weights_of_equal_children(self) -> None:
        """Two children at 2/3 average to 2/3 (not below both of them)."""
        r = rolled(objective("grow"), kr("a", "grow", target=3, value=2), kr("b", "grow", target=3, value=2))
        assert r.progress("a") == exact(2, 3)
        assert r.progress("grow") == exact(2, 3)

    def test_scaled_weights_of_full_children(self) -> None:
        """With a 10% child in draft, three 30% children all at 100% give exactly 100%."""
        r = rolled(
            objective("grow"),
            *(kr(f"k{i}", w("grow", "30%"), value=100) for i in range(3)),
            kr("k3", w("grow", "10%"), value=100, status="draft"),
        )
        assert r.progress("grow") == D(1)

    def test_scaled_weights_correctly_rounded(self) -> None:
        """50% at 0.8 and 20% at 0.3, with a 30% draft: (0.4 + 0.06) / 0.7 = 23/35."""
        r = rolled(
            objective("grow"),
            kr("a", w("grow", "50%"), value=80), kr("b", w("grow", "30%"), value=10, status="draft"),
            kr("c", w("grow", "20%"), value=30),
        )
        assert r.progress("grow") == exact(23, 35)


class TestStatus:
    def test_draft_and_archived_left_out_weights_scaled(self) -> None:
        for status in ("draft", "archived"):
            r = rolled(
                objective("grow"),
                kr("a", w("grow", "40%"), value=80), kr("b", w("grow", "20%"), value=10, status=status),
                kr("c", w("grow", "40%"), value=30),
            )
            assert r.progress("grow") == D("0.55")
            assert r.contributions("grow") == (("a", D("0.5"), D("0.8")), ("b", D(0), D("0.1")), ("c", D("0.5"), D("0.3")))
            assert (r["b"].status, r["b"].counted, r["b"].progress) == (status, False, D("0.1"))

    def test_left_out_of_equal_weights_min_and_sum(self) -> None:
        for rollup, expected in (("weighted_average", D("0.5")), ("min", D("0.2"))):
            r = rolled(objective("grow", rollup=rollup), kr("a", "grow", value=80), kr("b", "grow", value=20),
                       kr("c", "grow", value=0, status="draft"))
            assert r.progress("grow") == expected
        r = rolled(objective("grow", rollup="sum", target=200), kr("a", "grow", value=80), kr("b", "grow", value=20),
                   kr("c", "grow", value=100, status="archived"))
        assert (r["grow"].value, r.progress("grow")) == (D(100), D("0.5"))

    def test_closed_counts(self) -> None:
        r = rolled(objective("grow"), kr("a", "grow", value=80, status="closed"), kr("b", "grow", value=20))
        assert (r["a"].status, r["a"].counted, r.progress("grow")) == ("closed", True, D("0.5"))

    def test_closed_keeps_its_last_value_after_its_end(self) -> None:
        r = rolled(objective("grow"), kr("a", "grow", value=80, period="2026-Q1", status="closed"), as_of="2026-12-31")
        assert (r["a"].status, r["a"].value, r.progress("grow")) == ("closed", D(80), D("0.8"))

    def test_active_past_its_end_is_expired_and_counts(self) -> None:
        graph = GoalGraph.from_goals([objective("grow"), kr("a", "grow", value=80, period="2026-Q1"), kr("b", "grow", value=20)])
        before, last_day, after = (graph.rollup(d) for d in ("2026-03-30", "2026-03-31", "2026-04-01"))
        assert (before.status("a"), last_day.status("a"), after.status("a")) == ("active", "active", "expired")
        assert (after["a"].counted, after.progress("grow")) == (True, D("0.5"))
        assert after.status("grow") == "active"

    def test_expired_at_a_time(self) -> None:
        graph = GoalGraph.from_goals([kr("a", period="2026-Q1")], calendar=Calendar(tz="Asia/Shanghai"))
        end = datetime.datetime(2026, 3, 31, 16, tzinfo=datetime.timezone.utc)  # 2026-04-01 00:00 in Shanghai
        assert graph.rollup(end - datetime.timedelta(seconds=1)).status("a") == "active"
        assert graph.rollup(end).status("a") == "expired"

    def test_all_children_left_out(self) -> None:
        """A parent whose children are all left out has no progress and is left out above."""
        r = rolled(
            objective("root"),
            objective("empty", w("root", "70%")), kr("x", w("root", "30%"), value=40),
            kr("d", "empty", value=90, status="draft"), kr("a", "empty", value=90, status="archived"),
        )
        assert (r.progress("empty"), r["empty"].counted, r["empty"].percent) == (None, False, "-")
        assert r.progress("root") == D("0.4")
        assert r.contributions("root") == (("empty", D(0), None), ("x", D(1), D("0.4")))

    def test_all_children_left_out_of_a_sum(self) -> None:
        """The same holds for a sum: no progress (not 0), and no value."""
        r = rolled(
            objective("root"),
            objective("revenue", "root", rollup="sum", target=100), kr("x", "root", value=40),
            kr("d", "revenue", value=90, status="draft"),
        )
        assert (r["revenue"].progress, r["revenue"].value, r["revenue"].counted) == (None, None, False)
        assert r.progress("root") == D("0.4")

    def test_draft_parent_left_out(self) -> None:
        r = rolled(objective("root"), objective("mid", "root", status="draft"), kr("a", "mid", value=20), kr("b", "root", value=60))
        assert (r.progress("mid"), r["mid"].counted, r.progress("root")) == (D("0.2"), False, D("0.6"))

    def test_no_children_at_all(self) -> None:
        p = rolled(objective("lonely"))["lonely"]
        assert (p.progress, p.counted, p.value) == (None, False, None)

    def test_zero_weight_left_alone(self) -> None:
        """The only counted child has weight 0% (the 100% one is a draft): scaling 0 to 100%
        is impossible, so the parent has no progress, or the rollup is refused with a
        GoalGraphError naming it; never a raw decimal error."""
        graph = GoalGraph.from_goals([
            objective("grow"), kr("a", w("grow", "0%"), value=50), kr("b", w("grow", "100%"), value=50, status="draft"),
        ])
        try:
            r = graph.rollup("2026-06-30")
        except GoalGraphError as exc:
            assert "grow" in exc.goals
        else:
            assert r.progress("grow") is None


class TestTargetsInForce:
    REVISED = kr(
        "east", target=100, value=100, at="2026-06-01",
        revisions=[{"effective": "2026-07-01", "target": 200, "reason": "market", "proposed_by": "2001",
                    "state": "approved", "decided_by": "1001", "decided_at": "2026-07-10"}],
    )

    @pytest.mark.parametrize(
        ("as_of", "target", "progress"),
        [("2026-06-30", 100, D(1)), ("2026-07-05", 100, D(1)), ("2026-07-09", 100, D(1)), ("2026-07-10", 200, D("0.5")), ("2026-12-31", 200, D("0.5"))],
    )
    def test_from_the_later_of_effective_and_decided(self, as_of: str, target: int, progress: Decimal) -> None:
        p = rolled(self.REVISED, as_of=as_of)["east"]
        assert (p.target, p.progress) == (D(target), progress)
        assert (p.revision is None) == (target == 100)

    def test_decided_before_effective(self) -> None:
        graph = GoalGraph.from_goals([kr("east", target=100, value=50)])
        graph = graph.propose("east", target=200, effective="2026-07-01", reason="market", proposed_by="2001")
        assert graph.rollup("2026-12-31")["east"].target == D(100)
        approved = graph.approve("east", by="1001", at="2026-06-20")
        assert approved.rollup("2026-06-30")["east"].target == D(100)
        assert approved.rollup("2026-07-01")["east"].target == D(200)
        assert approved.rollup("2026-07-01")["east"].revision == approved["east"].revisions[0]
        rejected = graph.reject("east", by="1001", at="2026-06-20")
        assert rejected.rollup("2026-12-31")["east"].target == D(100)

    def test_decided_at_a_time(self) -> None:
        graph = GoalGraph.from_goals([kr("east", target=100, value=50)])
        graph = graph.propose("east", target=200, effective="2026-07-01", reason="market", proposed_by="2001")
        graph = graph.approve("east", by="1001", at="2026-07-02T15:00+00:00")
        assert graph.rollup("2026-07-02T14:59+00:00")["east"].target == D(100)
        assert graph.rollup("2026-07-02T15:00+00:00")["east"].target == D(200)
        assert graph.rollup(datetime.date(2026, 7, 2))["east"].target == D(200)

    def test_proposed_and_rejected_never_apply(self) -> None:
        revisions = [
            {"effective": "2026-02-01", "target": 50, "reason": "a", "proposed_by": "1"},
            {"effective": "2026-02-01", "target": 70, "reason": "b", "proposed_by": "1", "state": "rejected",
             "decided_by": "2", "decided_at": "2026-02-01"},
        ]
        p = rolled(kr("east", target=100, value=50, revisions=revisions), as_of="2026-12-31")["east"]
        assert (p.target, p.progress, p.revision) == (D(100), D("0.5"), None)

    def test_latest_approved_applies_and_baselines_carry(self) -> None:
        revisions = [
            {"effective": "2026-03-01", "target": 80, "baseline": 20, "reason": "a", "proposed_by": "1",
             "state": "approved", "decided_by": "2"},
            {"effective": "2026-05-01", "target": 60, "reason": "b", "proposed_by": "1",
             "state": "approved", "decided_by": "2", "decided_at": "2026-04-01"},
        ]
        graph = GoalGraph.from_goals([kr("east", target=100, value=50, revisions=revisions)])
        expected = {"2026-02-28": (100, 0), "2026-03-01": (80, 20), "2026-04-30": (80, 20), "2026-05-01": (60, 20)}
        for as_of, (target, baseline) in expected.items():
            p = graph.rollup(as_of)["east"]
            assert (p.target, p.baseline) == (D(target), D(baseline)), as_of
        assert graph.rollup("2026-05-01").progress("east") == D("0.75")

    def test_history_keeps_every_revision(self) -> None:
        graph = GoalGraph.from_goals([kr("east", target=100)])
        graph = graph.propose("east", target=200, effective="2026-07-01", reason="up", proposed_by="2001")
        graph = graph.reject("east", by="1001", at="2026-06-20")
        graph = graph.propose("east", target=150, effective="2026-07-01", reason="less", proposed_by="2001")
        graph = graph.approve("east", by="1001", at="2026-06-25")
        revisions = [e for e in graph.history("east") if e["event"] == "revision"]
        assert [(e["target"], e["state"]) for e in revisions] == [("200", "rejected"), ("150", "approved")]
        assert graph.rollup("2026-07-01")["east"].target == D(150)

    def test_sum_parent_target_revised(self) -> None:
        revisions = [{"effective": "2026-07-01", "target": 50, "reason": "r", "proposed_by": "1",
                      "state": "approved", "decided_by": "2", "decided_at": "2026-06-01"}]
        graph = GoalGraph.from_goals([objective("revenue", rollup="sum", target=100, revisions=revisions), kr("a", "revenue", value=25)])
        assert graph.rollup("2026-06-30").progress("revenue") == D("0.25")
        assert graph.rollup("2026-07-01").progress("revenue") == D("0.5")


class TestCheckins:
    def test_latest_at_or_before_the_date(self) -> None:
        checkins = [{"at": "2026-05-01", "value": 50}, {"at": "2026-02-01", "value": 20}, {"at": "2026-08-01", "value": 90}]
        graph = GoalGraph.from_goals([kr("a", checkins=checkins)])
        assert [graph.rollup(d)["a"].value for d in ("2026-01-31", "2026-02-01", "2026-07-31", "2026-08-01")] == [
            None, D(20), D(50), D(90)]
        assert graph.rollup("2026-07-31")["a"].checkin == graph["a"].checkins[0]

    def test_same_day_the_later_listed_wins(self) -> None:
        checkins = [{"at": "2026-05-01", "value": 50}, {"at": "2026-05-01", "value": 40}]
        assert rolled(kr("a", checkins=checkins))["a"].value == D(40)

    def test_times_order_not_listing(self) -> None:
        checkins = [{"at": "2026-05-01T18:00+00:00", "value": 50}, {"at": "2026-05-01T09:00+00:00", "value": 40}]
        graph = GoalGraph.from_goals([kr("a", checkins=checkins)])
        assert graph.rollup("2026-05-01")["a"].value == D(50)
        assert graph.rollup("2026-05-01T12:00+00:00")["a"].value == D(40)

    def test_a_date_is_the_whole_day_in_the_calendar(self) -> None:
        checkins = [{"at": "2026-05-01T23:30+08:00", "value": 50}]
        shanghai = GoalGraph.from_goals([kr("a", checkins=checkins)], calendar=Calendar(tz="Asia/Shanghai"))
        assert shanghai.rollup("2026-05-01")["a"].value == D(50)
        utc = GoalGraph.from_goals([kr("a", checkins=checkins)])
        assert utc.rollup("2026-05-01")["a"].value == D(50)
        early = [{"at": "2026-05-02T06:00+08:00", "value": 50}]  # 2026-05-01 22:00 UTC
        assert GoalGraph.from_goals([kr("a", checkins=early)]).rollup("2026-05-01")["a"].value == D(50)
        assert GoalGraph.from_goals([kr("a", checkins=early)], calendar=Calendar(tz="Asia/Shanghai")).rollup(
            "2026-05-01")["a"].value is None


class TestMetricValues:
    GOALS: ClassVar[list[dict[str, Any]]] = [objective("grow"), kr("sales", "grow", owner="person:1001", metric="revenue"), kr("b", "grow", value=20)]

    def test_values(self) -> None:
        r = GoalGraph.from_goals(self.GOALS).rollup("2026-06-30", metric_values={"sales": "40"})
        assert (r["sales"].value, r.progress("sales"), r.progress("grow")) == (D(40), D("0.4"), D("0.3"))

    def test_metric_value_objects(self) -> None:
        @attrs.frozen
        class Value:
            value: Decimal | None

        graph = GoalGraph.from_goals(self.GOALS)
        assert graph.rollup("2026-06-30", metric_values={"sales": Value(D("60"))}).progress("sales") == D("0.6")
        assert graph.rollup("2026-06-30", metric_values={"sales": Value(None)})["sales"].value is None

    def test_missing_is_no_value(self) -> None:
        p = GoalGraph.from_goals(self.GOALS).rollup("2026-06-30")["sales"]
        assert (p.value, p.progress) == (None, D(0))

    @pytest.mark.parametrize(("values", "goal"), [({"b": 5}, "b"), ({"sales": "lots"}, "sales"), ({"salse": 5}, "salse")])
    def test_bad_values(self, values: dict[str, object], goal: str) -> None:
        with pytest.raises(GoalGraphError) as info:
            GoalGraph.from_goals(self.GOALS).rollup("2026-06-30", metric_values=values)
        assert info.value.goals == (goal,)

    def test_float_read_through_its_repr(self) -> None:
        r = GoalGraph.from_goals(self.GOALS).rollup("2026-06-30", metric_values={"sales": 0.1})
        assert r["sales"].value == D("0.1")


class TestReadingARollup:
    @pytest.fixture
    def rollup(self) -> Rollup:
        return rolled(objective("grow"), kr("a", w("grow", "60%"), value=50), kr("b", w("grow", "40%"), value="12.345"))

    def test_progress_record(self, rollup: Rollup) -> None:
        p = rollup["a"]
        assert isinstance(p, GoalProgress)
        assert (p.goal, p.status, p.counted, p.progress, p.value, p.target, p.baseline) == ("a", "active", True, D("0.5"), D(50), D(100), D(0))
        assert p.checkin is not None and p.checkin.value == D(50)
        assert (rollup["grow"].value, rollup["grow"].baseline) == (None, None)

    def test_percent(self, rollup: Rollup) -> None:
        assert (rollup["a"].percent, rollup["b"].percent, rollup["grow"].percent) == ("50.0%", "12.3%", "34.9%")

    def test_to_rows_and_dict(self, rollup: Rollup) -> None:
        rows = rollup.to_rows()
        assert [r["goal"] for r in rows] == ["grow", "a", "b"]
        assert rows[1] == {"goal": "a", "title": "a", "owner": "org", "status": "active", "counted": True,
                           "progress": "0.5", "value": "50", "target": "100", "baseline": "0"}
        assert rollup["a"].to_dict()["checkin"] == {"at": "2026-03-01", "value": "50"}

    def test_iteration_and_lookup(self, rollup: Rollup) -> None:
        assert [p.goal for p in rollup] == ["grow", "a", "b"] and len(rollup) == 3
        assert rollup.as_of == "2026-06-30" and rollup.graph["a"].id == "a"
        with pytest.raises(GoalGraphError, match="did you mean 'grow'") as info:
            rollup["grwo"]
        assert info.value.goals == ("grwo",)

    def test_cannot_be_mutated(self, rollup: Rollup) -> None:
        with pytest.raises(AttributeError):
            rollup.as_of = "2027-01-01"
        with pytest.raises(AttributeError):
            rollup._state = []
        with pytest.raises(attrs.exceptions.FrozenInstanceError):
            rollup["a"].progress = D(1)  # type: ignore[misc]
        with pytest.raises(TypeError):
            Rollup()
        assert rollup.as_of == "2026-06-30" and rollup.progress("a") == D("0.5")

    def test_with_checkin_leaves_the_old_rollup(self, rollup: Rollup) -> None:
        newer = rollup.with_checkin("a", 100, at="2026-06-01")
        assert (newer.progress("a"), newer.progress("grow")) == (D(1), D("0.64938"))
        assert (rollup.progress("a"), rollup.progress("grow")) == (D("0.5"), D("0.34938"))
        assert rollup.graph["a"].checkins == newer.graph["a"].checkins

    def test_with_checkin_older_changes_nothing(self, rollup: Rollup) -> None:
        older = rollup.with_checkin("a", 100, at="2026-01-01")
        assert older.to_rows() == rollup.to_rows()

    def test_with_checkin_refusals(self, rollup: Rollup) -> None:
        with pytest.raises(GoalGraphError, match="after the rollup's date") as info:
            rollup.with_checkin("a", 1, at="2026-07-01")
        assert info.value.goals == ("a",)
        with pytest.raises(GoalGraphError, match="not from check-ins") as info:
            rollup.with_checkin("grow", 1, at="2026-06-01")
        assert info.value.goals == ("grow",)

    @pytest.mark.parametrize(("value", "at"), [("abc", "2026-06-01"), (1, datetime.datetime(2026, 6, 1, 10)), (1, "soon"), (True, "2026-06-01")])
    def test_with_checkin_bad_input(self, rollup: Rollup, value: object, at: Any) -> None:
        """Bad values and times are GoalGraphErrors naming the goal, like graph.check_in's."""
        with pytest.raises(GoalGraphError) as info:
            rollup.with_checkin("a", value, at=at)
        assert info.value.goals == ("a",)

    def test_as_of_in_any_form(self) -> None:
        graph = GoalGraph.from_goals([kr("a", value=50, at="2026-03-01")])
        forms: list[str | datetime.date] = [
            "2026-03-01", datetime.date(2026, 3, 1), datetime.datetime(2026, 3, 1, 12, tzinfo=datetime.timezone.utc)]
        assert {graph.rollup(f).progress("a") for f in forms} == {D("0.5")}
        with pytest.raises(GoalGraphError, match="time zone"):
            graph.rollup(datetime.datetime(2026, 3, 1, 12))

    def test_caller_context_does_not_matter(self, caller_context: decimal.Context) -> None:
        caller_context.prec = 2
        caller_context.rounding = decimal.ROUND_DOWN
        r = rolled(objective("grow"), kr("a", "grow", target=3, value=1), kr("b", "grow", target=3, value=1))
        assert r.progress("a") == exact(1, 3)


# -- a reference rollup, with fractions --------------------------------------------------------


def _reference(graph: GoalGraph, as_of: datetime.date) -> dict[str, tuple[str, bool, Fraction | None, Fraction | None, Fraction | None]]:
    """(status, counted, progress, value, target) for every goal, computed from the
    documented rules with exact fractions and no rounding at all."""
    cutoff = graph.cutoff(as_of)
    result: dict[str, tuple[str, bool, Fraction | None, Fraction | None, Fraction | None]] = {}

    def frac(x: Decimal | None) -> Fraction | None:
        return None if x is None else Fraction(x)

    def attain(value: Fraction, goal: Any, target: Fraction, baseline: Fraction) -> Fraction:
        raw = (baseline - value) / (baseline - target) if goal.direction == "decrease" else (value - baseline) / (target - baseline)
        if goal.curve == "binary":
            return Fraction(1) if raw >= 1 else Fraction(0)
        raw = max(raw, Fraction(0))
        return raw if goal.cap is None else min(raw, Fraction(goal.cap))

    def visit(goal_id: str) -> tuple[str, bool, Fraction | None, Fraction | None, Fraction | None]:
        if goal_id in result:
            return result[goal_id]
        goal = graph[goal_id]
        status = "expired" if goal.status == "active" and cutoff > graph.period(goal_id).end else goal.status
        target, baseline = frac(goal.target), Fraction(goal.baseline)
        approved = sorted(
            ((max(graph.instant(r.effective), graph.instant(r.decided_at or r.effective)), n, r)
             for n, r in enumerate(goal.revisions) if r.state == "approved"),
            key=lambda t: (t[0], t[1]),
        )
        for applies, _, revision in approved:
            if applies < cutoff:
                target = Fraction(revision.target)
                baseline = baseline if revision.baseline is None else Fraction(revision.baseline)
        progress: Fraction | None
        value: Fraction | None = None
        if goal.mode == "checkins":
            seen = [(graph.instant(c.at), n, c) for n, c in enumerate(goal.checkins) if graph.instant(c.at) < cutoff]
            if seen:
                value = Fraction(max(seen, key=lambda t: (t[0], t[1]))[2].value)
            assert target is not None
            progress = Fraction(0) if value is None else attain(value, goal, target, baseline)
            counted = goal.status in ("active", "closed")
        else:
            kids = [(c, visit(c)) for c in graph.children(goal_id)]
            kids = [(c, state) for c, state in kids if state[1]]
            counted = goal.status in ("active", "closed") and bool(kids)
            if not kids:
                progress = None
            elif goal.rollup == "min":
                progress = min(_known(state[2]) for _, state in kids)
            elif goal.rollup == "sum":
                value = sum((state[3] for _, state in kids if state[3] is not None), Fraction(0))
                assert target is not None
                progress = attain(value, goal, target, baseline)
            else:
                weights = [graph.nx.edges[c, goal_id]["weight"] for c, _ in kids]
                shares = [Fraction(1)] * len(kids) if weights[0] is None else [Fraction(x) for x in weights]
                progress = sum((s * _known(state[2]) for s, (_, state) in zip(shares, kids)), Fraction(0)) / sum(shares)
        result[goal_id] = (status, counted, progress, value, target)
        return result[goal_id]

    for goal_id in graph.ids:
        visit(goal_id)
    return result


def _known(value: Fraction | None) -> Fraction:
    assert value is not None
    return value


def _close(actual: Decimal | None, expected: Fraction | None) -> bool:
    if actual is None or expected is None:
        return actual is None and expected is None
    return abs(Fraction(actual) - expected) <= Fraction(1, 10**30) * max(Fraction(1), abs(expected))


def _state(rollup: Rollup, goal_id: str) -> tuple[Any, ...]:
    p = rollup[goal_id]
    return (p.status, p.counted, p.progress, p.value, p.target, p.baseline, p.checkin, p.revision)


class TestProperties:
    @PROPERTY
    @given(goal_graphs(calendars=True), as_of_dates())
    def test_matches_the_reference(self, graph: GoalGraph, as_of: datetime.date) -> None:
        """Every goal's status, counted flag, progress, value and target agree with a
        reference rollup in exact fractions (to 30 digits; values exactly)."""
        rollup = graph.rollup(as_of)
        for goal_id, (status, counted, progress, value, target) in _reference(graph, as_of).items():
            p = rollup[goal_id]
            assert (p.status, p.counted) == (status, counted), goal_id
            assert _close(p.progress, progress), (goal_id, p.progress, progress)
            assert (p.value is None and value is None) or Fraction(p.value) == value, goal_id
            if graph[goal_id].mode != "children" or graph[goal_id].rollup == "sum":
                assert target is not None and p.target is not None and Fraction(p.target) == target, goal_id

    @PROPERTY
    @given(st.data())
    def test_full_equals_incremental(self, data: st.DataObject) -> None:
        """A chain of with_checkin gives what graph.check_in then a full rollup gives."""
        graph = data.draw(goal_graphs(calendars=True))
        as_of = data.draw(as_of_dates())
        events = data.draw(checkin_events(graph, as_of))
        rollup = graph.rollup(as_of)
        for goal_id, value, day in events:
            rollup = rollup.with_checkin(goal_id, value, at=day)
            graph = graph.check_in(goal_id, value, at=day)
            full = graph.rollup(as_of)
            for other in graph.ids:
                assert _state(rollup, other) == _state(full, other), other

    @PROPERTY
    @given(st.data())
    def test_order_of_the_goals_does_not_matter(self, data: st.DataObject) -> None:
        goals = data.draw(goal_lists())
        shuffled = data.draw(st.permutations(goals))
        as_of = data.draw(as_of_dates())
        a = GoalGraph.from_goals(goals).rollup(as_of)
        b = GoalGraph.from_goals(shuffled).rollup(as_of)
        assert {row["goal"]: row for row in a.to_rows()} == {row["goal"]: row for row in b.to_rows()}

    @PROPERTY
    @given(goal_graphs(), as_of_dates())
    def test_weighted_average_between_its_children(self, graph: GoalGraph, as_of: datetime.date) -> None:
        rollup = graph.rollup(as_of)
        for goal in graph.goals:
            progress = rollup.progress(goal.id)
            if goal.mode != "children" or goal.rollup not in ("weighted_average", "min") or progress is None:
                continue
            kids = [rollup.progress(c) for c in graph.children(goal.id) if rollup[c].counted]
            assert kids and all(k is not None for k in kids)
            assert min(kids) <= progress <= max(kids), (goal.id, kids, progress)
            if goal.rollup == "min":
                assert progress == min(kids)

    @PROPERTY
    @given(goal_graphs(), as_of_dates())
    def test_sum_is_exact(self, graph: GoalGraph, as_of: datetime.date) -> None:
        """A sum's value is the exact sum of its counted children's latest values."""
        rollup = graph.rollup(as_of)
        for goal in graph.goals:
            if goal.mode != "children" or goal.rollup != "sum" or not rollup[goal.id].counted:
                continue
            values = [rollup[c].value for c in graph.children(goal.id) if rollup[c].counted]
            expected = sum((Fraction(v) for v in values if v is not None), Fraction(0))
            assert Fraction(rollup[goal.id].value) == expected

    @settings(max_examples=30, deadline=None)
    @given(goal_graphs())
    def test_whole_year_rollups_are_decimal(self, graph: GoalGraph) -> None:
        for p in graph.rollup(AS_OF):
            for number in (p.progress, p.value, p.target, p.baseline):
                assert number is None or isinstance(number, Decimal)
