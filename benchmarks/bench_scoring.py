"""Benchmark perfkit's exact scoring path against two float baselines.

    python benchmarks/bench_scoring.py [--n 100000] [--repeat 3] [--baseline-n N] [--seed 20260401]

Scores N synthetic employees with the bundled demo scheme (``sales-quarterly.yaml``) four ways:

* perfkit: ``compiled.evaluate(rows)`` -- exact Decimal arithmetic, half-up rounding;
* simpleeval, evaluated per row on Python floats, as a user would write it without perfkit:
  (a) parsing every formula on every call (simpleeval's normal one-shot API), and
  (b) parsing once and reusing the ASTs (``s.eval(expr, previously_parsed=...)``);
* hand-written vectorised pandas / numpy on float columns.

It prints a timing table (the methods run in interleaved rounds; each keeps its best of
--repeat runs), then checks the float results against perfkit's: float rounding at .xx5 ties
moves a few totals by 0.01, and a grade when that total sits on a band boundary. Nothing is
asserted about timings. This is a script, not a test: it always exits 0.
"""

from __future__ import annotations

import argparse
import gc
import importlib.metadata
import math
import os
import platform
import random
import subprocess
import sys
import time
from collections.abc import Callable, Mapping, Sequence
from decimal import Decimal
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import simpleeval

import perfkit

SCHEME_FILE = "sales-quarterly.yaml"

# The scheme's grade bands, best first (min_score), and its rules, hand-copied for the baselines.
BANDS = (("S", 95.0), ("A", 85.0), ("B", 70.0), ("C", 60.0), ("D", 0.0))
GRADE_RANK = {name: i for i, (name, _) in enumerate(BANDS)}
CAP_GRADE = "B"  # collection_rate < 0.8 caps the grade at B
PIECEWISE_POINTS = ((0.6, 0.0), (1.0, 100.0), (1.2, 120.0))


# -- synthetic data --------------------------------------------------------------------------


def make_rows(n: int, seed: int) -> tuple[list[dict[str, Any]], dict[str, str]]:
    """N employees as a real export would give them: Python floats and ints.

    Returns the rows and the kind of each non-random row, by employee id:

    * ``breakpoint`` (about 1 row in 50): sales / sales_target exactly on a piecewise
      breakpoint (0.6, 1.0, 1.2), or one cent either side of it;
    * ``band-edge`` (1 row in 1000): crafted so the revenue score is a .xx5 tie and the exact
      total rounds onto a grade boundary (60.00, 70.00, 85.00 or 95.00). Rounding that tie
      down, as float arithmetic may, drops the total 0.01 and the grade one band.

    Random rows almost never change grade on their own with this scheme: the weighted sum of
    the rounded KPI scores has at most three decimals and its third one comes only from
    0.4 x revenue, so it is always even and the total is never itself a .xx5 tie. Only a tie
    in the revenue score (a sales / target ratio with few decimals) moves a total, and that
    total must also sit right on a boundary. The band-edge rows show what the check is about.
    """
    rng = random.Random(seed)
    rows = []
    kinds: dict[str, str] = {}
    for i in range(n):
        employee_id = f"E{i:07d}"
        row = {
            "employee_id": employee_id,
            "department": f"D{rng.randrange(12):02d}",
            "sales": 0.0,
            "sales_target": 0,
            "csat": round(rng.triangular(1.0, 5.0, 4.3), 1),
            "collection_rate": round(rng.triangular(0.5, 1.0, 0.93), 3),
            "attitude": rng.randint(1, 5),
            "major_incidents": rng.choices((0, 1, 2, 3, 4), weights=(60, 20, 10, 6, 4))[0],
        }
        draw = rng.random()
        if draw < 0.001 and _band_edge(rng, row):
            kinds[employee_id] = "band-edge"
        elif draw < 0.021:
            # A target in whole thousands, so sales = target * 0.6 / 1.0 / 1.2 is exact in decimal
            # (the ratio is exactly on the breakpoint), then maybe nudged by a cent.
            target_k = rng.randrange(200, 1500)
            factor = rng.choice((0.6, 1.0, 1.2))
            row["sales"] = (round(target_k * 1000 * factor * 100) + rng.choice((-1, 0, 0, 1))) / 100
            row["sales_target"] = target_k * 1000
            kinds[employee_id] = "breakpoint"
        else:
            target = rng.randrange(20, 151) * 10_000 if rng.random() < 0.7 else round(rng.uniform(2e5, 1.5e6), 2)
            attainment = min(1.6, max(0.3, rng.gauss(0.95, 0.2)))
            row["sales"] = round(min(2_000_000.0, target * attainment), 2)
            row["sales_target"] = target
        rows.append(row)
    return rows, kinds


