"""Source records: what CRM, ERP, Jira, helpdesk and manual entries say, kept with history.

A :class:`SourceRecord` is an immutable value: the source system, the record's id there, its
entity type, when it happened (``occurred_at``), when perfkit loaded it (``loaded_at``), its
fields (read-only) and a SHA-256 ``content_hash``. A :class:`RecordStore` holds every version
of every record:

* importing a record whose key (source, record id) and content are already known is a
  *duplicate*: ignored and listed in the :class:`ImportReport`;
* a known key with different content is a *new version*: the old one stays in the history;
* a manual entry is a record (``source="manual"``) with an actor and a reason; a correction is
  a new version of the record it corrects, with an actor, a reason and the original beside it;
* :meth:`RecordStore.as_of` shows the data as it stood at a cut-off and lists what was
  loaded later, so a closed cycle can be recomputed exactly.

>>> loaded = datetime(2026, 4, 2, tzinfo=timezone.utc)
>>> deal = SourceRecord.create(source="crm", record_id="OPP-1", entity="opportunity",
...     occurred_at=datetime(2026, 4, 1, 10, tzinfo=timezone.utc), loaded_at=loaded,
...     fields={"owner": "1001", "amount": 120000.0})
>>> deal.field("amount")
Decimal('120000.0')
>>> fixed = correction(deal, fields={"amount": 150000}, actor="王芳", reason="CRM missed the add-on",
...     loaded_at=datetime(2026, 4, 3, tzinfo=timezone.utc))
>>> store, report = RecordStore.empty().add([deal, deal, fixed])
>>> len(report.added), len(report.duplicates), len(report.new_versions)
(1, 1, 1)
>>> store[("crm", "OPP-1")].field("amount"), store.original_of(("crm", "OPP-1")).field("amount")
(150000, Decimal('120000.0'))
"""

from __future__ import annotations

import bisect
import hashlib
import json
import math
import numbers
import re
import sys
from collections.abc import Iterable, Iterator, Mapping
from datetime import date, datetime, timezone
from decimal import Decimal, InvalidOperation
from pathlib import Path
from types import MappingProxyType
from typing import Any, cast

import attrs

from perfkit._files import read_file
from perfkit._time import parse_datetime
from perfkit.errors import DataError
from perfkit.numbers import to_decimal

__all__ = [
    "AsOfView",
    "ImportReport",
    "Key",
    "RecordStore",
    "SourceRecord",
    "correction",
    "manual_entry",
    "read_records",
]

Key = tuple[str, str]
"""A record's identity: (source system, record id in that system)."""

_UTC = timezone.utc
_FLOAT_LOOKING = re.compile(r"^[+-]?\d+(?:\.0+|(?:\.\d+)?[eE][+-]?\d+)$")
_EMPTY: Mapping[str, Any] = MappingProxyType({})
_PLAIN = frozenset({str, int, bool, type(None)})
"""Field value types kept as they are, without a closer look."""


def _ref(source: object, record_id: object) -> str:
    return f"{source}:{record_id}"


def _error(ref: str, field: str, message: str, value: Any = None) -> DataError:
    """A problem with one field of one record: names both."""
    return DataError(message, column=field, path=f"record {ref}", value=value)


def _text(ref: str, field: str, value: object, *, optional: bool = False) -> str | None:
    if value is None and optional:
        return None
    if isinstance(value, float):
        raise _error(ref, field, f"is the number {value!r}; ids and names are text, so read the column as text", value)
    if not isinstance(value, str) or not value.strip():
        raise _error(ref, field, f"must be non-empty text, got {value!r}", value)
    return value


def _aware(ref: str, field: str, value: object) -> datetime:
    if not isinstance(value, datetime):
        raise _error(ref, field, f"must be a datetime with a time zone, got {value!r}", value)
    if value.tzinfo is None or value.utcoffset() is None:
        raise _error(ref, field, f"{value.isoformat()} has no time zone; give an aware datetime (tzinfo=...)", value)
    return value


