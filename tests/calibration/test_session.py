"""Calibration sessions: overrides, ties, rebalancing, finalisation, and replay from the log."""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Mapping
from datetime import datetime, timedelta, timezone
from decimal import Decimal
from typing import Any

import attrs
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import perfkit as pk
from perfkit.audit import AuditLog
from perfkit.calibration.distribution import allocate
from perfkit.calibration import CalibrationResult, CalibrationSession, Override
from perfkit.errors import AuditError, CalibrationError

SCHEME = """
perfkit: 1
id: team-review
name: 团队季度考核
version: "2026.2"
inputs:
  score:  {min: 0, max: 100}
  late:   {unit: count, min: 0, default: 0}
  review: {min: 0, max: 1, default: 0}
  mentor: {min: 0, max: 1, default: 0}
kpis:
  - {id: work, name: 工作业绩, weight: 100%, score: score}
rules:
  - id: late-cap
    when: late > 3
    then: {cap_grade: B}
    reason: 迟到超过3次,最高B级
  - id: mentor-floor
    when: mentor == 1
    then: {floor_grade: B}
    reason: 带教新人者不低于B级
  - id: review
    when: review == 1
    then: {require_review: true}
grades:
  - {grade: S, min_score: 90}
  - {grade: A, min_score: 80}
  - {grade: B, min_score: 60}
  - {grade: C}
calibration:
"""

EXACT = """
  distribution: {S: 10%, A: 20%, B: 50%, C: 20%}
"""
RANGES = """
  distribution: {S: {max: 20%}, S+A: {max: 40%}, C: {min: 10%}}
"""

# employee id, score, other inputs: E03 is capped at B, E09 has a floor of B, E06 asks for review.
PEOPLE: list[tuple[str, int, dict[str, int]]] = [
    ("E01", 95, {}),
    ("E02", 93, {}),
    ("E03", 88, {"late": 5}),
    ("E04", 85, {}),
    ("E05", 82, {}),
    ("E06", 75, {"review": 1}),
    ("E07", 70, {}),
    ("E08", 65, {}),
    ("E09", 55, {"mentor": 1}),
    ("E10", 40, {}),
]

T0 = datetime(2026, 7, 1, 9, 0, tzinfo=timezone(timedelta(hours=8)))


def at(minutes: int) -> datetime:
    return T0 + timedelta(minutes=minutes)


def evaluate(calibration: str = EXACT, people: list[tuple[str, int, dict[str, int]]] = PEOPLE) -> pk.Evaluation:
    scheme = pk.Scheme.from_yaml(SCHEME + calibration)
    rows = [{"employee_id": eid, "score": score, **extra} for eid, score, extra in people]
    return pk.evaluate(scheme, rows)


EVALUATION = evaluate()
TIED = evaluate(people=[("E01", 95, {}), ("E02", 95, {}), *PEOPLE[2:]])


def start(evaluation: pk.Evaluation = EVALUATION, **options: Any) -> CalibrationSession:
    return CalibrationSession.start(evaluation, actor="hr", at=T0, **options)


def ok(session: CalibrationSession, eid: str, grade: str, minute: int = 1, **options: Any) -> CalibrationSession:
    """An override with the usual paperwork."""
    return session.override(
        eid, grade, reason_code="业绩超预期", comment="见会议纪要", authorised_by="王总", at=at(minute), **options
    )


def rebuilt(log: AuditLog, seq: int, **changes: Any) -> AuditLog:
    """The same log with event ``seq``'s data changed and the whole chain re-hashed (a careful forger)."""
    new = AuditLog.start(anchor=log.anchor)
    for event in log:
        data = dict(event.data)
        if event.seq == seq:
            data.update(changes)
        new = new.append(event.kind, data, actor=event.actor, at=event.at)
    return new