def _band_edge(rng: random.Random, row: dict[str, Any]) -> bool:
    """Set sales / sales_target so the exact total is the lowest that rounds to a band's min_score.

    The revenue score (before rounding) is R - 0.005 for a 2-place R, which half-up rounds to R;
    0.4 * R + the other weighted scores then lies in [boundary - 0.005, boundary - 0.001].
    """
    row["collection_rate"] = round(rng.uniform(0.8, 1.0), 3)  # no cap, so the band is the grade
    rest = (
        Decimal("0.2") * (Decimal(repr(row["csat"])) - 1) * 25
        + Decimal("0.3") * Decimal(repr(row["collection_rate"])) * 100
        + Decimal("0.1") * row["attitude"] * 20
    )
    for boundary in rng.sample([60, 70, 85, 95], 4):
        needed = (boundary - Decimal("0.005") - rest) / Decimal("0.4")
        r = needed.quantize(Decimal("0.01"), rounding="ROUND_CEILING")
        raw = r - Decimal("0.005")
        if raw <= 0 or raw >= 120:
            continue
        if raw < 100:  # piecewise segment (0.6, 0) .. (1.0, 100): revenue = (ratio - 0.6) * 250
            ratio = Decimal("0.6") + raw / 250
            target = 2500 * rng.randrange(80, 600)  # makes target * ratio a whole number of cents
        else:  # segment (1.0, 100) .. (1.2, 120): revenue = 100 + (ratio - 1) * 100
            ratio = 1 + (raw - 100) / 100
            target = 1000 * rng.randrange(200, 1500)
        row["sales_target"] = target
        row["sales"] = float(target * ratio)
        return True
    return False


# -- float helpers shared by both baselines ---------------------------------------------------


def round2_half_up(x: float) -> float:
    """Half-up to 2 places, the usual float way (exact only when x*100 happens to be)."""
    return math.floor(x * 100.0 + 0.5) / 100.0


def f_piecewise(x: float, *points: tuple[float, float]) -> float:
    # Same operation order as numpy.interp, so the two baselines give identical floats.
    if x <= points[0][0]:
        return points[0][1]
    if x >= points[-1][0]:
        return points[-1][1]
    for (x0, y0), (x1, y1) in zip(points, points[1:]):
        if x < x1:
            return (y1 - y0) / (x1 - x0) * (x - x0) + y0
    return points[-1][1]


def f_clamp(x: float, lo: float, hi: float) -> float:
    return lo if x < lo else hi if x > hi else x


def f_ratio(a: float, b: float, default: float = 0.0) -> float:
    return default if b == 0 else a / b


FLOAT_FUNCTIONS = {"piecewise": f_piecewise, "clamp": f_clamp, "ratio": f_ratio}


def band_of(total: float) -> str:
    for name, low in BANDS:
        if total >= low:
            return name
    return BANDS[-1][0]


# -- the timed methods ----------------------------------------------------------------------


def run_perfkit(compiled: perfkit.CompiledScheme, rows: list[dict[str, Any]]) -> perfkit.Evaluation:
    return compiled.evaluate(rows)


class SchemeText:
    """The scheme's formulas and weights, read from the YAML the way a simpleeval user would."""

    def __init__(self, scheme: perfkit.Scheme) -> None:
        self.kpis = [(kpi.id, kpi.score, float(kpi.weight)) for kpi in scheme.kpis]
        self.rules = [(rule.id, rule.when, rule.then.cap_grade, rule.then.flag) for rule in scheme.rules]


