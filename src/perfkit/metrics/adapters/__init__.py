"""Adapters: real export payloads → :class:`~perfkit.metrics.records.SourceRecord` s.

====================  =====================================  ==============================
adapter               reads                                  default mapping
====================  =====================================  ==============================
:func:`from_jira`     Jira issue search results (JSON)       :data:`JIRA_MAPPING`
:func:`from_zendesk`  Zendesk tickets (JSON)                 :data:`ZENDESK_MAPPING`
:func:`from_salesforce` Salesforce opportunities (JSON, CSV) :data:`SALESFORCE_MAPPING`
:func:`from_csv`      any CSV                                (the caller names the columns)
====================  =====================================  ==============================

Each takes ``(payload, *, mapping=None, loaded_at=None, tz=None)`` and returns the records
sorted by id. ``mapping`` adjusts the default (a dict merged over it) or replaces it (a
:class:`FieldMapping`). Problems with the mapping are :class:`~perfkit.errors.SchemeError` s;
problems with the payload one :class:`~perfkit.errors.DataError` listing every bad record
and field. :data:`ADAPTERS` finds an adapter by name (for the command line).
"""

from __future__ import annotations

from collections.abc import Mapping

from perfkit.metrics.adapters._mapping import FieldMapping, FieldSpec, FieldType, resolve_mapping
from perfkit.metrics.adapters._run import Adapter
from perfkit.metrics.adapters.generic_csv import CSV_DEFAULTS, from_csv
from perfkit.metrics.adapters.jira import JIRA_MAPPING, from_jira
from perfkit.metrics.adapters.salesforce import SALESFORCE_MAPPING, from_salesforce
from perfkit.metrics.adapters.zendesk import ZENDESK_MAPPING, from_zendesk

__all__ = [
    "ADAPTERS",
    "CSV_DEFAULTS",
    "JIRA_MAPPING",
    "SALESFORCE_MAPPING",
    "ZENDESK_MAPPING",
    "Adapter",
    "FieldMapping",
    "FieldSpec",
    "FieldType",
    "from_csv",
    "from_jira",
    "from_salesforce",
    "from_zendesk",
    "resolve_mapping",
]

ADAPTERS: Mapping[str, Adapter] = {
    "csv": from_csv,
    "jira": from_jira,
    "salesforce": from_salesforce,
    "zendesk": from_zendesk,
}
"""Every adapter by name: ``ADAPTERS["jira"](payload)``."""
