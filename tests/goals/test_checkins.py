"""Check-ins: due dates from a schedule, the report for a date, escalation, on-time rates."""

from __future__ import annotations

import datetime
import json
from decimal import Decimal
from fractions import Fraction
from typing import Any

import networkx as nx
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from perfkit._text import display_width
from perfkit.errors import GoalGraphError
from perfkit.goals import GoalGraph
from perfkit.goals.checkins import checkin_report, due_dates, on_time_rates, on_time_rows
from perfkit.numbers import CONTEXT
from perfkit.org import Roster

D = datetime.date


def kr(goal_id: str = "kr", *, owner: str = "person:1001", period: str = "2026-Q1", **fields: Any) -> dict[str, Any]:
    """A key result measured by check-ins, every two weeks unless ``checkin`` says otherwise."""
    checkins = fields.pop("checkins", [])
    goal: dict[str, Any] = {
        "id": goal_id,
        "title": fields.pop("title", "Calls"),
        "kind": "key_result",
        "owner": owner,
        "period": period,
        "target": 100,
        "checkin": {"every": "2 weeks"},
        "checkins": [c if isinstance(c, dict) else {"at": c, "value": 1} for c in checkins],
    }
    goal.update(fields)
    return goal


def graph_of(*goals: dict[str, Any], tz: str = "UTC") -> GoalGraph:
    return GoalGraph.from_dict({"perfkit_goals": 1, "calendar": {"tz": tz}, "goals": list(goals)})


BIWEEKLY_Q1 = [D(2026, 1, 15), D(2026, 1, 29), D(2026, 2, 12), D(2026, 2, 26), D(2026, 3, 12), D(2026, 3, 26)]