def _freeze(ref: str, path: str, value: Any) -> Any:
    """A read-only copy of a field value, checked: floats become Decimal, lists tuples."""
    kind = type(value)
    if kind is str or kind is int or kind is bool or value is None:
        return value
    if kind is float:
        if not math.isfinite(value):
            raise _error(ref, path, f"is {value!r}, which is not a number perfkit can use", value)
        return to_decimal(value)
    if isinstance(value, Decimal):
        if not value.is_finite():
            raise _error(ref, path, f"is {value!r}, which is not a number perfkit can use", value)
        return value if kind is Decimal else Decimal(value)
    if isinstance(value, datetime):
        return _aware(ref, path, value)
    if isinstance(value, date):
        return value
    if isinstance(value, Mapping):
        return MappingProxyType(
            {_field_name(ref, key, path): _freeze(ref, f"{path}.{key}", v) for key, v in value.items()}
        )
    if isinstance(value, (list, tuple)):
        return tuple(_freeze(ref, f"{path}[{i}]", v) for i, v in enumerate(value))
    if isinstance(value, bool | str):
        return bool(value) if isinstance(value, bool) else str(value)
    if isinstance(value, numbers.Integral):
        return int(value)
    if isinstance(value, numbers.Real):
        try:
            number = to_decimal(value)
        except ValueError as error:
            raise _error(ref, path, f"is {value!r}: {error}", value) from None
        return number if type(number) is Decimal else Decimal(number)
    raise _error(
        ref,
        path,
        f"has a {type(value).__name__} value; fields hold text, numbers, booleans, dates, "
        "aware datetimes, None, and lists or mappings of those",
        value,
    )


def _field_name(ref: str, name: object, path: str | None = None) -> str:
    if not isinstance(name, str) or not name:
        where = f"{path}." if path else ""
        raise _error(ref, f"{where}{name!r}", f"field names are non-empty text, got {name!r}", name)
    return name


def _number_text(value: int | Decimal) -> str:
    """The exact decimal text of a number without trailing zeros: 1.50 and 1.5 read alike."""
    if type(value) is int:
        return str(value)
    text = format(value, "f")
    if "." in text:
        text = text.rstrip("0").rstrip(".")
    return "0" if text in ("-0", "") else text


def _encode(parts: list[str], value: Any) -> None:
    """Append a canonical, type-tagged, length-prefixed encoding of a frozen value.

    Equal values give equal encodings (numbers by value, datetimes by instant, mappings by
    sorted keys); different values give different ones.
    """
    kind = type(value)
    if kind is str:
        parts.append(f"s{len(value)}:{value}")
    elif kind is int or kind is Decimal:
        text = _number_text(value)
        parts.append(f"n{len(text)}:{text}")
    elif value is None:
        parts.append("z")
    elif kind is bool:
        parts.append("T" if value else "F")
    elif kind is MappingProxyType or kind is dict:
        parts.append(f"m{len(value)}{{")
        for key in sorted(value):
            item = value[key]
            if type(item) is str:
                parts.append(f"s{len(key)}:{key}s{len(item)}:{item}")
            else:
                parts.append(f"s{len(key)}:{key}")
                _encode(parts, item)
        parts.append("}")
    elif kind is tuple:
        parts.append(f"l{len(value)}[")
        for item in value:
            _encode(parts, item)
        parts.append("]")
    elif isinstance(value, datetime):
        text = value.astimezone(_UTC).isoformat()
        parts.append(f"t{len(text)}:{text}")
    else:  # a date: _freeze lets nothing else through
        parts.append(f"d{value.isoformat()}")


