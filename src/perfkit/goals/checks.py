"""Checking a list of goals as a graph, and the runtime pieces the check assembles.

:class:`Checker` collects every problem of a set of goals (duplicate ids, unknown parents,
cycles, periods, weights, targets, revisions, owners) and, when there are none, the parts a
:class:`~perfkit.goals.GoalGraph` is made of: the index, the edges, the children and
parents by position, an order with children first, which goals count in rollups, the
compiled rollup formulas and each goal's timeline of check-ins and approved revisions.
"""

from __future__ import annotations

import contextlib
import datetime
import difflib
import gc
from collections.abc import Iterable, Iterator, Mapping, Sequence
from decimal import Decimal
from typing import Any, NamedTuple

import networkx as nx

from perfkit.errors import FormulaError, GoalGraphError, PerfkitError
from perfkit.goals.model import CheckIn, Goal, Revision
from perfkit.numbers import to_decimal
from perfkit.org import Roster
from perfkit.periods import Calendar, Period
from perfkit.rules.compile import check_weights
from perfkit.rules.formula import Formula

__all__ = ["COUNTED", "Checker", "Timeline", "collector_paused", "link_field", "ticks", "unknown_goal"]

COUNTED = ("active", "closed")
"""Statuses whose goals count in their parents' rollups (an expired goal is an active one)."""


_EPOCH = datetime.datetime(1970, 1, 1, tzinfo=datetime.timezone.utc)
_MICROSECOND = datetime.timedelta(microseconds=1)


def ticks(instant: datetime.datetime) -> int:
    """An aware time as whole microseconds since the epoch (fast to compare and bisect)."""
    return (instant - _EPOCH) // _MICROSECOND


class Timeline(NamedTuple):
    """A goal's check-ins and approved revisions with their times (:func:`ticks`), for as-of lookups."""

    checkin_times: tuple[int, ...]
    checkins: tuple[CheckIn, ...]
    """Sorted by time, then by their order in the file."""
    revision_times: tuple[int, ...]
    """When each approved revision applies: the later of its effective and decided times."""
    revisions: tuple[Revision, ...]


@contextlib.contextmanager
def collector_paused() -> Iterator[None]:
    """Pause the cyclic garbage collector while a graph is built.

    Building makes many small objects and no cycles; with a large graph the collector
    would walk every object again and again (a quarter of the build time at 20k goals).
    """
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was_enabled:
            gc.enable()


def _time_then_position(entry: tuple[int, int, Any]) -> tuple[int, int]:
    return entry[0], entry[1]


_EMPTY_TIMELINE = Timeline(checkin_times=(), checkins=(), revision_times=(), revisions=())


def link_field(n: int, contributions: int) -> str:
    """The field path of a goal's n-th link (its contributions first, then its supports)."""
    return f"contributes_to[{n}].goal" if n < contributions else f"supports[{n - contributions}]"


def unknown_goal(goal_id: object, known: Iterable[str], purpose: str = "") -> str:
    close = difflib.get_close_matches(str(goal_id), list(known), n=1)
    hint = f"; did you mean {close[0]!r}?" if close else ""
    return f"there is no goal {goal_id!r}{purpose}{hint}"