class TestDueDates:
    def test_two_week_cadence_from_the_period_start_up_to_its_last_day(self) -> None:
        dues = due_dates(graph_of(kr()), "kr")
        assert [d.due for d in dues] == BIWEEKLY_Q1
        assert dues[0].opens == D(2026, 1, 1) and dues[1].opens == D(2026, 1, 15)

    def test_monthly_cadence_clamps_to_month_ends_and_keeps_the_start_day(self) -> None:
        goal = kr(period="2026-H1", checkin={"every": "1 month", "start": "2026-01-31"})
        dues = [d.due for d in due_dates(graph_of(goal), "kr")]
        assert dues == [D(2026, 2, 28), D(2026, 3, 31), D(2026, 4, 30), D(2026, 5, 31), D(2026, 6, 30)]

    def test_monthly_cadence_in_a_leap_year(self) -> None:
        goal = kr(period="2028-Q1", checkin={"every": "1 month", "start": "2028-01-30"})
        assert [d.due for d in due_dates(graph_of(goal), "kr")] == [D(2028, 2, 29), D(2028, 3, 30)]

    def test_an_explicit_start_shifts_every_due_date(self) -> None:
        goal = kr(checkin={"every": "10 days", "start": "2026-03-05"})
        assert [d.due for d in due_dates(graph_of(goal), "kr")] == [D(2026, 3, 15), D(2026, 3, 25)]

    def test_grace_days_close_the_window_later(self) -> None:
        dues = due_dates(graph_of(kr(checkin={"every": "2 weeks", "grace_days": 2})), "kr")
        assert (dues[0].due, dues[0].closes) == (D(2026, 1, 15), D(2026, 1, 17))

    def test_a_check_in_within_the_window_meets_the_due_date(self) -> None:
        dues = due_dates(graph_of(kr(checkins=["2026-01-10"])), "kr")
        assert dues[0].on_time and dues[0].checked_in == D(2026, 1, 10)
        assert not any(d.on_time for d in dues[1:])

    def test_a_check_in_within_grace_meets_the_missed_due_date_not_the_next(self) -> None:
        goal = kr(checkin={"every": "2 weeks", "grace_days": 2}, checkins=["2026-01-17"])
        dues = due_dates(graph_of(goal), "kr")
        assert dues[0].checked_in == D(2026, 1, 17)
        assert not dues[1].on_time

    def test_a_check_in_after_the_grace_counts_for_the_next_window(self) -> None:
        goal = kr(checkin={"every": "2 weeks", "grace_days": 2}, checkins=["2026-01-18"])
        dues = due_dates(graph_of(goal), "kr")
        assert not dues[0].on_time
        assert dues[1].checked_in == D(2026, 1, 18)

    def test_one_check_in_meets_one_due_date_only(self) -> None:
        goal = kr(checkin={"every": "2 weeks", "grace_days": 3}, checkins=["2026-01-14", "2026-01-16"])
        dues = due_dates(graph_of(goal), "kr")
        assert [d.checked_in for d in dues[:2]] == [D(2026, 1, 14), D(2026, 1, 16)]

    def test_a_second_check_in_in_the_same_window_is_not_carried_forward(self) -> None:
        dues = due_dates(graph_of(kr(checkins=["2026-01-05", "2026-01-10"])), "kr")
        assert dues[0].checked_in == D(2026, 1, 5)
        assert not dues[1].on_time

    def test_a_check_in_on_the_start_day_meets_nothing(self) -> None:
        dues = due_dates(graph_of(kr(checkins=["2026-01-01"])), "kr")
        assert not any(d.on_time for d in dues)

    def test_check_ins_are_compared_by_their_local_date(self) -> None:
        # 20:00 UTC on 15 January is 04:00 on the 16th in Shanghai: a day late.
        goal = kr(checkins=[{"at": "2026-01-15T20:00:00+00:00", "value": 1}])
        assert due_dates(graph_of(goal, tz="UTC"), "kr")[0].on_time
        assert not due_dates(graph_of(goal, tz="Asia/Shanghai"), "kr")[0].on_time

    def test_as_of_leaves_later_check_ins_out(self) -> None:
        graph = graph_of(kr(checkins=["2026-01-10"]))
        assert not due_dates(graph, "kr", as_of="2026-01-09")[0].on_time
        assert due_dates(graph, "kr", as_of=D(2026, 1, 10))[0].on_time

    def test_a_goal_without_a_schedule_has_no_due_dates(self) -> None:
        assert due_dates(graph_of(kr(checkin=None)), "kr") == ()

    def test_a_start_outside_the_period_is_refused_with_the_graph(self) -> None:
        with pytest.raises(GoalGraphError, match="starts 2026-04-01, outside the period 2026-Q1") as caught:
            graph_of(kr(checkin={"every": "2 weeks", "start": "2026-04-01"}))
        assert caught.value.goals == ("kr",)
        assert caught.value.path == "goals[0].checkin.start"

    def test_a_schedule_on_a_goal_rolled_up_from_children_is_refused_with_the_graph(self) -> None:
        parent = {"id": "obj", "title": "Grow", "owner": "org", "period": "2026-Q1", "checkin": {"every": "1 month"}}
        with pytest.raises(GoalGraphError, match="has no check-in schedule") as caught:
            graph_of(parent, kr(contributes_to=["obj"]))
        assert caught.value.goals == ("obj",)


