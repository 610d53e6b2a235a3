"""Jira issues: the JSON of the issue search API (``GET /rest/api/2/search``, ``/rest/api/3/search``).

The payload is a search result page ``{"startAt", "maxResults", "total", "issues": [...]}``,
a single issue (``GET /rest/api/2/issue/{key}``: ``{"id", "key", "fields": {...}}``) or a
list of issues. Each issue becomes a record with source ``jira`` and entity ``issue``; its
id is the issue ``key`` (``PAY-42``) and its time the resolution date, by default (see
:data:`JIRA_MAPPING`). Search results come in pages: pass each page (or each page's records
together) yourself; an adapter reads what it is given.

>>> records = from_jira({"issues": [{"id": "10042", "key": "PAY-42", "fields": {
...     "summary": "支付回调", "status": {"name": "Done"}, "assignee": {"accountId": "5b10", "displayName": "王芳"},
...     "resolutiondate": "2026-04-01T10:00:00.000+0800", "created": "2026-03-20T09:15:30.123+0800",
...     "updated": "2026-04-01T10:00:05.000+0800", "issuetype": {"name": "Story"}, "priority": {"name": "Medium"},
...     "customfield_10016": 5.0}}]})
>>> records[0].record_id, records[0].field("assignee"), records[0].field("story_points")
('PAY-42', '5b10', Decimal('5.0'))
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime, tzinfo
from typing import Any

from perfkit.metrics.adapters._mapping import FieldMapping
from perfkit.metrics.adapters._payload import RawRecord
from perfkit.metrics.adapters._run import Found, MappingArg, is_list, objects, run_json, wrong_shape
from perfkit.metrics.records import SourceRecord

__all__ = ["JIRA_MAPPING", "from_jira"]

JIRA_MAPPING = FieldMapping.model_validate(
    {
        "source": "jira",
        "entity": "issue",
        "record_id": "key",
        "occurred_at": "fields.resolutiondate",
        "fields": {
            "issue_id": {"path": "id", "type": "text"},
            "summary": "fields.summary",
            "status": "fields.status.name",
            "issue_type": "fields.issuetype.name",
            "priority": "fields.priority.name",
            "assignee": "fields.assignee.accountId",
            "assignee_name": "fields.assignee.displayName",
            "story_points": {"path": "fields.customfield_10016", "type": "number"},
            "created": {"path": "fields.created", "type": "datetime"},
            "updated": {"path": "fields.updated", "type": "datetime"},
            "resolved": {"path": "fields.resolutiondate", "type": "datetime"},
        },
    }
)
"""The default Jira mapping: id = issue key, occurred_at = resolution date (required)."""


def from_jira(
    payload: Any,
    *,
    mapping: MappingArg = None,
    loaded_at: datetime | None = None,
    tz: str | tzinfo | None = None,
) -> tuple[SourceRecord, ...]:
    """Source records from Jira issue search results (or one issue, or a list of issues).

    ``payload`` is the JSON text, bytes, a :class:`~pathlib.Path` to a file, or the data
    already parsed. ``mapping`` adjusts :data:`JIRA_MAPPING` (a dict merged over it) or
    replaces it (a :class:`FieldMapping`); ``loaded_at`` defaults to now; ``tz`` places
    times without an offset. Records come back sorted by id; any problem raises one
    :class:`~perfkit.errors.DataError` listing all of them.
    """
    return run_json(
        payload,
        adapter="jira",
        noun="issue",
        default=JIRA_MAPPING,
        mapping=mapping,
        loaded_at=loaded_at,
        tz=tz,
        find=_issues,
    )


def _issues(data: Any, mapping: FieldMapping) -> Found:
    expected = "issue search results (an object with an 'issues' list), one issue or a list of issues"
    if isinstance(data, Mapping):
        if "issues" in data:
            if not is_list(data["issues"]):
                raise wrong_shape(data, "jira", expected)
            return objects(data["issues"], "issues", "issue")
        if "fields" in data and ("key" in data or "id" in data):
            return [RawRecord(data, "issue")], []
    elif is_list(data) and all(isinstance(item, Mapping) and "fields" in item for item in data):
        return objects(data, "", "issue")
    raise wrong_shape(data, "jira", expected)
