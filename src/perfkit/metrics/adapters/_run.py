"""The steps every adapter takes: resolve the mapping, read the payload, find its records,
build them. Also the messages for a payload of the wrong shape."""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from datetime import datetime, tzinfo
from typing import Any, Protocol

from perfkit.errors import DataError, SchemeError
from perfkit.metrics.adapters._build import Context, build_records, now
from perfkit.metrics.adapters._convert import resolve_zone
from perfkit.metrics.adapters._mapping import FieldMapping, resolve_mapping
from perfkit.metrics.adapters._payload import CsvTable, RawRecord, read_csv, read_json
from perfkit.metrics.records import SourceRecord

__all__ = ["Adapter", "Found", "MappingArg", "is_list", "objects", "run_csv", "run_json", "wrong_shape"]

MappingArg = FieldMapping | Mapping[str, Any] | None
"""What ``mapping=`` takes: None (the default), a dict merged over it, or a whole FieldMapping."""

Found = tuple[list[RawRecord], list[DataError]]
"""The records found in a payload, and the items that are not records."""


class Adapter(Protocol):
    """The call every adapter in :data:`~perfkit.metrics.adapters.ADAPTERS` answers."""

    def __call__(
        self,
        payload: Any,
        /,
        *,
        mapping: MappingArg = None,
        loaded_at: datetime | None = None,
        tz: str | tzinfo | None = None,
    ) -> tuple[SourceRecord, ...]: ...


def _setup(
    default: FieldMapping | Mapping[str, Any], mapping: MappingArg, loaded_at: datetime | None, tz: str | tzinfo | None
) -> tuple[FieldMapping, tzinfo | None, datetime]:
    resolved = resolve_mapping(default, mapping)
    zone = resolve_zone(tz) if tz is not None else resolve_zone(resolved.timezone)
    if zone is None and resolved.occurred_at.type == "date":
        raise SchemeError(
            f"the occurred time ({' or '.join(resolved.occurred_at.paths)}) is a date without a time; pass tz= "
            "(the timezone your periods are cut in, e.g. tz='Asia/Shanghai') to place it at midnight there",
            path="tz",
        )
    if loaded_at is None:
        loaded_at = now()
    elif not isinstance(loaded_at, datetime) or loaded_at.tzinfo is None or loaded_at.utcoffset() is None:
        raise DataError(f"loaded_at must be an aware datetime, got {loaded_at!r}", column="loaded_at", value=loaded_at)
    return resolved, zone, loaded_at


def run_json(
    payload: Any,
    *,
    adapter: str,
    noun: str,
    default: FieldMapping,
    mapping: MappingArg,
    loaded_at: datetime | None,
    tz: str | tzinfo | None,
    find: Callable[[Any, FieldMapping], Found],
) -> tuple[SourceRecord, ...]:
    """Records from a JSON payload; ``find`` picks the records out of the parsed document."""
    resolved, zone, loaded = _setup(default, mapping, loaded_at, tz)
    data, origin = read_json(payload, adapter=adapter)
    try:
        records, problems = find(data, resolved)
    except DataError as exc:
        if origin is None:
            raise
        raise DataError(f"{origin}: {exc.message}") from None
    context = Context(
        adapter=adapter, noun=noun, label=_label(resolved), nested=True, zone=zone, loaded_at=loaded, origin=origin
    )
    return build_records(records, resolved, context, problems)


def run_csv(
    payload: Any,
    *,
    adapter: str,
    noun: str,
    default: FieldMapping | Mapping[str, Any],
    mapping: MappingArg,
    loaded_at: datetime | None,
    tz: str | tzinfo | None,
    delimiter: str,
    encoding: str,
    adjust: Callable[[CsvTable, FieldMapping], CsvTable] | None = None,
) -> tuple[SourceRecord, ...]:
    """Records from a CSV payload (one record per row, paths are column names)."""
    resolved, zone, loaded = _setup(default, mapping, loaded_at, tz)
    table, origin = read_csv(payload, adapter=adapter, delimiter=delimiter, encoding=encoding)
    if adjust is not None:
        table = adjust(table, resolved)
    context = Context(
        adapter=adapter,
        noun=noun,
        label=_label(resolved),
        nested=False,
        zone=zone,
        loaded_at=loaded,
        origin=origin,
        columns=table.columns,
    )
    return build_records(table.records, resolved, context, table.problems)


def _label(mapping: FieldMapping) -> str:
    return f"{mapping.source} {mapping.entity}"


def is_list(value: Any) -> bool:
    return isinstance(value, Sequence) and not isinstance(value, (str, bytes))


def objects(items: Sequence[Any], prefix: str, noun: str) -> Found:
    """Each item as a raw record at ``prefix[i]``; an item that is not an object is a problem."""
    records, problems = [], []
    for index, item in enumerate(items):
        where = f"{prefix}[{index}]"
        if isinstance(item, Mapping):
            records.append(RawRecord(item, where))
        else:
            problems.append(DataError(f"expected a {noun} object, found {_what(item)}", path=where))
    return records, problems


_KNOWN = (
    ("issues", "Jira issue search results: use from_jira"),
    ("tickets", "Zendesk tickets: use from_zendesk"),
    ("ticket", "a Zendesk ticket: use from_zendesk"),
    ("records", "a Salesforce query result: use from_salesforce"),
    ("errorMessages", "a Jira error response"),
    ("error", "an error response"),
)


def wrong_shape(data: Any, adapter: str, expected: str) -> DataError:
    """A clear message for a payload of the wrong shape, guessing what it is."""
    message = f"the {adapter} adapter reads {expected}; this payload is {_what(data)}"
    if isinstance(data, Mapping):
        for key, guess in _KNOWN:
            if key in data and not guess.endswith(f"from_{adapter}"):
                message += f" (it looks like {guess})"
                break
        detail = _error_detail(data)
        if detail:
            message += f": {detail}"
    elif is_list(data) and data and isinstance(data[0], Mapping) and "errorCode" in data[0]:
        message += f" (it looks like a Salesforce error response: {data[0].get('message', data[0]['errorCode'])})"
    return DataError(message)


def _error_detail(data: Mapping[str, Any]) -> str:
    if is_list(data.get("errorMessages")) and data["errorMessages"]:
        return "; ".join(str(m) for m in data["errorMessages"])
    if "error" in data:
        description = data.get("description")
        return f"{data['error']}" + (f" ({description})" if description else "")
    return ""


def _what(value: Any) -> str:
    if isinstance(value, Mapping):
        keys = list(value)[:6]
        shown = ", ".join(repr(str(k)) for k in keys) + (", ..." if len(value) > 6 else "")
        return f"an object with keys {shown}" if keys else "an empty object"
    if is_list(value):
        return f"a list of {len(value)} items"
    if isinstance(value, str):
        return f"text {value[:40]!r}"
    if value is None:
        return "null"
    return f"a {type(value).__name__}"