class TestCheckinReportStates:
    def test_on_track_after_a_met_due_date(self) -> None:
        entry = checkin_report(graph_of(kr(checkins=["2026-01-14"])), "2026-01-20")["kr"]
        assert entry.state == "on_track"
        assert (entry.overdue, entry.stale, entry.due_soon) == (False, False, False)
        assert entry.next_due == D(2026, 1, 29) and entry.days_to_due == 9

    def test_due_soon_within_due_soon_days(self) -> None:
        graph = graph_of(kr())
        assert checkin_report(graph, "2026-01-11")["kr"].state == "on_track"
        entry = checkin_report(graph, "2026-01-12")["kr"]
        assert entry.state == "due_soon" and entry.days_to_due == 3

    def test_a_met_due_date_is_not_due_soon(self) -> None:
        entry = checkin_report(graph_of(kr(checkins=["2026-01-12"])), "2026-01-14")["kr"]
        assert not entry.due_soon and entry.next_due == D(2026, 1, 29)

    def test_within_grace_a_missed_due_date_is_due_not_overdue(self) -> None:
        graph = graph_of(kr(checkin={"every": "2 weeks", "grace_days": 2}))
        entry = checkin_report(graph, "2026-01-17")["kr"]
        assert entry.due_soon and not entry.overdue
        assert (entry.next_due, entry.days_to_due) == (D(2026, 1, 15), -2)

    def test_overdue_once_the_grace_has_passed(self) -> None:
        entry = checkin_report(graph_of(kr(checkin={"every": "2 weeks", "grace_days": 2})), "2026-01-18")["kr"]
        assert entry.state == "overdue"
        assert (entry.missed_due, entry.days_overdue) == (D(2026, 1, 15), 3)
        assert entry.next_due == D(2026, 1, 29)

    def test_a_late_check_in_clears_overdue_but_stays_a_miss(self) -> None:
        graph = graph_of(kr(checkin={"every": "2 weeks", "grace_days": 2}, checkins=["2026-01-19"]))
        assert not checkin_report(graph, "2026-01-20")["kr"].overdue
        rate = on_time_rates(graph, as_of="2026-02-01")["1001"]
        assert [(d.due, d.on_time) for d in rate.details] == [(D(2026, 1, 15), False), (D(2026, 1, 29), True)]

    def test_only_the_latest_passed_due_date_decides_overdue(self) -> None:
        # 15 January was missed; the check-in of 20 January met 29 January.
        entry = checkin_report(graph_of(kr(checkins=["2026-01-20"])), "2026-02-02")["kr"]
        assert not entry.overdue and entry.state == "on_track"

    def test_stale_by_default_after_twice_the_cadence(self) -> None:
        graph = graph_of(kr(checkin={"every": "2 weeks", "grace_days": 20}, checkins=["2026-01-05"]))
        assert not checkin_report(graph, "2026-02-02")["kr"].stale  # 28 quiet days
        entry = checkin_report(graph, "2026-02-03")["kr"]
        assert entry.stale and entry.quiet_days == 29 and entry.last_checkin == D(2026, 1, 5)

    def test_stale_counts_from_the_schedule_start_without_check_ins(self) -> None:
        graph = graph_of(
            kr(checkin={"every": "1 week", "start": "2026-02-01", "grace_days": 30}, checkins=["2026-01-20"])
        )
        assert checkin_report(graph, "2026-02-15")["kr"].quiet_days == 14
        assert checkin_report(graph, "2026-02-16")["kr"].stale

    def test_stale_with_a_monthly_cadence_counts_months_as_31_days(self) -> None:
        graph = graph_of(kr(period="2026-H1", checkin={"every": "1 month", "grace_days": 40}))
        assert not checkin_report(graph, "2026-03-04")["kr"].stale  # 62 days
        assert checkin_report(graph, "2026-03-05")["kr"].stale

    def test_stale_without_overdue(self) -> None:
        goal = kr(checkin={"every": "2 weeks", "stale_after_days": 5}, checkins=["2026-01-10"])
        entry = checkin_report(graph_of(goal), "2026-01-16")["kr"]
        assert entry.state == "stale" and not entry.overdue and not entry.due_soon

    def test_overdue_and_stale_at_once(self) -> None:
        entry = checkin_report(graph_of(kr()), "2026-01-30")["kr"]
        assert entry.overdue and entry.stale and entry.state == "overdue"
        assert (entry.missed_due, entry.days_overdue, entry.quiet_days) == (D(2026, 1, 29), 1, 29)

    def test_overdue_with_the_next_due_date_coming_up(self) -> None:
        entry = checkin_report(graph_of(kr()), "2026-01-27")["kr"]
        assert entry.overdue and entry.due_soon and entry.state == "overdue"

    def test_after_the_period_a_missed_last_due_date_stays_overdue(self) -> None:
        entry = checkin_report(graph_of(kr(checkins=["2026-03-10"])), "2026-04-10")["kr"]
        assert (entry.missed_due, entry.days_overdue) == (D(2026, 3, 26), 15)
        assert entry.next_due is None and not entry.due_soon
        assert entry.quiet_days == 21  # counted up to 31 March, the period's last day

    def test_before_the_schedule_starts_nothing_is_due(self) -> None:
        entry = checkin_report(graph_of(kr(period="2026-Q2")), "2026-03-01")["kr"]
        assert entry.state == "on_track" and entry.quiet_days == 0

    def test_only_active_goals_with_a_schedule_are_listed(self) -> None:
        graph = graph_of(
            kr("a-draft", status="draft"),
            kr("b-closed", status="closed"),
            kr("c-archived", status="archived"),
            kr("d-none", checkin=None),
            kr("e-active"),
        )
        assert [e.goal for e in checkin_report(graph, "2026-02-01").entries] == ["e-active"]

    def test_entries_are_sorted_by_goal_id(self) -> None:
        graph = graph_of(kr("zeta"), kr("alpha"), kr("mu"))
        report = checkin_report(graph, "2026-01-30")
        assert [e.goal for e in report.entries] == ["alpha", "mu", "zeta"]
        assert [e.goal for e in report.overdue] == ["alpha", "mu", "zeta"]

    def test_as_of_as_date_time_or_text_agree(self) -> None:
        graph = graph_of(kr(checkins=["2026-01-14"]), tz="Asia/Shanghai")
        by_date = checkin_report(graph, D(2026, 1, 30))
        by_text = checkin_report(graph, "2026-01-30")
        by_time = checkin_report(graph, datetime.datetime(2026, 1, 30, 2, tzinfo=datetime.timezone.utc))
        assert by_date == by_text == by_time

    def test_a_time_as_of_leaves_out_check_ins_later_that_day(self) -> None:
        graph = graph_of(kr(checkins=[{"at": "2026-01-15T18:00:00+00:00", "value": 1}]))
        assert not checkin_report(graph, "2026-01-15")["kr"].due_soon
        early = checkin_report(graph, datetime.datetime(2026, 1, 15, 9, tzinfo=datetime.timezone.utc))
        assert early["kr"].due_soon and early["kr"].days_to_due == 0

    def test_an_unknown_goal_in_the_report_is_an_error(self) -> None:
        with pytest.raises(GoalGraphError) as caught:
            checkin_report(graph_of(kr()), "2026-01-30")["nope"]
        assert caught.value.goals == ("nope",)

    def test_every_bad_schedule_is_reported_together(self) -> None:
        bad = {"every": "1 week", "start": "2025-12-01"}
        with pytest.raises(GoalGraphError) as caught:
            graph_of(kr("a", checkin=bad), kr("b", checkin=bad), kr("c"))
        assert [p.goals for p in caught.value.problems] == [("a",), ("b",)]
        assert [p.to_dict()["path"] for p in caught.value.problems] == [
            "goals[0].checkin.start",
            "goals[1].checkin.start",
        ]


