"""Lineage: where every metric value came from, as data, text and JSON.

A computed :class:`MetricValue` carries its lineage:

* a simple metric's value knows its contributing records (:class:`RecordLineage`) and, for
  the additive aggregations (``sum``, ``count``), each record's contribution; contributions
  are exact, so they add up to the value exactly;
* a ratio, derived or cumulative value knows its input values (:class:`InputLineage`), each
  a :class:`MetricValue` with a lineage of its own, down to the records.

Lineage is kept cheap: a value's records are integer positions (``array('I')``) in the
record table the whole result shares, a share is stored only when it is not 1, and
contributions are computed only when asked for.

The JSON form (:meth:`MetricResults.to_dict`) is documented in ``docs/metrics.md``.
"""

from __future__ import annotations

import decimal
import json
from array import array
from collections.abc import Callable, Iterator, Mapping
from datetime import datetime
from decimal import Decimal
from typing import Any, Literal

import attrs

from perfkit.errors import DataError
from perfkit.metrics.records import SourceRecord
from perfkit.numbers import CONTEXT
from perfkit.periods import Period

__all__ = [
    "Contribution",
    "Input",
    "InputLineage",
    "Lineage",
    "MetricResults",
    "MetricValue",
    "RecordLineage",
    "record_key",
]

JSON_FORMAT = "perfkit-metrics/1"
"""The ``format`` field of the JSON export."""

EXACT = decimal.Context(
    prec=100_000,
    Emax=CONTEXT.Emax,
    Emin=CONTEXT.Emin,
    traps=[decimal.Inexact, decimal.InvalidOperation, decimal.Overflow],
)
"""Sums, counts and contributions are computed here: no digit is ever rounded away."""


def record_key(record: SourceRecord) -> str:
    """``source:record_id@version``: the version is the first 12 hex digits of the content hash."""
    return f"{record.source}:{record.record_id}@{record.content_hash[:12]}"


def _sort_key(record: SourceRecord) -> tuple[str, str, str]:
    return (record.source, record.record_id, record.content_hash)


def _text(value: Decimal | None) -> str | None:
    """Exact fixed-point text (``Decimal("1300.30")`` → ``"1300.30"``, ``Decimal("1E+3")`` → ``"1000"``)."""
    return None if value is None else format(value, "f")


@attrs.frozen(kw_only=True)
class Contribution:
    """One record's part in a simple metric's value.

    ``value`` is what the record holds (its field or ``expr``; None for ``count``),
    ``share`` the part of the record attributed to the employee, and ``amount`` what it
    adds to the value: ``share × value`` for ``sum``, ``share`` for ``count``, None for the
    aggregations that do not add up (average, min, max, count_distinct).
    """

    record: SourceRecord
    share: Decimal
    value: object
    amount: Decimal | None


@attrs.frozen(eq=False)
class RecordLineage:
    """The records behind a simple metric's value.

    ``indices`` are positions in ``table`` (shared by a whole result); ``shares`` maps a
    position in ``indices`` to the record's share when that is not 1. ``reader`` gives a
    record's value (None for ``count``). Contributions are computed on demand.
    """

    agg: str
    table: tuple[SourceRecord, ...] = attrs.field(repr=False)
    indices: array[int] = attrs.field(repr=False)
    shares: Mapping[int, Decimal] | None = attrs.field(repr=False)
    reader: Callable[[SourceRecord], object] | None = attrs.field(repr=False)

    @property
    def additive(self) -> bool:
        """True for ``sum`` and ``count``: contributions add up to the value."""
        return self.agg in ("sum", "count")

    def __len__(self) -> int:
        return len(self.indices)

    @property
    def records(self) -> tuple[SourceRecord, ...]:
        """The contributing records, sorted by key (source, record id, version)."""
        return tuple(sorted((self.table[i] for i in self.indices), key=_sort_key))

    def contributions(self) -> tuple[Contribution, ...]:
        """Each record's share, value and (for sum and count) amount, sorted by record key."""
        shares = self.shares or {}
        items = []
        for position, index in enumerate(self.indices):
            record = self.table[index]
            share = shares.get(position, _ONE)
            value = None if self.reader is None else self.reader(record)
            if self.agg == "count":
                amount: Decimal | None = share
            elif self.agg == "sum":
                assert isinstance(value, Decimal)
                amount = value if share is _ONE else EXACT.multiply(share, value)
            else:
                amount = None
            items.append(Contribution(record=record, share=share, value=value, amount=amount))
        items.sort(key=lambda c: _sort_key(c.record))
        return tuple(items)


_ONE = Decimal(1)


@attrs.frozen
class Input:
    """An input of a ratio, derived or cumulative value: its role and its value."""

    name: str
    """``numerator`` / ``denominator``, the name a formula reads, or ``to_date``."""
    value: MetricValue


