"""Attribution: whose record it is, and in what share.

A metric definition says how its records are attributed (declared in YAML next to the
metric, or built in Python):

* ``{owner: OwnerId}``: the field ``OwnerId`` holds an employee id; the record is wholly theirs.
* ``{split: Splits}``: the field holds the shares, as a list of ``{employee: id, share: 0.6}``
  or a mapping ``{id: share}``; shares (``0.6``, ``"60%"``, ``Decimal``) must sum to exactly 1.
* ``team:`` rolls the attributed people up through the org roster: ``unit`` (alias
  ``department``) gives each person's org unit, ``manager`` their manager, and any other roster
  column (``role``, ``level``, custom columns) that column's value. For ``unit`` and
  ``manager``, ``up: n`` climbs n steps further (``unit`` with ``up: 1`` is the parent unit),
  and, for ``unit``, ``level: n`` picks the unit n levels below the top of the tree
  (``level: 0`` is the root, ``level: 1`` a division under it): handy when teams sit at
  different depths.

:func:`attribute` returns ``(party, share)`` pairs sorted by party, the shares Decimals that
sum to exactly 1; a party is an employee id, or with ``team`` the roll-up's value (a unit id,
a manager's employee id, a role). Problems raise :class:`~perfkit.errors.DataError` naming the
record (``crm:OPP-7``) and the field or employee.

>>> from datetime import datetime, timezone
>>> from perfkit.metrics.records import SourceRecord
>>> deal = SourceRecord.create(source="crm", record_id="OPP-7", entity="opportunity",
...     occurred_at=datetime(2026, 5, 6, tzinfo=timezone.utc),
...     fields={"Splits": [{"employee": "1001", "share": 0.6}, {"employee": "1002", "share": 0.4}]})
>>> attribute(deal, Attribution(split="Splits"))
(('1001', Decimal('0.6')), ('1002', Decimal('0.4')))
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from decimal import Decimal
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

from perfkit.errors import DataError, SchemeError
from perfkit.io.rows import is_empty
from perfkit.metrics.records import SourceRecord
from perfkit.numbers import CONTEXT, to_decimal
from perfkit.org import Roster

__all__ = ["Attribution", "Share", "attribute"]

Share = tuple[str, Decimal]
"""(party, share): an employee id (or a roll-up value) and its share of the record."""

ONE = Decimal(1)
_FLOAT_LOOKING = re.compile(r"^[+-]?\d+(?:\.0+|(?:\.\d+)?[eE][+-]?\d+)$")
_CLIMBING = ("unit", "department", "manager")


class Attribution(BaseModel):
    """How a metric's records are attributed: ``owner`` or ``split``, optionally rolled up by ``team``."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    owner: str | None = Field(default=None, min_length=1)
    """The record field holding the employee id the whole record belongs to."""
    split: str | None = Field(default=None, min_length=1)
    """The record field holding the shares: ``[{employee: id, share: 0.6}, ...]`` or ``{id: share}``."""
    employee_key: str = Field(default="employee", min_length=1)
    """In a split list, the key holding the employee id."""
    share_key: str = Field(default="share", min_length=1)
    """In a split list, the key holding the share."""
    team: str | None = Field(default=None, min_length=1)
    """Roll up through the roster: ``unit`` (``department``), ``manager``, or another roster column."""
    up: int = Field(default=0, ge=0)
    """For ``team: unit`` or ``team: manager``: how many steps to climb beyond the person's own."""
    level: int | None = Field(default=None, ge=0)
    """For ``team: unit``: the unit this many levels below the top of the unit tree (0: the top)."""

    @model_validator(mode="after")
    def _one_way(self) -> Attribution:
        if (self.owner is None) == (self.split is None):
            raise ValueError("attribution takes exactly one of owner: (a field with an employee id) or split: (shares)")
        if self.team is None and (self.up or self.level is not None):
            raise ValueError("up: and level: say how far a team: roll-up climbs; give team: unit or team: manager")
        if self.up and self.team not in _CLIMBING:
            raise ValueError(f"up: climbs the unit tree or the management chain, not {self.team!r}")
        if self.level is not None and self.team not in ("unit", "department"):
            raise ValueError("level: picks a unit by its depth in the unit tree: use it with team: unit")
        if self.level is not None and self.up:
            raise ValueError("give up: (steps above the person's unit) or level: (depth from the top), not both")
        return self

    @classmethod
    def parse(cls, data: Any, *, path: str = "attribution") -> Attribution:
        """An attribution from plain data (YAML/JSON); :class:`SchemeError` naming the field if bad."""
        if isinstance(data, Attribution):
            return data
        try:
            return cls.model_validate(data)
        except ValidationError as exc:
            problems = tuple(
                SchemeError(error["msg"].removeprefix("Value error, "), path=_error_path(path, error["loc"]))
                for error in exc.errors()
            )
            if len(problems) == 1:
                raise problems[0] from None
            raise SchemeError(f"the attribution has {len(problems)} problems", path=path, problems=problems) from None

    def bind(self, roster: Roster | None = None) -> Callable[[SourceRecord], tuple[Share, ...]]:
        """``attribute`` with the attribution and roster fixed, for many records."""
        return lambda record: attribute(record, self, roster)


