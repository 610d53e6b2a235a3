"""An append-only, hash-chained event log: what happened, in order, with tampering evident.

Each :class:`Event` carries the SHA-256 hash of its own content and of the event before it,
so editing, removing, inserting or reordering events breaks the chain at a position that
:meth:`AuditLog.verify` names. The chain starts from a genesis hash derived from an
``anchor`` (say, the hash of a session's starting state). The log is tamper-*evident*, not
tamper-proof: anyone can rebuild a whole chain, so keep the :attr:`AuditLog.head` somewhere
else as well and check against it (``expected_head``). ``docs/audit.md`` gives the format.

>>> from datetime import datetime, timezone
>>> log = AuditLog.start(anchor="pool 华东, 2026-Q2")
>>> log = log.append("override", {"employee_id": "E001", "score": Decimal("88.50")}, actor="李经理",
...                  at=datetime(2026, 6, 30, 9, 5, tzinfo=timezone.utc))
>>> log[0].seq, log[0].data["score"]
(0, Decimal('88.50'))
>>> AuditLog.from_jsonl(log.to_jsonl()) == log
True
>>> log.verify(expected_head=log.head)
"""

from __future__ import annotations

import decimal
import hashlib
import json
import math
import os
import re
from collections.abc import Iterable, Iterator, Mapping
from datetime import datetime, timedelta, timezone
from decimal import Decimal
from pathlib import Path
from typing import Any, overload

import attrs

from perfkit._time import parse_datetime
from perfkit.errors import AuditError

__all__ = ["FORMAT", "FORMAT_VERSION", "AuditLog", "Event", "genesis_hash", "verify"]

FORMAT = "perfkit-audit"
"""The ``format`` named in the header line of a serialised log."""
FORMAT_VERSION = 1
"""The version of the format and of the hashed encoding; part of every hash."""
MAX_SAFE_INTEGER = 2**53 - 1
"""Larger integers are refused (JSON readers in other languages lose their digits); use a Decimal."""
MAX_DEPTH = 64
"""How deeply lists and mappings may nest inside an event's data."""

_DECIMAL = "$decimal"
_EVENT_FIELDS = frozenset({"actor", "at", "data", "hash", "kind", "prev_hash", "seq"})
_HEX64 = re.compile(r"[0-9a-f]{64}\Z")
_SURROGATE = re.compile("[\ud800-\udfff]")
_TEXT = decimal.Context(capitals=1)  # Decimal text must not depend on the caller's context


# -- data: plain JSON values, deep-frozen --------------------------------------------------


class _FrozenData(Mapping[str, Any]):
    """A read-only mapping with str keys in code-point order; values are frozen JSON values."""

    __slots__ = ("_items",)

    def __init__(self, items: dict[str, Any]) -> None:
        self._items = dict(sorted(items.items()))

    def __getitem__(self, key: str) -> Any:
        return self._items[key]

    def __iter__(self) -> Iterator[str]:
        return iter(self._items)

    def __len__(self) -> int:
        return len(self._items)

    def __hash__(self) -> int:
        return hash(tuple(self._items.items()))

    def __repr__(self) -> str:
        return repr(self._items)


def _freeze(value: object, path: str, depth: int = 0) -> Any:
    """``value`` as a frozen JSON value (tuples, :class:`_FrozenData`), or AuditError naming ``path``."""
    if value is None or value is True or value is False:
        return value
    if isinstance(value, str):
        _check_text(value, path)
        return str.__str__(value)  # a plain str, also for str enums
    if isinstance(value, float):
        number = float(value)
        example = f", e.g. Decimal({repr(number)!r})" if math.isfinite(number) else ""
        raise AuditError(f"{path} is a float ({number!r}); numbers in an audit log must be Decimal or int{example}")
    if isinstance(value, int) and not isinstance(value, bool):
        number = int(value)
        if abs(number) > MAX_SAFE_INTEGER:
            raise AuditError(f"{path} is {number}, beyond ±(2**53 - 1) where JSON readers lose digits; use a Decimal")
        return number
    if isinstance(value, Decimal):
        if not value.is_finite():
            raise AuditError(f"{path} is {value}, not a finite number")
        return value
    if isinstance(value, _FrozenData):
        return value  # built by this function, so already checked
    if depth >= MAX_DEPTH and isinstance(value, (list, tuple, Mapping)):
        raise AuditError(f"{path} nests lists and mappings more than {MAX_DEPTH} levels deep")
    if isinstance(value, (list, tuple)):
        return tuple(_freeze(item, f"{path}[{n}]", depth + 1) for n, item in enumerate(value))
    if isinstance(value, Mapping):
        items: dict[str, Any] = {}
        for key, item in value.items():
            if not isinstance(key, str):
                raise AuditError(f"{path} has the key {key!r} ({type(key).__name__}); keys must be str")
            _check_text(key, f"a key of {path}")
            if key.startswith("$"):
                raise AuditError(f"{path} has the key {key!r}; keys starting with '$' are reserved")
            items[str.__str__(key)] = _freeze(item, f"{path}[{key!r}]", depth + 1)
        return _FrozenData(items)
    raise AuditError(
        f"{path} is a {type(value).__name__}, which an audit log cannot store; "
        "use str, int, bool, None, Decimal, a list or a dict with str keys"
    )