@attrs.frozen(kw_only=True, weakref_slot=False)
class SourceRecord:
    """One record from a source system, immutable, with a content hash.

    Build one with :meth:`create` (which fills ``loaded_at`` and reads ids leniently),
    :func:`manual_entry` or :func:`correction`; the constructor checks as strictly.
    ``fields`` is read-only; floats in it become :class:`~decimal.Decimal` through their
    shortest repr, lists become tuples and mappings read-only mappings.

    ``content_hash`` is the SHA-256 of a canonical encoding of everything but ``loaded_at``
    (source, record id, entity, occurred_at as an instant, fields, actor, reason, corrects):
    the same content loaded twice has the same hash.
    """

    source: str
    record_id: str
    entity: str
    occurred_at: datetime
    loaded_at: datetime
    fields: Mapping[str, Any] = attrs.field(default=_EMPTY, eq=False)
    actor: str | None = None
    """Who entered or corrected the record (manual entries and corrections)."""
    reason: str | None = None
    """Why (manual entries and corrections)."""
    corrects: Key | None = None
    """For a correction: the key of the record it corrects (its own key)."""
    original: SourceRecord | None = attrs.field(default=None, eq=False, repr=False)
    """For a correction: the version as its source system sent it, when known."""
    content_hash: str = attrs.field(init=False)

    def __attrs_post_init__(self) -> None:
        setter = object.__setattr__
        source, record_id, entity = self.source, self.record_id, self.entity
        if not (type(source) is str and type(record_id) is str and type(entity) is str):
            ref = _ref(source, record_id)
            source, record_id, entity = (
                _text(ref, name, value) or ""
                for name, value in (("source", source), ("record_id", record_id), ("entity", entity))
            )
        ref = _ref(source, record_id)
        if not (source.strip() and record_id.strip() and entity.strip()):
            for name, value in (("source", source), ("record_id", record_id), ("entity", entity)):
                _text(ref, name, value)
        setter(self, "source", sys.intern(source))
        setter(self, "entity", sys.intern(entity))
        if _FLOAT_LOOKING.match(record_id):
            raise _error(
                ref,
                "record_id",
                f"{record_id!r} looks like a number read as a float; read the id column as text",
                record_id,
            )
        for name in ("occurred_at", "loaded_at"):
            value = getattr(self, name)
            if type(value) is not datetime or value.utcoffset() is None:
                _aware(ref, name, value)
        if self.actor is not None or self.reason is not None:
            _text(ref, "actor", self.actor, optional=True)
            _text(ref, "reason", self.reason, optional=True)
        fields = self.fields
        if type(fields) is not dict and not isinstance(fields, Mapping):
            raise _error(ref, "fields", f"must be a mapping of field name to value, got {fields!r}")
        if fields is not _EMPTY:
            frozen = {
                (name if type(name) is str and name else _field_name(ref, name)): (
                    value if type(value) in _PLAIN else _freeze(ref, name, value)
                )
                for name, value in fields.items()
            }
            setter(self, "fields", MappingProxyType(frozen) if frozen else _EMPTY)
        if self.corrects is not None or self.original is not None:
            self._check_correction(ref)
        setter(self, "content_hash", self._hash())

    def _check_correction(self, ref: str) -> None:
        if self.corrects is not None:
            corrects = tuple(self.corrects)
            if corrects != (self.source, self.record_id):
                raise _error(
                    ref,
                    "corrects",
                    f"a correction is a new version of the record it corrects, so corrects must be its own key "
                    f"{(self.source, self.record_id)!r}, got {self.corrects!r}",
                    self.corrects,
                )
            object.__setattr__(self, "corrects", corrects)
            if self.actor is None or self.reason is None:
                raise _error(
                    ref, "actor" if self.actor is None else "reason", "a correction needs an actor and a reason"
                )
        if self.original is not None:
            if not isinstance(self.original, SourceRecord) or self.original.key != (self.source, self.record_id):
                raise _error(ref, "original", "the original of a correction is a version of the same record")
            if self.corrects is None:
                raise _error(ref, "original", "only a correction (with corrects set) carries an original")

    def _hash(self) -> str:
        source, record_id, entity = self.source, self.record_id, self.entity
        occurred = self.occurred_at.astimezone(_UTC).isoformat()
        parts = [
            f"s{len(source)}:{source}s{len(record_id)}:{record_id}s{len(entity)}:{entity}t{len(occurred)}:{occurred}"
        ]
        _encode(parts, self.fields)
        for value in (self.actor, self.reason, self.corrects):
            _encode(parts, value)
        return hashlib.sha256("".join(parts).encode("utf-8")).hexdigest()

    # -- building -------------------------------------------------------------------------

    @classmethod
    def create(
        cls,
        *,
        source: str,
        record_id: str | int,
        entity: str,
        occurred_at: datetime,
        fields: Mapping[str, Any] | None = None,
        loaded_at: datetime | None = None,
        actor: str | None = None,
        reason: str | None = None,
        corrects: Key | None = None,
        original: SourceRecord | None = None,
    ) -> SourceRecord:
        """A record; ``loaded_at`` defaults to now (UTC) and an integer ``record_id`` becomes text."""
        ident: Any = str(record_id) if isinstance(record_id, int) and not isinstance(record_id, bool) else record_id
        return cls(
            source=source,
            record_id=ident,
            entity=entity,
            occurred_at=occurred_at,
            loaded_at=loaded_at if loaded_at is not None else datetime.now(_UTC),
            fields=fields if fields is not None else _EMPTY,
            actor=actor,
            reason=reason,
            corrects=corrects,
            original=original,
        )

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> SourceRecord:
        """The record :meth:`to_dict` wrote (as read back from JSON): its inverse.

        ``types`` turns text back into decimals, dates and datetimes; numbers JSON holds
        as numbers stay numbers, so a record written by hand may leave ``types`` out.
        ``content_hash`` may be left out too; when given, it must be the hash of the
        content (a record edited after it was written is refused).
        """
        if not isinstance(data, Mapping):
            raise DataError(f"a record is an object (source, record_id, entity, ...), got {type(data).__name__}")
        named = data.get("source") is not None and data.get("record_id") is not None
        ref = _ref(data.get("source"), data.get("record_id")) if named else "(no source and record_id)"
        unknown = sorted(str(k) for k in data if k not in _DICT_KEYS)
        if unknown:
            raise _error(ref, unknown[0], f"is not a record key; a record has {', '.join(_DICT_KEYS)}")
        missing = [k for k in ("source", "record_id", "entity", "occurred_at", "loaded_at") if data.get(k) is None]
        if missing:
            raise _error(ref, missing[0], "is required")
        fields = data.get("fields") or {}
        if not isinstance(fields, Mapping):
            raise _error(ref, "fields", f"must be an object of field name to value, got {fields!r}", fields)
        types = data.get("types")
        if types is not None:
            fields = _restore(ref, "types", fields, types)
        corrects = data.get("corrects")
        if corrects is not None:
            if not isinstance(corrects, (list, tuple)) or len(corrects) != 2:
                raise _error(ref, "corrects", f"is the corrected record's [source, record_id], got {corrects!r}")
            corrects = (corrects[0], corrects[1])
        original = data.get("original")
        record = cls.create(
            source=data["source"],
            record_id=data["record_id"],
            entity=data["entity"],
            occurred_at=_timestamp(ref, "occurred_at", data["occurred_at"]),
            loaded_at=_timestamp(ref, "loaded_at", data["loaded_at"]),
            fields=fields,
            actor=data.get("actor"),
            reason=data.get("reason"),
            corrects=corrects,
            original=None if original is None else cls.from_dict(original),
        )
        stated = data.get("content_hash")
        if stated is not None and stated != record.content_hash:
            raise _error(
                record.ref,
                "content_hash",
                "does not match the record's content: the record was changed after it was written "
                "(leave content_hash out of a record written by hand)",
                stated,
            )
        return record

    # -- reading --------------------------------------------------------------------------

    @property
    def key(self) -> Key:
        """(source, record_id): the record's identity across versions."""
        return (self.source, self.record_id)

    @property
    def ref(self) -> str:
        """``source:record_id``, for messages and lineage."""
        return _ref(self.source, self.record_id)

    @property
    def is_correction(self) -> bool:
        return self.corrects is not None

    def field(self, name: str) -> Any:
        """A field's value; :class:`DataError` naming the record and the field when missing."""
        try:
            return self.fields[name]
        except KeyError:
            known = ", ".join(sorted(self.fields)) or "none"
            raise _error(self.ref, name, f"is missing (the record has fields: {known})") from None

    def get(self, name: str, default: Any = None) -> Any:
        """A field's value, or ``default`` when the record does not have it."""
        return self.fields.get(name, default)

    def require(self, *names: str) -> None:
        """Check that every named field is present and not None; one error lists what is missing."""
        missing = [name for name in names if self.fields.get(name) is None]
        if missing:
            raise _error(
                self.ref, missing[0], f"required field(s) {', '.join(map(repr, missing))} are missing or empty"
            )

    def to_dict(self) -> dict[str, Any]:
        """The record as JSON-able data (Decimals and datetimes as text).

        ``types`` (present when needed) says which field values the text stands for:
        ``"decimal"``, ``"date"`` or ``"datetime"``, nested like the fields, so that
        :meth:`from_dict` gives back the same record (and the same content hash).
        """
        data: dict[str, Any] = {
            "source": self.source,
            "record_id": self.record_id,
            "entity": self.entity,
            "occurred_at": self.occurred_at.isoformat(),
            "loaded_at": self.loaded_at.isoformat(),
            "fields": {name: _plain(value) for name, value in self.fields.items()},
            "content_hash": self.content_hash,
        }
        types = _types(self.fields)
        if types:
            data["types"] = types
        for name in ("actor", "reason"):
            if getattr(self, name) is not None:
                data[name] = getattr(self, name)
        if self.corrects is not None:
            data["corrects"] = list(self.corrects)
        if self.original is not None:
            data["original"] = self.original.to_dict()
        return data