class Checker:
    """Checks a list of goals as a graph, collecting every problem, and assembles the parts."""

    def __init__(
        self,
        goals: Sequence[Goal],
        calendar: Calendar,
        roster: Roster | None,
        where: Mapping[int, str],
        elsewhere: Mapping[str, str],
    ):
        self.goals = goals
        self.elsewhere = elsewhere
        self.calendar = calendar
        self.roster = roster
        self.where = where
        self.problems: list[GoalGraphError] = []
        self.index: dict[str, int] = {}
        self.edges: list[tuple[str, str, dict[str, Any]]] = []
        self.links: list[list[int]] = [[] for _ in goals]
        self.periods: list[Period] = []
        self.children: list[list[int]] = [[] for _ in goals]
        self.parents: list[list[int]] = [[] for _ in goals]
        self.weights: list[tuple[Decimal, ...] | None] = [None] * len(goals)
        self.order: list[int] = []
        self.counted: list[bool] = [False] * len(goals)
        self.formulas: dict[int, Formula] = {}
        self.timelines: list[Timeline] = []
        self._period_cache: dict[str, Period | PerfkitError] = {}
        self._days: dict[datetime.date, int] = {}
        self._bounds: dict[str, tuple[int, int]] = {}

    def problem(self, message: str, goals: tuple[str, ...], i: int | None, field: str | None = None) -> None:
        path = None
        if i is not None:
            base = self.where.get(i, f"goals[{i}]")
            path = f"{base}.{field}" if field else base
        self.problems.append(GoalGraphError(message, goals=goals, path=path))

    def run(self) -> list[GoalGraphError]:
        self._ids()
        self._goals()
        self._edges()
        acyclic = self._cycles()
        for i, goal in enumerate(self.goals):
            if self.index.get(goal.id) == i:
                self._weights(i, goal)
                if goal.mode == "children":
                    self._children_rules(i, goal)
        if acyclic:
            self._structure()
        return self.problems

    def _ids(self) -> None:
        first: dict[str, int] = {}
        for i, goal in enumerate(self.goals):
            if goal.id in first:
                other = self.where.get(first[goal.id], f"goals[{first[goal.id]}]")
                self.problem(f"the goal id {goal.id!r} is used twice (also {other})", (goal.id,), i, "id")
                continue
            if goal.id in self.elsewhere:
                other = self.elsewhere[goal.id]
                self.problem(f"the goal id {goal.id!r} is used twice (also {other})", (goal.id,), i, "id")
            first[goal.id] = i
        self.index = first

    def _period(self, label: str) -> Period | PerfkitError:
        if label not in self._period_cache:
            try:
                self._period_cache[label] = self.calendar.period(label)
            except PerfkitError as exc:
                self._period_cache[label] = exc
        return self._period_cache[label]

    def _goals(self) -> None:
        for i, goal in enumerate(self.goals):
            period = self._period(goal.period)
            if isinstance(period, PerfkitError):
                self.problem(f"the period {goal.period!r} cannot be read: {period.message}", (goal.id,), i, "period")
                period = self.calendar.period("2000")
            self.periods.append(period)
            self._measure(i, goal)
            self._owner(i, goal)
            self.timelines.append(self._timeline(i, goal, period))

    def _measure(self, i: int, goal: Goal) -> None:
        ids = (goal.id,)
        mode = goal.mode
        if goal.kind == "key_result" and goal.target is None:
            self.problem("a key result needs a target", ids, i, "target")
        elif mode in ("checkins", "metric") and goal.target is None:
            self.problem(f"progress from {mode} is measured against a target; give target:", ids, i, "target")
        elif mode == "children" and goal.rollup == "sum" and goal.target is None:
            self.problem("a sum rollup adds the children's values toward a target; give target:", ids, i, "target")
        if goal.target is not None and goal.target == goal.baseline:
            self.problem(f"the target equals the baseline ({goal.target}), so progress cannot be measured", ids, i, "target")
        baseline = goal.baseline
        for n, revision in enumerate(goal.revisions):
            baseline = baseline if revision.baseline is None else revision.baseline
            if revision.target == baseline:
                self.problem(f"the revised target equals the baseline ({baseline})", ids, i, f"revisions[{n}].target")
        if mode == "metric" and goal.metric is None:
            self.problem("progress from a metric names the metric: give metric:", ids, i, "metric")
        if mode != "metric" and goal.metric is not None:
            self.problem(f"metric: is only read with progress: metric (this goal's progress is {mode})", ids, i, "metric")
        if mode == "metric" and goal.owner.kind == "org":
            self.problem("a metric-bound goal is owned by a person or a team (metrics are per employee or unit)", ids, i, "owner")
        if mode == "children" and goal.checkins:
            self.problem("this goal's progress comes from its children, so it takes no check-ins", ids, i, "checkins")
        if mode == "children" and goal.checkin is not None:
            self.problem("this goal's progress comes from its children, so it has no check-in schedule", ids, i, "checkin")
        if goal.rollup == "formula" and mode == "children" and goal.formula is None:
            self.problem("rollup: formula needs a formula: over the children's ids", ids, i, "formula")
        if goal.formula is not None and (goal.rollup != "formula" or mode != "children"):
            self.problem("formula: is only read with progress: children and rollup: formula", ids, i, "formula")

    def _owner(self, i: int, goal: Goal) -> None:
        if self.roster is None or goal.owner.kind == "org":
            return
        owner = goal.owner
        if owner.kind == "person" and owner.id not in self.roster:
            self.problem(f"the owner {owner} is not in the roster", (goal.id,), i, "owner")
        if owner.kind == "team":
            try:
                self.roster.unit(owner.id or "")
            except PerfkitError:
                self.problem(f"the owner {owner} is not a unit of the roster", (goal.id,), i, "owner")

    def _tick(self, value: datetime.date | datetime.datetime) -> int:
        """An instant as microseconds since the epoch (dates cached: there are few of them)."""
        if isinstance(value, datetime.datetime):
            return ticks(value)
        found = self._days.get(value)
        if found is None:
            found = self._days[value] = ticks(self.calendar.start_of(value))
        return found

    def _timeline(self, i: int, goal: Goal, period: Period) -> Timeline:
        if not goal.checkins and not goal.revisions and goal.checkin is None:
            return _EMPTY_TIMELINE
        ids = (goal.id,)
        tick = self._tick
        bounds = self._bounds.get(period.label)
        if bounds is None:
            bounds = self._bounds[period.label] = (ticks(period.start), ticks(period.end))
        schedule = goal.checkin
        if schedule is not None and schedule.start is not None and not bounds[0] <= tick(schedule.start) < bounds[1]:
            self.problem(
                f"the check-in schedule starts {schedule.start}, outside the period {goal.period}",
                ids, i, "checkin.start",
            )
        if not goal.revisions and len(goal.checkins) == 1:
            return Timeline((tick(goal.checkins[0].at),), goal.checkins, (), ())
        starts = tick(goal.created) if goal.created else bounds[0]
        checkins = [(tick(c.at), n, c) for n, c in enumerate(goal.checkins)]
        if len(checkins) > 1:
            checkins.sort(key=_time_then_position)
        revisions = []
        for n, revision in enumerate(goal.revisions):
            effective = tick(revision.effective)
            if effective < starts:
                since = goal.created.isoformat() if goal.created else f"its period {goal.period} starts"
                self.problem(
                    f"the revision takes effect {revision.effective} (before the goal exists: {since})",
                    ids, i, f"revisions[{n}].effective",
                )
            decided = None if revision.decided_at is None else tick(revision.decided_at)
            if decided is not None and decided < starts:
                self.problem("the revision was decided before the goal exists", ids, i, f"revisions[{n}].decided_at")
            if revision.state == "approved":
                revisions.append((effective if decided is None else max(effective, decided), n, revision))
        revisions.sort(key=_time_then_position)
        return Timeline(
            checkin_times=tuple(c[0] for c in checkins),
            checkins=tuple(c[2] for c in checkins),
            revision_times=tuple(r[0] for r in revisions),
            revisions=tuple(r[2] for r in revisions),
        )

    def _edges(self) -> None:
        index = self.index
        edges = self.edges
        for i, goal in enumerate(self.goals):
            if index.get(goal.id) != i:
                continue
            seen: set[str] = set()
            count = len(goal.contributes_to)
            for n, parent in enumerate((*goal.parents, *goal.supports)):
                contributes = n < count
                p = index.get(parent)
                if p is None or parent == goal.id or parent in seen:
                    self._bad_link(i, goal, parent, n, count, seen)
                    continue
                seen.add(parent)
                self.links[i].append(p)
                if contributes:
                    weight = goal.contributes_to[n].weight
                    edges.append((goal.id, parent, {"kind": "contributes", "weight": weight}))
                    self.children[p].append(i)
                    self.parents[i].append(p)
                else:
                    edges.append((goal.id, parent, {"kind": "supports"}))
                if self.periods[i] is not self.periods[p]:
                    self._within(i, p, link_field(n, count))

    def _bad_link(self, i: int, goal: Goal, parent: str, n: int, count: int, seen: set[str]) -> None:
        field = link_field(n, count)
        if parent == goal.id:
            self.problem("a goal cannot be linked to itself", (goal.id,), i, field)
        elif parent in seen:
            self.problem(f"{goal.id!r} is linked to {parent!r} twice", (goal.id, parent), i, field)
        elif parent not in self.elsewhere:
            self.problem(unknown_goal(parent, self.index, " to link to"), (goal.id, parent), i, field)

    def _within(self, child: int, parent: int, field: str) -> None:
        inner, outer = self.periods[child], self.periods[parent]
        if inner is outer:
            return  # the same label, read once
        if inner.start_utc < outer.start_utc or inner.end_utc > outer.end_utc:
            goal, above = self.goals[child], self.goals[parent]
            self.problem(
                f"the period {goal.period} is not within the period {above.period} of {above.id!r}",
                (goal.id, above.id), child, field,
            )

    def _cycles(self) -> bool:
        """Order the goals children first (over both kinds of edge); whether there is no cycle.

        When some goals cannot be ordered, each cycle among them is reported, one per
        strongly connected component, naming the goals around it.
        """
        n = len(self.goals)
        below = [0] * n
        for ups in self.links:
            for p in ups:
                below[p] += 1
        ready = [i for i in range(n) if below[i] == 0]
        order: list[int] = []
        while ready:
            i = ready.pop()
            order.append(i)
            for p in self.links[i]:
                below[p] -= 1
                if below[p] == 0:
                    ready.append(p)
        if len(order) == n:
            self.order = order
            return True
        rest = {self.goals[i].id for i in range(n) if below[i] > 0}
        tangle: nx.DiGraph[str] = nx.DiGraph()
        tangle.add_edges_from((child, parent) for child, parent, _ in self.edges if child in rest and parent in rest)
        for component in sorted(nx.strongly_connected_components(tangle), key=min):
            if len(component) < 2:
                continue
            cycle_edges = nx.find_cycle(tangle.subgraph(component), source=min(component))
            cycle = tuple(u for u, _ in cycle_edges) + (cycle_edges[0][0],)
            first = min(self.index[g] for g in component)
            self.problem(f"the goals form a cycle: {' → '.join(cycle)}", cycle, first, "contributes_to")
        return False

    def _structure(self) -> None:
        """Which goals count in rollups, children first; runs on an acyclic graph."""
        for i in self.order:
            goal = self.goals[i]
            status_counts = goal.status in COUNTED
            if goal.mode != "children":
                self.counted[i] = status_counts
            else:
                self.counted[i] = status_counts and self._has_progress(i)

    def _has_progress(self, i: int) -> bool:
        """Whether a rolled-up goal has counted children (with some weight, if weighted)."""
        kids = [c for c in self.children[i] if self.counted[c]]
        weights = self.weights[i]
        if weights is None or not kids:
            return bool(kids)
        by_child = dict(zip(self.children[i], weights))
        return any(by_child[c] for c in kids)

    def _children_rules(self, i: int, goal: Goal) -> None:
        if goal.rollup == "sum":
            for c in self.children[i]:
                child = self.goals[c]
                if child.mode == "children" and child.rollup != "sum":
                    self.problem(
                        f"a sum rollup adds measured values, and {child.id!r} rolls up a {child.rollup.replace('_', ' ')}"
                        " (it has progress, not a value)",
                        (goal.id, child.id), i, "rollup",
                    )
        if goal.rollup == "formula" and goal.formula is not None:
            names = [self.goals[c].id for c in self.children[i]]
            try:
                self.formulas[i] = Formula.compile(goal.formula, names, path=self.where.get(i, f"goals[{i}]") + ".formula")
            except FormulaError as exc:
                self.problem(exc.message, (goal.id,), i, "formula")

    def _weights(self, i: int, goal: Goal) -> None:
        kids = self.children[i]
        if not kids:
            return
        weights = [self._edge_weight(c, i) for c in kids]
        given = [w is not None for w in weights]
        ids = (goal.id, *(self.goals[c].id for c in kids))
        if any(given) and not all(given):
            missing = [self.goals[c].id for c, g in zip(kids, given) if not g]
            self.problem(
                f"some children of {goal.id!r} have weights and some do not ({', '.join(missing)}); give all or none",
                ids, i, None,
            )
            return
        if not any(given):
            return
        pairs = [(self.goals[c].id, w) for c, w in zip(kids, weights) if w is not None]
        _, message = check_weights(pairs, what=f"weights of the children of {goal.id!r}")
        if message:
            self.problem(message, ids, i, None)
            return
        self.weights[i] = tuple(w for w in weights if w is not None)

    def _edge_weight(self, child: int, parent: int) -> Decimal | None:
        parent_id = self.goals[parent].id
        for link in self.goals[child].contributes_to:
            if link.goal == parent_id:
                return None if link.weight is None else to_decimal(link.weight)
        return None