ROSTER = Roster.from_records(
    employees=[
        {"id": "1001", "manager": "2001", "unit": "east"},
        {"id": "2001", "unit": "sales"},
        {"id": "3001", "manager": "2001", "unit": "east"},
        {"id": "4001", "manager": "2001", "unit": "sales"},
    ],
    units=[
        {"id": "sales", "head": "4001"},
        {"id": "east", "parent": "sales", "head": "3001"},
        {"id": "west", "parent": "sales"},
        {"id": "north"},
    ],
)


class TestEscalation:
    def overdue(self, owner: str, roster: Roster | None = ROSTER) -> tuple[str | None, str]:
        entry = checkin_report(graph_of(kr(owner=owner)), "2026-01-20", roster=roster)["kr"]
        assert entry.overdue
        return entry.escalate_to, entry.escalate_reason

    def test_a_person_escalates_to_their_manager(self) -> None:
        assert self.overdue("person:1001") == ("2001", "manager of 1001")

    def test_a_person_at_the_top_has_nobody_above(self) -> None:
        assert self.overdue("person:2001") == (None, "owner 2001 has no manager in the roster")

    def test_a_person_missing_from_the_roster(self) -> None:
        assert self.overdue("person:9999") == (None, "owner 9999 is not in the roster")

    def test_a_team_escalates_to_its_unit_head(self) -> None:
        assert self.overdue("team:east") == ("3001", "head of unit east")

    def test_a_team_without_a_head_escalates_to_the_head_above(self) -> None:
        assert self.overdue("team:west") == ("4001", "head of unit sales (above west)")

    def test_a_team_with_no_head_up_the_chain(self) -> None:
        assert self.overdue("team:north") == (None, "no head for unit north or any unit above it")

    def test_the_organisation_has_nobody_to_escalate_to(self) -> None:
        assert self.overdue("org") == (None, "the organisation owns the goal")

    def test_without_a_roster_nobody_and_why(self) -> None:
        assert self.overdue("person:1001", roster=None) == (None, "no roster given")

    def test_the_graph_roster_is_the_default(self) -> None:
        graph = GoalGraph.from_goals([kr()], roster=ROSTER)
        assert checkin_report(graph, "2026-01-20")["kr"].escalate_to == "2001"

    def test_goals_not_overdue_are_not_escalated(self) -> None:
        entry = checkin_report(graph_of(kr()), "2026-01-10", roster=ROSTER)["kr"]
        assert (entry.escalate_to, entry.escalate_reason) == (None, "not overdue")

    def test_by_escalation_groups_overdue_goals_nobody_last(self) -> None:
        graph = graph_of(
            kr("b", owner="person:3001"),
            kr("a", owner="person:1001"),
            kr("c", owner="org"),
            kr("d", owner="team:east"),
            kr("e", owner="person:1001", checkins=["2026-01-10"]),
        )
        groups = checkin_report(graph, "2026-01-20", roster=ROSTER).by_escalation()
        assert list(groups) == ["2001", "3001", None]
        assert [e.goal for e in groups["2001"]] == ["a", "b"]
        assert [e.goal for e in groups["3001"]] == ["d"]
        assert [e.goal for e in groups[None]] == ["c"]