Outcome = tuple[str, float, str, tuple[str, ...]]
"""A float baseline's result for one row: employee id, total, final grade, flags."""


def _finish(
    scores: list[float], weights: Sequence[float], fired: list[tuple[str | None, str | None]]
) -> tuple[float, str, tuple[str, ...]]:
    total = 0.0
    for w, s in zip(weights, scores):
        total += w * s
    total = round2_half_up(total)
    grade = band_of(total)
    for cap, _flag in fired:
        if cap is not None and GRADE_RANK[grade] < GRADE_RANK[cap]:
            grade = cap
    flags = tuple(sorted({flag for _cap, flag in fired if flag}))
    return total, grade, flags


def run_simpleeval_per_call(text: SchemeText, rows: list[dict[str, Any]]) -> list[Outcome]:
    """One evaluator per expression, parsing it each time: what ``simple_eval(expr, ...)`` does.

    ``simpleeval.simple_eval`` uses the plain ``SimpleEval`` class, which refuses the tuple
    literals of ``piecewise(x, (0.6, 0), ...)``; ``EvalWithCompoundTypes`` is simpleeval's own
    class that allows them, so this is ``simple_eval``'s body with that class.
    """
    make = simpleeval.EvalWithCompoundTypes
    functions = dict(FLOAT_FUNCTIONS)
    weights = [w for _, _, w in text.kpis]
    out = []
    for row in rows:
        scores = [round2_half_up(make(functions=functions, names=row).eval(expr)) for _, expr, _ in text.kpis]
        fired = [(cap, flag) for _, when, cap, flag in text.rules if make(functions=functions, names=row).eval(when)]
        out.append((row["employee_id"], *_finish(scores, weights, fired)))
    return out


def run_simpleeval_parsed(text: SchemeText, rows: list[dict[str, Any]]) -> list[Outcome]:
    """One evaluator, every formula parsed once; per row only ``names`` changes."""
    s = simpleeval.EvalWithCompoundTypes(functions=dict(FLOAT_FUNCTIONS))
    kpis = [(expr, s.parse(expr)) for _, expr, _ in text.kpis]
    rules = [(when, s.parse(when), cap, flag) for _, when, cap, flag in text.rules]
    weights = [w for _, _, w in text.kpis]
    out = []
    for row in rows:
        s.names = row
        scores = [round2_half_up(s.eval(expr, previously_parsed=tree)) for expr, tree in kpis]
        fired = [(cap, flag) for when, tree, cap, flag in rules if s.eval(when, previously_parsed=tree)]
        out.append((row["employee_id"], *_finish(scores, weights, fired)))
    return out


def run_pandas(df: pd.DataFrame, rounding: str = "half_up") -> pd.DataFrame:
    """The scheme hand-written as vectorised float pandas / numpy.

    ``rounding="half_up"``: the scheme's half-up as ``floor(x * 100 + 0.5) / 100`` (timed);
    ``"numpy"``: ``np.round(x, 2)``, i.e. ``Series.round(2)``, which rounds half to even.
    """

    def r2(x: Any) -> Any:
        if rounding == "numpy":
            return np.round(x, 2)
        return np.floor(x * 100.0 + 0.5) / 100.0

    sales = df["sales"].to_numpy(dtype=float)
    target = df["sales_target"].to_numpy(dtype=float)
    with np.errstate(divide="ignore", invalid="ignore"):
        ratio = np.where(target == 0, 0.0, sales / np.where(target == 0, 1.0, target))
    xp = [p[0] for p in PIECEWISE_POINTS]
    fp = [p[1] for p in PIECEWISE_POINTS]
    revenue = r2(np.interp(ratio, xp, fp))  # interp clamps to the end values, like piecewise()
    satisfaction = r2((df["csat"].to_numpy(dtype=float) - 1.0) / 4.0 * 100.0)
    collection_rate = df["collection_rate"].to_numpy(dtype=float)
    collection = r2(np.clip(collection_rate * 100.0, 0.0, 100.0))
    attitude = r2(df["attitude"].to_numpy(dtype=float) * 20.0)
    total = r2(0.4 * revenue + 0.2 * satisfaction + 0.3 * collection + 0.1 * attitude)
    band = np.select(
        [total >= low for _, low in BANDS[:-1]], [name for name, _ in BANDS[:-1]], default=BANDS[-1][0]
    )
    capped = (collection_rate < 0.8) & np.isin(band, ["S", "A"])
    grade = np.where(capped, CAP_GRADE, band)
    flag = df["major_incidents"].to_numpy() > 2
    return pd.DataFrame(
        {
            "employee_id": df["employee_id"].to_numpy(),
            "revenue": revenue,
            "satisfaction": satisfaction,
            "collection": collection,
            "attitude": attitude,
            "total": total,
            "band_grade": band,
            "grade": grade,
            "needs_improvement": flag,
        }
    )