def _error_path(base: str, loc: tuple[int | str, ...]) -> str:
    return ".".join([base, *(str(part) for part in loc)])


def attribute(record: SourceRecord, attribution: Attribution, roster: Roster | None = None) -> tuple[Share, ...]:
    """The parties a record is attributed to, with shares summing to exactly 1, sorted by party.

    With a ``roster``, every employee must be in it; ``team`` needs one.
    """
    if attribution.owner is not None:
        people: tuple[Share, ...] = ((_employee_id(record, attribution.owner, record.field(attribution.owner)), ONE),)
    else:
        people = _split(record, attribution)
    if roster is None:
        if attribution.team is not None:
            raise DataError(
                f"the attribution rolls up by team {attribution.team!r}, which needs an org roster",
                path=f"record {record.ref}",
                column="team",
            )
        return people
    for employee, _ in people:
        if employee not in roster:
            raise DataError(
                f"employee {employee!r} is not in the org roster",
                path=f"record {record.ref}",
                column=attribution.owner or attribution.split,
                value=employee,
            )
    if attribution.team is None:
        return people
    return _merge([(_roll_up(record, employee, attribution, roster), share) for employee, share in people])


def _employee_id(record: SourceRecord, field: str, value: object) -> str:
    """An employee id read from a record: text or a whole number; never a float."""
    if isinstance(value, str):
        text = value.strip()
        if text and not _FLOAT_LOOKING.match(text):
            return text
        if text:
            raise DataError(
                f"employee id {value!r} looks like a number read as a float; read the column as text",
                path=f"record {record.ref}",
                column=field,
                value=value,
            )
    if isinstance(value, int) and not isinstance(value, bool):
        return str(value)
    if isinstance(value, Decimal):
        reason = "looks like a number read as a float; read the column as text"
    elif is_empty(value):
        reason = "is empty"
    else:
        reason = f"is not an employee id (a {type(value).__name__})"
    raise DataError(f"employee id {value!r} {reason}", path=f"record {record.ref}", column=field, value=value)


