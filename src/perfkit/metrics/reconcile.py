"""Reconciliation: two sources for the same figure, compared per employee and period.

Self-reported output against ERP receipts, the CRM's bookings against finance's invoices:
:func:`reconcile` sums a value field per owner (and period) on each side and reports, row
by row, both values, their difference, whether it exceeds the tolerance, and the records
behind each side.

>>> from datetime import datetime, timezone
>>> from perfkit.metrics.records import SourceRecord
>>> at = datetime(2026, 5, 6, 9, tzinfo=timezone.utc)
>>> def rec(source, rid, owner, qty):
...     return SourceRecord.create(source=source, record_id=rid, entity="output", occurred_at=at,
...                                fields={"owner_id": owner, "qty": qty})
>>> report = reconcile(
...     [rec("manual", "m1", "E1", 120), rec("manual", "m2", "E2", 80)],
...     [rec("erp", "r1", "E1", 100), rec("erp", "r2", "E1", 18), rec("erp", "r3", "E2", 80)],
...     left_value="qty", right_value="qty", rel_tol="1%")
>>> [(row.employee_id, row.left, row.right, row.difference, row.status) for row in report]
[('E1', Decimal('120'), Decimal('118'), Decimal('2'), 'exceeds_tolerance'), ('E2', Decimal('80'), Decimal('80'), Decimal('0'), 'match')]
>>> report["E1"].right_records
(('erp', 'r1'), ('erp', 'r2'))

**Tolerance.** A difference is tolerated when it is within *either* tolerance:
``|left − right| ≤ max(abs_tol, rel_tol × |reference|)`` (the rule of :func:`math.isclose`),
where the reference is the ``right`` side by default (the system of record: put the ERP on
the right), or ``left``, or ``larger`` (the larger magnitude of the two, which makes the
test symmetric). With both tolerances 0 (the default) any difference is a discrepancy. The
relative difference reported is ``(left − right) / |reference|`` (None when the reference is
0).

**No data is not zero.** An employee with records on one side only gets a row with status
``left_only`` or ``right_only``: the other value is None (not 0), and the row is a
discrepancy whatever the tolerance.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Iterator, Mapping
from decimal import Decimal
from typing import Any, Literal

import attrs

from perfkit._text import display_width
from perfkit.errors import DataError
from perfkit.metrics.records import SourceRecord
from perfkit.numbers import CONTEXT, exact_sum, plain_text, quantize, shift, to_decimal
from perfkit.periods import Calendar, Period, PeriodKind

__all__ = ["Reconciliation", "ReconciliationRow", "RowStatus", "reconcile", "reconcile_values"]

RowStatus = Literal["match", "within_tolerance", "exceeds_tolerance", "left_only", "right_only", "no_data"]
"""How the two sides of a row compare; ``exceeds_tolerance``, ``left_only`` and
``right_only`` are discrepancies."""

RelativeTo = Literal["right", "left", "larger"]
RecordKey = tuple[str, str]
_DISCREPANT = frozenset({"exceeds_tolerance", "left_only", "right_only"})
_KINDS = ("month", "quarter", "half", "year")


@attrs.frozen(kw_only=True)
class ReconciliationRow:
    """One employee (and period): both values, how they differ, and the records behind each.

    ``left`` or ``right`` is None when that side has no data for the row (not zero);
    ``difference`` is ``left − right`` and ``relative_difference`` is the difference over
    the reference side's magnitude, both None when a side has no data (and the relative
    difference also when the reference is 0).
    """

    employee_id: str
    period: str | None
    left: Decimal | None
    right: Decimal | None
    difference: Decimal | None
    relative_difference: Decimal | None
    status: RowStatus
    left_records: tuple[RecordKey, ...] = ()
    right_records: tuple[RecordKey, ...] = ()

    @property
    def discrepancy(self) -> bool:
        """The difference exceeds the tolerance, or only one side has data."""
        return self.status in _DISCREPANT

    def to_dict(self) -> dict[str, Any]:
        """Plain data; record keys as ``[source, record_id]`` lists."""
        return {
            "employee_id": self.employee_id,
            "period": self.period,
            "left": self.left,
            "right": self.right,
            "difference": self.difference,
            "relative_difference": self.relative_difference,
            "status": self.status,
            "discrepancy": self.discrepancy,
            "left_records": [list(key) for key in self.left_records],
            "right_records": [list(key) for key in self.right_records],
        }


@attrs.frozen(kw_only=True)
class Reconciliation:
    """A discrepancy report: rows sorted by (employee, period), with the settings that made it.

    ``report["E1"]`` (or ``report["E1", "2026-05"]``) is one row; iteration goes over every
    row, :attr:`discrepancies` over the rows that need a look. ``excluded_left`` and
    ``excluded_right`` list the records left out because they fall outside ``period``.
    """

    left_name: str
    right_name: str
    abs_tol: Decimal
    rel_tol: Decimal
    relative_to: RelativeTo
    rows: tuple[ReconciliationRow, ...]
    period: str | None = None
    excluded_left: tuple[RecordKey, ...] = ()
    excluded_right: tuple[RecordKey, ...] = ()

    def __iter__(self) -> Iterator[ReconciliationRow]:
        return iter(self.rows)

    def __len__(self) -> int:
        return len(self.rows)

    def __getitem__(self, key: str | tuple[str, str | None]) -> ReconciliationRow:
        employee, period = (key, None) if isinstance(key, str) else key
        matches = [r for r in self.rows if r.employee_id == employee and (period is None or r.period == period)]
        if len(matches) == 1:
            return matches[0]
        if not matches:
            raise KeyError(f"no reconciliation row for employee {employee!r}" + (f" in {period}" if period else ""))
        periods = ", ".join(str(r.period) for r in matches)
        raise KeyError(f"employee {employee!r} has a row in each of {periods}; ask for report[{employee!r}, period]")

    @property
    def discrepancies(self) -> tuple[ReconciliationRow, ...]:
        """The rows whose difference exceeds the tolerance or that have one side only."""
        return tuple(row for row in self.rows if row.discrepancy)

    @property
    def ok(self) -> bool:
        """True when there is no discrepancy."""
        return not self.discrepancies

    def to_records(self) -> list[dict[str, Any]]:
        """One flat dict per row (see :meth:`ReconciliationRow.to_dict`); numbers stay Decimal."""
        return [row.to_dict() for row in self.rows]

    def to_dict(self) -> dict[str, Any]:
        """The report as plain data: the settings, every row, the excluded records."""
        return {
            "left": self.left_name,
            "right": self.right_name,
            "period": self.period,
            "abs_tol": self.abs_tol,
            "rel_tol": self.rel_tol,
            "relative_to": self.relative_to,
            "discrepancies": len(self.discrepancies),
            "rows": self.to_records(),
            "excluded": {
                "left": [list(key) for key in self.excluded_left],
                "right": [list(key) for key in self.excluded_right],
            },
        }

    def to_json(self) -> str:
        """:meth:`to_dict` as JSON; numbers are strings holding the exact decimal."""
        return json.dumps(self.to_dict(), default=str, ensure_ascii=False, indent=2)

    def to_text(self) -> str:
        """A table of every row, then the records behind each discrepancy."""
        header = ("employee", "period", self.left_name, self.right_name, "difference", "relative", "status")
        rows = [
            (
                row.employee_id,
                row.period or "-",
                _number(row.left),
                _number(row.right),
                _number(row.difference),
                "-" if row.relative_difference is None else _percent(row.relative_difference),
                row.status.replace("_", " ") + (" !" if row.discrepancy else ""),
            )
            for row in self.rows
        ]
        widths = [max(display_width(r[i]) for r in [header, *rows]) for i in range(len(header))]
        numeric = {2, 3, 4, 5}
        lines = [
            "  ".join(_pad(cell, widths[i], right=i in numeric) for i, cell in enumerate(r)).rstrip()
            for r in [header, *rows]
        ]
        tolerance = f"tolerance: {plain_text(self.abs_tol)} absolute or {_percent(self.rel_tol)} of {self.relative_to}"
        lines.append(f"{len(self.discrepancies)} of {len(self.rows)} rows need a look ({tolerance})")
        for row in self.discrepancies:
            where = row.employee_id + (f" {row.period}" if row.period else "")
            lines.append(f"{where}:")
            lines.append(f"  {self.left_name}: {_keys(row.left_records)}")
            lines.append(f"  {self.right_name}: {_keys(row.right_records)}")
        for name, excluded in ((self.left_name, self.excluded_left), (self.right_name, self.excluded_right)):
            if excluded:
                lines.append(f"outside {self.period} ({name}): {_keys(excluded)}")
        return "\n".join(lines)

    def __str__(self) -> str:
        return self.to_text()


def reconcile(
    left: Iterable[SourceRecord],
    right: Iterable[SourceRecord],
    *,
    left_value: str = "amount",
    right_value: str = "amount",
    owner: str = "owner_id",
    left_owner: str | None = None,
    right_owner: str | None = None,
    period: Period | str | None = None,
    by: PeriodKind | None = None,
    calendar: Calendar | None = None,
    abs_tol: object = 0,
    rel_tol: object = 0,
    relative_to: RelativeTo = "right",
    left_name: str = "self-reported",
    right_name: str = "erp",
) -> Reconciliation:
    """Compare two sets of records: sum a value field per owner (and period) on each side.

    ``left_value`` / ``right_value`` name the field summed on each side; ``owner`` names the
    field holding the employee id (``left_owner`` / ``right_owner`` override it per side).
    ``period`` (a :class:`~perfkit.periods.Period` or a label read with ``calendar``) keeps
    the records that happened in it and lists the others in ``excluded_left`` /
    ``excluded_right``; ``by`` (``month``, ``quarter``, ``half`` or ``year``) makes one row
    per employee and period of that kind in ``calendar`` (default: UTC, years from January).
    Without either, there is one row per employee over all the records given.

    A record without the owner or value field, or with a value that is not a number, is a
    :class:`~perfkit.errors.DataError` naming the record and the field; so is a record given
    twice on one side (it would be counted twice).
    """
    calendar = calendar or (period.calendar if isinstance(period, Period) else Calendar())
    window = calendar.period(period) if isinstance(period, str) else period
    if by is not None and by not in _KINDS:
        raise DataError(f"by is a period kind (month, quarter, half or year), got {by!r}", column="by", value=by)
    sides = []
    for name, records, value_field, owner_field in (
        (left_name, left, left_value, left_owner or owner),
        (right_name, right, right_value, right_owner or owner),
    ):
        sides.append(_sum_side(name, records, value_field, owner_field, window, by, calendar))
    (left_sums, excluded_left), (right_sums, excluded_right) = sides
    settings = _settings(abs_tol, rel_tol, relative_to)
    rows = _rows(left_sums, right_sums, settings)
    return Reconciliation(
        left_name=left_name,
        right_name=right_name,
        abs_tol=settings.abs_tol,
        rel_tol=settings.rel_tol,
        relative_to=relative_to,
        rows=rows,
        period=None if window is None else window.label,
        excluded_left=excluded_left,
        excluded_right=excluded_right,
    )


def reconcile_values(
    left: Mapping[str, tuple[object, Iterable[RecordKey]]],
    right: Mapping[str, tuple[object, Iterable[RecordKey]]],
    *,
    period: Period | str | None = None,
    abs_tol: object = 0,
    rel_tol: object = 0,
    relative_to: RelativeTo = "right",
    left_name: str = "self-reported",
    right_name: str = "erp",
) -> Reconciliation:
    """Compare figures already computed: ``employee_id -> (value, record keys)`` per side.

    A value of None means that side has no data for the employee (not zero). ``period`` only
    labels the rows. The tolerance rules are those of :func:`reconcile`.
    """
    label = period.label if isinstance(period, Period) else period
    sums: list[dict[tuple[str, str | None], _Side]] = []
    for name, mapping in ((left_name, left), (right_name, right)):
        side: dict[tuple[str, str | None], _Side] = {}
        for employee, entry in mapping.items():
            value, keys = _entry(name, employee, entry)
            side[(employee, label)] = _Side(value=value, keys=keys)
        sums.append(side)
    settings = _settings(abs_tol, rel_tol, relative_to)
    return Reconciliation(
        left_name=left_name,
        right_name=right_name,
        abs_tol=settings.abs_tol,
        rel_tol=settings.rel_tol,
        relative_to=relative_to,
        rows=_rows(sums[0], sums[1], settings),
        period=label,
    )


# -- the work ------------------------------------------------------------------------------


@attrs.frozen
class _Side:
    value: Decimal | None
    keys: tuple[RecordKey, ...]


@attrs.frozen
class _Settings:
    abs_tol: Decimal
    rel_tol: Decimal
    relative_to: RelativeTo


def _settings(abs_tol: object, rel_tol: object, relative_to: str) -> _Settings:
    values = []
    for name, raw in (("abs_tol", abs_tol), ("rel_tol", rel_tol)):
        try:
            value = to_decimal(raw)
        except ValueError as exc:
            raise DataError(f"{name} must be a number: {exc}", column=name, value=raw) from None
        if value < 0:
            raise DataError(f"{name} cannot be negative (got {raw})", column=name, value=raw)
        values.append(value)
    if relative_to not in ("right", "left", "larger"):
        raise DataError(
            f"relative_to is 'right', 'left' or 'larger', got {relative_to!r}", column="relative_to", value=relative_to
        )
    return _Settings(abs_tol=values[0], rel_tol=values[1], relative_to=relative_to)  # type: ignore[arg-type]


def _sum_side(
    name: str,
    records: Iterable[SourceRecord],
    value_field: str,
    owner_field: str,
    window: Period | None,
    by: PeriodKind | None,
    calendar: Calendar,
) -> tuple[dict[tuple[str, str | None], _Side], tuple[RecordKey, ...]]:
    values: dict[tuple[str, str | None], list[Decimal]] = {}
    keys: dict[tuple[str, str | None], list[RecordKey]] = {}
    excluded: list[RecordKey] = []
    seen: set[RecordKey] = set()
    for position, record in enumerate(records):
        if not isinstance(record, SourceRecord):
            raise DataError(f"the {name} side holds a {type(record).__name__}, not a SourceRecord", row=position)
        if record.key in seen:
            raise DataError(
                f"record {_key(record.key)} is given twice on the {name} side and would be counted twice; "
                "load the records through a RecordStore to drop repeated imports",
                value=_key(record.key),
            )
        seen.add(record.key)
        if window is not None and not window.contains(record.occurred_at):
            excluded.append(record.key)
            continue
        employee = _owner(record, owner_field)
        amount = _amount(record, value_field, employee)
        label = calendar.period_of(record.occurred_at, by).label if by is not None else None
        if label is None and window is not None:
            label = window.label
        values.setdefault((employee, label), []).append(amount)
        keys.setdefault((employee, label), []).append(record.key)
    sums = {group: _Side(value=exact_sum(values[group]), keys=tuple(sorted(keys[group]))) for group in values}
    return sums, tuple(sorted(excluded))


def _owner(record: SourceRecord, field: str) -> str:
    value = record.field(field)
    if isinstance(value, int) and not isinstance(value, bool):
        return str(value)
    if not isinstance(value, str) or not value.strip():
        raise DataError(
            f"the owner field must hold an employee id, got {value!r}",
            column=field,
            path=f"record {record.ref}",
            value=value,
        )
    return value.strip()


def _amount(record: SourceRecord, field: str, employee: str) -> Decimal:
    raw = record.field(field)
    if raw is None:
        raise DataError(
            "is empty; a record with no value is not a zero, so fix or remove the record",
            employee_id=employee,
            column=field,
            path=f"record {record.ref}",
        )
    try:
        return to_decimal(raw)
    except ValueError as exc:
        raise DataError(
            f"is not a number: {exc}", employee_id=employee, column=field, path=f"record {record.ref}", value=raw
        ) from None


def _entry(name: str, employee: object, entry: object) -> tuple[Decimal | None, tuple[RecordKey, ...]]:
    if not isinstance(employee, str):
        raise DataError(f"the {name} side is keyed by employee id (text), got {employee!r}", value=employee)
    if not isinstance(entry, tuple) or len(entry) != 2:
        raise DataError(
            f"the {name} side maps each employee to (value, record keys), got {entry!r}", employee_id=employee
        )
    raw, raw_keys = entry
    value: Decimal | None = None
    if raw is not None:
        try:
            value = to_decimal(raw)
        except ValueError as exc:
            raise DataError(f"the {name} value is not a number: {exc}", employee_id=employee, value=raw) from None
    keys = []
    for key in raw_keys:
        if not (isinstance(key, tuple) and len(key) == 2 and all(isinstance(part, str) for part in key)):
            raise DataError(
                f"a {name} record key is a (source, record_id) pair of texts, got {key!r}", employee_id=employee
            )
        keys.append(key)
    return value, tuple(sorted(keys))


def _rows(
    left: Mapping[tuple[str, str | None], _Side], right: Mapping[tuple[str, str | None], _Side], settings: _Settings
) -> tuple[ReconciliationRow, ...]:
    empty = _Side(value=None, keys=())
    groups = sorted(set(left) | set(right), key=lambda g: (g[0], g[1] or ""))
    return tuple(_row(group, left.get(group, empty), right.get(group, empty), settings) for group in groups)


def _row(group: tuple[str, str | None], left: _Side, right: _Side, settings: _Settings) -> ReconciliationRow:
    employee, period = group
    difference = relative = None
    if left.value is None or right.value is None:
        status: RowStatus = (
            "no_data"
            if left.value is None and right.value is None
            else "right_only"
            if left.value is None
            else "left_only"
        )
    else:
        difference = CONTEXT.subtract(left.value, right.value)
        reference = _reference(left.value, right.value, settings.relative_to)
        if reference:
            relative = CONTEXT.divide(difference, reference)
        allowed = max(settings.abs_tol, CONTEXT.multiply(settings.rel_tol, reference))
        if not difference:
            status = "match"
        elif abs(difference) <= allowed:
            status = "within_tolerance"
        else:
            status = "exceeds_tolerance"
    return ReconciliationRow(
        employee_id=employee,
        period=period,
        left=left.value,
        right=right.value,
        difference=difference,
        relative_difference=relative,
        status=status,
        left_records=left.keys,
        right_records=right.keys,
    )


def _reference(left: Decimal, right: Decimal, relative_to: RelativeTo) -> Decimal:
    if relative_to == "right":
        return abs(right)
    if relative_to == "left":
        return abs(left)
    return max(abs(left), abs(right))


# -- text ----------------------------------------------------------------------------------


def _key(key: RecordKey) -> str:
    return f"{key[0]}:{key[1]}"


def _keys(keys: tuple[RecordKey, ...]) -> str:
    return ", ".join(_key(k) for k in keys) if keys else "(no records)"


def _number(value: Decimal | None) -> str:
    return "-" if value is None else plain_text(value)


def _percent(value: Decimal) -> str:
    return f"{plain_text(quantize(shift(value, 2), 2))}%"


def _pad(cell: str, width: int, *, right: bool) -> str:
    gap = " " * (width - display_width(cell))
    return gap + cell if right else cell + gap