def time_interleaved(
    methods: Sequence[tuple[str, Callable[[], Any]]], repeat: int
) -> dict[str, tuple[list[float], Any]]:
    """Time each method ``repeat`` times, in rounds (A B C D, A B C D, ...).

    Interleaving keeps the comparison fair on a machine whose speed drifts (shared or
    throttled CPUs): every method sees the same slow and fast spells. Returns each method's
    run times and the result of its last run.
    """
    times: dict[str, list[float]] = {label: [] for label, _ in methods}
    results: dict[str, Any] = {label: None for label, _ in methods}
    for _ in range(repeat):
        for label, fn in methods:
            results[label] = None  # free the previous run's result before timing the next
            gc.collect()
            start = time.perf_counter()
            results[label] = fn()
            times[label].append(time.perf_counter() - start)
    return {label: (times[label], results[label]) for label, _ in methods}


# -- checks ---------------------------------------------------------------------------------


def raw_float_total(row: Mapping[str, Any]) -> float:
    """The float baselines' weighted total for one row, before its final rounding."""
    ratio = f_ratio(row["sales"], row["sales_target"])
    scores = (
        round2_half_up(f_piecewise(ratio, *PIECEWISE_POINTS)),
        round2_half_up((row["csat"] - 1) / 4 * 100),
        round2_half_up(f_clamp(row["collection_rate"] * 100, 0, 100)),
        round2_half_up(row["attitude"] * 20),
    )
    return 0.4 * scores[0] + 0.2 * scores[1] + 0.3 * scores[2] + 0.1 * scores[3]


def _differences(
    cards: Mapping[str, perfkit.ScoreCard], results: Sequence[tuple[str, float, str]]
) -> tuple[list[str], list[str]]:
    """Employee ids whose float total, and whose grade, differ from perfkit's."""
    totals, grades = [], []
    for employee_id, total, grade in results:
        card = cards[employee_id]
        if card.total != Decimal(repr(float(total))):
            totals.append(employee_id)
        if card.grade != grade:
            grades.append(employee_id)
    return totals, grades