@attrs.frozen(kw_only=True)
class InputLineage:
    """The input values a ratio, derived or cumulative value was computed from."""

    kind: Literal["ratio", "derived", "cumulative"]
    formula: str
    """``won / deals``, the derived formula, or ``revenue (year to date)``."""
    inputs: tuple[Input, ...]


Lineage = RecordLineage | InputLineage


@attrs.frozen(kw_only=True)
class MetricValue:
    """One metric's value for one employee in one period, with its lineage.

    ``value`` is None when there is no data (and the metric says ``no_data: missing`` or
    ``error``); ``no_data`` then says why (``no records``, ``the denominator deals is 0``).
    With ``no_data: zero`` the value is 0 and ``no_data`` still says why.
    """

    metric: str
    employee: str
    period: Period
    value: Decimal | None
    no_data: str | None = None
    lineage: Lineage | None = attrs.field(default=None, eq=False, repr=False)

    def records(self) -> tuple[SourceRecord, ...]:
        """Every record the value rests on, through its inputs, sorted by key."""
        found: dict[int, SourceRecord] = {}
        for lineage in self._record_lineages():
            for index in lineage.indices:
                found.setdefault(id(lineage.table[index]), lineage.table[index])
        return tuple(sorted(found.values(), key=_sort_key))

    def contributions(self) -> tuple[Contribution, ...]:
        """The records' contributions, for a simple metric's value (empty without lineage)."""
        if isinstance(self.lineage, RecordLineage):
            return self.lineage.contributions()
        if isinstance(self.lineage, InputLineage):
            raise DataError(
                f"{self.metric} is a {self.lineage.kind} metric: its lineage holds input values "
                "(lineage.inputs), not record contributions",
                employee_id=self.employee,
                column=self.metric,
            )
        return ()

    def _record_lineages(self) -> Iterator[RecordLineage]:
        if isinstance(self.lineage, RecordLineage):
            yield self.lineage
        elif isinstance(self.lineage, InputLineage):
            for item in self.lineage.inputs:
                yield from item.value._record_lineages()

    def explain(self, *, limit: int = 20) -> str:
        """The value and how it was made, down to the records (at most ``limit`` per value)."""
        return "\n".join(_explain(self, "", limit, None))

    def to_dict(self, *, lineage: bool = True) -> dict[str, Any]:
        """The value as JSON-able data (decimals as text), with its lineage when asked."""
        data: dict[str, Any] = {
            "employee": self.employee,
            "metric": self.metric,
            "period": self.period.label,
            "value": _text(self.value),
        }
        if self.no_data is not None:
            data["no_data"] = self.no_data
        if lineage and self.lineage is not None:
            data["lineage"] = _lineage_dict(self.lineage)
        return data


def _lineage_dict(lineage: Lineage) -> dict[str, Any]:
    if isinstance(lineage, InputLineage):
        return {
            "kind": lineage.kind,
            "formula": lineage.formula,
            "inputs": [
                {
                    "name": i.name,
                    "metric": i.value.metric,
                    "period": i.value.period.label,
                    "value": _text(i.value.value),
                }
                for i in lineage.inputs
            ],
        }
    entries = []
    for item in lineage.contributions():
        entry: dict[str, Any] = {"record": record_key(item.record)}
        if item.share != 1:
            entry["share"] = _text(item.share)
        if isinstance(item.value, Decimal):
            entry["value"] = _text(item.value)
        elif item.value is not None:
            entry["value"] = str(item.value)
        if item.amount is not None:
            entry["amount"] = _text(item.amount)
        entries.append(entry)
    return {"kind": "records", "agg": lineage.agg, "records": entries}


def _explain(value: MetricValue, indent: str, limit: int, name: str | None) -> Iterator[str]:
    shown = "no data" if value.value is None else format(value.value, "f")
    if value.no_data is not None and value.value is not None:
        shown += " (no data, counted as 0)"
    label = f"{name} = {value.metric}" if name and name != value.metric else value.metric
    head = f"{label} for {value.employee} in {value.period.label}: {shown}"
    if value.no_data is not None:
        head += f" [{value.no_data}]"
    yield indent + head
    lineage = value.lineage
    if isinstance(lineage, InputLineage):
        yield f"{indent}  = {lineage.formula}"
        for item in lineage.inputs:
            yield from _explain(item.value, indent + "    ", limit, item.name)
    elif isinstance(lineage, RecordLineage):
        count = len(lineage)
        yield f"{indent}  = {lineage.agg} over {count} record{'s' if count != 1 else ''}"
        for part in lineage.contributions()[:limit]:
            parts = [f"{indent}    {record_key(part.record)}"]
            if part.share != 1:
                parts.append(f"share {_text(part.share)}")
            if isinstance(part.value, Decimal):
                parts.append(f"value {_text(part.value)}")
            elif part.value is not None:
                parts.append(f"value {part.value}")
            if part.amount is not None:
                parts.append(f"→ {_text(part.amount)}")
            if part.record.actor is not None:
                parts.append(f"(by {part.record.actor}: {part.record.reason})")
            yield "  ".join(parts)
        if count > limit:
            yield f"{indent}    ... and {count - limit} more"