def _check_text(text: str, what: str) -> None:
    if _SURROGATE.search(text):
        raise AuditError(f"{what} is not valid Unicode text (it holds a lone surrogate)")


def _fixed_time(at: object, seq: int | None) -> datetime:
    """``at`` as a plain datetime with a fixed offset (no time-zone database involved)."""
    if not isinstance(at, datetime):
        raise AuditError(f"the time of an event must be a datetime, got {type(at).__name__}", seq=seq)
    offset = at.utcoffset()
    if offset is None:
        raise AuditError(
            f"the time {at.isoformat(sep=' ')} has no time zone; give an aware datetime, "
            "e.g. datetime.now(timezone.utc) or one with tzinfo=ZoneInfo('Asia/Shanghai')",
            seq=seq,
        )
    if offset % timedelta(minutes=1):
        raise AuditError(f"the time {at.isoformat()} has an offset that is not whole minutes", seq=seq)
    fields = (at.year, at.month, at.day, at.hour, at.minute, at.second, at.microsecond)
    return datetime(*fields, tzinfo=timezone(offset))


# -- the canonical encoding ------------------------------------------------------------------


def _json_value(value: object) -> object:
    if isinstance(value, Decimal):
        return {_DECIMAL: _TEXT.to_sci_string(value)}
    if isinstance(value, _FrozenData):
        return value._items
    raise TypeError(f"not a frozen JSON value: {type(value).__name__}")  # unreachable: data is frozen


def _canonical(value: object) -> str:
    """Sorted keys, no whitespace, non-ASCII as is, Decimals as ``{"$decimal": text}``."""
    return json.dumps(
        value, sort_keys=True, separators=(",", ":"), ensure_ascii=False, allow_nan=False, default=_json_value
    )


def _sha256(value: object) -> str:
    return hashlib.sha256(_canonical(value).encode("utf-8")).hexdigest()


def _header(anchor: str | None) -> dict[str, object]:
    return {"anchor": anchor, "format": FORMAT, "version": FORMAT_VERSION}


def genesis_hash(anchor: str | None) -> str:
    """The hash the first event links to: SHA-256 of the canonical header for ``anchor``."""
    return _sha256(_header(anchor))


# -- events ----------------------------------------------------------------------------------


