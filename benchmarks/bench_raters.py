"""Benchmark perfkit's rater-bias corrections against naive pure-Python baselines.

    python benchmarks/bench_raters.py [--ratees 10000] [--raters 1000] [--per-ratee 6] [--repeat 3] [--seed 20260401]

Builds a synthetic 360-style data set (deterministic from --seed): every ratee is rated by
their manager (teams of about ten) and by ``per-ratee - 1`` other raters drawn at random, so
the rater–ratee graph is one large connected component; two small "islands" of 6 raters who
rate only their own 60 ratees each are added as separate components. Scores are
``70 + person + rater + noise`` (normal, sd 8 / 4 / 3) rounded to one decimal, as Rating
objects with Decimal scores (built before timing). The defaults give 60,000 ratings
(10,000 ratees, 1,000 raters, 6 ratings each).

It then times, best of --repeat runs each, in interleaved rounds:

* ``perfkit.calibration.normalize.rater_effects`` (validation, networkx components, numpy
  conjugate-gradient least squares, Decimal results rounded to 0.0001);
* ``perfkit.calibration.normalize.standardize`` (exact Decimal per-rater z-scores);
* a naive pure-Python rater-effects baseline: dicts of lists, backfitting sweeps
  (ratee means of score - rater effect, then rater means of score - ratee value) until no
  value moves by more than 1e-10 x the largest score, a breadth-first search for the
  components and the same sum-to-zero centring, all on floats;
* a naive pure-Python standardisation baseline on floats (dicts, ``statistics.pstdev``).

It prints a table of seconds, ratings per second and perfkit's speed relative to the
baseline of the same method measured in the same run, then one run of rater_effects split
into stages (reading and checking the ratings, the networkx graph, the fit, building the
Decimal results), and how far the baseline's rater-effects results are from perfkit's.
Nothing is asserted about timings and the script always exits 0; it is not collected by
pytest.
"""

from __future__ import annotations

import argparse
import gc
import math
import os
import platform
import random
import statistics
import subprocess
import sys
import time
from collections import deque
from collections.abc import Callable, Sequence
from decimal import Decimal
from pathlib import Path
from typing import Any

import networkx as nx
import numpy as np

import perfkit
from perfkit.calibration import normalize
from perfkit.calibration.raters import Rating, checked_ratings

ISLANDS = 2
ISLAND_RATERS = 6
ISLAND_RATEES = 60


# -- synthetic data --------------------------------------------------------------------------