class TestReportOutput:
    def report(self) -> Any:
        graph = graph_of(
            kr("east-revenue", title="华东区收入", owner="person:1001"),
            kr("calls", title="Calls", owner="person:3001", checkins=["2026-01-12"]),
        )
        return checkin_report(graph, "2026-01-20", roster=ROSTER)

    def test_text_columns_line_up_with_chinese_titles(self) -> None:
        lines = self.report().to_text().splitlines()
        assert lines[0] == "check-ins as of 2026-01-20: 1 overdue, 0 stale, 0 due soon, 1 on track"
        table = lines[1:]
        assert len(table) == 3
        owner_columns = {
            display_width(line[: line.index("person:") if "person:" in line else line.index("owner")]) for line in table
        }
        assert len(owner_columns) == 1
        assert "华东区收入" in table[2] and "due 2026-01-15, 5 days ago" in table[2] and table[2].endswith("2001")

    def test_rows_keep_python_values(self) -> None:
        rows = self.report().to_rows()
        assert [r["goal"] for r in rows] == ["calls", "east-revenue"]
        assert rows[1]["missed_due"] == D(2026, 1, 15) and rows[1]["days_overdue"] == 5

    def test_dict_is_json_ready(self) -> None:
        data = json.loads(json.dumps(self.report().to_dict(), ensure_ascii=False))
        assert data["as_of"] == "2026-01-20"
        assert data["counts"] == {"overdue": 1, "stale": 0, "due_soon": 0, "on_track": 1}
        assert data["entries"][1]["missed_due"] == "2026-01-15"
        assert data["entries"][1]["every"] == "2 weeks"