def _plain(value: Any) -> Any:
    if isinstance(value, Decimal):
        return str(value)
    if isinstance(value, date):  # datetimes too
        return value.isoformat()
    if isinstance(value, Mapping):
        return {key: _plain(v) for key, v in value.items()}
    if isinstance(value, tuple):
        return [_plain(v) for v in value]
    return value


_DICT_KEYS = (
    "source", "record_id", "entity", "occurred_at", "loaded_at", "fields", "types",
    "content_hash", "actor", "reason", "corrects", "original",
)  # fmt: skip
"""The keys of :meth:`SourceRecord.to_dict`."""


def _types(value: Any) -> Any:
    """What JSON cannot say of a field value's types, mirroring its shape; None if nothing."""
    kind = type(value)
    if kind is Decimal:
        return "decimal"
    if isinstance(value, datetime):
        return "datetime"
    if isinstance(value, date):
        return "date"
    if isinstance(value, Mapping):
        found = {key: t for key, item in value.items() if (t := _types(item)) is not None}
        return found or None
    if kind is tuple:
        items = [_types(item) for item in value]
        return items if any(t is not None for t in items) else None
    return None


def _restore(ref: str, path: str, value: Any, kind: Any) -> Any:
    """``value`` with the text ``kind`` (from ``types``) says stands for a decimal, date or datetime."""
    if kind is None:
        return value
    if isinstance(kind, Mapping) and isinstance(value, Mapping):
        strays = [key for key in kind if key not in value]
        if strays:
            raise _error(ref, f"{path}.{strays[0]}", "names a field the record does not have")
        return {key: _restore(ref, f"{path}.{key}", item, kind.get(key)) for key, item in value.items()}
    if isinstance(kind, list) and isinstance(value, (list, tuple)) and len(kind) == len(value):
        return [_restore(ref, f"{path}[{i}]", item, k) for i, (item, k) in enumerate(zip(value, kind))]
    try:
        if kind == "decimal" and isinstance(value, (str, int, Decimal)) and not isinstance(value, bool):
            number = Decimal(value.strip() if isinstance(value, str) else value)
            if number.is_finite():
                return number
        elif kind == "date" and isinstance(value, str):
            return date.fromisoformat(value)
        elif kind == "datetime" and isinstance(value, str):
            return parse_datetime(value)
    except (ValueError, InvalidOperation):
        pass
    raise _error(ref, path, f"says {kind!r}, which does not fit the value {value!r}", value)