def report_agreement(
    evaluation: perfkit.Evaluation,
    rows: list[dict[str, Any]],
    kinds: Mapping[str, str],
    frame: pd.DataFrame,
    frame_numpy_round: pd.DataFrame,
    per_row: list[Outcome],
) -> None:
    cards = {card.employee_id: card for card in evaluation.cards}
    n = len(rows)
    if len(cards) != n:
        print(f"WARNING: perfkit scored {len(cards)} of {n} rows")
    groups = {"random": 0, "breakpoint": 0, "band-edge": 0}
    for row in rows:
        groups[kinds.get(row["employee_id"], "random")] += 1

    def table_row(label: str, results: Sequence[tuple[str, float, str]]) -> tuple[list[str], list[str]]:
        totals, grades = _differences(cards, results)
        size = len(results)
        by_kind = {kind: 0 for kind in groups}
        for employee_id in grades:
            by_kind[kinds.get(employee_id, "random")] += 1
        split = ", ".join(f"{kind} {count}" for kind, count in by_kind.items())
        print(f"  {label:<46} {size:>8} {len(totals):>14} {len(grades):>14}   ({split})")
        return totals, grades

    def frame_results(f: pd.DataFrame) -> list[tuple[str, float, str]]:
        return list(zip(f["employee_id"].tolist(), f["total"].tolist(), f["grade"].tolist()))

    print()
    print(
        f"Agreement with perfkit's exact results. Rows: {groups['random']} random, {groups['breakpoint']} with "
        f"sales/target on a piecewise breakpoint (+-1 cent), {groups['band-edge']} crafted band-edge rows."
    )
    print(
        f"  {'float method':<46} {'rows':>8} {'totals differ':>14} {'grades differ':>14}   "
        "(grade differences by kind)"
    )
    totals, grades = table_row("pandas, half-up as floor(x*100+0.5)/100", frame_results(frame))
    table_row("pandas, Series.round(2) (half-to-even)", frame_results(frame_numpy_round))
    table_row("simpleeval parsed once (same float half-up)", [(e, t, g) for e, t, g, _f in per_row])

    examples = grades[:2] + [e for e in totals if e not in grades][:1]
    if examples:
        print("  examples, perfkit vs pandas half-up (the float weighted sum is shown before its rounding):")
        by_id = {row["employee_id"]: row for row in rows}
        frame_by_id = frame.set_index("employee_id")
        for employee_id in examples:
            card = cards[employee_id]
            row = by_id[employee_id]
            theirs = frame_by_id.loc[employee_id]
            exact_sum = sum((k.weight * k.score for k in card.kpis), Decimal(0))
            print(
                f"    {employee_id} [{kinds.get(employee_id, 'random')}] sales={row['sales']!r} "
                f"sales_target={row['sales_target']!r} csat={row['csat']!r} "
                f"collection_rate={row['collection_rate']!r} attitude={row['attitude']!r}"
            )
            print(
                f"      perfkit: revenue {card.score('revenue')}, weighted sum {exact_sum} -> total {card.total}, "
                f"grade {card.grade}"
            )
            print(
                f"      pandas:  revenue {float(theirs['revenue'])!r}, weighted sum {raw_float_total(row)!r} -> total "
                f"{float(theirs['total'])!r}, grade {theirs['grade']}"
            )


# -- main -----------------------------------------------------------------------------------


