"""Salesforce opportunities: REST query JSON, or a CSV export with API field names as columns.

JSON: the result of ``GET /services/data/vXX.X/query?q=SELECT ...`` —
``{"totalSize", "done", "records": [{"attributes": {"type": "Opportunity", "url"}, "Id", ...}]}``
— or a list of such records. Relationship fields are nested objects (``Owner.Name``).
When ``done`` is false, more pages follow at ``nextRecordsUrl``: pass each page yourself.

CSV: a Bulk API, Data Export or Data Loader file whose header holds the API field names
(``Id,OwnerId,Name,Amount,CloseDate,...``; relationship columns as ``Owner.Name``). Headers
are matched to the mapping without regard to case, so Data Loader's upper-case headers
(``ID,OWNERID,AMOUNT``) work too. Booleans are ``true``/``false`` (or ``1``/``0``), a blank
cell is empty.

Each opportunity becomes a record with source ``salesforce`` and entity ``opportunity``; its
id is ``Id`` and its time the ``CloseDate`` (see :data:`SALESFORCE_MAPPING`). ``CloseDate``
is a date without a time: it is placed at midnight in ``tz``, which is therefore required
(pass the timezone of the calendar the periods are cut in, e.g. ``tz="Asia/Shanghai"``).

>>> records = from_salesforce('''{"totalSize": 1, "done": true, "records": [{
...     "attributes": {"type": "Opportunity", "url": "/services/data/v60.0/sobjects/Opportunity/006A"},
...     "Id": "006A", "OwnerId": "005X", "Name": "华东区框架协议", "Amount": 0.1, "CloseDate": "2026-05-15",
...     "StageName": "Closed Won", "IsWon": true, "IsClosed": true, "AccountId": "001Q"}]}''', tz="Asia/Shanghai")
>>> records[0].field("amount"), records[0].occurred_at.isoformat()
(Decimal('0.1'), '2026-05-15T00:00:00+08:00')
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from datetime import datetime, tzinfo
from pathlib import Path
from typing import Any, Literal

import attrs

from perfkit.errors import DataError
from perfkit.metrics.adapters._mapping import FieldMapping
from perfkit.metrics.adapters._payload import CsvTable, RawRecord
from perfkit.metrics.adapters._run import Found, MappingArg, is_list, objects, run_csv, run_json, wrong_shape
from perfkit.metrics.records import SourceRecord

__all__ = ["SALESFORCE_MAPPING", "from_salesforce"]

SALESFORCE_MAPPING = FieldMapping.model_validate(
    {
        "source": "salesforce",
        "entity": "opportunity",
        "record_id": "Id",
        "occurred_at": {"path": "CloseDate", "type": "date"},
        "fields": {
            "owner": {"path": "OwnerId", "type": "text"},
            "name": {"path": "Name", "type": "text"},
            "amount": {"path": "Amount", "type": "number"},
            "stage": {"path": "StageName", "type": "text"},
            "is_won": {"path": "IsWon", "type": "boolean"},
            "is_closed": {"path": "IsClosed", "type": "boolean"},
            "account": {"path": "AccountId", "type": "text"},
            "close_date": {"path": "CloseDate", "type": "date"},
        },
    }
)
"""The default Salesforce mapping: id = ``Id``, occurred_at = ``CloseDate`` at midnight in ``tz``."""


def from_salesforce(
    payload: Any,
    *,
    mapping: MappingArg = None,
    loaded_at: datetime | None = None,
    tz: str | tzinfo | None = None,
    sobject: str | None = "Opportunity",
    format: Literal["json", "csv"] | None = None,
    delimiter: str = ",",
    encoding: str = "utf-8-sig",
) -> tuple[SourceRecord, ...]:
    """Source records from Salesforce opportunities, JSON or CSV.

    ``format`` is found from the file suffix or the text (JSON starts with ``{`` or ``[``)
    when not given; rows already read (a DataFrame) are CSV, dicts and lists JSON. In JSON,
    a record whose ``attributes.type`` is not ``sobject`` is a problem (``sobject=None``
    accepts any). ``delimiter`` and ``encoding`` apply to CSV. Other arguments as for
    :func:`~perfkit.metrics.adapters.from_jira`.
    """
    common: dict[str, Any] = {
        "adapter": "salesforce",
        "noun": "opportunity",
        "default": SALESFORCE_MAPPING,
        "mapping": mapping,
        "loaded_at": loaded_at,
        "tz": tz,
    }
    if (format or _format_of(payload)) == "csv":
        return run_csv(payload, delimiter=delimiter, encoding=encoding, adjust=_match_headers, **common)
    return run_json(payload, find=lambda data, resolved: _records(data, sobject), **common)


def _format_of(payload: Any) -> str:
    if isinstance(payload, os.PathLike):
        return "csv" if Path(payload).suffix.lower() == ".csv" else "json"
    if isinstance(payload, bytes):
        payload = payload[:64].decode("utf-8", errors="replace")
    if isinstance(payload, str):
        return "json" if payload.lstrip("\ufeff \t\r\n")[:1] in ("{", "[") else "csv"
    if type(payload).__module__.split(".")[0] in ("pandas", "polars"):
        return "csv"
    return "json"


def _records(data: Any, sobject: str | None) -> Found:
    expected = "a query result (an object with a 'records' list) or a list of records"
    if isinstance(data, Mapping) and is_list(data.get("records")):
        records, problems = objects(data["records"], "records", "record")
    elif is_list(data) and all(isinstance(item, Mapping) and "errorCode" not in item for item in data):
        records, problems = objects(data, "", "record")
    else:
        raise wrong_shape(data, "salesforce", expected)
    if sobject is None:
        return records, problems
    kept = []
    for record in records:
        attributes = record.data.get("attributes")
        kind = attributes.get("type") if isinstance(attributes, Mapping) else None
        if kind is None or kind == sobject:
            kept.append(record)
        else:
            problems.append(
                DataError(
                    f"the record is a {kind}, not a {sobject}; pass sobject={kind!r} (and a mapping for its fields)",
                    column="attributes.type",
                    path=f"{record.where} (salesforce record {record.data.get('Id')!r})",
                )
            )
    return kept, problems


def _match_headers(table: CsvTable, mapping: FieldMapping) -> CsvTable:
    """Rename CSV columns to the mapping's spelling when they differ only in case."""
    wanted = {path.lower(): path for spec in _specs(mapping) for path in spec.paths}
    lowered = [column.lower() for column in table.columns]
    rename = {
        column: wanted[column.lower()]
        for column in table.columns
        if column.lower() in wanted and column not in wanted.values() and lowered.count(column.lower()) == 1
    }
    if not rename:
        return table
    records = tuple(
        RawRecord({rename.get(k, k): v for k, v in raw.data.items()}, raw.where, raw.row) for raw in table.records
    )
    return attrs.evolve(table, records=records, columns=tuple(rename.get(c, c) for c in table.columns))


def _specs(mapping: FieldMapping) -> list[Any]:
    return [mapping.record_id, mapping.occurred_at, *mapping.fields.values()]
