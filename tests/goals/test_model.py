"""Goal declarations (perfkit.goals.model): what a goal file says, read field by field."""

from __future__ import annotations

import datetime
from decimal import Decimal
from typing import ClassVar

import pytest
from goals.strategies import goal_lists
from hypothesis import given, settings
from pydantic import ValidationError

from perfkit.goals import CheckIn, CheckinSchedule, Contribution, Goal, Owner, Revision
from perfkit.goals.model import GoalFile

BASE = {"id": "kr1", "title": "Revenue", "owner": "org", "period": "2026"}


def goal(**fields: object) -> Goal:
    return Goal.model_validate({**BASE, **fields})


class TestOwner:
    @pytest.mark.parametrize(
        ("written", "kind", "ident", "text"),
        [
            ("person:1001", "person", "1001", "person:1001"),
            ("team:east", "team", "east", "team:east"),
            ("org", "org", None, "org"),
            (" person : 1001 ", "person", "1001", "person:1001"),
            ({"person": "1001"}, "person", "1001", "person:1001"),
            ({"team": "east"}, "team", "east", "team:east"),
            (Owner("team", "south"), "team", "south", "team:south"),
        ],
    )
    def test_forms(self, written: object, kind: str, ident: str | None, text: str) -> None:
        owner = goal(owner=written).owner
        assert (owner.kind, owner.id, str(owner)) == (kind, ident, text)

    @pytest.mark.parametrize("written", ["boss", "person:", "team:", "group:x", 1001, None, {"person": "1", "team": "2"}])
    def test_bad_owners_are_refused(self, written: object) -> None:
        with pytest.raises(ValidationError, match="owner"):
            goal(owner=written)

    def test_serialised_as_text(self) -> None:
        assert goal(owner={"person": "1001"}).to_dict()["owner"] == "person:1001"


class TestCadence:
    @pytest.mark.parametrize(
        ("written", "every", "text"),
        [
            ("2 weeks", (14, "days"), "2 weeks"),
            ("1 week", (7, "days"), "1 week"),
            ("14 days", (14, "days"), "2 weeks"),
            ("10 days", (10, "days"), "10 days"),
            ("1 day", (1, "days"), "1 day"),
            ("3d", (3, "days"), "3 days"),
            ("1 month", (1, "months"), "1 month"),
            ("3 months", (3, "months"), "3 months"),
            ("2w", (14, "days"), "2 weeks"),
        ],
    )
    def test_parse_and_write_back(self, written: str, every: tuple[int, str], text: str) -> None:
        schedule = CheckinSchedule(every=written)  # type: ignore[arg-type]
        assert schedule.every == every
        assert schedule.model_dump()["every"] == text
        assert CheckinSchedule(every=text).every == every  # type: ignore[arg-type]

    @pytest.mark.parametrize("written", ["0 days", "fortnight", "2 years", "-1 week", "weekly"])
    def test_bad_cadences(self, written: str) -> None:
        with pytest.raises(ValidationError, match="cadence"):
            CheckinSchedule(every=written)  # type: ignore[arg-type]

    def test_defaults(self) -> None:
        schedule = CheckinSchedule(every="2 weeks")  # type: ignore[arg-type]
        assert (schedule.start, schedule.grace_days, schedule.due_soon_days, schedule.stale_after_days) == (None, 0, 3, None)

    def test_negative_grace_refused(self) -> None:
        with pytest.raises(ValidationError):
            CheckinSchedule(every="2 weeks", grace_days=-1)  # type: ignore[arg-type]


class TestCap:
    @pytest.mark.parametrize(
        ("written", "cap"),
        [("120%", Decimal("1.2")), (" 150 % ", Decimal("1.5")), (1.2, Decimal("1.2")), ("1.5", Decimal("1.5")), (None, None)],
    )
    def test_forms(self, written: object, cap: Decimal | None) -> None:
        assert goal(kind="key_result", target=10, cap=written).cap == cap

    def test_default_is_one(self) -> None:
        assert goal().cap == Decimal(1)

    def test_written_as_percent(self) -> None:
        assert goal(cap="120%").to_dict()["cap"] == "120%"
        assert goal(cap=None).to_dict()["cap"] is None

    def test_not_a_number(self) -> None:
        with pytest.raises(ValidationError, match="cap"):
            goal(cap="lots")