@attrs.frozen(kw_only=True)
class Event:
    """One recorded action: its position, kind, who, when, what, and its links in the chain.

    ``data`` is stored as a read-only deep copy (lists become tuples); ``at`` must be
    timezone-aware and is kept with its fixed UTC offset. :meth:`AuditLog.append` fills in
    ``seq``, ``prev_hash`` and ``hash``; building an Event by hand checks its fields, not its hash.
    """

    seq: int
    kind: str
    actor: str | None = None
    at: datetime
    data: Mapping[str, Any]
    prev_hash: str
    hash: str

    def __attrs_post_init__(self) -> None:
        if isinstance(self.seq, bool) or not isinstance(self.seq, int) or self.seq < 0:
            raise AuditError(f"an event's seq is a whole number from 0, got {self.seq!r}")
        if not isinstance(self.kind, str) or not self.kind:
            raise AuditError(f"an event's kind is a non-empty str, got {self.kind!r}", seq=self.seq)
        _check_text(self.kind, "the kind")
        object.__setattr__(self, "kind", str.__str__(self.kind))
        if self.actor is not None:
            if not isinstance(self.actor, str):
                raise AuditError(f"an event's actor is a str or None, got {self.actor!r}", seq=self.seq)
            _check_text(self.actor, "the actor")
            object.__setattr__(self, "actor", str.__str__(self.actor))
        if not isinstance(self.data, Mapping):
            raise AuditError(
                f"an event's data is a mapping with str keys, got {type(self.data).__name__}", seq=self.seq
            )
        try:
            data = _freeze(self.data, "data")
        except AuditError as exc:
            raise AuditError(exc.message, seq=self.seq) from None
        for name in ("prev_hash", "hash"):
            value = getattr(self, name)
            if not isinstance(value, str) or not _HEX64.match(value):
                raise AuditError(f"{name} is 64 lowercase hex digits (a SHA-256), got {value!r}", seq=self.seq)
        object.__setattr__(self, "at", _fixed_time(self.at, self.seq))
        object.__setattr__(self, "data", data)

    def content_hash(self) -> str:
        """The hash this event's content yields: what :attr:`hash` must be."""
        return _sha256({**self._content(), "version": FORMAT_VERSION})

    def _content(self) -> dict[str, object]:
        return {
            "actor": self.actor,
            "at": self.at.isoformat(),
            "data": self.data,
            "kind": self.kind,
            "prev_hash": self.prev_hash,
            "seq": self.seq,
        }

    def _line(self) -> str:
        return _canonical({**self._content(), "hash": self.hash})


def _events(value: Iterable[Event]) -> tuple[Event, ...]:
    return tuple(value)


# -- the log ---------------------------------------------------------------------------------


@attrs.frozen(kw_only=True)
class AuditLog:
    """An immutable, verified chain of events; :meth:`append` returns a new, longer log.

    Building a log from events (``AuditLog(anchor=..., events=...)``, :meth:`from_jsonl`)
    verifies the chain and raises :class:`~perfkit.errors.AuditError` at the first broken link.
    Two logs are equal when their anchors and events are.
    """

    anchor: str | None = None
    events: tuple[Event, ...] = attrs.field(default=(), converter=_events)

    def __attrs_post_init__(self) -> None:
        if self.anchor is not None:
            if not isinstance(self.anchor, str):
                raise AuditError(f"the anchor of a log is a str or None, got {self.anchor!r}")
            _check_text(self.anchor, "the anchor")
        _check_chain(self.anchor, self.events)

    @classmethod
    def start(cls, *, anchor: str | None = None) -> AuditLog:
        """An empty log whose chain starts from ``anchor``."""
        return cls(anchor=anchor)

    @property
    def genesis(self) -> str:
        """The hash the first event links to (derived from :attr:`anchor`)."""
        return genesis_hash(self.anchor)

    @property
    def head(self) -> str:
        """The hash of the last event, or the genesis hash of an empty log: record it elsewhere."""
        return self.events[-1].hash if self.events else self.genesis

    def __len__(self) -> int:
        return len(self.events)

    def __iter__(self) -> Iterator[Event]:
        return iter(self.events)

    @overload
    def __getitem__(self, index: int) -> Event: ...

    @overload
    def __getitem__(self, index: slice) -> tuple[Event, ...]: ...

    def __getitem__(self, index: int | slice) -> Event | tuple[Event, ...]:
        return self.events[index]

    def append(
        self, kind: str, data: Mapping[str, Any] | None = None, *, actor: str | None = None, at: datetime | None = None
    ) -> AuditLog:
        """A new log with one more event; this log is unchanged. ``at=None`` is now, in UTC."""
        when = datetime.now(timezone.utc) if at is None else at
        seq = len(self.events)
        draft = Event(
            seq=seq,
            kind=kind,
            actor=actor,
            at=when,
            data={} if data is None else data,
            prev_hash=self.head,
            hash=self.head,  # a placeholder, replaced by the real hash just below
        )
        event = attrs.evolve(draft, hash=draft.content_hash())
        return _trusted(self.anchor, (*self.events, event))

    def verify(self, *, expected_head: str | None = None) -> None:
        """Recompute every hash and link; with ``expected_head``, also check where the log ends.

        Raises :class:`~perfkit.errors.AuditError` whose ``seq`` is the first position where
        the chain breaks. Events removed from the end leave an intact chain: only a head
        recorded elsewhere (``expected_head``) shows it.
        """
        _check_chain(self.anchor, self.events)
        _check_head(self.genesis, self.events, expected_head)

    def to_jsonl(self) -> str:
        """A header line (format, version, anchor), then one canonical JSON line per event."""
        lines = [_canonical(_header(self.anchor)), *(event._line() for event in self.events)]
        return "".join(line + "\n" for line in lines)

    @classmethod
    def from_jsonl(cls, text: str) -> AuditLog:
        """Read a log written by :meth:`to_jsonl` and verify it (AuditError if it does not)."""
        lines = [(number, line) for number, line in enumerate(text.split("\n"), start=1) if line.strip()]
        if not lines:
            raise AuditError("there is no header line: the text is empty")
        number, line = lines[0]
        anchor = _read_header(_parse_line(line, number), number)
        events = [_read_event(_parse_line(line, number), number) for number, line in lines[1:]]
        return cls(anchor=anchor, events=events)

    def write(self, path: str | os.PathLike[str]) -> None:
        """Write :meth:`to_jsonl` to ``path`` as UTF-8."""
        Path(path).write_bytes(self.to_jsonl().encode("utf-8"))

    @classmethod
    def read(cls, path: str | os.PathLike[str]) -> AuditLog:
        """Read and verify a log written by :meth:`write`."""
        try:
            return cls.from_jsonl(Path(path).read_bytes().decode("utf-8"))
        except UnicodeDecodeError as exc:
            raise AuditError(f"{os.fspath(path)}: not UTF-8 text (byte {exc.start})") from None
        except AuditError as exc:
            raise AuditError(f"{os.fspath(path)}: {exc.message}", seq=exc.seq, event_hash=exc.event_hash) from None