def _timestamp(ref: str, name: str, value: Any) -> datetime:
    if isinstance(value, str):
        try:
            value = parse_datetime(value)
        except ValueError:
            raise _error(ref, name, f"{value!r} is not an ISO 8601 timestamp", value) from None
    return _aware(ref, name, value)


def read_records(path: str | Path) -> tuple[SourceRecord, ...]:
    """Records from a ``.json`` or ``.jsonl`` file of :meth:`SourceRecord.to_dict` objects.

    A ``.json`` file holds a list of records, or an object whose ``records`` is a list or
    a mapping of record key to record (so the records of a lineage export read back); a
    ``.jsonl`` file one record per line. Numbers are read as exact decimals. Records come
    back in the order of the file. Every record that cannot be read is reported in one
    :class:`DataError` naming the file and the line (or position) of each.
    """
    source = str(path)
    text = read_file(path, lambda reason: DataError(f"{source}: {reason}"))
    items: list[tuple[str, Any]] = []
    if Path(path).suffix.lower() == ".jsonl":
        for number, line in enumerate(text.splitlines(), 1):
            if line.strip():
                items.append((f"line {number}", _json(line, source, number)))
    else:
        data = _json(text, source, None)
        if isinstance(data, Mapping) and isinstance(data.get("records"), (list, Mapping)):
            data = data["records"]
        if isinstance(data, Mapping):
            items = [(f"records[{key!r}]", item) for key, item in data.items()]
        elif isinstance(data, list):
            items = [(f"[{index}]", item) for index, item in enumerate(data)]
        else:
            raise DataError(f"{source}: a records file holds a list of records (or {{\"records\": [...]}})")
    if items and not any(isinstance(item, Mapping) and {"source", "record_id"} <= set(item) for _, item in items):
        first = items[0][1]
        keys = ", ".join(sorted(map(str, first))[:6]) if isinstance(first, Mapping) else type(first).__name__
        raise DataError(
            f"{source}: not a perfkit records file (no item has a source and a record_id; the first has {keys}); "
            "read an export with its adapter (perfkit.metrics.adapters, or --adapter on the command line)"
        )
    records: list[SourceRecord] = []
    problems: list[DataError] = []
    for where, item in items:
        try:
            records.append(SourceRecord.from_dict(item))
        except DataError as exc:
            place = f"{source}, {where}" + (f" ({exc.path})" if exc.path else "")
            problems.append(DataError(exc.message, column=exc.column, path=place, value=exc.value))
    if len(problems) == 1:
        raise problems[0]
    if problems:
        listed = "".join(f"\n  - {p}" for p in problems[:10])
        more = f"\n  ... and {len(problems) - 10} more" if len(problems) > 10 else ""
        raise DataError(f"{source}: {len(problems)} records cannot be read:{listed}{more}", problems=tuple(problems))
    return tuple(records)