@attrs.frozen(kw_only=True)
class MetricResults:
    """Metric values for every employee in one period, with lineage when computed with it.

    ``values[employee][metric]`` is a :class:`MetricValue`; ``employees`` are sorted and
    ``metrics`` follow the definitions. ``as_of`` is the cut-off the data was taken at, and
    ``excluded`` the record versions loaded after it. ``records`` is the record table the
    lineage points into.
    """

    period: Period
    metrics: tuple[str, ...]
    employees: tuple[str, ...]
    values: Mapping[str, Mapping[str, MetricValue]] = attrs.field(repr=False)
    records: tuple[SourceRecord, ...] = attrs.field(repr=False)
    as_of: datetime | None = None
    excluded: tuple[SourceRecord, ...] = attrs.field(default=(), repr=False)
    lineage: bool = True

    def __getitem__(self, key: tuple[str, str]) -> MetricValue:
        """``results[employee, metric]``."""
        employee, metric = key
        return self.value(employee, metric)

    def value(self, employee: str, metric: str) -> MetricValue:
        """One value; a DataError naming the unknown employee or metric otherwise."""
        if metric not in self.metrics:
            raise DataError(
                f"no metric {metric!r} in these results; they hold {', '.join(self.metrics)}", column=metric
            )
        if employee not in self.values:
            raise DataError(f"no employee {employee!r} in these results", employee_id=employee)
        return self.values[employee][metric]

    def rows(self) -> list[dict[str, Any]]:
        """One row per employee: ``employee_id`` and each metric's value (None for no data).

        The rows a scheme's inputs can be scored from.
        """
        return [
            {"employee_id": employee, **{m: self.values[employee][m].value for m in self.metrics}}
            for employee in self.employees
        ]

    def explain(self, employee: str, metric: str | None = None, *, limit: int = 20) -> str:
        """How one value (or every metric of one employee) was made, down to the records."""
        metrics = self.metrics if metric is None else (metric,)
        parts = [self.value(employee, m).explain(limit=limit) for m in metrics]
        if self.as_of is not None:
            parts.append(f"(data as of {self.as_of.isoformat()}; {len(self.excluded)} later record versions excluded)")
        return "\n".join(parts)

    def to_dict(self, *, lineage: bool = True) -> dict[str, Any]:
        """The results as JSON-able data: values, supporting values, records (see docs/metrics.md)."""
        values = [self.values[e][m] for e in self.employees for m in self.metrics]
        data: dict[str, Any] = {
            "format": JSON_FORMAT,
            "period": self.period.to_dict(),
            "as_of": None if self.as_of is None else self.as_of.isoformat(),
            "metrics": list(self.metrics),
            "values": [v.to_dict(lineage=lineage) for v in values],
        }
        if self.as_of is not None:
            data["excluded"] = [record_key(r) for r in sorted(self.excluded, key=_sort_key)]
        if lineage and self.lineage:
            supporting = _supporting(values)
            data["supporting"] = [v.to_dict() for v in supporting]
            records: dict[int, SourceRecord] = {}
            for value in (*values, *supporting):
                if isinstance(value.lineage, RecordLineage):
                    for index in value.lineage.indices:
                        records.setdefault(index, self.records[index])
            data["records"] = {record_key(r): r.to_dict() for r in sorted(records.values(), key=_sort_key)}
        return data

    def to_json(self, *, lineage: bool = True, indent: int | None = 2) -> str:
        return json.dumps(self.to_dict(lineage=lineage), ensure_ascii=False, indent=indent) + "\n"


def _supporting(values: list[MetricValue]) -> list[MetricValue]:
    """Input values of other periods (previous, to date) that the values refer to."""
    top = {(v.employee, v.metric, v.period.label) for v in values}
    found: dict[tuple[str, str, str], MetricValue] = {}
    stack = list(values)
    while stack:
        value = stack.pop()
        if isinstance(value.lineage, InputLineage):
            for item in value.lineage.inputs:
                key = (item.value.employee, item.value.metric, item.value.period.label)
                if key not in top and key not in found:
                    found[key] = item.value
                    stack.append(item.value)
    return [found[k] for k in sorted(found)]