def make_ratings(ratees: int, raters: int, per_ratee: int, seed: int) -> list[Rating]:
    """A mostly connected 360 data set; see the module docstring."""
    rng = random.Random(seed)
    island_raters = ISLANDS * ISLAND_RATERS if raters > 2 * ISLANDS * ISLAND_RATERS else 0
    island_ratees = ISLANDS * ISLAND_RATEES if island_raters else 0
    main_raters = raters - island_raters
    main_ratees = ratees - island_ratees
    bias = [rng.gauss(0, 4) for _ in range(raters)]
    ratings = []

    def add(rater: int, ratee: int) -> None:
        score = round(70 + person[ratee] + bias[rater] + rng.gauss(0, 3), 1)
        ratings.append(Rating(rater=f"M{rater:05d}", ratee=f"E{ratee:06d}", score=Decimal(repr(score))))

    person = [rng.gauss(0, 8) for _ in range(ratees)]
    team = max(1, math.ceil(main_ratees / main_raters))
    for ratee in range(main_ratees):
        manager = min(ratee // team, main_raters - 1)
        others = rng.sample(range(main_raters), min(per_ratee, main_raters))
        chosen = [manager] + [j for j in others if j != manager][: per_ratee - 1]
        for rater in chosen:
            add(rater, ratee)
    for island in range(ISLANDS if island_raters else 0):
        first_rater = main_raters + island * ISLAND_RATERS
        first_ratee = main_ratees + island * ISLAND_RATEES
        for ratee in range(first_ratee, first_ratee + ISLAND_RATEES):
            for rater in range(first_rater, first_rater + min(per_ratee, ISLAND_RATERS)):
                add(rater, ratee)
    rng.shuffle(ratings)
    return ratings


# -- naive baselines -------------------------------------------------------------------------


def naive_rater_effects(
    ratings: Sequence[Rating], tol: float = 1e-10, cap: int = 10_000
) -> tuple[dict[str, float], dict[str, float], int]:
    """Backfitting with dicts and floats; returns corrected scores, rater effects, sweeps."""
    by_ratee: dict[str, list[tuple[str, float]]] = {}
    by_rater: dict[str, list[tuple[str, float]]] = {}
    for r in ratings:
        score = float(r.score)
        by_ratee.setdefault(r.ratee, []).append((r.rater, score))
        by_rater.setdefault(r.rater, []).append((r.ratee, score))
    limit = tol * max(abs(float(r.score)) for r in ratings)
    effect = dict.fromkeys(by_rater, 0.0)
    value = dict.fromkeys(by_ratee, 0.0)
    sweeps = 0
    while sweeps < cap:
        sweeps += 1
        moved = 0.0
        for ratee, pairs in by_ratee.items():
            new = sum(score - effect[rater] for rater, score in pairs) / len(pairs)
            moved = max(moved, abs(new - value[ratee]))
            value[ratee] = new
        for rater, pairs in by_rater.items():
            new = sum(score - value[ratee] for ratee, score in pairs) / len(pairs)
            moved = max(moved, abs(new - effect[rater]))
            effect[rater] = new
        if moved <= limit:
            break
    seen: set[str] = set()
    for start in by_rater:  # breadth-first components, then centre each one's rater effects
        if start in seen:
            continue
        members, ratees, queue = [start], set(), deque([start])
        seen.add(start)
        while queue:
            for ratee, _ in by_rater[queue.popleft()]:
                if ratee in ratees:
                    continue
                ratees.add(ratee)
                for rater, _ in by_ratee[ratee]:
                    if rater not in seen:
                        seen.add(rater)
                        members.append(rater)
                        queue.append(rater)
        centre = sum(effect[m] for m in members) / len(members)
        for m in members:
            effect[m] -= centre
        for ratee in ratees:
            value[ratee] += centre
    return value, effect, sweeps


def naive_standardize(ratings: Sequence[Rating]) -> dict[str, float]:
    """Per-rater z-scores onto the pool's mean and spread, on floats."""
    scores = [float(r.score) for r in ratings]
    pool_mean, pool_sd = statistics.fmean(scores), statistics.pstdev(scores)
    by_rater: dict[str, list[float]] = {}
    for r, score in zip(ratings, scores):
        by_rater.setdefault(r.rater, []).append(score)
    stats = {}
    for rater, own in by_rater.items():
        sd = statistics.pstdev(own)
        stats[rater] = (statistics.fmean(own), pool_sd / sd if sd > 0 else 1.0)
    sums: dict[str, list[float]] = {}
    for r, score in zip(ratings, scores):
        mean, factor = stats[r.rater]
        sums.setdefault(r.ratee, []).append(pool_mean + (score - mean) * factor)
    return {ratee: statistics.fmean(values) for ratee, values in sums.items()}


# -- timing ----------------------------------------------------------------------------------


def time_interleaved(
    methods: Sequence[tuple[str, Callable[[], Any]]], repeat: int
) -> dict[str, tuple[list[float], Any]]:
    """Each method ``repeat`` times in rounds (A B C D, A B C D, ...): every method sees the
    same slow and fast spells of a shared machine. Returns run times and the last result."""
    times: dict[str, list[float]] = {label: [] for label, _ in methods}
    results: dict[str, Any] = {label: None for label, _ in methods}
    for _ in range(repeat):
        for label, fn in methods:
            results[label] = None
            gc.collect()
            start = time.perf_counter()
            results[label] = fn()
            times[label].append(time.perf_counter() - start)
    return {label: (times[label], results[label]) for label, _ in methods}


def stages(ratings: Sequence[Rating]) -> list[tuple[str, float]]:
    """One run of rater_effects, stage by stage (through the module's private steps)."""
    found = []
    start = time.perf_counter()
    given = checked_ratings(ratings)
    data = normalize._Data(given, frozenset())
    found.append(("read and check ratings, index arrays", time.perf_counter() - start))
    start = time.perf_counter()
    graph = normalize._components(data)
    found.append(("connected components (networkx)", time.perf_counter() - start))
    start = time.perf_counter()
    fit = normalize._fit(data, graph, 1e-12, 10_000)
    found.append((f"least squares fit ({fit[2]} iterations)", time.perf_counter() - start))
    start = time.perf_counter()
    normalize._rounded(fit[0], 4)
    normalize._rounded(fit[1], 4)
    normalize._group_means(data.objects, data.ratee_of)
    normalize._group_means(data.objects, data.rater_of)
    found.append(("Decimal results (rounding, near ties, raw means)", time.perf_counter() - start))
    return found


# -- main ------------------------------------------------------------------------------------


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=(__doc__ or "").split("\n\n")[0])
    parser.add_argument("--ratees", type=int, default=10_000)
    parser.add_argument("--raters", type=int, default=1_000)
    parser.add_argument("--per-ratee", type=int, default=6, help="ratings per ratee (default 6)")
    parser.add_argument("--repeat", type=int, default=3, help="timed runs per method; the best is kept")
    parser.add_argument("--seed", type=int, default=20260401)
    args = parser.parse_args(argv)
    repeat = max(1, args.repeat)
    raters = max(2, args.raters)
    ratees = max(raters, args.ratees)
    per_ratee = max(1, min(args.per_ratee, raters))

    print(
        f"perfkit {perfkit.__version__} | Python {platform.python_version()} | numpy {np.__version__} | "
        f"networkx {nx.__version__} | {platform.machine()}, {os.cpu_count()} CPUs"
    )
    print(_provenance())
    start = time.perf_counter()
    ratings = make_ratings(ratees, raters, per_ratee, args.seed)
    print(
        f"{len(ratings)} ratings: {ratees} ratees, {raters} raters, {per_ratee} per ratee, {ISLANDS} islands "
        f"(seed {args.seed}; built in {time.perf_counter() - start:.2f}s, untimed) | best of {repeat} runs"
    )
    sys.stdout.flush()

    labels = {
        "effects": "perfkit rater_effects (numpy CG, Decimal out)",
        "naive_effects": "pure-Python backfitting (dicts, floats)",
        "standardize": "perfkit standardize (exact Decimal)",
        "naive_standardize": "pure-Python standardize (dicts, floats)",
    }
    timed = time_interleaved(
        [
            (labels["effects"], lambda: normalize.rater_effects(ratings)),
            (labels["naive_effects"], lambda: naive_rater_effects(ratings)),
            (labels["standardize"], lambda: normalize.standardize(ratings)),
            (labels["naive_standardize"], lambda: naive_standardize(ratings)),
        ],
        repeat,
    )
    baseline = {labels["effects"]: labels["naive_effects"], labels["standardize"]: labels["naive_standardize"]}
    print()
    print(f"{'method':<48} {'seconds':>9} {'ratings/s':>12} {'vs baseline':>12}   {'slowest vs best':>15}")
    print(f"{'-' * 48} {'-' * 9} {'-' * 12} {'-' * 12}   {'-' * 15}")
    for label in labels.values():
        runs = timed[label][0]
        best = min(runs)
        versus = f"{min(timed[baseline[label]][0]) / best:.1f}x faster" if label in baseline else "(baseline)"
        spread = f"+{max(runs) / best - 1:.0%}" if len(runs) > 1 else "-"
        print(f"{label:<48} {best:>9.3f} {len(ratings) / best:>12,.0f} {versus:>12}   {spread:>15}")

    print()
    print("rater_effects, one run by stage:")
    for name, seconds in stages(ratings):
        print(f"  {name:<52} {seconds:>7.3f}s")

    result = timed[labels["effects"]][1]
    value, effect, sweeps = timed[labels["naive_effects"]][1]
    print()
    print(
        f"perfkit: {len(result.components)} components, {result.iterations} iterations, converged {result.converged}, "
        f"{len(result.near_ties)} near ties; baseline: {sweeps} backfitting sweeps"
    )
    differ = sum(1 for s in result.scores if s.corrected != Decimal(repr(round(value[s.ratee], 4))))
    worst = max(abs(float(s.corrected) - value[s.ratee]) for s in result.scores)
    worst_effect = max(abs(float(r.effect) - effect[r.rater]) for r in result.raters)
    print(
        f"agreement: largest |perfkit - baseline| {worst:.2e} (corrected), {worst_effect:.2e} (rater effects) "
        f"with perfkit rounded to 0.0001; {differ} of {len(result.scores)} corrected scores differ after rounding "
        "the baseline to 4 places with round() (half-even on floats)"
    )
    standardized = timed[labels["standardize"]][1]
    floats = timed[labels["naive_standardize"]][1]
    worst_z = max(abs(float(s.corrected) - floats[s.ratee]) for s in standardized.scores)
    print(f"standardize: largest |exact - float baseline| {worst_z:.2e}")
    return 0


def _provenance() -> str:
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