class TestInstants:
    def test_date_text(self) -> None:
        assert CheckIn(at="2026-03-01", value=1).at == datetime.date(2026, 3, 1)  # type: ignore[arg-type]

    def test_aware_time_text(self) -> None:
        at = CheckIn(at="2026-03-01T10:00+08:00", value=1).at  # type: ignore[arg-type]
        assert isinstance(at, datetime.datetime)
        assert at == datetime.datetime(2026, 3, 1, 2, 0, tzinfo=datetime.timezone.utc)

    def test_date_and_aware_objects(self) -> None:
        aware = datetime.datetime(2026, 3, 1, 10, tzinfo=datetime.timezone.utc)
        assert CheckIn(at=aware, value=1).at == aware  # type: ignore[arg-type]
        assert CheckIn(at=datetime.date(2026, 3, 1), value=1).at == datetime.date(2026, 3, 1)  # type: ignore[arg-type]

    def test_naive_time_refused(self) -> None:
        with pytest.raises(ValidationError, match="no time zone"):
            CheckIn(at=datetime.datetime(2026, 3, 1, 10), value=1)  # type: ignore[arg-type]

    def test_naive_time_text_refused(self) -> None:
        """ISO text without an offset is as naive as a datetime object without tzinfo."""
        with pytest.raises(ValidationError, match="time zone"):
            CheckIn(at="2026-03-01T10:00", value=1)  # type: ignore[arg-type]

    def test_not_a_time(self) -> None:
        with pytest.raises(ValidationError, match="is not a date"):
            CheckIn(at="next tuesday", value=1)  # type: ignore[arg-type]

    def test_written_as_iso(self) -> None:
        data = CheckIn(at="2026-03-01T10:00+08:00", value=Decimal("1.50")).model_dump()  # type: ignore[arg-type]
        assert data["at"] == "2026-03-01T10:00:00+08:00"


class TestNumbers:
    def test_float_read_through_its_repr(self) -> None:
        assert CheckIn(at="2026-03-01", value=0.1).value == Decimal("0.1")  # type: ignore[arg-type]

    @pytest.mark.parametrize("value", [True, "abc", float("nan"), float("inf")])
    def test_bad_values(self, value: object) -> None:
        with pytest.raises(ValidationError):
            CheckIn(at="2026-03-01", value=value)  # type: ignore[arg-type]

    def test_target_read_exactly(self) -> None:
        assert goal(target="21430000.10").target == Decimal("21430000.10")


class TestRevision:
    REVISION: ClassVar[dict[str, object]] = {"effective": "2026-07-01", "target": 15, "reason": "market", "proposed_by": "2001"}

    def test_proposed_by_default(self) -> None:
        revision = Revision.model_validate(self.REVISION)
        assert (revision.state, revision.decided_by, revision.decided_at) == ("proposed", None, None)

    @pytest.mark.parametrize("extra", [{"decided_by": "1001"}, {"decided_at": "2026-06-20"}])
    def test_proposed_is_undecided(self, extra: dict[str, str]) -> None:
        with pytest.raises(ValidationError, match="has not been decided"):
            Revision.model_validate({**self.REVISION, **extra})

    @pytest.mark.parametrize("state", ["approved", "rejected"])
    def test_decided_names_who(self, state: str) -> None:
        with pytest.raises(ValidationError, match="decided_by"):
            Revision.model_validate({**self.REVISION, "state": state})
        decided = Revision.model_validate({**self.REVISION, "state": state, "decided_by": "1001"})
        assert decided.decided_by == "1001"

    def test_reason_and_proposer_required(self) -> None:
        for field in ("reason", "proposed_by"):
            with pytest.raises(ValidationError, match=field):
                Revision.model_validate({**self.REVISION, field: ""})

    def test_unknown_state(self) -> None:
        with pytest.raises(ValidationError):
            Revision.model_validate({**self.REVISION, "state": "pending", "decided_by": "1"})


class TestContribution:
    def test_shorthand(self) -> None:
        assert Contribution.model_validate("grow") == Contribution(goal="grow")

    @pytest.mark.parametrize(("written", "weight"), [("40%", Decimal("0.40")), (0.4, Decimal("0.4")), ("0.25", Decimal("0.25"))])
    def test_weights(self, written: object, weight: Decimal) -> None:
        assert Contribution(goal="grow", weight=written).weight == weight  # type: ignore[arg-type]

    @pytest.mark.parametrize("written", ["140%", -0.1, "-5%"])
    def test_bad_weights(self, written: object) -> None:
        with pytest.raises(ValidationError):
            Contribution(goal="grow", weight=written)  # type: ignore[arg-type]

    def test_bad_goal_id(self) -> None:
        with pytest.raises(ValidationError):
            Contribution(goal="has space")


