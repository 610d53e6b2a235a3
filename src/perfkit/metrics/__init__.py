"""Metrics over source records, with lineage: every number traceable to the records that made it.

The pipeline (see ``docs/metrics.md`` and ``docs/periods-and-records.md``)::

    records = adapters.from_salesforce(Path("opportunities.json"), tz="Asia/Shanghai")
    store, report = RecordStore.empty().add(records)        # duplicates and new versions reported
    definitions = load_metrics("metrics.yaml")               # simple, ratio, derived, cumulative
    results = compute(definitions, store, "2026-Q2")         # per employee, with lineage
    results["E001", "revenue"].contributions()               # the records behind the number
    traced = evaluate_records("sales.yaml", definitions, store, "2026-Q2")  # inputs bound to metrics
    print(traced.explain("E001"))                             # from the grade back to the records

Submodules: :mod:`perfkit.metrics.adapters` (Jira, Zendesk, Salesforce, CSV exports),
:mod:`perfkit.metrics.multirater` (360 ratings with anonymity) and
:mod:`perfkit.metrics.reconcile` (two sources for one metric); scoring a scheme whose inputs
name metrics is :mod:`perfkit.metrics.scoring`.
"""

from perfkit.metrics.attribution import Attribution, attribute
from perfkit.metrics.compute import compute
from perfkit.metrics.definitions import MetricDefinitions, load_metrics, validate_metrics
from perfkit.metrics.lineage import Contribution, MetricResults, MetricValue
from perfkit.metrics.reconcile import Reconciliation, reconcile
from perfkit.metrics.records import RecordStore, SourceRecord, correction, manual_entry
from perfkit.metrics.scoring import TracedEvaluation, evaluate_records

__all__ = [
    "Attribution",
    "Contribution",
    "MetricDefinitions",
    "MetricResults",
    "MetricValue",
    "RecordStore",
    "Reconciliation",
    "SourceRecord",
    "TracedEvaluation",
    "attribute",
    "compute",
    "correction",
    "evaluate_records",
    "load_metrics",
    "manual_entry",
    "reconcile",
    "validate_metrics",
]
