"""Hypothesis strategies for goal graphs, as the plain data a goal file holds.

Tests import this module as ``goals.strategies`` (``tests/`` is on ``sys.path``, see
``tests/conftest.py``).

:func:`goal_lists` draws a layered DAG of goals in the 2026 calendar year:

- layer 0 holds roots; every later goal links to one or two *objectives* made before it
  (in earlier layers, or earlier in its own) (``contributes``, so a goal may feed several parents) and sometimes to
  any earlier goal by a ``supports`` edge (alignment only);
- goals of the last layer, and some of the earlier ones, are measured by check-ins
  (key results and KPIs with a target, baseline, direction, curve and cap); objectives
  roll up their children by ``weighted_average``, ``min`` or ``sum`` (``sum`` only over
  measured or summed children, with a target of its own);
- under one parent either every child has a weight, integer percentages of at least 1%
  summing to exactly 100%, or none has (0% weights are tested on their own);
- statuses are mostly ``active``, sometimes ``closed``, ``draft`` or ``archived``;
- check-ins fall on days inside the goal's period (last-layer goals may have a quarter or
  a half of 2026 as their period), some as aware times; revisions are proposed, approved
  or rejected, effective and decided inside the period.

Targets include 3, 7 and 9, so that progress has repeating decimals.

>>> from hypothesis import find
>>> goals = find(goal_lists(), lambda gs: len(gs) >= 3)
>>> len(goals) >= 3 and all({"id", "title", "owner", "period"} <= set(g) for g in goals)
True
"""

from __future__ import annotations

import datetime
import itertools
from decimal import Decimal
from typing import Any

from hypothesis import strategies as st

from perfkit.goals import GoalGraph
from perfkit.periods import Calendar

__all__ = [
    "AS_OF",
    "PERIODS",
    "as_of_dates",
    "checkin_events",
    "goal_graphs",
    "goal_lists",
    "leaf_ids",
    "percentages",
]

YEAR = "2026"
PERIODS: dict[str, tuple[datetime.date, datetime.date]] = {
    "2026": (datetime.date(2026, 1, 1), datetime.date(2026, 12, 31)),
    "2026-H1": (datetime.date(2026, 1, 1), datetime.date(2026, 6, 30)),
    "2026-H2": (datetime.date(2026, 7, 1), datetime.date(2026, 12, 31)),
    "2026-Q1": (datetime.date(2026, 1, 1), datetime.date(2026, 3, 31)),
    "2026-Q2": (datetime.date(2026, 4, 1), datetime.date(2026, 6, 30)),
    "2026-Q3": (datetime.date(2026, 7, 1), datetime.date(2026, 9, 30)),
    "2026-Q4": (datetime.date(2026, 10, 1), datetime.date(2026, 12, 31)),
}
"""Period labels used by the strategies, with their first and last days."""
AS_OF = datetime.date(2026, 12, 31)
"""The last day of the year every generated goal lives in."""
OWNERS = ("org", "team:east", "team:south", "person:1001", "person:1002", {"person": "1003"})
STATUSES = ("active", "active", "active", "active", "closed", "draft", "archived")
TARGETS = st.one_of(st.sampled_from([3, 7, 9, 12, 100, 250, 1000]), st.integers(1, 5000))


@st.composite
def percentages(draw: st.DrawFn, count: int, *, zero: bool = False) -> list[int]:
    """``count`` integer percentages that sum to exactly 100, each at least 1 (at least 0
    with ``zero``)."""
    if count == 1:
        return [100]
    if zero:
        cuts = sorted(draw(st.lists(st.integers(0, 100), min_size=count - 1, max_size=count - 1)))
    else:
        cuts = sorted(draw(st.lists(st.integers(1, 99), min_size=count - 1, max_size=count - 1, unique=True)))
    bounds = [0, *cuts, 100]
    return [b - a for a, b in itertools.pairwise(bounds)]


def _day(draw: st.DrawFn, period: str, *, first: datetime.date | None = None) -> datetime.date:
    start, end = PERIODS[period]
    start = max(start, first or start)
    return start + datetime.timedelta(days=draw(st.integers(0, (end - start).days)))


def _instant(draw: st.DrawFn, day: datetime.date) -> str | datetime.date:
    """The day itself, or an aware time on it (in UTC+8, so it is that day in Asia/Shanghai
    and, from 08:00 on, in UTC too)."""
    if draw(st.booleans()):
        return day
    hour = draw(st.integers(8, 23))
    return f"{day.isoformat()}T{hour:02d}:{draw(st.integers(0, 59)):02d}:00+08:00"


def _value(draw: st.DrawFn) -> Decimal:
    whole = draw(st.integers(0, 2000))
    if draw(st.booleans()):
        return Decimal(whole)
    return Decimal(whole * 100 + draw(st.integers(0, 99))).scaleb(-2)


