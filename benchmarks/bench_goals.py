"""Benchmark goal rollup at scale: about 1M goals, full and incremental, against a naive rollup.

    python benchmarks/bench_goals.py [--size 1000000] [--levels 5] [--children 8] [--repeat 3]
                                     [--updates 1000] [--naive-updates 5] [--seed 20260630]

The issue asks for "a graph of 1M goals (5 levels, 8 children each)". One tree of 5 levels
with 8 children under every goal has 1 + 8 + 64 + 512 + 4,096 = 4,681 goals, so the graph
is a forest of ``ceil(size / 4,681)`` such trees (214 for the default, 1,001,734 goals)
under one organisation root (1,001,735 goals in all). The script prints the shape it built.

* Leaves are key results with progress from one or two check-ins (some after the as-of
  date, so they do not count yet), about 10% measured downwards (``direction: decrease``),
  about 5% with an approved revision in force on the date, and a few with a revision that is
  not (approved later, or only proposed).
* Every fourth goal just above the leaves rolls up by ``sum`` toward its own target; every
  other internal goal by weighted average, with weights summing to exactly 100% (8 × 12.5%;
  under the organisation root 0.47% and 0.46% apportioned to make 100% over the trees).

Stages, each timed and printed on its own:

1. generating the declarations: plain dicts, then ``Goal.model_validate`` (pydantic);
2. building the graph: ``GoalGraph.from_goals`` (the checks, the timelines and the rollup
   plan; the networkx view is built only when asked for, and is not here);
3. the full rollup, ``graph.rollup(as_of)``: the first call and the best of ``--repeat``
   further calls;
4. the naive baseline: a plain recursive function over dicts (goal → children with weights,
   leaf → check-ins, target, baseline, approved revisions) in Decimal, recomputing from the
   root with no memo, best of ``--repeat``; it must give every goal the same value and
   progress as perfkit (checked, mismatches counted);
5. incremental updates, ``rollup.with_checkin(leaf, value, at=...)`` on ``--updates`` random
   leaves, both each applied to the same base rollup and chained (each applied to the
   previous result, as a stream of check-ins would be): median, p99 and max;
6. the naive incremental baseline: record the check-in in the dicts and recompute the naive
   rollup in full (``--naive-updates`` times, median); then the chained perfkit rollup is
   checked against a naive rollup with every update applied.

It also prints the resident memory after each stage (Linux ``/proc/self/statm``). Nothing is
asserted about the timings; the script always exits 0 and is not collected by pytest.
"""

from __future__ import annotations

import argparse
import datetime
import decimal
import gc
import math
import os
import platform
import random
import statistics
import subprocess
import sys
import time
from collections.abc import Callable, Sequence
from decimal import Decimal
from functools import partial
from pathlib import Path
from typing import Any

import perfkit
from perfkit.goals import Goal, GoalGraph
from perfkit.numbers import CONTEXT

WIDE = decimal.Context(prec=400)
"""Exact for the sums of weighted progress here."""

AS_OF = datetime.date(2026, 6, 30)
PERIOD = "2026"
ZERO = Decimal(0)
ONE = Decimal(1)

# -- the synthetic goal forest -------------------------------------------------------------


def apportioned_weights(count: int) -> list[str]:
    """``count`` weights in hundredths of a percent that sum to exactly 100% (largest remainder)."""
    base, extra = divmod(10_000, count)
    return [f"{Decimal(base + (1 if k < extra else 0)) / 100}%" for k in range(count)]


def make_goals(trees: int, levels: int, children: int, seed: int) -> list[dict[str, Any]]:
    """The goal declarations as plain dicts, parents before children, deterministic in ``seed``."""
    rng = random.Random(seed)
    weights = apportioned_weights(children)
    goals: list[dict[str, Any]] = [
        {"id": "org", "title": "Company strategy 2026", "owner": "org", "period": PERIOD}
    ]
    for t, root_weight in enumerate(apportioned_weights(trees)):
        root = f"t{t:04d}"
        goals.append({
            "id": root, "title": f"Division {t}", "owner": f"team:d{t}", "period": PERIOD,
            "contributes_to": [{"goal": "org", "weight": root_weight}],
        })
        _grow(goals, rng, root, 1, levels, children, weights, summed=False)
    return goals