class TestStart:
    def test_proposals_are_the_allocation(self) -> None:
        session = start()
        expected = allocate(EVALUATION)
        assert session.grades() == expected.grades()
        assert session.allocation == expected
        assert session.overrides == () and not session.finalised and session.result is None

    def test_the_start_is_the_first_event(self) -> None:
        session = start()
        (event,) = session.events
        assert (event.kind, event.actor, event.at) == ("start", "hr", T0)
        assert event.data["scheme_id"] == "team-review" and event.data["scheme_version"] == "2026.2"
        assert dict(event.data["proposed"]) == session.grades()

    def test_the_anchor_is_a_sha256_of_the_starting_state(self) -> None:
        session = start()
        assert re.fullmatch(r"[0-9a-f]{64}", session.anchor)
        assert session.log.anchor == session.anchor
        other = evaluate(people=[(eid, score + (1 if eid == "E10" else 0), extra) for eid, score, extra in PEOPLE])
        assert start(other).anchor != session.anchor
        assert start(scores={"E10": Decimal(41)}).anchor != session.anchor

    def test_the_anchor_hashes_the_documented_state(self) -> None:
        """Scheme id and version, the policy as JSON, each card's id, total and grade: all in the anchor."""
        session = start()
        policy = session.allocation.policy
        state: Mapping[str, Any] = {
            "scheme_id": "team-review",
            "scheme_version": "2026.2",
            "policy": policy.declaration.model_dump(mode="json"),
            "cards": [[c.employee_id, format(c.total, "f"), c.grade] for c in EVALUATION],
            "pools": [[pool.key, list(pool.members)] for pool in session.allocation.pools],
        }
        text = json.dumps(state, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
        assert session.anchor == hashlib.sha256(text.encode("utf-8")).hexdigest()

    def test_status_at_the_start_is_the_allocations(self) -> None:
        session = start()
        assert session.status() == session.allocation.pools
        assert session.unmet() == ()

    def test_boundary_cases_include_reviews_and_the_allocations_cases(self) -> None:
        session = start()
        cases = {c.employee_id: c for c in session.boundary_cases()}
        assert any("review" in reason for reason in cases["E06"].reasons)
        near = {p.employee_id for p in session.allocation if p.boundary}
        assert near | {"E06"} == set(cases)
        for placement in session.allocation:
            if placement.boundary:
                assert cases[placement.employee_id].reasons[: len(placement.boundary)] == placement.boundary

    def test_escalated_ties_are_listed(self) -> None:
        session = start(TIED)
        (tie,) = session.ties()
        assert tie.employee_ids == ("E01", "E02") and tie.resolved is None
        assert dict(session.events[0].data)["escalated"] == (("E01", "E02"),)

    def test_no_ties_when_scores_differ(self) -> None:
        assert start().ties() == ()


class TestOverride:
    def test_only_that_person_moves(self) -> None:
        before = start()
        after = ok(before, "E05", "S")
        changed = {eid for eid, grade in after.grades().items() if before.grades()[eid] != grade}
        assert changed == {"E05"} and after.grades()["E05"] == "S"

    def test_quota_status_follows_the_grades_now(self) -> None:
        before = start()
        after = ok(before, "E05", "S")
        s_before = next(q for q in before.status()[0].quotas if q.key == "S")
        s_after = next(q for q in after.status()[0].quotas if q.key == "S")
        assert s_after.count == s_before.count + (before.grades()["E05"] != "S")
        assert any(u.startswith("pool all: S 10%") for u in after.unmet())

    def test_the_decision_is_recorded_and_logged(self) -> None:
        before = start()
        after = ok(before, "E05", "S")
        (record,) = after.overrides
        assert record == Override(
            employee_id="E05",
            grade="S",
            previous=before.grades()["E05"],
            reason_code="业绩超预期",
            comment="见会议纪要",
            authorised_by="王总",
        )
        event = after.events[-1]
        assert (event.kind, event.actor, event.at) == ("override", "王总", at(1))
        assert event.data["employee_id"] == "E05" and event.data["exception"] is False

    def test_actor_can_differ_from_the_authoriser(self) -> None:
        session = ok(start(), "E05", "S", actor="hr-秘书")
        assert session.events[-1].actor == "hr-秘书"
        assert session.overrides[0].authorised_by == "王总"

    def test_time_defaults_to_now_in_utc(self) -> None:
        session = start().override("E05", "S", reason_code="x", comment="", authorised_by="王总")
        when = session.events[-1].at
        assert when.utcoffset() == timedelta(0)
        assert abs(datetime.now(timezone.utc) - when) < timedelta(minutes=5)

    def test_a_later_override_replaces_the_earlier(self) -> None:
        session = ok(ok(start(), "E05", "S"), "E05", "B", minute=2)
        (record,) = session.overrides
        assert (record.grade, record.previous) == ("B", "S")
        assert len(session.events) == 3

    def test_past_a_cap_is_refused_without_exception(self) -> None:
        with pytest.raises(CalibrationError) as caught:
            ok(start(), "E03", "A")
        error = caught.value
        assert (error.employee_id, error.grade) == ("E03", "A")
        assert error.constraints == ("at best B (late-cap)",)
        assert "late-cap" in str(error) and "exception=True" in str(error)

    def test_past_a_floor_is_refused_without_exception(self) -> None:
        with pytest.raises(CalibrationError, match="mentor-floor") as caught:
            ok(start(), "E09", "C")
        assert caught.value.employee_id == "E09"

    def test_past_a_cap_is_accepted_as_an_exception(self) -> None:
        session = ok(start(), "E03", "A", exception=True)
        (record,) = session.overrides
        assert record.exception and [limit.source for limit in record.past_limits] == ["late-cap"]
        assert session.grades()["E03"] == "A"
        assert session.events[-1].data["past_limits"] == ("at best B (late-cap)",)
        assert "exception past at best B (late-cap)" in record.describe()

    def test_within_the_limits_no_exception_is_needed(self) -> None:
        session = ok(start(), "E03", "C")
        assert session.overrides[0].past_limits == ()

    def test_unknown_person_suggests_the_closest_id(self) -> None:
        with pytest.raises(CalibrationError, match="did you mean 'E05'") as caught:
            ok(start(), "E5", "A")
        assert caught.value.employee_id == "E5"

    def test_unknown_grade_suggests_the_closest_grade(self) -> None:
        with pytest.raises(CalibrationError, match="did you mean 'A'") as caught:
            ok(start(), "E05", "a")
        assert caught.value.grade == "a"
        with pytest.raises(CalibrationError, match="the grades are S, A, B, C"):
            ok(start(), "E05", "优秀")

    @pytest.mark.parametrize("field", ["reason_code", "authorised_by"])
    def test_paperwork_is_required(self, field: str) -> None:
        options: dict[str, Any] = {"reason_code": "业绩超预期", "comment": "", "authorised_by": "王总", field: " "}
        with pytest.raises(CalibrationError, match=field):
            start().override("E05", "S", **options)


class TestImmutability:
    def test_actions_leave_the_session_they_start_from_unchanged(self) -> None:
        session = start()
        grades, log = session.grades(), session.log
        ok(session, "E05", "S").rebalance(actor="hr", at=at(2))
        assert session.grades() == grades and session.log == log and len(session.log) == 1
        assert session.overrides == ()

    def test_sessions_are_frozen_values(self) -> None:
        session = start()
        with pytest.raises(attrs.exceptions.FrozenInstanceError):
            session.current = ()  # type: ignore[misc]
        assert session == start() and hash(session) == hash(start())
        assert session != ok(session, "E05", "S")

    def test_grades_hands_out_a_copy(self) -> None:
        session = start()
        session.grades()["E05"] = "X"
        assert session.grades()["E05"] == session.allocation["E05"].proposed != "X"


class TestResolveTie:
    def test_by_position(self) -> None:
        session = start(TIED).resolve_tie(0, "S", reason_code="并列第一", comment="", authorised_by="王总", at=at(1))
        assert session.grades()["E01"] == session.grades()["E02"] == "S"
        assert session.ties() == ()
        assert {o.kind for o in session.overrides} == {"tie"}
        assert session.events[-1].kind == "resolve_tie"

    def test_by_ids(self) -> None:
        session = start(TIED).resolve_tie(["E02", "E01"], "A", reason_code="并列", comment="", authorised_by="王总")
        assert session.grades()["E01"] == session.grades()["E02"] == "A"

    def test_the_people_it_moved_count_as_tie_slack(self) -> None:
        session = start(TIED).resolve_tie(0, "S", reason_code="并列", comment="", authorised_by="王总")
        quota = next(q for q in session.status()[0].quotas if q.key == "S")
        assert quota.count == quota.high + 1 and quota.tie_allowance == 1 and quota.ok

    def test_a_grade_outside_the_cut_is_refused(self) -> None:
        with pytest.raises(CalibrationError, match="between S and A"):
            start(TIED).resolve_tie(0, "B", reason_code="x", comment="", authorised_by="王总")

    def test_an_unknown_tie_is_refused(self) -> None:
        with pytest.raises(CalibrationError, match="no open tie 1"):
            start(TIED).resolve_tie(1, "S", reason_code="x", comment="", authorised_by="王总")
        with pytest.raises(CalibrationError, match="no open tie is between exactly E01"):
            start(TIED).resolve_tie(["E01"], "S", reason_code="x", comment="", authorised_by="王总")

    def test_a_resolved_tie_cannot_be_resolved_again(self) -> None:
        session = start(TIED).resolve_tie(0, "S", reason_code="x", comment="", authorised_by="王总")
        with pytest.raises(CalibrationError, match="no open tie"):
            session.resolve_tie(0, "A", reason_code="x", comment="", authorised_by="王总")


class TestRebalance:
    def test_others_move_to_meet_the_quotas_around_the_overrides(self) -> None:
        session = ok(start(), "E05", "S")
        assert session.unmet()
        balanced = session.rebalance(actor="hr", at=at(2), comment="按比例调整")
        assert balanced.unmet() == ()
        assert balanced.grades()["E05"] == "S"
        assert balanced.grades() == allocate(EVALUATION, overrides={"E05": "S"}).grades()

    def test_it_is_logged_with_every_move(self) -> None:
        session = ok(start(), "E05", "S")
        balanced = session.rebalance(actor="hr", at=at(2))
        event = balanced.events[-1]
        assert (event.kind, event.actor) == ("rebalance", "hr")
        moves = {eid: tuple(pair) for eid, pair in event.data["moves"].items()}
        expected = {
            eid: (session.grades()[eid], grade)
            for eid, grade in balanced.grades().items()
            if session.grades()[eid] != grade
        }
        assert moves == expected and moves
        assert event.data["decided"] == ("E05",)

    def test_an_impossible_rebalance_is_refused_and_changes_nothing(self) -> None:
        session = ok(ok(start(), "E01", "C"), "E02", "C", minute=2)
        session = ok(session, "E04", "C", minute=3)
        with pytest.raises(CalibrationError) as caught:
            session.rebalance(actor="hr")
        assert caught.value.pool == "all"
        assert len(session.events) == 4

    def test_a_tie_resolved_past_a_quota_cannot_be_rebalanced_around(self) -> None:
        """Rebalancing fixes the tied people like overrides, so the tie's slack is gone: refused, named."""
        session = start(TIED).resolve_tie(0, "S", reason_code="并列", comment="", authorised_by="王总")
        assert session.unmet() == ()
        with pytest.raises(CalibrationError, match="cannot rebalance") as caught:
            session.rebalance(actor="hr")
        assert caught.value.pool == "all" and any("E01" in c and "E02" in c for c in caught.value.constraints)

    def test_an_actor_is_required(self) -> None:
        with pytest.raises(CalibrationError, match="actor"):
            start().rebalance(actor="")


class TestFinalise:
    def test_the_result_holds_every_grade_and_decision(self) -> None:
        session = ok(start(), "E03", "A", exception=True)
        result = session.finalise(actor="hr", at=at(5))
        assert isinstance(result, CalibrationResult)
        assert (result.scheme_id, result.scheme_version) == ("team-review", "2026.2")
        assert result.policy == session.allocation.policy.declaration
        assert result.grades() == session.grades()
        person = result["E03"]
        assert (person.rule_grade, person.proposed, person.final) == ("B", "B", "A")
        assert person.override is not None and person.override.exception
        assert result["E01"].override is None
        assert (result.finalised_by, result.finalised_at) == ("hr", at(5))

    def test_the_head_is_the_finalise_event(self) -> None:
        session = start()
        result = session.finalise(actor="hr", at=at(5))
        assert result.log[-1].kind == "finalise"
        assert result.head == result.log.head == result.log[-1].hash
        assert result.log[:-1] == session.log.events

    def test_warn_lists_unmet_quotas_and_open_ties(self) -> None:
        session = ok(start(TIED), "E05", "S")
        result = session.finalise(actor="hr")
        assert any(w.startswith("pool all: S 10%") and "NOT MET" in w for w in result.warnings)
        assert any("tie at 95.00 between E01, E02" in w for w in result.warnings)
        assert tuple(result.log[-1].data["warnings"]) == result.warnings

    def test_warn_without_problems_has_no_warnings(self) -> None:
        assert start().finalise(actor="hr").warnings == ()

    def test_enforce_refuses_unmet_quotas(self) -> None:
        session = ok(start(evaluate(EXACT + "  enforcement: enforce\n")), "E05", "S")
        with pytest.raises(CalibrationError, match="cannot finalise") as caught:
            session.finalise(actor="hr")
        assert caught.value.pool == "all"
        assert any(c.startswith("pool all: S 10%") for c in caught.value.constraints)
        assert not session.finalised
        assert session.rebalance(actor="hr").finalise(actor="hr").warnings == ()

    def test_enforce_refuses_open_ties(self) -> None:
        tied = evaluate(EXACT + "  enforcement: enforce\n", [("E01", 95, {}), ("E02", 95, {}), *PEOPLE[2:]])
        session = start(tied)
        with pytest.raises(CalibrationError, match="cannot finalise") as caught:
            session.finalise(actor="hr")
        assert any("tie at 95.00" in c for c in caught.value.constraints)
        resolved = session.resolve_tie(0, "S", reason_code="并列", comment="", authorised_by="王总")
        assert resolved.finalise(actor="hr").grades()["E02"] == "S"

    def test_actions_after_finalise_are_refused(self) -> None:
        session = ok(start(TIED), "E05", "A")
        result = session.finalise(actor="hr")
        assert session.finalised and session.result == result
        with pytest.raises(CalibrationError, match="finalised"):
            ok(session, "E04", "B")
        with pytest.raises(CalibrationError, match="finalised"):
            session.resolve_tie(0, "S", reason_code="x", comment="", authorised_by="王总")
        with pytest.raises(CalibrationError, match="finalised"):
            session.rebalance(actor="hr")
        with pytest.raises(CalibrationError, match="finalised"):
            session.finalise(actor="hr")

    def test_records_and_text(self) -> None:
        session = ok(start(), "E03", "A", exception=True)
        result = session.finalise(actor="hr", at=at(5))
        records = {r["employee_id"]: r for r in result.to_records()}
        assert records["E03"]["final"] == "A" and records["E03"]["reason_code"] == "业绩超预期"
        assert records["E03"]["exception"] is True and records["E03"]["authorised_by"] == "王总"
        assert records["E01"]["decision"] is None and records["E01"]["total"] == "95.00"
        text = result.to_text()
        for label, counts in (
            ("before", result.distribution("rule")),
            ("proposed", result.distribution("proposed")),
            ("final", result.distribution("final")),
        ):
            row = next(line for line in text.splitlines() if line.strip().startswith(label))
            assert [int(n) for n in row.split()[1:]] == list(counts.values())
        assert result.head in text and "E03 B → A: 业绩超预期" in text

    def test_pools_are_reported_one_by_one(self) -> None:
        scheme = pk.Scheme.from_yaml(SCHEME + EXACT + "  group_by: team\n")
        rows = [
            {"employee_id": eid, "score": score, "team": "华东" if n % 2 else "华南", **extra}
            for n, (eid, score, extra) in enumerate(PEOPLE)
        ]
        result = start(pk.evaluate(scheme, rows)).finalise(actor="hr")
        assert [pool.key for pool in result.pools] == ["华东", "华南"]
        assert "pool 华东: 5 people" in result.to_text() and "pool (all): 10 people" in result.to_text()


class TestResultVerify:
    def test_an_intact_result_verifies(self) -> None:
        ok(start(), "E05", "S").finalise(actor="hr").verify()

    def test_a_truncated_log_is_detected(self) -> None:
        result = ok(start(), "E05", "S").finalise(actor="hr")
        cut = AuditLog(anchor=result.log.anchor, events=result.log.events[:-1])
        with pytest.raises(AuditError, match="expected head"):
            attrs.evolve(result, log=cut).verify()

    def test_an_extended_log_is_detected(self) -> None:
        result = start().finalise(actor="hr")
        longer = result.log.append("override", {"employee_id": "E05"}, actor="someone")
        with pytest.raises(AuditError, match="more follow"):
            attrs.evolve(result, log=longer).verify()

    def test_edited_grades_are_detected(self) -> None:
        result = start().finalise(actor="hr")
        people = tuple(attrs.evolve(p, final="S") if p.employee_id == "E10" else p for p in result.people)
        with pytest.raises(AuditError, match="grades"):
            attrs.evolve(result, people=people).verify()


def meeting() -> tuple[CalibrationSession, CalibrationResult]:
    """A meeting with every kind of action, on tied scores."""
    session = ok(start(TIED), "E03", "S", exception=True)
    session = session.resolve_tie(0, "A", reason_code="并列", comment="同分", authorised_by="王总", at=at(2))
    session = ok(session, "E08", "C", minute=3).rebalance(actor="hr", at=at(4))
    return session, session.finalise(actor="hr", at=at(5))


class TestReplay:
    def test_replay_gives_an_identical_session(self) -> None:
        session, _ = meeting()
        replayed = CalibrationSession.replay(TIED, None, session.log)
        assert replayed == session
        assert replayed.grades() == session.grades() and replayed.log.head == session.log.head
        assert replayed.status() == session.status()
        assert not replayed.finalised

    def test_replaying_a_finalised_log_gives_the_same_result(self) -> None:
        _, result = meeting()
        replayed = CalibrationSession.replay(TIED, None, result.log, expected_head=result.head)
        assert replayed.finalised and replayed.result == result
        with pytest.raises(CalibrationError, match="finalised"):
            ok(replayed, "E05", "B")

    def test_replay_through_jsonl(self) -> None:
        _, result = meeting()
        log = AuditLog.from_jsonl(result.log.to_jsonl())
        assert CalibrationSession.replay(TIED, None, log).result == result

    def test_another_evaluation_is_refused(self) -> None:
        session, _ = meeting()
        with pytest.raises(AuditError, match="belongs to another start"):
            CalibrationSession.replay(EVALUATION, None, session.log)

    def test_other_scores_or_policy_are_refused(self) -> None:
        session, _ = meeting()
        with pytest.raises(AuditError, match="belongs to another start"):
            CalibrationSession.replay(TIED, None, session.log, scores={"E10": Decimal(41)})
        with pytest.raises(AuditError, match="belongs to another start"):
            CalibrationSession.replay(TIED, {"distribution": {"S": "10%", "C": {"min": "10%"}}}, session.log)

    def test_an_edited_event_is_refused(self) -> None:
        session, _ = meeting()
        events = list(session.log.events)
        events[1] = attrs.evolve(events[1], data={**events[1].data, "grade": "A"})
        with pytest.raises(AuditError, match="edited"):
            CalibrationSession.replay(TIED, None, AuditLog(anchor=session.log.anchor, events=events))

    def test_edited_jsonl_is_refused(self) -> None:
        session, _ = meeting()
        text = session.log.to_jsonl().replace('"comment":"见会议纪要"', '"comment":"改过"', 1)
        with pytest.raises(AuditError, match="edited"):
            CalibrationSession.replay(TIED, None, AuditLog.from_jsonl(text))

    def test_a_rebuilt_chain_without_the_exception_is_refused(self) -> None:
        session, _ = meeting()
        forged = rebuilt(session.log, 1, exception=False)
        with pytest.raises(CalibrationError, match=r"event 1 \(override\).*late-cap"):
            CalibrationSession.replay(TIED, None, forged)

    def test_a_rebuilt_chain_with_a_false_record_is_refused(self) -> None:
        session, _ = meeting()
        forged = rebuilt(session.log, 3, previous="S")
        with pytest.raises(AuditError, match="data\\['previous'\\]") as caught:
            CalibrationSession.replay(TIED, None, forged)
        assert caught.value.seq == 3

    def test_a_rebuilt_chain_is_caught_by_the_kept_head(self) -> None:
        session, _ = meeting()
        forged = rebuilt(session.log, 3, comment="another story")
        assert CalibrationSession.replay(TIED, None, forged).log.head != session.log.head
        with pytest.raises(AuditError, match="expected head"):
            CalibrationSession.replay(TIED, None, forged, expected_head=session.log.head)

    def test_a_log_must_begin_with_start(self) -> None:
        session, _ = meeting()
        with pytest.raises(AuditError, match="begins with a 'start'"):
            CalibrationSession.replay(TIED, None, AuditLog(anchor=session.log.anchor))

    def test_unknown_actions_and_events_after_finalise_are_refused(self) -> None:
        session, result = meeting()
        strange = session.log.append("coffee", {}, actor="hr")
        with pytest.raises(AuditError, match="no action 'coffee'"):
            CalibrationSession.replay(TIED, None, strange)
        late = result.log.append("rebalance", {"comment": ""}, actor="hr")
        with pytest.raises(AuditError, match="follows the finalise"):
            CalibrationSession.replay(TIED, None, late)


# -- property: any valid sequence of actions replays to the same session and result ----------

RANGED = evaluate(RANGES)
IDS = [eid for eid, _, _ in PEOPLE]
GRADES = ["S", "A", "B", "C"]

actions = st.lists(
    st.one_of(
        st.tuples(st.just("override"), st.sampled_from(IDS), st.sampled_from(GRADES), st.booleans()),
        st.tuples(st.just("rebalance")),
    ),
    max_size=8,
)


def play(session: CalibrationSession, steps: list[tuple[Any, ...]]) -> CalibrationSession:
    for minute, step in enumerate(steps, start=1):
        if step[0] == "override":
            _, eid, grade, flag = step
            exception = flag or grade not in session.allocation[eid].allowed
            session = ok(session, eid, grade, minute=minute, exception=exception)
        else:
            try:
                session = session.rebalance(actor="hr", at=at(minute))
            except CalibrationError as refused:  # the overrides left no allocation: named, and nothing logged
                assert refused.pool == "all" and refused.constraints
    return session


class TestReplayProperty:
    @settings(max_examples=40, deadline=None)
    @given(steps=actions)
    def test_any_valid_sequence_replays_identically(self, steps: list[tuple[Any, ...]]) -> None:
        session = play(CalibrationSession.start(RANGED, actor="hr", at=T0), steps)
        replayed = CalibrationSession.replay(RANGED, None, session.log)
        assert replayed == session and replayed.grades() == session.grades()
        assert replayed.log.head == session.log.head
        result = session.finalise(actor="hr", at=at(60))
        assert CalibrationSession.replay(RANGED, None, result.log).result == result
        result.verify()

    @settings(max_examples=40, deadline=None)
    @given(steps=actions)
    def test_overrides_move_only_their_person(self, steps: list[tuple[Any, ...]]) -> None:
        session = CalibrationSession.start(RANGED, actor="hr", at=T0)
        for minute, step in enumerate(s for s in steps if s[0] == "override"):
            _, eid, grade, _ = step
            after = ok(session, eid, grade, minute=minute, exception=True)
            assert {k for k, v in after.grades().items() if session.grades()[k] != v} <= {eid}
            session = after
