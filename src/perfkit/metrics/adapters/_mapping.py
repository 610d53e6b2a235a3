"""Field mappings: which part of an export becomes a record's id, time and fields.

A mapping is a declaration the user writes (pydantic, ``extra="forbid"``). Each adapter
ships a default one; a caller adjusts it with a plain dict merged over the default
(:func:`resolve_mapping`), or passes a whole :class:`FieldMapping` of their own::

    {"occurred_at": "fields.updated",                       # another path
     "fields": {"points": "fields.customfield_10016",       # add (or replace) a field
                "story_points": None,                       # drop a default field
                "priority": {"type": "text"}}}              # change only the type
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Literal
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import BaseModel, ConfigDict, Field, ValidationError, ValidationInfo, field_validator, model_validator

from perfkit.errors import SchemeError
from perfkit.metrics.adapters._paths import PathSyntaxError, Step, parse_path

__all__ = ["FieldMapping", "FieldSpec", "FieldType", "compile_paths", "resolve_mapping"]

FieldType = Literal["auto", "text", "number", "integer", "boolean", "datetime", "date"]
"""What a value is read as; ``auto`` keeps what the payload holds (JSON numbers as Decimal)."""


class FieldSpec(BaseModel):
    """Where one value comes from and what it is read as.

    Written as a path (``"fields.summary"``), a list of paths tried in order until one holds
    a value (``["fields.resolutiondate", "fields.updated"]``), or in full:
    ``{"path": "Amount", "type": "number", "required": true}``.
    """

    model_config = ConfigDict(extra="forbid", frozen=True)

    path: str | tuple[str, ...]
    """One path, or several tried in order (the first that holds a value wins)."""
    type: FieldType = "auto"
    required: bool = False
    """A missing or empty value is an error instead of ``None``."""
    format: str | None = None
    """A ``strptime`` format for ``datetime`` and ``date`` text (default: ISO 8601)."""

    @model_validator(mode="before")
    @classmethod
    def _short_forms(cls, data: Any) -> Any:
        if isinstance(data, (str, list, tuple)):
            return {"path": data}
        return data

    @field_validator("path", mode="before")
    @classmethod
    def _paths(cls, value: Any) -> Any:
        if isinstance(value, (list, tuple)):
            if not value:
                raise ValueError("give at least one path")
            return value[0] if len(value) == 1 else tuple(value)
        return value

    @field_validator("path")
    @classmethod
    def _not_blank(cls, value: str | tuple[str, ...]) -> str | tuple[str, ...]:
        for path in (value,) if isinstance(value, str) else value:
            if not path.strip():
                raise ValueError("a path cannot be empty")
        return value

    @model_validator(mode="after")
    def _format_fits_type(self) -> FieldSpec:
        if self.format is not None and self.type not in ("datetime", "date"):
            raise ValueError(f"a format applies to datetime and date values, not to type {self.type!r}")
        return self

    @property
    def paths(self) -> tuple[str, ...]:
        """The paths, in the order they are tried."""
        return (self.path,) if isinstance(self.path, str) else self.path


class FieldMapping(BaseModel):
    """How the records of one export become :class:`~perfkit.metrics.records.SourceRecord` s.

    ``source`` and ``entity`` name the system and the kind of record (a scheme's input
    ``source: crm`` matches ``source="crm"``); ``record_id`` and ``occurred_at`` say where the
    record's id and time are; ``fields`` maps each record field name to its spec.
    ``timezone`` (a zoneinfo key such as ``"Asia/Shanghai"``) places times written without an
    offset and dates without a time (midnight there). ``keep_unmapped`` also keeps every
    top-level key (CSV column) that no spec reads, under its own name, as it is (CSV: text).
    """

    model_config = ConfigDict(extra="forbid", frozen=True)

    source: str = Field(min_length=1)
    entity: str = Field(min_length=1)
    record_id: FieldSpec
    occurred_at: FieldSpec
    fields: dict[str, FieldSpec] = {}
    timezone: str | None = None
    keep_unmapped: bool = False

    @field_validator("record_id", "occurred_at", mode="before")
    @classmethod
    def _default_type(cls, value: Any, info: ValidationInfo) -> Any:
        """The id is read as text and the time as a datetime unless the spec says otherwise."""
        kind = "text" if info.field_name == "record_id" else "datetime"
        if isinstance(value, (str, list, tuple)):
            return {"path": value, "type": kind}
        if isinstance(value, Mapping) and "type" not in value:
            return {**value, "type": kind}
        return value

    @field_validator("record_id")
    @classmethod
    def _id_is_text(cls, spec: FieldSpec) -> FieldSpec:
        if spec.type not in ("auto", "text"):
            raise ValueError(f"a record id is text; type {spec.type!r} does not apply")
        return spec

    @field_validator("occurred_at")
    @classmethod
    def _time_is_a_time(cls, spec: FieldSpec) -> FieldSpec:
        if spec.type not in ("auto", "datetime", "date"):
            raise ValueError(f"the occurred time is a datetime or a date; type {spec.type!r} does not apply")
        return spec

    @field_validator("fields")
    @classmethod
    def _names(cls, fields: dict[str, FieldSpec]) -> dict[str, FieldSpec]:
        for name in fields:
            if not name.strip():
                raise ValueError("a field name cannot be empty")
        return fields

    @field_validator("timezone")
    @classmethod
    def _zone(cls, key: str | None) -> str | None:
        if key is not None:
            try:
                ZoneInfo(key)
            except (ZoneInfoNotFoundError, ValueError):
                raise ValueError(f"unknown timezone {key!r}; use a zoneinfo key such as 'Asia/Shanghai'") from None
        return key

    def override(self, changes: Mapping[str, Any]) -> FieldMapping:
        """This mapping with ``changes`` merged over it (see :func:`resolve_mapping`).

        >>> base = FieldMapping(source="erp", entity="receipt", record_id="no", occurred_at="date")
        >>> base.override({"source": "crm", "fields": {"amount": "total"}}).fields["amount"].path
        'total'
        """
        return _validate(*_merge(self.model_dump(), changes, self.fields))


def resolve_mapping(
    default: FieldMapping | Mapping[str, Any], given: FieldMapping | Mapping[str, Any] | None
) -> FieldMapping:
    """The mapping an adapter runs with.

    ``given`` is ``None`` (the default as it is), a :class:`FieldMapping` (used as it is, the
    default is ignored) or a dict merged over the default: its top-level keys replace the
    default's, except ``fields``, which is merged name by name (``None`` drops a field; a
    spec without ``path`` changes only what it states). ``default`` may be partial data (the
    generic CSV adapter has no source or columns of its own). Problems are
    :class:`~perfkit.errors.SchemeError` s whose path starts with ``mapping``.
    """
    if isinstance(given, FieldMapping):
        return given
    if given is not None and not isinstance(given, Mapping):
        raise SchemeError(f"a mapping is a FieldMapping or a dict, not a {type(given).__name__}", path="mapping")
    if isinstance(default, FieldMapping):
        return default if given is None else default.override(given)
    base_fields = {name: FieldSpec.model_validate(spec) for name, spec in default.get("fields", {}).items()}
    return _validate(*_merge(dict(default), given or {}, base_fields))


def _merge(
    base: dict[str, Any], changes: Mapping[str, Any], base_fields: Mapping[str, FieldSpec]
) -> tuple[dict[str, Any], list[SchemeError]]:
    data = dict(base)
    problems: list[SchemeError] = []
    for key, value in changes.items():
        if key == "fields" and isinstance(value, Mapping):
            data["fields"] = _merge_fields(base_fields, value, problems)
        elif key in ("record_id", "occurred_at") and _partial(value) and key in data:
            data[key] = {**_as_dict(data[key]), **value}
        else:
            data[key] = value
    return data, problems


def _merge_fields(
    base: Mapping[str, FieldSpec], changes: Mapping[str, Any], problems: list[SchemeError]
) -> dict[str, Any]:
    fields: dict[str, Any] = {name: spec.model_dump() for name, spec in base.items()}
    for name, spec in changes.items():
        if spec is None:
            if name not in fields:
                problems.append(
                    SchemeError(
                        f"there is no field {name!r} to drop; the fields are {sorted(fields)}",
                        path=f"mapping.fields.{name}",
                    )
                )
            fields.pop(name, None)
        elif _partial(spec):
            if name not in fields:
                problems.append(SchemeError(f"the new field {name!r} needs a path", path=f"mapping.fields.{name}"))
                continue
            fields[name] = {**fields[name], **spec}
        else:
            fields[name] = spec
    return fields


def _partial(value: Any) -> bool:
    return isinstance(value, Mapping) and "path" not in value


def _as_dict(value: Any) -> dict[str, Any]:
    if isinstance(value, FieldSpec):
        return value.model_dump()
    return dict(FieldSpec.model_validate(value).model_dump())


def _validate(data: Mapping[str, Any], problems: list[SchemeError]) -> FieldMapping:
    try:
        mapping = FieldMapping.model_validate(data)
    except ValidationError as exc:
        problems = problems + [
            SchemeError(_message(error), path=".".join(["mapping", *(str(p) for p in error["loc"])]))
            for error in exc.errors()
        ]
        raise _combine(problems) from None
    _raise(problems)
    return mapping


def _message(error: Any) -> str:
    if error["type"] == "missing":
        return "is required"
    if error["type"] == "extra_forbidden":
        return "is not a mapping setting"
    return str(error["msg"]).removeprefix("Value error, ")


def _raise(problems: list[SchemeError]) -> None:
    if problems:
        raise _combine(problems)


def _combine(problems: list[SchemeError]) -> SchemeError:
    if len(problems) == 1:
        return problems[0]
    lines = [f"the field mapping has {len(problems)} problems:"]
    lines += [f"{n}. {p}" for n, p in enumerate(problems, 1)]
    return SchemeError("\n".join(lines), path="mapping", problems=tuple(problems))


def compile_paths(mapping: FieldMapping) -> dict[str, tuple[tuple[Step, ...], ...]]:
    """Parse every path of ``mapping`` (for nested payloads); keys are ``record_id``,
    ``occurred_at`` and ``fields.<name>``. Bad paths raise one SchemeError naming each."""
    specs = {"record_id": mapping.record_id, "occurred_at": mapping.occurred_at}
    specs.update({f"fields.{name}": spec for name, spec in mapping.fields.items()})
    compiled: dict[str, tuple[tuple[Step, ...], ...]] = {}
    problems = []
    for where, spec in specs.items():
        steps = []
        for path in spec.paths:
            try:
                steps.append(parse_path(path))
            except PathSyntaxError as exc:
                problems.append(SchemeError(str(exc), path=f"mapping.{where}.path"))
        compiled[where] = tuple(steps)
    _raise(problems)
    return compiled
