"""Benchmark what lineage costs: metrics with lineage against metrics without, and a plain loop.

    python benchmarks/bench_lineage.py [--records 1000000] [--employees 10000] [--repeat 3] [--seed 20260401]

Builds N synthetic CRM records (``SourceRecord``) spread over 10k employees and two
quarters, and computes two metrics for one quarter, a ``sum`` of the amount and a ``count``
of the records, three ways:

* (a) plain: one hand-written loop over the same records into two dicts of Decimal sums
  (same source / entity / period test, no perfkit);
* (b) perfkit: ``compute(definitions, records, "2026-Q2", lineage=False)``;
* (c) perfkit with lineage: ``compute(..., lineage=True)`` (the default).

Each keeps its best of --repeat runs (the methods run in interleaved rounds). It prints the
times, the ratios (c)/(a) and (c)/(b), and the memory the lineage takes per record: measured
by tracemalloc as the difference between a result with lineage and one without, and counted
with ``sys.getsizeof`` over the lineage structures. It checks that the three ways give the
same values. Nothing is asserted about timings: this is a script, not a test; it always
exits 0. (The issue's target: (c)/(b) at most 10, well under 100 bytes per record.)
"""

from __future__ import annotations

import argparse
import gc
import platform
import random
import sys
import time
import tracemalloc
from collections.abc import Callable, Sequence
from datetime import datetime, timedelta, timezone
from decimal import Decimal
from typing import Any

import perfkit
from perfkit.metrics.compute import compute
from perfkit.metrics.definitions import MetricDefinitions
from perfkit.metrics.lineage import InputLineage, MetricResults, RecordLineage
from perfkit.metrics.records import SourceRecord
from perfkit.periods import parse_period

PERIOD = "2026-Q2"
DEFINITIONS = {
    "perfkit_metrics": 1,
    "metrics": [
        {
            "id": "revenue",
            "kind": "simple",
            "source": "crm",
            "entity": "opportunity",
            "agg": "sum",
            "field": "amount",
            "attribution": {"owner": "owner"},
        },
        {
            "id": "deals",
            "kind": "simple",
            "source": "crm",
            "entity": "opportunity",
            "agg": "count",
            "attribution": {"owner": "owner"},
        },
    ],
}


def make_records(n: int, employees: int, seed: int) -> list[SourceRecord]:
    """N opportunities over Q1 and Q2 2026 (about 3/4 in Q2), amounts with two decimals."""
    rng = random.Random(seed)
    start = datetime(2026, 2, 1, tzinfo=timezone.utc)
    loaded = datetime(2026, 7, 1, tzinfo=timezone.utc)
    seconds = int((datetime(2026, 7, 1, tzinfo=timezone.utc) - start).total_seconds())
    records = []
    for i in range(n):
        records.append(
            SourceRecord(
                source="crm",
                record_id=f"OPP-{i:07d}",
                entity="opportunity",
                occurred_at=start + timedelta(seconds=rng.randrange(seconds)),
                loaded_at=loaded,
                fields={
                    "owner": f"E{rng.randrange(employees):05d}",
                    "amount": Decimal(rng.randrange(1, 10**7)).scaleb(-2),
                },
            )
        )
    return records


def plain(records: Sequence[SourceRecord]) -> tuple[dict[str, Decimal], dict[str, Decimal]]:
    """(a): what a user writes without perfkit: one loop, two dicts."""
    period = parse_period(PERIOD)
    begin, end = period.start_utc, period.end_utc
    sums: dict[str, Decimal] = {}
    counts: dict[str, Decimal] = {}
    one, zero = Decimal(1), Decimal(0)
    for record in records:
        if record.source != "crm" or record.entity != "opportunity" or not begin <= record.occurred_at < end:
            continue
        owner = record.fields["owner"]
        sums[owner] = sums.get(owner, zero) + record.fields["amount"]
        counts[owner] = counts.get(owner, zero) + one
    return sums, counts


def best_of(rounds: int, runs: dict[str, Callable[[], Any]]) -> tuple[dict[str, float], dict[str, Any]]:
    best = {name: float("inf") for name in runs}
    results: dict[str, Any] = {}
    for _ in range(rounds):
        for name, run in runs.items():
            gc.collect()
            began = time.perf_counter()
            results[name] = run()
            best[name] = min(best[name], time.perf_counter() - began)
            if _ < rounds - 1:
                results[name] = None
    return best, results


