"""Applying a field mapping to the raw records of a payload: SourceRecords or every problem.

Nothing is skipped: each record that cannot be read adds a :class:`DataError` naming the
record (its position and, when readable, its id) and the field, and all problems of a
payload are raised together. A mapped path that no record of the payload has at all is
reported once (a typo, or an export made without that field), not once per record.
"""

from __future__ import annotations

import difflib
from collections.abc import Callable, Iterable, Mapping, Sequence
from datetime import datetime, timezone, tzinfo
from typing import Any

import attrs

from perfkit.errors import DataError
from perfkit.metrics.adapters._convert import convert, record_id_text, to_datetime
from perfkit.metrics.adapters._mapping import FieldMapping, FieldSpec, compile_paths
from perfkit.metrics.adapters._paths import ABSENT, Found, Key, ShapeProblem, Step, lookup
from perfkit.metrics.adapters._payload import RawRecord
from perfkit.metrics.records import SourceRecord

__all__ = ["Context", "build_records", "combine", "now"]

_SHOWN = 20
"""Problems listed in a combined message (all are in ``.problems``)."""


@attrs.frozen(kw_only=True)
class Context:
    """What the builder needs to know besides the mapping."""

    adapter: str
    """``jira``, ``zendesk``, ``salesforce``, ``csv``: for messages."""
    noun: str
    """What one record of the payload is called: ``issue``, ``ticket``, ``opportunity``, ``row``."""
    label: str
    """What a record is called once its id is known: ``jira issue`` (source and entity)."""
    nested: bool
    """Paths are dotted paths into JSON (True) or CSV column names (False)."""
    zone: tzinfo | None
    loaded_at: datetime
    origin: str | None = None
    """The file the payload came from."""
    columns: tuple[str, ...] = ()
    """CSV header (for did-you-mean)."""


def now() -> datetime:
    return datetime.now(timezone.utc)


@attrs.frozen
class _Spec:
    target: str
    """``record_id``, ``occurred_at`` or ``fields.<name>``."""
    spec: FieldSpec
    steps: tuple[tuple[Step, ...], ...]
    read: Callable[[Any], Any]
    """Converts a found value (raises ValueError with a reason)."""
    known: tuple[tuple[str, tuple[Step, ...]], ...] = ()
    """The (path, steps) that some record of the payload has, in order."""


def build_records(
    records: Sequence[RawRecord], mapping: FieldMapping, context: Context, problems: Iterable[DataError] = ()
) -> tuple[SourceRecord, ...]:
    """The records, sorted by id; or one DataError carrying every problem."""
    found = list(problems)
    specs = _specs(mapping, context)
    unknown = _unknown_paths(records, specs)
    found.extend(
        _unknown_path_error(item.target, path, context)
        for item in specs
        for path in item.spec.paths
        if (item.target, path) in unknown
    )
    specs = [
        attrs.evolve(
            item, known=tuple((p, s) for p, s in zip(item.spec.paths, item.steps) if (item.target, p) not in unknown)
        )
        for item in specs
    ]
    built: list[tuple[RawRecord, SourceRecord]] = []
    auto = _converter(FieldSpec(path="*"), context.zone)
    for raw in records:
        record = _build_one(raw, mapping, specs, context, found, auto)
        if record is not None:
            built.append((raw, record))
    found.extend(_duplicates(built, context))
    if found:
        raise combine(found, context)
    return tuple(record for _, record in sorted(built, key=lambda pair: pair[1].record_id))


def _specs(mapping: FieldMapping, context: Context) -> list[_Spec]:
    targets = {"record_id": mapping.record_id, "occurred_at": mapping.occurred_at}
    targets.update({f"fields.{name}": spec for name, spec in mapping.fields.items()})
    if context.nested:
        compiled = compile_paths(mapping)
    else:
        compiled = {target: tuple((Key(p),) for p in spec.paths) for target, spec in targets.items()}
    readers = {"record_id": record_id_text, "occurred_at": _occurred(mapping.occurred_at, context.zone)}
    return [
        _Spec(target, spec, compiled[target], readers.get(target) or _converter(spec, context.zone))
        for target, spec in targets.items()
    ]


def _unknown_paths(records: Sequence[RawRecord], specs: list[_Spec]) -> set[tuple[str, str]]:
    """(target, path) pairs whose path no record has."""
    if not records:
        return set()
    unknown = set()
    for item in specs:
        for path, steps in zip(item.spec.paths, item.steps):
            if not any(_present(raw.data, steps) for raw in records):
                unknown.add((item.target, path))
    return unknown


def _present(data: Mapping[str, Any], steps: tuple[Step, ...]) -> bool:
    try:
        return lookup(data, steps) is not ABSENT
    except ShapeProblem:
        return True  # there, in the wrong shape: reported per record


def _unknown_path_error(target: str, path: str, context: Context) -> DataError:
    use = _target_text(target)
    if context.nested:
        name = target.removeprefix("fields.")
        fix = (
            f"drop it with mapping={{'fields': {{{name!r}: None}}}}"
            if target.startswith("fields.")
            else "map it to another path"
        )
        return DataError(
            f"no {context.adapter} {context.noun} in the payload has this path ({use}); check the path, or {fix}",
            column=path,
            path=context.origin,
        )
    close = difflib.get_close_matches(path, context.columns, n=1)
    hint = f"; did you mean {close[0]!r}?" if close else ""
    return DataError(
        f"the CSV has no such column ({use}); its columns are {list(context.columns)}{hint}",
        column=path,
        path=context.origin,
    )