def _grow(
    goals: list[dict[str, Any]],
    rng: random.Random,
    parent: str,
    level: int,
    levels: int,
    children: int,
    weights: list[str],
    summed: bool,
) -> None:
    for k in range(children):
        gid = f"{parent}.{k}"
        link: dict[str, Any] = {"goal": parent} if summed else {"goal": parent, "weight": weights[k]}
        if level == levels - 1:
            goals.append(_leaf(rng, gid, link, increase_only=summed))
            continue
        goal: dict[str, Any] = {
            "id": gid, "title": f"Objective {gid}", "owner": f"team:{gid}", "period": PERIOD, "contributes_to": [link],
        }
        below_sum = level == levels - 2 and k % 4 == 3
        if below_sum:
            # a sum parent counts toward its own target: a little above its children's targets
            goal.update(rollup="sum", target=None, owner=f"person:M{gid}")
        goals.append(goal)
        start = len(goals)
        _grow(goals, rng, gid, level + 1, levels, children, weights, summed=below_sum)
        if below_sum:
            goal["target"] = sum(int(g["target"]) for g in goals[start:] if g.get("contributes_to") == [{"goal": gid}]) + 100


def _leaf(rng: random.Random, gid: str, link: dict[str, Any], increase_only: bool) -> dict[str, Any]:
    target = rng.randrange(10, 1_000) * 10
    goal: dict[str, Any] = {
        "id": gid, "title": f"Key result {gid}", "kind": "key_result", "owner": f"person:E{gid}",
        "period": PERIOD, "target": target, "contributes_to": [link], "checkin": {"every": "2 weeks"},
    }
    baseline = 0
    if not increase_only and rng.random() < 0.10:
        baseline = target + rng.randrange(10, 1_000) * 10
        goal.update(direction="decrease", baseline=baseline)
    span = target - baseline
    first = rng.randrange(2, 6) if rng.random() < 0.97 else rng.randrange(7, 12)  # 3% none by the as-of date
    checkins = [{"at": f"2026-{first:02d}-{rng.randrange(1, 29):02d}",
                 "value": f"{baseline + span * rng.random() * 1.2:.2f}"}]
    if rng.random() < 0.6:
        month = 6 if rng.random() < 0.8 else rng.randrange(7, 12)  # 20% after the as-of date
        checkins.append({"at": f"2026-{month:02d}-{rng.randrange(1, 29):02d}",
                         "value": f"{baseline + span * rng.random() * 1.2:.2f}"})
    goal["checkins"] = checkins
    draw = rng.random()
    revised = target + (span // 10 or 10)
    if draw < 0.05:
        goal["revisions"] = [{"effective": "2026-04-01", "target": revised, "reason": "market moved",
                              "proposed_by": "E1", "state": "approved", "decided_by": "M1",
                              "decided_at": "2026-03-28"}]
    elif draw < 0.06:
        goal["revisions"] = [{"effective": "2026-09-01", "target": revised, "reason": "next half",
                              "proposed_by": "E1", "state": "approved", "decided_by": "M1",
                              "decided_at": "2026-08-20"}]
    elif draw < 0.07:
        goal["revisions"] = [{"effective": "2026-05-01", "target": revised, "reason": "asked for",
                              "proposed_by": "E1"}]
    return goal


# -- the naive baseline --------------------------------------------------------------------


class Naive:
    """Plain dicts and a memo-less recursive rollup in Decimal: leaves in perfkit's 34-digit
    context, weighted sums exact and rounded once (the same number policy as perfkit)."""

    def __init__(self, goals: Sequence[dict[str, Any]]) -> None:
        self.kids: dict[str, list[tuple[str, Decimal | None]]] = {}
        self.method: dict[str, str] = {}
        self.target: dict[str, Decimal] = {}
        self.leaf: dict[str, tuple[Decimal, Decimal, bool, list[tuple[datetime.date, Decimal]],
                                   list[tuple[datetime.date, Decimal]]]] = {}
        for g in goals:
            gid = g["id"]
            self.kids.setdefault(gid, [])
            for link in g.get("contributes_to", ()):
                weight = link.get("weight")
                w = None if weight is None else Decimal(weight[:-1]) / 100
                self.kids.setdefault(link["goal"], []).append((gid, w))
            if g.get("kind") == "key_result":
                checkins = [(datetime.date.fromisoformat(c["at"]), Decimal(c["value"])) for c in g["checkins"]]
                revisions = [
                    (max(datetime.date.fromisoformat(r["effective"]), datetime.date.fromisoformat(r["decided_at"])),
                     Decimal(r["target"]))
                    for r in g.get("revisions", ()) if r.get("state") == "approved"
                ]
                self.leaf[gid] = (Decimal(g["target"]), Decimal(g.get("baseline", 0)),
                                  g.get("direction") == "decrease", checkins, revisions)
                self.method[gid] = "leaf"
            else:
                self.method[gid] = g.get("rollup", "weighted_average")
                if "target" in g:
                    self.target[gid] = Decimal(g["target"])

    def rollup(self, root: str, as_of: datetime.date) -> dict[str, tuple[Decimal | None, Decimal]]:
        out: dict[str, tuple[Decimal | None, Decimal]] = {}
        with decimal.localcontext(CONTEXT):
            self._goal(root, as_of, out)
        return out

    def _goal(self, gid: str, as_of: datetime.date, out: dict[str, tuple[Decimal | None, Decimal]]) -> tuple[Decimal | None, Decimal]:
        method = self.method[gid]
        if method == "leaf":
            target, baseline, decrease, checkins, revisions = self.leaf[gid]
            for applies, revised in revisions:
                if applies <= as_of:
                    target = revised
            value = None
            latest = None
            for at, v in checkins:
                if at <= as_of and (latest is None or at >= latest):
                    latest, value = at, v
            result = (value, ZERO if value is None else attain(value, baseline, target, decrease))
        elif method == "sum":
            total = ZERO
            for child, _ in self.kids[gid]:
                value = self._goal(child, as_of, out)[0]
                if value is not None:
                    total = WIDE.add(total, value)
            result = (total, attain(total, ZERO, self.target[gid], False))
        else:
            total = ZERO
            for child, weight in self.kids[gid]:
                # exact products and sum, rounded once to 34 digits (perfkit's number policy)
                total = WIDE.add(total, WIDE.multiply(weight, self._goal(child, as_of, out)[1]))  # type: ignore[arg-type]
            result = (None, CONTEXT.plus(total))
        out[gid] = result
        return result


def attain(value: Decimal, baseline: Decimal, target: Decimal, decrease: bool) -> Decimal:
    raw = (baseline - value) / (baseline - target) if decrease else (value - baseline) / (target - baseline)
    return max(ZERO, min(raw, ONE))


# -- measuring -----------------------------------------------------------------------------


def rss_mb() -> float:
    """Resident memory in MB (Linux), or the peak from getrusage elsewhere."""
    try:
        pages = int(Path("/proc/self/statm").read_text().split()[1])
        return pages * os.sysconf("SC_PAGE_SIZE") / 2**20
    except (OSError, ValueError, IndexError):
        import resource

        return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def timed(run: Callable[[], Any]) -> tuple[float, float, Any]:
    """Wall-clock and process CPU seconds of one run, and its result."""
    start, cpu = time.perf_counter(), time.process_time()
    result = run()
    return time.perf_counter() - start, time.process_time() - cpu, result


def best_of(repeat: int, run: Callable[[], Any]) -> tuple[float, float, Any]:
    best, best_cpu, result = math.inf, math.inf, None
    for _ in range(repeat):
        seconds, cpu, result = timed(run)
        best, best_cpu = min(best, seconds), min(best_cpu, cpu)
    return best, best_cpu, result


def percentiles(samples: Sequence[float]) -> tuple[float, float, float]:
    """Median, p99 and max, in microseconds."""
    ordered = sorted(samples)
    p99 = ordered[min(len(ordered) - 1, math.ceil(0.99 * len(ordered)) - 1)]
    return statistics.median(ordered) * 1e6, p99 * 1e6, ordered[-1] * 1e6


def mismatches(rollup: Any, naive: dict[str, tuple[Decimal | None, Decimal]], ids: Sequence[str]) -> tuple[int, list[str]]:
    """How many goals get a different value or progress from perfkit and the naive rollup."""
    wrong = []
    for gid in ids:
        state = rollup[gid]
        if (state.value, state.progress) != naive[gid]:
            wrong.append(gid)
    return len(wrong), wrong[:3]


def coverage(naive: Naive, result: dict[str, tuple[Decimal | None, Decimal]], leaves: Sequence[str]) -> str:
    """Which paths of the rollup the comparison went through, counted over the leaves."""
    no_value = sum(1 for gid in leaves if result[gid][0] is None)
    capped = sum(1 for gid in leaves if result[gid][1] == ONE)
    revised = sum(1 for gid in leaves if any(applies <= AS_OF for applies, _ in naive.leaf[gid][4]))
    decrease = sum(1 for gid in leaves if naive.leaf[gid][2])
    return (f"{no_value:,} with no check-in by the date, {capped:,} at the 100% cap, "
            f"{revised:,} on a revised target, {decrease:,} measured downwards")


def stage(name: str, seconds: float, cpu: float, note: str = "") -> None:
    print(f"  {name:<46}{seconds:>9.3f} s {cpu:>9.3f} s {rss_mb():>9,.0f} MB  {note}")


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--size", type=int, default=1_000_000, help="about how many goals (rounded up to whole trees)")
    parser.add_argument("--levels", type=int, default=5)
    parser.add_argument("--children", type=int, default=8)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--updates", type=int, default=1_000)
    parser.add_argument("--naive-updates", type=int, default=5)
    parser.add_argument("--seed", type=int, default=20260630)
    args = parser.parse_args(argv)

    per_tree = sum(args.children**level for level in range(args.levels))
    trees = max(1, math.ceil(args.size / per_tree))
    print(f"perfkit {perfkit.__version__}, Python {platform.python_version()} on {platform.machine()}; {_provenance()}")
    print(f"shape: {trees:,} tree{'' if trees == 1 else 's'} of {args.levels} levels × {args.children} children ({per_tree:,} goals each) "
          f"under one org root = {trees * per_tree + 1:,} goals; rollup as of {AS_OF}")
    print()
    print(f"  {'stage':<46}{'wall':>11} {'CPU':>11} {'RSS after':>12}")
    seconds, cpu, dicts = timed(lambda: make_goals(trees, args.levels, args.children, args.seed))
    stage("declarations: plain dicts", seconds, cpu)
    seconds, cpu, goals = timed(lambda: [Goal.model_validate(d) for d in dicts])
    stage("declarations: Goal.model_validate (pydantic)", seconds, cpu, f"{len(goals):,} goals")
    leaves = [d["id"] for d in dicts if d.get("kind") == "key_result"]
    sums = sum(1 for d in dicts if d.get("rollup") == "sum")
    revised = sum(1 for d in dicts if d.get("revisions"))

    seconds, cpu, graph = timed(lambda: GoalGraph.from_goals(goals))
    stage("build: GoalGraph.from_goals", seconds, cpu, f"{len(graph):,} goals, {len(leaves):,} leaves, {sums:,} sum parents, "
          f"{revised:,} with revisions")

    first, cpu, base = timed(lambda: graph.rollup(AS_OF))
    stage("full rollup, first call", first, cpu)
    full, full_cpu, base = best_of(args.repeat, lambda: graph.rollup(AS_OF))
    stage(f"full rollup, best of {args.repeat}", full, full_cpu)

    seconds, cpu, naive = timed(lambda: Naive(dicts))
    stage("naive: dicts from the declarations", seconds, cpu)
    naive_full, naive_cpu, naive_result = best_of(args.repeat, lambda: naive.rollup("org", AS_OF))
    stage(f"naive recursive rollup, best of {args.repeat}", naive_full, naive_cpu)
    ids = graph.ids
    seconds, cpu, (wrong, examples) = timed(lambda: mismatches(base, naive_result, ids))
    stage("check: every goal, perfkit = naive", seconds, cpu,
          f"{wrong:,} of {len(ids):,} differ{' e.g. ' + ', '.join(examples) if examples else ''}")
    print(f"  {'':<46}leaves checked: {coverage(naive, naive_result, leaves)}")

    rng = random.Random(args.seed + 1)
    updates = [(rng.choice(leaves), Decimal(rng.randrange(0, 120_000)) / 100) for _ in range(args.updates)]
    alone: list[float] = []
    for leaf, value in updates:
        seconds, _, _ = timed(partial(base.with_checkin, leaf, value, at=AS_OF))
        alone.append(seconds)
    chained: list[float] = []
    current = base
    for leaf, value in updates:
        seconds, _, current = timed(partial(current.with_checkin, leaf, value, at=AS_OF))
        chained.append(seconds)
    print()
    print(f"  incremental with_checkin over {len(updates):,} random leaves (wall µs):   median      p99      max")
    for name, samples in (("each on the base rollup", alone), ("chained, one after another", chained)):
        median, p99, top = percentiles(samples)
        print(f"    {name:<58}{median:>8.1f} {p99:>8.1f} {top:>8.1f}")

    naive_times: list[float] = []
    for leaf, value in updates[: args.naive_updates]:
        naive.leaf[leaf][3].append((AS_OF, value))
        seconds, _, _ = timed(lambda: naive.rollup("org", AS_OF))
        naive_times.append(seconds)
    for leaf, value in updates[args.naive_updates:]:
        naive.leaf[leaf][3].append((AS_OF, value))
    naive_incremental = statistics.median(naive_times) if naive_times else math.nan
    print(f"    naive: record the check-in, recompute everything (median of {len(naive_times)}) "
          f"{naive_incremental * 1e6:>12,.0f} µs")
    seconds, _, (wrong, examples) = timed(lambda: mismatches(current, naive.rollup("org", AS_OF), ids))
    print(f"    check: chained rollup = naive rollup with all {len(updates):,} check-ins: "
          f"{wrong:,} of {len(ids):,} differ{' e.g. ' + ', '.join(examples) if examples else ''} ({seconds:.1f} s)")

    incremental = statistics.median(chained)
    print()
    print("summary")
    print(f"  full rollup:        perfkit {full:.3f} s, naive {naive_full:.3f} s: perfkit takes "
          f"{full / naive_full:.2f}× the naive time (CPU {full_cpu:.3f} s vs {naive_cpu:.3f} s)   "
          f"(target: about 1 s at 1M goals)")
    print(f"  incremental update: perfkit {incremental * 1e6:.1f} µs median, naive full recompute "
          f"{naive_incremental * 1e6:,.0f} µs: {naive_incremental / incremental:,.0f}× faster   "
          f"(target: well under 1 ms)")
    print(f"  garbage collector enabled: {gc.isenabled()}; RSS now {rss_mb():,.0f} MB; "
          f"load average {_load()} on {os.cpu_count()} CPUs (a busy machine inflates wall times: compare CPU)")
    return 0


def _load() -> str:
    try:
        return " / ".join(f"{x:.1f}" for x in os.getloadavg())
    except OSError:
        return "?"


def _provenance() -> str:
    """Where perfkit was imported from, and its git commit when that is a work tree."""
    where = Path(perfkit.__file__).resolve().parent
    try:
        commit = _git(where, "rev-parse", "--short", "HEAD")
        dirty = _git(where, "status", "--porcelain", "--", ".")
    except (OSError, subprocess.SubprocessError):
        return f"perfkit from {where}"
    return f"perfkit from {where} (git {commit}{', with uncommitted changes' if dirty else ''})"


def _git(where: Path, *args: str) -> str:
    done = subprocess.run(["git", *args], cwd=where, capture_output=True, text=True, timeout=10, check=True)
    return done.stdout.strip()


if __name__ == "__main__":
    sys.exit(main())