def verify(
    events_or_log: AuditLog | Iterable[Event], *, anchor: str | None = None, expected_head: str | None = None
) -> None:
    """Verify a log, or a sequence of events chained from ``anchor``; see :meth:`AuditLog.verify`.

    For a log, a given ``anchor`` must also be the one the log was started with.
    """
    if isinstance(events_or_log, AuditLog):
        if anchor is not None and anchor != events_or_log.anchor:
            raise AuditError(f"the log was started from the anchor {events_or_log.anchor!r}, not {anchor!r}")
        events_or_log.verify(expected_head=expected_head)
        return
    events = tuple(events_or_log)
    _check_chain(anchor, events)
    _check_head(genesis_hash(anchor), events, expected_head)


def _trusted(anchor: str | None, events: tuple[Event, ...]) -> AuditLog:
    """A log built without re-verifying (for :meth:`AuditLog.append`, which links correctly)."""
    log = object.__new__(AuditLog)
    object.__setattr__(log, "anchor", anchor)
    object.__setattr__(log, "events", events)
    return log


def _check_chain(anchor: str | None, events: tuple[Event, ...]) -> None:
    previous = genesis_hash(anchor)
    for position, event in enumerate(events):
        if not isinstance(event, Event):
            raise AuditError(f"a log holds Events, got {type(event).__name__}", seq=position)
        if event.seq != position:
            raise AuditError(
                f"the event here says seq {event.seq}: an event was removed or inserted before it, "
                "or events were reordered",
                seq=position,
                event_hash=event.hash,
            )
        if event.prev_hash != previous:
            before = (
                "the genesis hash of this log's anchor (the log was started from another anchor)"
                if position == 0
                else f"the hash of event {position - 1} (that event was changed, or this one was moved or forged)"
            )
            raise AuditError(f"its prev_hash is not {before}", seq=position, event_hash=event.hash)
        if event.content_hash() != event.hash:
            raise AuditError(
                "its content does not match its hash: it was edited after it was written",
                seq=position,
                event_hash=event.hash,
            )
        previous = event.hash


def _check_head(genesis: str, events: tuple[Event, ...], expected_head: str | None) -> None:
    head = events[-1].hash if events else genesis
    if expected_head is None or head == expected_head:
        return
    heads = [genesis, *(event.hash for event in events)]
    if expected_head in heads:
        first = heads.index(expected_head)
        raise AuditError(
            f"the expected head is reached after {first} event(s), but {len(events) - first} more follow: "
            "they were added after the head was recorded",
            seq=first,
            event_hash=events[first].hash,
        )
    raise AuditError(
        f"the log ends at {head}, not at the expected head {expected_head}: "
        "events were removed from its end, or the chain was rebuilt"
    )


