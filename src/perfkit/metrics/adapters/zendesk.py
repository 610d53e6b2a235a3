"""Zendesk tickets: the JSON of the Tickets API (``GET /api/v2/tickets``, ``/api/v2/tickets/{id}``).

The payload is a list page ``{"tickets": [...], "next_page", "count"}`` (also what the
incremental export returns), a single ticket ``{"ticket": {...}}``, search results
``{"results": [...]}`` whose items are all tickets (``"result_type": "ticket"``), or a list
of tickets. Each ticket becomes a record with source ``zendesk`` and entity ``ticket``; its
id is the ticket ``id`` (as text) and its time ``created_at``, by default (see
:data:`ZENDESK_MAPPING`). User ids (assignee, requester) become text, so they compare equal
to the ids of a roster.

>>> records = from_zendesk({"ticket": {"id": 35436, "assignee_id": 235323, "requester_id": 20978392,
...     "status": "solved", "priority": "high", "subject": "发票抬头填错了",
...     "created_at": "2026-04-01T10:00:00Z", "updated_at": "2026-04-03T08:12:45Z",
...     "satisfaction_rating": {"score": "good"}, "tags": ["billing"]}})
>>> records[0].record_id, records[0].field("assignee"), records[0].field("satisfaction")
('35436', '235323', 'good')
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime, tzinfo
from typing import Any

from perfkit.errors import DataError
from perfkit.metrics.adapters._mapping import FieldMapping
from perfkit.metrics.adapters._payload import RawRecord
from perfkit.metrics.adapters._run import Found, MappingArg, is_list, objects, run_json, wrong_shape
from perfkit.metrics.records import SourceRecord

__all__ = ["ZENDESK_MAPPING", "from_zendesk"]

ZENDESK_MAPPING = FieldMapping.model_validate(
    {
        "source": "zendesk",
        "entity": "ticket",
        "record_id": "id",
        "occurred_at": "created_at",
        "fields": {
            "subject": "subject",
            "status": "status",
            "priority": "priority",
            "assignee": {"path": "assignee_id", "type": "text"},
            "requester": {"path": "requester_id", "type": "text"},
            "satisfaction": "satisfaction_rating.score",
            "tags": {"path": "tags", "type": "text"},
            "created": {"path": "created_at", "type": "datetime"},
            "updated": {"path": "updated_at", "type": "datetime"},
        },
    }
)
"""The default Zendesk mapping: id = ticket id, occurred_at = ``created_at``."""


def from_zendesk(
    payload: Any,
    *,
    mapping: MappingArg = None,
    loaded_at: datetime | None = None,
    tz: str | tzinfo | None = None,
) -> tuple[SourceRecord, ...]:
    """Source records from Zendesk tickets (a list page, one ticket, search results or a list).

    Arguments as for :func:`~perfkit.metrics.adapters.from_jira`; the default mapping is
    :data:`ZENDESK_MAPPING`.
    """
    return run_json(
        payload,
        adapter="zendesk",
        noun="ticket",
        default=ZENDESK_MAPPING,
        mapping=mapping,
        loaded_at=loaded_at,
        tz=tz,
        find=_tickets,
    )


def _tickets(data: Any, mapping: FieldMapping) -> Found:
    expected = "tickets (an object with a 'tickets' list or a 'ticket' object, search results, or a list of tickets)"
    if isinstance(data, Mapping):
        if is_list(data.get("tickets")):
            return objects(data["tickets"], "tickets", "ticket")
        if isinstance(data.get("ticket"), Mapping):
            return [RawRecord(data["ticket"], "ticket")], []
        if is_list(data.get("results")):
            return _search_results(data["results"])
    elif is_list(data):
        return objects(data, "", "ticket")
    raise wrong_shape(data, "zendesk", expected)


def _search_results(results: list[Any]) -> Found:
    records, problems = objects(results, "results", "ticket")
    tickets = []
    for record in records:
        kind = record.data.get("result_type", "ticket")
        if kind == "ticket":
            tickets.append(record)
        else:
            problems.append(
                DataError(
                    f"a search result of type {kind!r} is not a ticket; search with type:ticket",
                    column="result_type",
                    path=record.where,
                )
            )
    return tickets, problems