def lineage_bytes(result: MetricResults) -> int:
    """``sys.getsizeof`` over every lineage structure of a result (the record table included)."""
    total = sys.getsizeof(result.records)
    seen: set[int] = set()
    for per_metric in result.values.values():
        for value in per_metric.values():
            lineage = value.lineage
            if lineage is None or id(lineage) in seen:
                continue
            seen.add(id(lineage))
            total += sys.getsizeof(lineage)
            if isinstance(lineage, RecordLineage):
                total += sys.getsizeof(lineage.indices)
                if lineage.shares:
                    total += sys.getsizeof(lineage.shares) + sum(sys.getsizeof(s) for s in lineage.shares.values())
            elif isinstance(lineage, InputLineage):
                total += sys.getsizeof(lineage.inputs) + sum(sys.getsizeof(i) for i in lineage.inputs)
    return total


def traced(run: Callable[[], MetricResults]) -> tuple[int, MetricResults]:
    gc.collect()
    tracemalloc.start()
    before = tracemalloc.get_traced_memory()[0]
    result = run()
    after = tracemalloc.get_traced_memory()[0]
    tracemalloc.stop()
    return after - before, result


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--records", type=int, default=1_000_000)
    parser.add_argument("--employees", type=int, default=10_000)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--seed", type=int, default=20260401)
    args = parser.parse_args(argv)

    print(f"perfkit {perfkit.__version__}, Python {platform.python_version()} on {platform.machine()}")
    began = time.perf_counter()
    records = make_records(args.records, args.employees, args.seed)
    table = tuple(records)
    print(f"built {len(records):,} records for {args.employees:,} employees in {time.perf_counter() - began:.1f} s")
    definitions = MetricDefinitions.from_dict(DEFINITIONS)
    runs: dict[str, Callable[[], Any]] = {
        "(a) plain Decimal loop": lambda: plain(table),
        "(b) perfkit, no lineage": lambda: compute(definitions, table, PERIOD, lineage=False),
        "(c) perfkit, lineage": lambda: compute(definitions, table, PERIOD),
    }
    times, results = best_of(args.repeat, runs)
    sums, counts = results["(a) plain Decimal loop"]
    without: MetricResults = results["(b) perfkit, no lineage"]
    with_lineage: MetricResults = results["(c) perfkit, lineage"]
    agree = all(
        r[e, "revenue"].value == sums[e] and r[e, "deals"].value == counts[e]
        for r in (without, with_lineage)
        for e in sums
    ) and set(with_lineage.employees) == set(sums)
    contributing = sum(int(c) for c in counts.values())
    sample = with_lineage.employees[0]
    exact = (
        sum(c.amount for c in with_lineage[sample, "revenue"].contributions()) == with_lineage[sample, "revenue"].value
    )
    del results, without, with_lineage
    bytes_without, _ = traced(runs["(b) perfkit, no lineage"])
    bytes_with, kept = traced(runs["(c) perfkit, lineage"])
    counted = lineage_bytes(kept)

    print()
    print(f"{'method':<28}{'best time':>12}{'per record':>14}")
    for name, seconds in times.items():
        print(f"{name:<28}{seconds:>10.3f} s{seconds / len(table) * 1e9:>11.0f} ns")
    print()
    a, b, c = (times[name] for name in runs)
    print(f"(c)/(a) lineage vs plain loop:      {c / a:6.2f}x")
    print(f"(c)/(b) lineage vs no lineage:      {c / b:6.2f}x   (target: at most 10x)")
    print(f"records in the period:              {contributing:,} of {len(table):,} (2 metrics each)")
    per_record = (bytes_with - bytes_without) / len(table)
    print(f"lineage memory, tracemalloc:        {per_record:6.1f} bytes per record   (target: well under 100)")
    counted_per_record = counted / len(table)
    print(f"lineage memory, sys.getsizeof:      {counted_per_record:6.1f} bytes per record   (the record table included)")
    print(f"same values in (a), (b) and (c):    {'yes' if agree else 'NO'}")
    print(f"contributions sum to the value:     {'yes' if exact else 'NO'} (checked for {sample})")
    return 0


if __name__ == "__main__":
    sys.exit(main())