# -- reading JSONL ---------------------------------------------------------------------------


def _parse_line(line: str, number: int) -> Any:
    try:
        return json.loads(line, parse_float=_no_float, parse_constant=_no_constant, object_pairs_hook=_no_duplicates)
    except json.JSONDecodeError as exc:
        raise AuditError(f"line {number}: not valid JSON ({exc.msg}, column {exc.colno})") from None
    except (ValueError, RecursionError) as exc:
        raise AuditError(f"line {number}: {exc}") from None


def _no_float(text: str) -> Any:
    raise ValueError(f"the number {text} is not an integer; decimals are written {{{_DECIMAL!r}: {text!r}}}")


def _no_constant(name: str) -> Any:
    raise ValueError(f"{name} is not a number an audit log can hold")


def _no_duplicates(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    result: dict[str, Any] = {}
    for key, value in pairs:
        if key in result:
            raise ValueError(f"the key {key!r} appears twice in one object")
        result[key] = value
    return result


def _read_header(header: Any, number: int) -> str | None:
    if not isinstance(header, dict) or header.get("format") != FORMAT:
        raise AuditError(f"line {number}: the header line must name the format {FORMAT!r}")
    if header.get("version") != FORMAT_VERSION:
        raise AuditError(
            f"line {number}: format version {header.get('version')!r} is not {FORMAT_VERSION}, the one read here"
        )
    if set(header) != {"anchor", "format", "version"}:
        raise AuditError(f"line {number}: the header has fields {sorted(header)}, not anchor, format and version")
    anchor = header["anchor"]
    if anchor is not None and not isinstance(anchor, str):
        raise AuditError(f"line {number}: the anchor is a string or null, got {anchor!r}")
    return anchor


def _read_event(line: Any, number: int) -> Event:
    if not isinstance(line, dict) or set(line) != _EVENT_FIELDS:
        found = sorted(line) if isinstance(line, dict) else type(line).__name__
        raise AuditError(f"line {number}: an event has the fields {sorted(_EVENT_FIELDS)}, got {found}")
    text = line["at"]
    try:
        at = parse_datetime(text) if isinstance(text, str) else text
        data = _read_data(line["data"], "data")
        event = Event(
            seq=line["seq"],
            kind=line["kind"],
            actor=line["actor"],
            at=at,
            data=data,
            prev_hash=line["prev_hash"],
            hash=line["hash"],
        )
    except ValueError as exc:  # AuditError is a ValueError, and so is a bad time
        seq = exc.seq if isinstance(exc, AuditError) else None
        raise AuditError(f"line {number}: {exc.message if isinstance(exc, AuditError) else exc}", seq=seq) from None
    if event.at.isoformat() != text:
        raise AuditError(f"line {number}: the time {text!r} is not written {event.at.isoformat()!r}", seq=event.seq)
    return event


def _read_data(value: Any, path: str, depth: int = 0) -> Any:
    """JSON data as written in a line: ``{"$decimal": text}`` becomes a Decimal, exactly."""
    if depth > MAX_DEPTH:
        raise AuditError(f"{path} nests lists and mappings more than {MAX_DEPTH} levels deep")
    if isinstance(value, list):
        return [_read_data(item, f"{path}[{n}]", depth + 1) for n, item in enumerate(value)]
    if not isinstance(value, dict):
        return value
    if _DECIMAL not in value:
        return {key: _read_data(item, f"{path}[{key!r}]", depth + 1) for key, item in value.items()}
    text = value[_DECIMAL]
    if len(value) != 1 or not isinstance(text, str):
        raise AuditError(f"{path} is not a decimal: write {{{_DECIMAL!r}: text}} and nothing else")
    try:
        number = Decimal(text)
    except decimal.InvalidOperation:
        raise AuditError(f"{path}: {text!r} is not a decimal number") from None
    if not number.is_finite() or _TEXT.to_sci_string(number) != text:
        raise AuditError(f"{path}: {text!r} is not a finite decimal written the canonical way")
    return number
