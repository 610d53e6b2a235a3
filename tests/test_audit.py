"""The audit log: append-only, hash-chained, tamper-evident, and exact when saved and read back."""

from __future__ import annotations

import decimal
import hashlib
import json
from collections.abc import Callable, Sequence
from datetime import datetime, timedelta, timezone, tzinfo
from decimal import Decimal
from enum import Enum
from pathlib import Path
from typing import Any

import attrs
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from perfkit.audit import FORMAT, FORMAT_VERSION, AuditLog, Event, genesis_hash, verify
from perfkit.errors import AuditError, PerfkitError

BEIJING = timezone(timedelta(hours=8))
T0 = datetime(2026, 6, 30, 9, 0, tzinfo=BEIJING)


def when(minutes: int) -> datetime:
    return T0 + timedelta(minutes=minutes)


def session_log(size: int = 5, anchor: str | None = "pool 华东 2026-Q2") -> AuditLog:
    """A log like a calibration session writes: a start, overrides, a finalisation."""
    log = AuditLog.start(anchor=anchor).append("start", {"pool": "华东", "size": 12}, actor="hr", at=when(0))
    for n in range(1, size - 1):
        data = {"employee_id": f"E{n:03}", "grade": "A", "score": Decimal(f"{80 + n}.50"), "reasons": ["复核", n]}
        log = log.append("override", data, actor="李经理", at=when(n))
    return log.append("finalise", {"grades": {"A": 3, "B": 9}}, actor="hr", at=when(size)) if size > 1 else log