class TestGoal:
    @pytest.mark.parametrize(
        ("fields", "mode"),
        [
            ({}, "children"),
            ({"kind": "key_result", "target": 1}, "checkins"),
            ({"kind": "kpi", "target": 1}, "checkins"),
            ({"kind": "kpi", "target": 1, "metric": "sales"}, "metric"),
            ({"kind": "key_result", "target": 1, "metric": "sales"}, "metric"),
            ({"progress": "checkins", "target": 1}, "checkins"),
            ({"kind": "key_result", "progress": "children"}, "children"),
        ],
    )
    def test_mode_default_by_kind(self, fields: dict[str, object], mode: str) -> None:
        assert goal(**fields).mode == mode

    def test_defaults(self) -> None:
        g = goal()
        assert (g.kind, g.status, g.rollup, g.baseline, g.direction, g.curve, g.progress) == (
            "objective", "active", "weighted_average", Decimal(0), "increase", "linear", None,
        )

    def test_parents(self) -> None:
        g = goal(contributes_to=["a", {"goal": "b", "weight": "100%"}], supports=["c"])
        assert g.parents == ("a", "b")

    def test_unknown_field(self) -> None:
        with pytest.raises(ValidationError, match="extra"):
            goal(targt=10)

    @pytest.mark.parametrize("bad", [{"id": "-lead"}, {"id": "two words"}, {"title": ""}, {"status": "expired"}, {"kind": "okr"}])
    def test_bad_fields(self, bad: dict[str, object]) -> None:
        with pytest.raises(ValidationError):
            goal(**bad)

    def test_ids_in_any_script(self) -> None:
        assert goal(id="收入/华东-2026").id == "收入/华东-2026"

    def test_period_label_from_yaml_number(self) -> None:
        assert goal(period=2026).period == "2026"

    def test_frozen(self) -> None:
        g = goal()
        with pytest.raises(ValidationError):
            g.title = "changed"
        assert g.title == "Revenue"

    def test_to_dict_omits_defaults(self) -> None:
        assert goal().to_dict() == {"id": "kr1", "title": "Revenue", "owner": "org", "period": "2026"}

    def test_to_dict_full(self) -> None:
        g = goal(
            kind="key_result", target="120.50", baseline=3, cap="150%", direction="decrease",
            contributes_to=[{"goal": "root", "weight": "40%"}], checkin={"every": "14 days"},
            checkins=[{"at": "2026-03-01", "value": 5, "note": "ok"}],
            revisions=[{"effective": "2026-07-01", "target": 100, "reason": "r", "proposed_by": "1",
                        "state": "approved", "decided_by": "2", "decided_at": "2026-06-30T09:00+08:00"}],
        )
        data = g.to_dict()
        assert list(data["contributes_to"]) == [{"goal": "root", "weight": "40%"}]
        assert data["checkin"] == {"every": "2 weeks"}
        assert list(data["checkins"]) == [{"at": "2026-03-01", "value": Decimal(5), "note": "ok"}]
        assert data["revisions"][0]["decided_at"] == "2026-06-30T09:00:00+08:00"
        assert data["cap"] == "150%"
        assert Goal.model_validate(data) == g

    @settings(max_examples=60, deadline=None)
    @given(goal_lists())
    def test_to_dict_round_trip(self, goals: list[dict[str, object]]) -> None:
        """A goal read back from its plain data is the same goal."""
        for data in goals:
            g = Goal.model_validate(data)
            assert Goal.model_validate(g.to_dict()) == g
            assert Goal.model_validate(g.to_dict()).to_dict() == g.to_dict()


class TestGoalFile:
    def test_format_version(self) -> None:
        assert GoalFile.model_validate({"perfkit_goals": 1}).goals == ()
        with pytest.raises(ValidationError):
            GoalFile.model_validate({"perfkit_goals": 2})

    def test_calendar(self) -> None:
        spec = GoalFile.model_validate({"perfkit_goals": 1, "calendar": {"tz": "Asia/Shanghai", "fiscal_year_start": 4}})
        assert (spec.calendar.tz, spec.calendar.fiscal_year_start) == ("Asia/Shanghai", 4)
        with pytest.raises(ValidationError):
            GoalFile.model_validate({"perfkit_goals": 1, "calendar": {"fiscal_year_start": 13}})