def _json(text: str, source: str, line: int | None) -> Any:
    try:
        return json.loads(text, parse_float=Decimal)
    except json.JSONDecodeError as exc:
        raise DataError(f"{source}, line {line or exc.lineno}: not valid JSON: {exc.msg}") from None


def manual_entry(
    *,
    record_id: str | int,
    occurred_at: datetime,
    fields: Mapping[str, Any],
    actor: str,
    reason: str,
    entity: str = "manual_entry",
    source: str = "manual",
    loaded_at: datetime | None = None,
) -> SourceRecord:
    """A record entered by hand: ``source="manual"``, with who entered it and why."""
    ref = _ref(source, record_id)
    _text(ref, "actor", actor)
    _text(ref, "reason", reason)
    return SourceRecord.create(
        source=source,
        record_id=record_id,
        entity=entity,
        occurred_at=occurred_at,
        fields=fields,
        loaded_at=loaded_at,
        actor=actor,
        reason=reason,
    )


def correction(
    original: SourceRecord,
    *,
    fields: Mapping[str, Any],
    actor: str,
    reason: str,
    loaded_at: datetime | None = None,
    occurred_at: datetime | None = None,
) -> SourceRecord:
    """A new version of ``original`` with ``fields`` changed, by ``actor``, for ``reason``.

    Fields not named keep their value; ``occurred_at`` stays unless given. The source's own
    version rides along as ``.original`` (correcting a correction keeps the first original).
    """
    if not isinstance(original, SourceRecord):
        raise DataError(f"correction() corrects a SourceRecord, got {original!r}")
    _text(original.ref, "actor", actor)
    _text(original.ref, "reason", reason)
    if not isinstance(fields, Mapping) or not fields:
        raise _error(original.ref, "fields", "a correction names the fields it changes, e.g. {'amount': 150000}")
    return SourceRecord.create(
        source=original.source,
        record_id=original.record_id,
        entity=original.entity,
        occurred_at=occurred_at if occurred_at is not None else original.occurred_at,
        fields={**original.fields, **fields},
        loaded_at=loaded_at,
        actor=actor,
        reason=reason,
        corrects=original.key,
        original=original.original if original.original is not None else (None if original.is_correction else original),
    )