def sha256(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def reseal(event: Event, **changes: Any) -> Event:
    """The event with ``changes`` and its own hash recomputed, as a forger would do."""
    changed = attrs.evolve(event, **changes)
    return attrs.evolve(changed, hash=changed.content_hash())


def broken_at(events: Sequence[Event], *, anchor: str | None, expected_head: str | None = None) -> int | None:
    with pytest.raises(AuditError) as info:
        verify(events, anchor=anchor, expected_head=expected_head)
    return info.value.seq


# -- strategies ------------------------------------------------------------------------------

TRICKY = ["分数", "张三", "李经理", "", "line\nbreak", "tab\t", "sep\u2028par\u2029", "nel\x85", "\x1c\x1d\x1e", 'q"\\']
texts = st.one_of(
    st.sampled_from(TRICKY),
    st.text(max_size=12),
    st.text(st.characters(min_codepoint=0x4E00, max_codepoint=0x9FFF), max_size=8),
)
decimals = st.builds(
    lambda sign, digits, exponent: Decimal((sign, tuple(int(d) for d in str(digits)), exponent)),
    st.integers(0, 1),
    st.integers(0, 10**30),
    st.integers(-40, 40),
)
scalars = st.one_of(st.none(), st.booleans(), st.integers(-(2**53) + 1, 2**53 - 1), decimals, texts)
keys = texts.filter(lambda key: not key.startswith("$"))
json_values = st.recursive(
    scalars,
    lambda inner: st.one_of(st.lists(inner, max_size=4), st.dictionaries(keys, inner, max_size=4)),
    max_leaves=12,
)
data_st = st.dictionaries(keys, json_values, max_size=5)
times = st.builds(
    lambda moment, minutes: moment.replace(tzinfo=timezone(timedelta(minutes=minutes))),
    st.datetimes(min_value=datetime(1900, 1, 2), max_value=datetime(9999, 12, 30)),
    st.integers(-23 * 60 - 59, 23 * 60 + 59),
)
appends = st.lists(st.tuples(texts.filter(bool), data_st, st.none() | texts, times), max_size=6)


def build(anchor: str | None, entries: list[tuple[str, dict[str, Any], str | None, datetime]]) -> AuditLog:
    log = AuditLog.start(anchor=anchor)
    for kind, data, actor, at in entries:
        log = log.append(kind, data, actor=actor, at=at)
    return log


def shape(value: Any) -> Any:
    """A value with every type and Decimal's exact text visible, for exact comparisons."""
    if isinstance(value, tuple):
        return ("tuple", [shape(v) for v in value])
    if isinstance(value, dict) or hasattr(value, "items"):
        return ("map", [(k, shape(v)) for k, v in value.items()])
    return (type(value).__name__, str(value))


# -- tests -----------------------------------------------------------------------------------


class TestEventData:
    def test_data_is_a_deep_frozen_copy(self) -> None:
        data = {"reasons": ["复核", {"by": "李经理"}], "score": Decimal("88.50")}
        log = AuditLog.start().append("override", data, at=T0)
        data["reasons"][0] = "changed"  # type: ignore[index]
        data["score"] = Decimal(0)
        stored = log[0].data
        assert stored["reasons"] == ("复核", {"by": "李经理"}) and stored["score"] == Decimal("88.50")
        with pytest.raises(TypeError):
            stored["score"] = Decimal(1)  # type: ignore[index]
        with pytest.raises(TypeError):
            stored["reasons"][1]["by"] = "x"

    def test_events_are_hashable_values(self) -> None:
        first = AuditLog.start().append("k", {"xs": [1, {"y": Decimal("2.0")}]}, at=T0)[0]
        again = AuditLog.start().append("k", {"xs": (1, {"y": Decimal("2.0")})}, at=T0)[0]
        assert first == again and hash(first) == hash(again) and len({first, again}) == 1

    def test_keys_are_kept_in_code_point_order(self) -> None:
        event = AuditLog.start().append("k", {"b": 1, "a": 2, "张": 3, "B": 4}, at=T0)[0]
        assert list(event.data) == sorted(["b", "a", "张", "B"])

    def test_str_and_int_enums_become_plain_values(self) -> None:
        class Grade(str, Enum):
            A = "A"

        event = AuditLog.start().append("k", {"grade": Grade.A}, at=T0)[0]
        assert type(event.data["grade"]) is str and event.data["grade"] == "A"

    @pytest.mark.parametrize(
        ("data", "message"),
        [
            ({"score": 0.1}, r"data\['score'\] is a float \(0.1\).*Decimal or int, e.g. Decimal\('0.1'\)"),
            ({"xs": [1, {"y": 2.5}]}, r"data\['xs'\]\[1\]\['y'\] is a float"),
            ({"x": float("nan")}, r"is a float \(nan\); numbers in an audit log must be Decimal or int$"),
            ({"x": Decimal("NaN")}, r"data\['x'\] is NaN, not a finite number"),
            ({"x": Decimal("-Infinity")}, "not a finite number"),
            ({"x": {1, 2}}, r"data\['x'\] is a set, which an audit log cannot store"),
            ({"x": T0}, "is a datetime, which an audit log cannot store"),
            ({"x": {3: "a"}}, r"data\['x'\] has the key 3 \(int\); keys must be str"),
            ({"$decimal": "1"}, "keys starting with '\\$' are reserved"),
            ({"x": 2**53}, r"beyond ±\(2\*\*53 - 1\).*use a Decimal"),
            ({"x": "\ud800"}, "lone surrogate"),
        ],
    )
    def test_values_a_log_cannot_hold_are_refused_with_their_path(self, data: dict[str, Any], message: str) -> None:
        log = session_log(3)
        with pytest.raises(AuditError, match=message) as info:
            log.append("k", data, at=T0)
        assert info.value.seq == 3 and isinstance(info.value, PerfkitError)

    def test_nesting_is_bounded(self) -> None:
        deep: Any = "leaf"
        for _ in range(70):
            deep = [deep]
        with pytest.raises(AuditError, match="more than 64 levels"):
            AuditLog.start().append("k", {"deep": deep}, at=T0)

    def test_data_must_be_a_mapping(self) -> None:
        with pytest.raises(AuditError, match="data is a mapping"):
            AuditLog.start().append("k", [1, 2], at=T0)  # type: ignore[arg-type]


class TestEventFields:
    def test_a_naive_time_is_refused(self) -> None:
        with pytest.raises(AuditError, match=r"2026-06-30 09:00:00 has no time zone; give an aware datetime"):
            AuditLog.start().append("start", {}, at=datetime(2026, 6, 30, 9))

    def test_an_offset_with_seconds_is_refused(self) -> None:
        with pytest.raises(AuditError, match="not whole minutes"):
            AuditLog.start().append("start", {}, at=datetime(2026, 1, 1, tzinfo=timezone(timedelta(seconds=30))))

    def test_a_time_zone_becomes_its_fixed_offset(self) -> None:
        """The hash must not depend on a time-zone database that may change later."""

        class ChinaStandardTime(tzinfo):
            def utcoffset(self, dt: datetime | None) -> timedelta:
                return timedelta(hours=8)

            def dst(self, dt: datetime | None) -> timedelta:
                return timedelta(0)

        at = datetime(2026, 6, 30, 9, 0, 0, 250, tzinfo=ChinaStandardTime())
        event = AuditLog.start().append("start", {}, at=at)[0]
        assert event.at == at and event.at.tzinfo == BEIJING and event.at.isoformat() == at.isoformat()

    @pytest.mark.parametrize(
        ("changes", "message"),
        [
            ({"seq": -1}, "seq is a whole number from 0"),
            ({"seq": True}, "seq is a whole number from 0"),
            ({"kind": ""}, "kind is a non-empty str"),
            ({"actor": 7}, "actor is a str or None"),
            ({"at": "2026-06-30"}, "must be a datetime, got str"),
            ({"hash": "ABC"}, "hash is 64 lowercase hex digits"),
            ({"prev_hash": "0" * 63}, "prev_hash is 64 lowercase hex digits"),
        ],
    )
    def test_bad_fields_are_refused(self, changes: dict[str, Any], message: str) -> None:
        with pytest.raises(AuditError, match=message):
            attrs.evolve(session_log(2)[1], **changes)


class TestAppend:
    def test_append_returns_a_new_log_and_leaves_the_old_one(self) -> None:
        empty = AuditLog.start(anchor="a")
        one = empty.append("start", {"pool": "华东"}, actor="hr", at=T0)
        two = one.append("finalise", at=T0)
        assert (len(empty), len(one), len(two)) == (0, 1, 2)
        assert two[0] is one[0] and two[1].data == {}
        assert empty.head == empty.genesis == genesis_hash("a")
        assert one.head == one[0].hash and two.head == two[1].hash

    def test_events_link_to_the_one_before(self) -> None:
        log = session_log(6)
        assert [e.seq for e in log] == list(range(6))
        assert log[0].prev_hash == log.genesis
        assert all(log[n].prev_hash == log[n - 1].hash for n in range(1, len(log)))
        assert all(e.hash == e.content_hash() for e in log.events)
        assert log[1:3] == log.events[1:3] and list(log) == list(log.events)

    def test_no_time_means_now_in_utc(self) -> None:
        before = datetime.now(timezone.utc)
        event = AuditLog.start().append("start")[0]
        assert before <= event.at <= datetime.now(timezone.utc) and event.at.utcoffset() == timedelta(0)

    def test_anchors_separate_logs(self) -> None:
        a, b, none = session_log(anchor="state-a"), session_log(anchor="state-b"), session_log(anchor=None)
        assert len({a.genesis, b.genesis, none.genesis, genesis_hash("")}) == 4
        assert not {e.hash for e in a} & {e.hash for e in b}
        assert a != b and a == session_log(anchor="state-a")

    def test_the_constructor_verifies(self) -> None:
        log = session_log()
        assert AuditLog(anchor=log.anchor, events=list(log)) == log
        with pytest.raises(AuditError) as info:
            AuditLog(anchor="another", events=log.events)
        assert info.value.seq == 0 and "another anchor" in str(info.value)


class TestHashing:
    def test_same_events_and_times_give_the_same_head(self) -> None:
        assert session_log().head == session_log().head
        assert session_log().to_jsonl() == session_log().to_jsonl()

    def test_the_hash_is_sha256_of_the_documented_encoding(self) -> None:
        """Written by hand from docs/audit.md, so another language can follow it."""
        at = datetime(2026, 6, 30, 9, 0, 0, 500, tzinfo=BEIJING)
        data = {"tags": ["复核", True, None, 3], "score": Decimal("95.50"), "employee_id": "E001"}
        event = AuditLog.start(anchor="s1").append("override", data, actor="李经理", at=at)[0]
        genesis = sha256('{"anchor":"s1","format":"perfkit-audit","version":1}')
        canonical = (
            '{"actor":"李经理","at":"2026-06-30T09:00:00.000500+08:00","data":{"employee_id":"E001",'
            '"score":{"$decimal":"95.50"},"tags":["复核",true,null,3]},"kind":"override",'
            f'"prev_hash":"{genesis}","seq":0,"version":1}}'
        )
        assert event.prev_hash == genesis and event.hash == sha256(canonical)

    @pytest.mark.parametrize(
        ("a", "b"),
        [(Decimal("1.0"), Decimal("1.00")), (Decimal("1.5"), "1.5"), (True, 1), (0, Decimal(0)), ((), {})],
    )
    def test_values_that_python_may_call_equal_hash_differently(self, a: object, b: object) -> None:
        assert session_log(2).append("k", {"x": a}, at=T0).head != session_log(2).append("k", {"x": b}, at=T0).head

    def test_the_same_instant_at_another_offset_is_another_record(self) -> None:
        utc = T0.astimezone(timezone.utc)
        assert AuditLog.start().append("k", at=T0).head != AuditLog.start().append("k", at=utc).head

    def test_key_order_of_the_input_does_not_matter(self) -> None:
        one = AuditLog.start().append("k", {"a": 1, "b": {"y": 1, "x": 2}}, at=T0)
        two = AuditLog.start().append("k", {"b": {"x": 2, "y": 1}, "a": 1}, at=T0)
        assert one.head == two.head and one == two

    def test_the_callers_decimal_context_does_not_matter(self, caller_context: decimal.Context) -> None:
        expected = AuditLog.start().append("k", {"x": Decimal("1E+3")}, at=T0)
        caller_context.capitals = 0
        caller_context.prec = 3
        again = AuditLog.start().append("k", {"x": Decimal("1E+3"), "y": Decimal("1.23456")}, at=T0)
        assert again[0].data["y"] == Decimal("1.23456")
        assert AuditLog.start().append("k", {"x": Decimal("1E+3")}, at=T0).head == expected.head
        assert '{"$decimal":"1E+3"}' in expected.to_jsonl()


class TestVerify:
    def test_an_honest_log_verifies(self) -> None:
        log = session_log()
        log.verify()
        log.verify(expected_head=log.head)
        verify(log, anchor=log.anchor, expected_head=log.head)
        verify(log.events, anchor=log.anchor)
        verify([], anchor="x", expected_head=genesis_hash("x"))

    @pytest.mark.parametrize(
        "change",
        [
            {"data": {"employee_id": "E001", "grade": "S"}},
            {"kind": "edited"},
            {"actor": "someone else"},
            {"actor": None},
            {"at": T0 + timedelta(microseconds=1)},
            {"seq": 9},
            {"prev_hash": "0" * 64},
            {"hash": "f" * 64},
        ],
        ids=lambda change: next(iter(change)),
    )
    def test_an_edited_field_is_found_at_its_event(self, change: dict[str, Any]) -> None:
        log = session_log(5)
        for position in range(len(log)):
            events = list(log)
            events[position] = attrs.evolve(events[position], **change)
            assert broken_at(events, anchor=log.anchor) == position

    def test_an_edit_with_a_recomputed_hash_breaks_the_next_link(self) -> None:
        log = session_log(5)
        events = list(log)
        events[2] = reseal(events[2], data={"grade": "S"})
        assert broken_at(events, anchor=log.anchor) == 3

    def test_a_removed_middle_event_is_found(self) -> None:
        log = session_log(5)
        events = [e for e in log if e.seq != 2]
        with pytest.raises(AuditError, match="says seq 3: an event was removed or inserted before it") as info:
            verify(events, anchor=log.anchor)
        assert info.value.seq == 2
        renumbered = [*events[:2], *(reseal(e, seq=e.seq - 1) for e in events[2:])]
        assert broken_at(renumbered, anchor=log.anchor) == 2

    def test_removing_the_first_event_is_found(self) -> None:
        log = session_log(4)
        assert broken_at(log.events[1:], anchor=log.anchor) == 0

    def test_swapped_events_are_found(self) -> None:
        log = session_log(5)
        events = list(log)
        events[1], events[2] = events[2], events[1]
        with pytest.raises(AuditError, match="says seq 2: .* or events were reordered") as info:
            verify(events, anchor=log.anchor)
        assert info.value.seq == 1
        renumbered = [events[0], reseal(events[1], seq=1), reseal(events[2], seq=2), *events[3:]]
        assert broken_at(renumbered, anchor=log.anchor) == 1

    def test_an_inserted_forgery_is_found(self) -> None:
        """A forgery with its own hash right links to its predecessor; the event after it breaks."""
        log = session_log(5)
        forged = reseal(log[2], data={"employee_id": "E999", "grade": "S"})  # seq 2, links to event 1
        assert forged.hash == forged.content_hash()
        assert broken_at([*log[:2], forged, *log[2:]], anchor=log.anchor) == 3
        unsealed = attrs.evolve(log[2], data={"employee_id": "E999"})
        assert broken_at([*log[:2], unsealed, *log[2:]], anchor=log.anchor) == 2

    def test_a_forgery_appended_at_the_end_is_found_only_by_the_head(self) -> None:
        log = session_log(4)
        forged = log.append("override", {"employee_id": "E999", "grade": "S"}, at=when(9))
        forged.verify()
        with pytest.raises(AuditError, match="1 more follow") as info:
            forged.verify(expected_head=log.head)
        assert info.value.seq == 4

    def test_truncation_is_found_only_with_the_expected_head(self) -> None:
        log = session_log(6)
        cut = AuditLog(anchor=log.anchor, events=log[:4])
        cut.verify()
        with pytest.raises(AuditError, match="removed from its end") as info:
            cut.verify(expected_head=log.head)
        assert info.value.seq is None
        assert broken_at(log[:4], anchor=log.anchor, expected_head=log.head) is None

    def test_a_rebuilt_chain_is_found_only_with_the_expected_head(self) -> None:
        log = session_log(4)
        rebuilt = AuditLog.start(anchor=log.anchor)
        for event in log:
            data = {**event.data, "grade": "S"} if event.kind == "override" else event.data
            rebuilt = rebuilt.append(event.kind, data, actor=event.actor, at=event.at)
        rebuilt.verify()
        with pytest.raises(AuditError, match="chain was rebuilt"):
            rebuilt.verify(expected_head=log.head)

    def test_the_anchor_must_match(self) -> None:
        log = session_log(3)
        assert broken_at(log.events, anchor="another") == 0
        with pytest.raises(AuditError, match="started from the anchor"):
            verify(log, anchor="another")

    def test_only_events_can_be_verified(self) -> None:
        with pytest.raises(AuditError, match="a log holds Events, got dict") as info:
            verify([*session_log(2), {"seq": 2}], anchor="pool 华东 2026-Q2")  # type: ignore[list-item]
        assert info.value.seq == 2

    def test_the_error_is_data_too(self) -> None:
        log = session_log(3)
        events = [log[0], attrs.evolve(log[1], kind="x"), log[2]]
        with pytest.raises(AuditError) as info:
            verify(events, anchor=log.anchor)
        assert info.value.to_dict()["seq"] == 1 and info.value.to_dict()["event_hash"] == log[1].hash
        assert str(info.value).startswith("event 1: ")


class TestJsonl:
    @settings(max_examples=150, deadline=None)
    @given(st.none() | texts, appends)
    def test_the_round_trip_is_exact(self, anchor: str | None, entries: list[Any]) -> None:
        log = build(anchor, entries)
        text = log.to_jsonl()
        again = AuditLog.from_jsonl(text)
        assert again == log and again.head == log.head and again.to_jsonl() == text
        assert [e.hash for e in again] == [e.hash for e in log]
        for ours, theirs in zip(log, again):
            assert shape(theirs.data) == shape(ours.data) and repr(theirs) == repr(ours)
        assert len(text.split("\n")) == len(log) + 2  # header, events, and the final newline

    def test_the_layout(self) -> None:
        log = session_log(3)
        lines = log.to_jsonl().splitlines()
        assert json.loads(lines[0]) == {"format": FORMAT, "version": FORMAT_VERSION, "anchor": log.anchor}
        event = json.loads(lines[2])
        assert set(event) == {"seq", "kind", "actor", "at", "data", "prev_hash", "hash"}
        assert event["data"]["score"] == {"$decimal": "81.50"} and event["at"] == "2026-06-30T09:01:00+08:00"
        assert "李经理" in lines[2] and all(", " not in line and ": " not in line for line in lines)

    @pytest.mark.parametrize(
        ("tamper", "seq"),
        [
            (lambda lines: lines.__setitem__(2, lines[2].replace('"81.50"', '"91.50"')), 1),
            (lambda lines: lines.__setitem__(2, lines[2].replace('"李经理"', '"王总"')), 1),
            (lambda lines: lines.pop(2), 1),
            (lambda lines: lines.insert(3, lines.pop(2)), 1),
            (lambda lines: lines.__setitem__(0, lines[0].replace("华东", "华南")), 0),
        ],
        ids=["value", "actor", "removed", "swapped", "anchor"],
    )
    def test_tampered_text_is_refused(self, tamper: Callable[[list[str]], object], seq: int) -> None:
        lines = session_log(5).to_jsonl().splitlines()
        tamper(lines)
        with pytest.raises(AuditError) as info:
            AuditLog.from_jsonl("\n".join(lines))
        assert info.value.seq == seq

    @pytest.mark.parametrize(
        ("edit", "message"),
        [
            (lambda t: t.replace('"81.50"}', '"81.50"', 1), r"line 3: not valid JSON \(.*column"),
            (lambda t: t.replace('{"$decimal":"81.50"}', "81.50"), r"line 3: the number 81.50 is not an integer"),
            (lambda t: t.replace('"size":12', '"size":NaN'), "line 2: NaN is not a number"),
            (lambda t: t.replace('{"$decimal":"81.50"}', '{"$decimal":"81.5e0"}'), "written the canonical way"),
            (lambda t: t.replace('{"$decimal":"81.50"}', '{"$decimal":"abc"}'), "'abc' is not a decimal number"),
            (lambda t: t.replace('{"$decimal":"81.50"}', '{"$decimal":81}'), "is not a decimal: write"),
            (lambda t: t.replace('{"$decimal":"81.50"}', '{"$int":"81"}'), "reserved"),
            (lambda t: t.replace('"seq":1}', '"seq":1,"seq":1}'), "line 3: the key 'seq' appears twice"),
            (lambda t: t.replace('"seq":1}', '"seq":1,"note":"x"}'), r"line 3: an event has the fields"),
            (
                lambda t: t.replace("09:01:00+08:00", "01:01:00Z"),
                r"line 3: the time '2026-06-30T01:01:00Z' is not written",
            ),
            (lambda t: t.replace("09:01:00+08:00", "9 o'clock"), "line 3: Invalid isoformat"),
            (lambda t: t.replace('"version":1', '"version":2'), "line 1: format version 2 is not 1"),
            (lambda t: t.replace(FORMAT, "other"), "line 1: the header line must name the format"),
            (lambda t: t.replace('"anchor":"pool 华东 2026-Q2"', '"anchor":5'), "the anchor is a string or null"),
            (lambda t: "", "no header line"),
        ],
    )
    def test_malformed_text_is_refused_with_its_line(self, edit: Callable[[str], str], message: str) -> None:
        text = session_log(4).to_jsonl()
        changed = edit(text)
        assert changed != text
        with pytest.raises(AuditError, match=message):
            AuditLog.from_jsonl(changed)

    def test_blank_lines_and_crlf_are_read(self) -> None:
        log = session_log(3)
        assert AuditLog.from_jsonl(log.to_jsonl().replace("\n", "\r\n\n")) == log

    def test_line_separators_inside_text_stay_inside_their_line(self) -> None:
        log = AuditLog.start().append("note", {"text": "a\u2028b\x85c\x1cd\ne"}, at=T0)
        assert AuditLog.from_jsonl(log.to_jsonl())[0].data["text"] == "a\u2028b\x85c\x1cd\ne"

    def test_write_and_read_a_file(self, tmp_path: Path) -> None:
        log = session_log()
        path = tmp_path / "session.audit.jsonl"
        log.write(path)
        assert AuditLog.read(path) == log
        path.write_bytes(path.read_bytes().replace("李经理".encode(), "王总".encode(), 1))
        with pytest.raises(AuditError, match=r"session.audit.jsonl: its content does not match") as info:
            AuditLog.read(path)
        assert info.value.seq == 1
        path.write_bytes(b'\xff{"format"}\n')
        with pytest.raises(AuditError, match="not UTF-8 text"):
            AuditLog.read(path)