def _measure(draw: st.DrawFn, goal: dict[str, Any], period: str) -> None:
    """Target, baseline, direction, curve, cap, check-ins and revisions of a measured goal."""
    target = draw(TARGETS)
    baseline = draw(st.sampled_from([0, 0, 0, 1, 50]))
    if target == baseline:
        target += 1
    direction = draw(st.sampled_from(["increase", "increase", "decrease"]))
    if direction == "decrease":
        target, baseline = baseline, target
    goal.update(target=target, direction=direction)
    if baseline:
        goal["baseline"] = baseline
    goal["curve"] = draw(st.sampled_from(["linear", "linear", "linear", "binary"]))
    cap = draw(st.sampled_from(["default", "default", "120%", None]))
    if cap != "default":
        goal["cap"] = cap
    if draw(st.booleans()):
        goal["checkin"] = {"every": draw(st.sampled_from(["2 weeks", "1 month", "10 days"]))}
    checkins = []
    for _ in range(draw(st.integers(0, 3))):
        checkin: dict[str, Any] = {"at": _instant(draw, _day(draw, period)), "value": _value(draw)}
        if draw(st.integers(0, 3)) == 0:
            checkin["note"] = draw(st.sampled_from(["Q1 close", "月度更新", "on track"]))
        checkins.append(checkin)
    if checkins:
        goal["checkins"] = checkins
    revisions = []
    for _ in range(draw(st.integers(0, 2))):
        new_target = draw(TARGETS)
        if new_target == baseline:
            new_target += 1
        revision: dict[str, Any] = {
            "effective": _day(draw, period),
            "target": new_target,
            "reason": "market moved",
            "proposed_by": "2001",
        }
        state = draw(st.sampled_from(["proposed", "approved", "approved", "rejected"]))
        if state != "proposed":
            revision.update(state=state, decided_by="1001", decided_at=_day(draw, period))
        revisions.append(revision)
    if revisions:
        goal["revisions"] = revisions


@st.composite
def goal_lists(draw: st.DrawFn, *, max_layers: int = 4, max_width: int = 4) -> list[dict[str, Any]]:
    """A valid goal graph as a list of goal mappings, parents before children."""
    layers = draw(st.integers(2, max_layers))
    sizes = [draw(st.integers(1, 2))] + [draw(st.integers(1, max_width)) for _ in range(layers - 1)]
    goals: list[dict[str, Any]] = []
    layer_of: dict[str, int] = {}
    objective: dict[str, bool] = {}
    parents: dict[str, list[str]] = {}
    for layer, size in enumerate(sizes):
        last = layer == layers - 1
        for _ in range(size):
            goal_id = f"g{len(goals)}"
            is_objective = not last and draw(st.integers(0, 4)) > 0
            earlier = [g["id"] for g in goals]
            candidates = [g for g in earlier if objective[g]]
            chosen = draw(st.lists(st.sampled_from(candidates), min_size=1, max_size=2, unique=True)) if candidates else []
            others = [g["id"] for g in goals if g["id"] not in chosen and g["period"] == YEAR]
            supports = draw(st.lists(st.sampled_from(others), max_size=1)) if others else []
            goal: dict[str, Any] = {
                "id": goal_id,
                "title": f"目标 {goal_id}",
                "owner": draw(st.sampled_from(OWNERS)),
                "status": draw(st.sampled_from(STATUSES)),
            }
            if is_objective:
                goal["period"] = YEAR
            else:
                goal["kind"] = draw(st.sampled_from(["key_result", "kpi"]))
                goal["period"] = draw(st.sampled_from(sorted(PERIODS))) if last else YEAR
                _measure(draw, goal, goal["period"])
            if supports:
                goal["supports"] = supports
            goals.append(goal)
            layer_of[goal_id] = layer
            objective[goal_id] = is_objective
            parents[goal_id] = chosen
    children: dict[str, list[str]] = {g["id"]: [] for g in goals}
    for goal_id, ups in parents.items():
        for parent in ups:
            children[parent].append(goal_id)
    rollup: dict[str, str] = {}
    for goal in reversed(goals):  # children come after their parents
        goal_id = goal["id"]
        if not objective[goal_id]:
            continue
        summable = all(not objective[c] or rollup[c] == "sum" for c in children[goal_id])
        choices = ["weighted_average", "weighted_average", "min"] + (["sum"] if summable else [])
        rollup[goal_id] = draw(st.sampled_from(choices))
        if rollup[goal_id] != "weighted_average":
            goal["rollup"] = rollup[goal_id]
        if rollup[goal_id] == "sum":
            goal["target"] = draw(st.integers(1, 20000))
    weights: dict[tuple[str, str], int] = {}
    for parent, kids in children.items():
        if kids and draw(st.integers(0, 2)) > 0:
            weights.update(zip(((kid, parent) for kid in kids), draw(percentages(len(kids)))))
    for goal in goals:
        links = []
        for parent in parents[goal["id"]]:
            weight = weights.get((goal["id"], parent))
            links.append(parent if weight is None else {"goal": parent, "weight": f"{weight}%"})
        if links:
            goal["contributes_to"] = links
    return goals


def goal_graphs(*, calendars: bool = False) -> st.SearchStrategy[GoalGraph]:
    """Checked graphs of :func:`goal_lists`; with ``calendars``, sometimes in Asia/Shanghai."""
    calendar = st.sampled_from([Calendar(), Calendar(tz="Asia/Shanghai")]) if calendars else st.just(Calendar())
    return st.builds(lambda goals, cal: GoalGraph.from_goals(goals, calendar=cal), goal_lists(), calendar)


def leaf_ids(graph: GoalGraph) -> list[str]:
    """Ids of the goals measured by check-ins."""
    return [g.id for g in graph.goals if g.mode == "checkins"]


def as_of_dates() -> st.SearchStrategy[datetime.date]:
    """Dates from just before 2026 until after it (so that goals expire)."""
    return st.dates(datetime.date(2025, 12, 20), datetime.date(2027, 3, 31))


@st.composite
def checkin_events(draw: st.DrawFn, graph: GoalGraph, as_of: datetime.date) -> list[tuple[str, Decimal, datetime.date]]:
    """Check-ins (goal id, value, day) on measured goals of ``graph``, none after ``as_of``."""
    leaves = leaf_ids(graph)
    if not leaves:
        return []
    first = datetime.date(2025, 12, 1)
    days = st.dates(first, max(first, as_of))
    count = draw(st.integers(0, 6))
    return [(draw(st.sampled_from(leaves)), _value(draw), draw(days)) for _ in range(count)]