# -- the store ---------------------------------------------------------------------------

Versions = SourceRecord | tuple[SourceRecord, ...]
"""One version, or several oldest first (one is kept bare to save memory)."""


def _versions(entry: Versions) -> tuple[SourceRecord, ...]:
    return entry if isinstance(entry, tuple) else (entry,)


@attrs.frozen(kw_only=True)
class ImportReport:
    """What :meth:`RecordStore.add` did with each incoming record.

    ``added``: records with a new key. ``new_versions``: a known key with new content, kept
    as a new version. ``duplicates``: a known key with the content of one of its versions,
    ignored. ``superseded_corrections``: corrections that a newer source version replaced
    (the corrected value is no longer current: review them).
    """

    added: tuple[SourceRecord, ...] = ()
    duplicates: tuple[SourceRecord, ...] = ()
    new_versions: tuple[SourceRecord, ...] = ()
    superseded_corrections: tuple[SourceRecord, ...] = ()

    def __str__(self) -> str:
        text = (
            f"{len(self.added)} added, {len(self.new_versions)} new versions, {len(self.duplicates)} duplicates ignored"
        )
        if self.superseded_corrections:
            refs = ", ".join(r.ref for r in self.superseded_corrections)
            text += f"; corrections replaced by newer source versions: {refs}"
        return text

    def to_dict(self) -> dict[str, list[str]]:
        """Record refs (``source:record_id``) per outcome."""
        return {
            name: [record.ref for record in getattr(self, name)]
            for name in ("added", "new_versions", "duplicates", "superseded_corrections")
        }