def _split(record: SourceRecord, attribution: Attribution) -> tuple[Share, ...]:
    field = attribution.split or ""
    raw = record.field(field)
    pairs: list[tuple[object, object]] = []
    if isinstance(raw, Mapping):
        pairs = list(raw.items())
    elif isinstance(raw, tuple):
        for index, item in enumerate(raw):
            where = f"{field}[{index}]"
            if not isinstance(item, Mapping):
                raise DataError(
                    f"a split line is a mapping with {attribution.employee_key!r} and {attribution.share_key!r}, "
                    f"got {item!r}",
                    path=f"record {record.ref}",
                    column=where,
                )
            for key in (attribution.employee_key, attribution.share_key):
                if item.get(key) is None:
                    raise DataError(f"the split line has no {key!r}", path=f"record {record.ref}", column=where)
            pairs.append((item[attribution.employee_key], item[attribution.share_key]))
    else:
        raise DataError(
            f"holds {raw!r}; a split is a list of {{{attribution.employee_key}: id, {attribution.share_key}: share}} "
            "or a mapping of employee id to share",
            path=f"record {record.ref}",
            column=field,
        )
    if not pairs:
        raise DataError("the split is empty: nobody is credited", path=f"record {record.ref}", column=field)
    shares: dict[str, Decimal] = {}
    for employee, share in pairs:
        ident = _employee_id(record, field, employee)
        if ident in shares:
            raise DataError(
                f"employee {ident!r} appears twice in the split", path=f"record {record.ref}", column=field, value=ident
            )
        shares[ident] = _share(record, field, ident, share)
    total = CONTEXT.create_decimal(0)
    for value in shares.values():
        total = CONTEXT.add(total, value)
    if total != ONE:
        listed = ", ".join(f"{ident} {value}" for ident, value in sorted(shares.items()))
        raise DataError(
            f"the split shares sum to {total}, not exactly 1 ({listed})",
            path=f"record {record.ref}",
            column=field,
            value=total,
        )
    return tuple(sorted(shares.items()))


def _share(record: SourceRecord, field: str, employee: str, value: object) -> Decimal:
    try:
        share = to_decimal(value)
    except ValueError as error:
        raise DataError(
            f"the share of employee {employee!r} is not a number ({error})",
            path=f"record {record.ref}",
            column=field,
            value=value,
        ) from None
    if share < 0 or share > 1:
        raise DataError(
            f"the share of employee {employee!r} is {share}; a share is between 0 and 1 (0.6 or '60%')",
            path=f"record {record.ref}",
            column=field,
            value=value,
        )
    return share


def _roll_up(record: SourceRecord, employee: str, attribution: Attribution, roster: Roster) -> str:
    team = attribution.team or ""
    person = roster.employee(employee)
    where = f"record {record.ref}"
    if team == "manager":
        chain = roster.management_chain(employee)
        if len(chain) <= attribution.up:
            raise DataError(
                f"employee {employee!r} has {len(chain)} manager(s) above them, so there is no manager "
                f"{attribution.up + 1} step(s) up",
                path=where,
                column="team",
                value=employee,
            )
        return chain[attribution.up]
    if team in ("unit", "department"):
        if person.unit is None:
            raise DataError(
                f"employee {employee!r} has no unit in the roster", path=where, column="team", value=employee
            )
        units = roster.unit_chain(person.unit)
        if attribution.level is not None:
            depth = len(units) - 1
            if attribution.level > depth:
                raise DataError(
                    f"employee {employee!r} is in unit {person.unit!r}, at level {depth} of the unit tree, "
                    f"above level {attribution.level}",
                    path=where,
                    column="level",
                    value=employee,
                )
            return units[depth - attribution.level]
        if len(units) <= attribution.up:
            raise DataError(
                f"unit {person.unit!r} of employee {employee!r} has {len(units) - 1} unit(s) above it, "
                f"so there is nothing {attribution.up} step(s) up",
                path=where,
                column="up",
                value=employee,
            )
        return units[attribution.up]
    value = person.attribute(team)
    if value is None:
        raise DataError(
            f"employee {employee!r} has no {team!r} in the roster", path=where, column="team", value=employee
        )
    return value


def _merge(shares: list[Share]) -> tuple[Share, ...]:
    """Shares of the same party added together, sorted by party."""
    merged: dict[str, Decimal] = {}
    for party, share in shares:
        merged[party] = CONTEXT.add(merged[party], share) if party in merged else share
    return tuple(sorted(merged.items()))