class TestOnTimeRates:
    def test_counts_and_exact_rate(self) -> None:
        # 14 Jan meets 15 Jan; 1 Feb meets 12 Feb (29 Jan missed); 20 Mar meets 26 Mar.
        graph = graph_of(kr(checkins=["2026-01-14", "2026-02-01", "2026-03-20"]))
        rate = on_time_rates(graph, as_of="2026-03-31")["1001"]
        assert (rate.due, rate.on_time, rate.rate) == (6, 3, Decimal("0.5"))
        met = {d.due: d.checked_in for d in rate.details if d.on_time}
        assert met == {D(2026, 1, 15): D(2026, 1, 14), D(2026, 2, 12): D(2026, 2, 1), D(2026, 3, 26): D(2026, 3, 20)}
        assert [d.due for d in rate.missed] == [D(2026, 1, 29), D(2026, 2, 26), D(2026, 3, 12)]

    def test_a_rate_of_thirds_is_computed_in_the_context(self) -> None:
        graph = graph_of(
            kr("a", checkins=["2026-01-14"]),
            kr("b", checkin={"every": "1 month"}, checkins=[{"at": "2026-01-31", "value": 1, "note": "月报"}]),
        )
        rate = on_time_rates(graph, as_of="2026-02-02")["1001"]
        assert (rate.due, rate.on_time) == (3, 2)  # 15 Jan met, 29 Jan missed, 1 Feb met
        assert rate.rate == CONTEXT.divide(Decimal(2), Decimal(3))
        assert str(rate.rate) == "0." + "6" * 33 + "7"
        assert rate.fraction == Fraction(2, 3)
        assert [(d.goal, d.due) for d in rate.details] == [
            ("a", D(2026, 1, 15)),
            ("a", D(2026, 1, 29)),
            ("b", D(2026, 2, 1)),
        ]
        assert rate.details[2].met_by is not None and rate.details[2].met_by.note == "月报"

    def test_a_due_date_counts_once_its_grace_has_passed(self) -> None:
        graph = graph_of(kr(checkin={"every": "2 weeks", "grace_days": 2}))
        assert on_time_rates(graph, as_of="2026-01-17")["1001"].due == 0
        assert on_time_rates(graph, as_of="2026-01-18")["1001"].due == 1

    def test_since_leaves_earlier_due_dates_out(self) -> None:
        graph = graph_of(kr(checkins=["2026-02-10"]))
        rate = on_time_rates(graph, as_of="2026-02-28", since="2026-02-01")["1001"]
        assert [(d.due, d.on_time) for d in rate.details] == [(D(2026, 2, 12), True), (D(2026, 2, 26), False)]

    def test_a_closed_goal_counts_up_to_its_last_check_in(self) -> None:
        graph = graph_of(kr(status="closed", checkins=["2026-01-10", "2026-02-01"]))
        rate = on_time_rates(graph, as_of="2026-03-31")["1001"]
        assert [d.due for d in rate.details] == [D(2026, 1, 15), D(2026, 1, 29)]
        assert rate.on_time == 1

    def test_only_people_and_counted_statuses(self) -> None:
        graph = graph_of(
            kr("team", owner="team:east"),
            kr("org", owner="org"),
            kr("draft", owner="person:2001", status="draft"),
            kr("archived", owner="person:2001", status="archived"),
            kr("mine", owner="person:1001"),
        )
        assert list(on_time_rates(graph, as_of="2026-03-31")) == ["1001"]

    def test_nothing_due_is_no_rate_not_zero(self) -> None:
        graph = graph_of(kr("later", owner="person:1002", period="2026-Q2"), kr(owner="person:1001"))
        rates = on_time_rates(graph, as_of="2026-01-20")
        assert rates["1002"].rate is None and rates["1002"].fraction is None
        assert rates["1001"].rate == Decimal(0)

    def test_rows_for_a_scheme(self) -> None:
        graph = graph_of(
            kr("later", owner="person:1002", period="2026-Q2"), kr(owner="person:1001", checkins=["2026-01-14"])
        )
        rows = on_time_rows(graph, as_of="2026-01-30", column="活跃度")
        assert rows == [{"employee_id": "1001", "活跃度": Decimal("0.5")}, {"employee_id": "1002", "活跃度": None}]

    def test_check_ins_after_as_of_do_not_count(self) -> None:
        graph = graph_of(kr(checkins=["2026-01-14", "2026-01-20"]))
        rate = on_time_rates(graph, as_of="2026-01-16")["1001"]
        assert (rate.due, rate.on_time) == (1, 1)
        assert on_time_rates(graph, as_of="2026-01-30")["1001"].on_time == 2


# -- properties ---------------------------------------------------------------------------------