def _build_one(
    raw: RawRecord,
    mapping: FieldMapping,
    specs: list[_Spec],
    context: Context,
    problems: list[DataError],
    auto: Callable[[Any], Any],
) -> SourceRecord | None:
    before = len(problems)
    reader = _Reader(raw, context, problems)
    record_id = reader.read(specs[0])
    reader.record_id = record_id
    occurred = reader.read(specs[1])
    fields: dict[str, Any] = {}
    for item in specs[2:]:
        fields[item.target.removeprefix("fields.")] = reader.read(item)
    if mapping.keep_unmapped:
        used = {steps[0].name for item in specs for steps in item.steps if steps and isinstance(steps[0], Key)}
        for key, value in raw.data.items():
            if key not in used and key not in fields:
                fields[key] = reader.convert_value(key, key, value, auto)
    if len(problems) > before or record_id is None or occurred is None:
        return None
    try:
        return SourceRecord.create(
            source=mapping.source,
            record_id=record_id,
            entity=mapping.entity,
            occurred_at=occurred,
            fields=fields,
            loaded_at=context.loaded_at,
        )
    except DataError as exc:
        problems.append(DataError(exc.message, column=exc.column, path=reader.label(), value=exc.value))
        return None


def _converter(spec: FieldSpec, zone: tzinfo | None) -> Callable[[Any], Any]:
    return lambda value: convert(value, spec.type, spec.format, zone)


def _occurred(spec: FieldSpec, zone: tzinfo | None) -> Callable[[Any], datetime]:
    def read(value: Any) -> datetime:
        if spec.type == "date":
            return to_datetime(convert(value, "date", spec.format, zone), None, zone)
        return to_datetime(value, spec.format, zone)

    return read


class _Reader:
    """Reads the values of one raw record, adding a problem for each that fails."""

    def __init__(self, raw: RawRecord, context: Context, problems: list[DataError]) -> None:
        self.raw = raw
        self.context = context
        self.problems = problems
        self.record_id: str | None = None

    def label(self) -> str:
        where = _where(self.raw, self.context)
        if self.record_id is None:
            return where
        return f"{where} ({self.context.label} {self.record_id!r})"

    def read(self, item: _Spec) -> Any:
        """The first value the spec's paths hold, converted; None (and a problem) if it fails."""
        known = item.known
        if not known:
            return None  # reported once for the payload
        required = item.spec.required or item.target in ("record_id", "occurred_at")
        data = self.raw.data
        for path, steps in known:
            if not self.context.nested:
                value = data.get(path)  # a CSV row: the path is a column name
            else:
                try:
                    found = lookup(data, steps)
                except ShapeProblem as exc:
                    self._problem(path, f"{_target_text(item.target)}: {exc}", None)
                    return None
                value = found.value if isinstance(found, Found) else None
            if value is not None:
                return self.convert_value(path, item.target, value, item.read)
        if required:
            paths = " or ".join(repr(p) for p, _ in known)
            self._problem(known[0][0], f"{_target_text(item.target)} has no value at {paths}, and it is required", None)
        return None

    def convert_value(self, path: str, target: str, value: Any, reader: Callable[[Any], Any]) -> Any:
        try:
            return reader(value)
        except ValueError as exc:
            self._problem(path, f"{_target_text(target)}: {exc}", value)
            return None

    def _problem(self, path: str, message: str, value: Any) -> None:
        self.problems.append(DataError(message, column=path, path=self.label(), value=value))


def _where(raw: RawRecord, context: Context) -> str:
    return f"{context.origin}, {raw.where}" if context.origin else raw.where


def _target_text(target: str) -> str:
    if target == "record_id":
        return "the record id"
    if target == "occurred_at":
        return "the occurred time (occurred_at)"
    return f"field {target.removeprefix('fields.')!r}"


def _duplicates(built: list[tuple[RawRecord, SourceRecord]], context: Context) -> list[DataError]:
    places: dict[str, list[str]] = {}
    for raw, record in built:
        places.setdefault(record.record_id, []).append(raw.where)
    origin = f"{context.origin}, " if context.origin else ""
    return [
        DataError(
            f"{context.label} {record_id!r} appears {len(where)} times in the payload "
            f"({', '.join(where)}); an export lists each record once",
            path=origin + where[0],
            value=record_id,
        )
        for record_id, where in sorted(places.items())
        if len(where) > 1
    ]


def combine(problems: Sequence[DataError], context: Context) -> DataError:
    """One error for the problems of a payload (the problem itself when there is one)."""
    if len(problems) == 1:
        return problems[0]
    name = f"the {context.adapter} payload" + (f" {context.origin}" if context.origin else "")
    lines = [f"{name} has {len(problems)} problems:"]
    lines += [f"{n}. {problem}" for n, problem in enumerate(problems[:_SHOWN], 1)]
    if len(problems) > _SHOWN:
        lines.append(f"... and {len(problems) - _SHOWN} more (see .problems)")
    return DataError("\n".join(lines), problems=tuple(problems))