@attrs.frozen(repr=False)
class RecordStore:
    """Every version of every record, immutable: :meth:`add` returns a new store.

    Versions of a key are ordered by ``loaded_at`` (records loaded at the same instant: in
    the order they arrived); the latest is current. Iteration and :meth:`current` go by key.
    """

    _by_source: Mapping[str, Mapping[str, Versions]] = attrs.field(factory=dict)
    _cache: list[tuple[SourceRecord, ...]] = attrs.field(factory=list, eq=False)

    @classmethod
    def empty(cls) -> RecordStore:
        return cls()

    def __repr__(self) -> str:
        return f"<RecordStore: {len(self)} records, {self.version_count} versions>"

    # -- adding ---------------------------------------------------------------------------

    def add(self, records: Iterable[SourceRecord]) -> tuple[RecordStore, ImportReport]:
        """A new store with ``records`` added, and a report of what happened to each."""
        by_source = dict(self._by_source)
        copied: set[str] = set()
        added: list[SourceRecord] = []
        duplicates: list[SourceRecord] = []
        new_versions: list[SourceRecord] = []
        superseded: list[SourceRecord] = []
        for index, record in enumerate(records):
            if not isinstance(record, SourceRecord):
                raise DataError(f"RecordStore.add takes SourceRecords, got {type(record).__name__}", row=index)
            source = record.source
            if source not in copied:
                by_source[source] = dict(by_source.get(source, {}))
                copied.add(source)
            entries: dict[str, Versions] = by_source[source]  # type: ignore[assignment]
            entry = entries.get(record.record_id)
            if entry is None:
                entries[record.record_id] = record
                added.append(record)
                continue
            versions = _versions(entry)
            if any(version.content_hash == record.content_hash for version in versions):
                duplicates.append(record)
                continue
            position = bisect.bisect_right(
                [v.loaded_at.astimezone(_UTC) for v in versions], record.loaded_at.astimezone(_UTC)
            )
            updated = versions[:position] + (record,) + versions[position:]
            if versions[-1].is_correction and not updated[-1].is_correction:
                superseded.append(versions[-1])
            entries[record.record_id] = updated
            new_versions.append(record)
        report = ImportReport(
            added=tuple(added),
            duplicates=tuple(duplicates),
            new_versions=tuple(new_versions),
            superseded_corrections=tuple(superseded),
        )
        return RecordStore(by_source), report

    # -- reading --------------------------------------------------------------------------

    def __len__(self) -> int:
        return sum(len(entries) for entries in self._by_source.values())

    def __iter__(self) -> Iterator[SourceRecord]:
        return iter(self.current())

    def __contains__(self, key: object) -> bool:
        return self._entry(key) is not None

    def __getitem__(self, key: Key) -> SourceRecord:
        return self.history(key)[-1]

    @property
    def version_count(self) -> int:
        return sum(len(_versions(e)) for entries in self._by_source.values() for e in entries.values())

    def current(self) -> tuple[SourceRecord, ...]:
        """The latest version of each record, sorted by key."""
        if not self._cache:
            self._cache.append(tuple(_versions(entry)[-1] for _, entry in self._sorted()))
        return self._cache[0]

    def versions(self) -> Iterator[SourceRecord]:
        """Every version of every record: by key, oldest version first."""
        for _, entry in self._sorted():
            yield from _versions(entry)

    def get(self, key: Key) -> SourceRecord | None:
        """The current version of the record, or None."""
        entry = self._entry(key)
        return None if entry is None else _versions(entry)[-1]

    def history(self, key: Key) -> tuple[SourceRecord, ...]:
        """Every version of the record, oldest first; :class:`DataError` for an unknown key."""
        entry = self._entry(key)
        if entry is None:
            named = _ref(*key) if _is_key(key) else repr(key)
            raise DataError(f"there is no record {named} in the store", value=key)
        return _versions(entry)

    def original_of(self, key: Key) -> SourceRecord | None:
        """For a corrected record: the version its source sent; None when it is not corrected."""
        versions = self.history(key)
        current = versions[-1]
        if not current.is_correction:
            return None
        if current.original is not None:
            return current.original
        earlier = [v for v in versions[:-1] if not v.is_correction]
        return earlier[-1] if earlier else None

    def as_of(self, cutoff: datetime) -> AsOfView:
        """The store as it stood at ``cutoff``: versions loaded at or before it; the rest listed."""
        if not isinstance(cutoff, datetime) or cutoff.tzinfo is None or cutoff.utcoffset() is None:
            raise DataError(
                f"the as-of cut-off must be an aware datetime, got {cutoff!r}", column="cutoff", value=cutoff
            )
        limit = cutoff.astimezone(_UTC)
        kept: dict[str, dict[str, Versions]] = {}
        excluded: list[SourceRecord] = []
        for (source, record_id), entry in self._sorted():
            versions = _versions(entry)
            before = tuple(v for v in versions if v.loaded_at.astimezone(_UTC) <= limit)
            excluded.extend(v for v in versions if v.loaded_at.astimezone(_UTC) > limit)
            if before:
                kept.setdefault(source, {})[record_id] = before[0] if len(before) == 1 else before
        return AsOfView(cutoff=cutoff, store=RecordStore(kept), excluded=tuple(excluded))

    def _entry(self, key: object) -> Versions | None:
        if not _is_key(key):
            return None
        source, record_id = cast(Key, key)
        entries = self._by_source.get(source)
        return None if entries is None else entries.get(record_id)

    def _sorted(self) -> Iterator[tuple[Key, Versions]]:
        for source in sorted(self._by_source):
            entries = self._by_source[source]
            for record_id in sorted(entries):
                yield (source, record_id), entries[record_id]


def _is_key(key: object) -> bool:
    return isinstance(key, tuple) and len(key) == 2 and all(isinstance(part, str) for part in key)


@attrs.frozen(kw_only=True)
class AsOfView:
    """The data as it stood at ``cutoff``.

    ``store`` holds the versions loaded at or before the cut-off (so ``records`` are the
    records current then); ``excluded`` lists the versions loaded later, by key.
    """

    cutoff: datetime
    store: RecordStore
    excluded: tuple[SourceRecord, ...]

    @property
    def records(self) -> tuple[SourceRecord, ...]:
        """The current version of each record as of the cut-off, sorted by key."""
        return self.store.current()

    def __iter__(self) -> Iterator[SourceRecord]:
        return iter(self.records)

    def __len__(self) -> int:
        return len(self.store)