START = D(2026, 1, 1)
schedules = st.one_of(
    st.integers(1, 20).map(lambda n: f"{n} days"),
    st.integers(1, 2).map(lambda n: f"{n} month"),
)
offsets = st.lists(st.integers(0, 95), max_size=12)


def scheduled(every: str, grace: int, days: list[int]) -> GoalGraph:
    checkins = [{"at": (START + datetime.timedelta(days=n)).isoformat(), "value": i} for i, n in enumerate(days)]
    return graph_of(kr(checkin={"every": every, "grace_days": grace}, checkins=checkins))


def maximum_matching(graph: GoalGraph, as_of: datetime.date) -> int:
    """The most due dates any assignment of check-ins (one each) to windows could meet."""
    dues = due_dates(graph, "kr")
    days = [graph.calendar.to_date(graph.instant(c.at)) for c in graph["kr"].checkins]
    pairs = nx.Graph()
    pairs.add_nodes_from(("due", k) for k in range(len(dues)))
    pairs.add_nodes_from(("in", j) for j in range(len(days)))
    for k, due in enumerate(dues):
        for j, day in enumerate(days):
            if due.opens < day <= due.closes and due.closes < as_of and day <= as_of:
                pairs.add_edge(("due", k), ("in", j))
    matching = nx.bipartite.maximum_matching(pairs, top_nodes=[("due", k) for k in range(len(dues))])
    return len(matching) // 2


class TestProperties:
    @settings(max_examples=60, deadline=None)
    @given(schedules, st.integers(0, 5), offsets, st.integers(0, 95))
    def test_as_many_due_dates_are_met_as_any_assignment_could(
        self, every: str, grace: int, days: list[int], as_of: int
    ) -> None:
        graph = scheduled(every, grace, days)
        today = START + datetime.timedelta(days=as_of)
        assert on_time_rates(graph, as_of=today)["1001"].on_time == maximum_matching(graph, today)

    @settings(max_examples=60, deadline=None)
    @given(schedules, st.integers(0, 5), offsets, st.integers(0, 95), st.integers(0, 95))
    def test_adding_a_check_in_never_lowers_the_count(
        self, every: str, grace: int, days: list[int], extra: int, as_of: int
    ) -> None:
        today = START + datetime.timedelta(days=as_of)
        before = on_time_rates(scheduled(every, grace, days), as_of=today)["1001"]
        after = on_time_rates(scheduled(every, grace, [*days, extra]), as_of=today)["1001"]
        assert after.due == before.due
        assert after.on_time >= before.on_time

    @settings(max_examples=60, deadline=None)
    @given(schedules, st.integers(0, 5), offsets, st.integers(0, 95), st.randoms(use_true_random=False))
    def test_the_order_of_check_ins_in_the_file_does_not_matter(
        self, every: str, grace: int, days: list[int], as_of: int, random: Any
    ) -> None:
        today = START + datetime.timedelta(days=as_of)
        graph = scheduled(every, grace, days)
        goal = graph["kr"]
        shuffled = list(goal.checkins)
        random.shuffle(shuffled)
        other = graph_of(goal.model_copy(update={"checkins": tuple(shuffled)}).to_dict())
        assert on_time_rates(other, as_of=today) == on_time_rates(graph, as_of=today)
        assert checkin_report(other, today) == checkin_report(graph, today)

    @settings(max_examples=60, deadline=None)
    @given(schedules, st.integers(0, 5), offsets, st.integers(0, 95))
    def test_the_report_agrees_with_the_due_dates(self, every: str, grace: int, days: list[int], as_of: int) -> None:
        today = START + datetime.timedelta(days=as_of)
        graph = scheduled(every, grace, days)
        entry = checkin_report(graph, today)["kr"]
        dues = due_dates(graph, "kr", as_of=today)
        passed = [d for d in dues if d.closes < today]
        if entry.overdue:
            assert passed and entry.missed_due == passed[-1].due and not passed[-1].on_time
        elif passed and not passed[-1].on_time:
            assert entry.last_checkin is not None and entry.last_checkin > passed[-1].closes
        if entry.due_soon:
            assert entry.next_due is not None and entry.next_due not in {d.due for d in dues if d.on_time}
