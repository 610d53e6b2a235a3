"""Any CSV export: the caller says which columns are the record id and the occurred time.

There is no default source, entity or columns: the mapping names them. Every column the
mapping does not read becomes a field under its own name, as text (``keep_unmapped`` is on;
set it to false to keep only mapped fields). CSV has no types, so a cell stays text unless
its field says otherwise: ``{"path": "金额", "type": "number"}`` reads an exact Decimal,
``"integer"``, ``"boolean"``, ``"date"`` and ``"datetime"`` likewise. Times are ISO 8601 by
default (``format`` takes a ``strptime`` format such as ``"%d/%m/%Y %H:%M"``); a time without
an offset, or a date, is placed in ``tz`` (a date at midnight), which is then required.

>>> text = "单号,日期,销售员,金额\\nR-1,2026-04-03 09:30,1001,12000.50\\n"
>>> (record,) = from_csv(text, tz="Asia/Shanghai", mapping={"source": "erp", "entity": "receipt",
...     "record_id": "单号", "occurred_at": "日期", "fields": {"amount": {"path": "金额", "type": "number"}}})
>>> record.key, record.field("amount"), record.field("销售员")
(('erp', 'R-1'), Decimal('12000.50'), '1001')
"""

from __future__ import annotations

from datetime import datetime, tzinfo
from typing import Any

from perfkit.errors import SchemeError
from perfkit.metrics.adapters._run import MappingArg, run_csv
from perfkit.metrics.records import SourceRecord

__all__ = ["CSV_DEFAULTS", "from_csv"]

CSV_DEFAULTS: dict[str, Any] = {"keep_unmapped": True, "fields": {}}
"""What the generic CSV mapping starts from; ``source``, ``entity``, ``record_id`` and
``occurred_at`` come from the caller."""


def from_csv(
    payload: Any,
    *,
    mapping: MappingArg = None,
    loaded_at: datetime | None = None,
    tz: str | tzinfo | None = None,
    delimiter: str = ",",
    encoding: str = "utf-8-sig",
) -> tuple[SourceRecord, ...]:
    """Source records from a CSV file (a :class:`~pathlib.Path`), CSV text or bytes, or rows
    already read (mappings, a pandas or polars DataFrame), one record per row.

    ``mapping`` must give ``source``, ``entity``, ``record_id`` and ``occurred_at`` (column
    names); other arguments as for :func:`~perfkit.metrics.adapters.from_jira`.
    """
    if mapping is None:
        raise SchemeError(
            "the CSV adapter needs a mapping naming the source, the entity and the record id and occurred time "
            "columns, e.g. mapping={'source': 'erp', 'entity': 'receipt', 'record_id': 'id', 'occurred_at': 'date'}",
            path="mapping",
        )
    return run_csv(
        payload,
        adapter="csv",
        noun="row",
        default=CSV_DEFAULTS,
        mapping=mapping,
        loaded_at=loaded_at,
        tz=tz,
        delimiter=delimiter,
        encoding=encoding,
    )
