"""Benchmark calibration: 100k people in 1,000 pools, with quotas and per-person caps.

    python benchmarks/bench_calibration.py [--n 100000] [--pools 1000] [--capped 0.05] [--repeat 3]

Scores N synthetic employees with a five-grade scheme whose rule caps about ``--capped`` of
them at B, then times, each best of ``--repeat``:

* ``naive sort-and-cut``: what a spreadsheet does — per pool, sort by total and cut at
  head counts from rounding each grade's share on its own (Python, no perfkit); it ignores
  the caps;
* ``perfkit relative``: :func:`perfkit.calibrate` with a forced distribution
  (S 10%, A 20%, B 50%, C 15%, D 5%) per department, caps as hard limits;
* ``perfkit hybrid``: bands first, then the fewest grade steps to meet ``S+A at most 30%``
  and ``C+D at least 10%`` per department (min-cost flow wherever the bands miss a quota).

It prints seconds, people/s and perfkit's time as a multiple of the naive baseline, then
what the naive method gets wrong: pools whose head counts do not add up to the pool size,
and capped people it puts above their cap. Nothing is asserted; it always exits 0.
"""

from __future__ import annotations

import argparse
import math
import random
import time
from collections.abc import Callable
from decimal import Decimal
from typing import Any

import perfkit as pk

SCHEME = """\
perfkit: 1
id: bench-calibration
inputs:
  x: {min: 0, max: 100}
  late: {min: 0, max: 10, default: 0}
kpis:
  - {id: k, weight: 100%, score: x}
rules:
  - {id: late-cap, when: late > 3, then: {cap_grade: B}}
grades:
  - {grade: S, min_score: 90}
  - {grade: A, min_score: 80}
  - {grade: B, min_score: 60}
  - {grade: C, min_score: 40}
  - {grade: D}
"""
TARGETS = {"S": Decimal("0.10"), "A": Decimal("0.20"), "B": Decimal("0.50"), "C": Decimal("0.15"), "D": Decimal("0.05")}
RELATIVE = {"mode": "relative", "group_by": "department", "distribution": {g: f"{v * 100}%" for g, v in TARGETS.items()}}
HYBRID = {"mode": "hybrid", "group_by": "department", "distribution": {"S+A": {"max": "30%"}, "C+D": {"min": "10%"}}}


def make_rows(n: int, pools: int, capped: float, seed: int) -> list[dict[str, Any]]:
    rng = random.Random(seed)
    return [
        {
            "employee_id": f"E{i:07d}",
            "x": f"{rng.gauss(72, 12):.2f}",
            "late": 5 if rng.random() < capped else 0,
            "department": f"D{rng.randrange(pools):05d}",
        }
        for i in range(n)
    ]


def clamp_rows(rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
    for row in rows:
        row["x"] = str(min(Decimal(100), max(Decimal(0), Decimal(row["x"]))))
    return rows


def naive(cards: tuple[Any, ...]) -> dict[str, str]:
    """Per pool: sort by total, round each share's head count on its own, cut."""
    pools: dict[str, list[Any]] = {}
    for card in cards:
        pools.setdefault(dict(card.attributes)["department"], []).append(card)
    grades: dict[str, str] = {}
    for members in pools.values():
        members.sort(key=lambda c: (-c.total, c.employee_id))
        size = len(members)
        position = 0
        for grade, share in TARGETS.items():
            count = int(share * size + Decimal("0.5"))  # round each share half up on its own
            for card in members[position : position + count]:
                grades[card.employee_id] = grade
            position += count
        for card in members[position:]:
            grades[card.employee_id] = "D"
    return grades


def naive_problems(cards: tuple[Any, ...]) -> tuple[int, int]:
    pools: dict[str, int] = {}
    for card in cards:
        key = dict(card.attributes)["department"]
        pools[key] = pools.get(key, 0) + 1
    wrong_sums = sum(
        1 for size in pools.values() if sum(int(share * size + Decimal("0.5")) for share in TARGETS.values()) != size
    )
    grades = naive(cards)
    over_cap = sum(1 for c in cards if c.fired and grades[c.employee_id] in ("S", "A"))
    return wrong_sums, over_cap


def best_of(repeat: int, run: Callable[[], object]) -> float:
    best = math.inf
    for _ in range(repeat):
        start = time.perf_counter()
        run()
        best = min(best, time.perf_counter() - start)
    return best


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--n", type=int, default=100_000)
    parser.add_argument("--pools", type=int, default=1_000)
    parser.add_argument("--capped", type=float, default=0.05)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--seed", type=int, default=20261123)
    args = parser.parse_args()

    scheme = pk.Scheme.from_yaml(SCHEME)
    rows = clamp_rows(make_rows(args.n, args.pools, args.capped, args.seed))
    evaluation = pk.evaluate(scheme, rows)
    cards = tuple(evaluation)
    print(f"{args.n:,} people, {args.pools:,} pools, {sum(1 for c in cards if c.fired):,} capped at B")

    results: list[tuple[str, float]] = [
        ("naive sort-and-cut", best_of(args.repeat, lambda: naive(cards))),
        ("perfkit relative", best_of(args.repeat, lambda: pk.calibrate(evaluation, RELATIVE))),
        ("perfkit hybrid", best_of(args.repeat, lambda: pk.calibrate(evaluation, HYBRID))),
    ]
    base = results[0][1]
    print(f"{'method':<22}{'seconds':>10}{'people/s':>12}{'× naive time':>14}")
    for name, seconds in results:
        print(f"{name:<22}{seconds:>10.3f}{args.n / seconds:>12,.0f}{seconds / base:>14.1f}")

    relative = pk.calibrate(evaluation, RELATIVE)
    hybrid = pk.calibrate(evaluation, HYBRID)
    wrong_sums, over_cap = naive_problems(cards)
    print()
    print(f"naive: {wrong_sums} of {args.pools} pools whose rounded head counts miss the pool size; "
          f"{over_cap} capped people graded above B")
    print(f"perfkit relative: every quota met: {relative.ok}; "
          f"capped above B: {sum(1 for p in relative if p.limits and p.proposed in ('S', 'A'))}")
    print(f"perfkit hybrid: every quota met: {hybrid.ok}; moved from their band grade: "
          f"{sum(1 for p in hybrid if p.moved)}")


if __name__ == "__main__":
    main()