DEFAULT_BASELINE_N = 20_000


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=(__doc__ or "").split("\n\n")[0])
    parser.add_argument("--n", type=int, default=100_000, help="employees to score (default 100000)")
    parser.add_argument("--repeat", type=int, default=3, help="timed runs per method; the best is kept (default 3)")
    parser.add_argument(
        "--baseline-n",
        type=int,
        default=None,
        help=f"run the two per-row simpleeval baselines on the first BASELINE_N rows only and scale their "
        f"time to N (default: all rows if N <= {DEFAULT_BASELINE_N}, else {DEFAULT_BASELINE_N})",
    )
    parser.add_argument("--seed", type=int, default=20260401, help="random seed for the synthetic rows")
    args = parser.parse_args(argv)
    n = max(1, args.n)
    repeat = max(1, args.repeat)
    baseline_n = max(1, min(n, args.baseline_n if args.baseline_n is not None else DEFAULT_BASELINE_N))

    print(
        f"perfkit {perfkit.__version__} | Python {platform.python_version()} | pandas {pd.__version__} | "
        f"numpy {np.__version__} | simpleeval {_version('simpleeval')} | {platform.machine()}, "
        f"{os.cpu_count()} CPUs"
    )
    print(_provenance())
    scheme = perfkit.load_scheme(perfkit.example_path(SCHEME_FILE))
    compiled = scheme.compile()
    text = SchemeText(scheme)

    start = time.perf_counter()
    rows, kinds = make_rows(n, args.seed)
    df = pd.DataFrame(rows)  # built before timing: the pandas baseline times the scoring only
    setup = time.perf_counter() - start
    subset = rows[:baseline_n]
    print(
        f"scheme {compiled.id}: {len(compiled.kpis)} KPIs, {len(compiled.rules)} rules | N={n} employees "
        f"(seed {args.seed}; rows + DataFrame built in {setup:.2f}s, untimed) | best of {repeat} runs"
    )
    if baseline_n < n:
        print(
            f"NOTE: the two simpleeval baselines ran on the first {baseline_n} rows only; their seconds (marked *) "
            f"are scaled linearly to N={n}; employees/s is what was measured."
        )
    sys.stdout.flush()

    labels = {
        "perfkit": "perfkit compiled.evaluate (exact Decimal)",
        "per_call": "simple_eval per-row (parse every call)",
        "parsed": "SimpleEval per-row, parsed once",
        "pandas": "pandas/numpy vectorised (float)",
    }
    timed = time_interleaved(
        [
            (labels["perfkit"], lambda: run_perfkit(compiled, rows)),
            (labels["per_call"], lambda: run_simpleeval_per_call(text, subset)),
            (labels["parsed"], lambda: run_simpleeval_parsed(text, subset)),
            (labels["pandas"], lambda: run_pandas(df)),
        ],
        repeat,
    )
    measured_rows = {
        labels["perfkit"]: n,
        labels["per_call"]: baseline_n,
        labels["parsed"]: baseline_n,
        labels["pandas"]: n,
    }
    evaluation = timed[labels["perfkit"]][1]
    per_call = timed[labels["per_call"]][1]
    parsed = timed[labels["parsed"]][1]
    frame = timed[labels["pandas"]][1]

    def rate(label: str) -> float:
        return float(measured_rows[label] / min(timed[label][0]))

    perfkit_rate = rate(labels["perfkit"])
    print()
    print(
        f"{'method':<42} {'seconds':>10} {'employees/s':>13} {'perfkit/this':>13}   "
        f"{'slowest run vs best':>19}"
    )
    print(f"{'-' * 42} {'-' * 10} {'-' * 13} {'-' * 13}   {'-' * 19}")
    for label in labels.values():
        runs = timed[label][0]
        measured = measured_rows[label]
        mark = "*" if measured < n else " "
        versus = "" if label == labels["perfkit"] else f"{perfkit_rate / rate(label):.3g}x"
        spread = f"+{max(runs) / min(runs) - 1:.0%}" if len(runs) > 1 else "-"
        print(
            f"{label:<42} {min(runs) * n / measured:>9.3f}{mark} {rate(label):>13,.0f} {versus:>13}   {spread:>19}"
        )
    print()
    for label in list(labels.values())[1:]:
        ratio = perfkit_rate / rate(label)
        verdict = f"perfkit {ratio:.1f}x faster" if ratio >= 1 else f"perfkit {1 / ratio:.1f}x slower"
        print(f"perfkit / {label}: {ratio:.3g}x  ({verdict})")

    frame_numpy_round = run_pandas(df, rounding="numpy")
    report_agreement(evaluation, rows, kinds, frame, frame_numpy_round, parsed)
    same = sum(1 for a, b in zip(per_call, parsed) if a == b)
    print(f"  simpleeval parse-every-call and parsed-once agree on {same} of {len(parsed)} rows")
    counts = {name: 0 for name, _ in BANDS}
    for card in evaluation.cards:
        counts[card.grade] += 1
    capped = sum(1 for card in evaluation.cards if card.grade != card.band_grade)
    flagged = sum(1 for card in evaluation.cards if card.flags)
    print(
        f"  perfkit grades: {', '.join(f'{k} {v}' for k, v in counts.items())}; "
        f"capped to B by collection-cap: {capped}; flagged needs_improvement: {flagged}"
    )
    return 0


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


def _version(distribution: str) -> str:
    try:
        return importlib.metadata.version(distribution)
    except importlib.metadata.PackageNotFoundError:
        return "?"


if __name__ == "__main__":
    sys.exit(main())
