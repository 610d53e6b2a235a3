"""GoalGraph: goals joined by ``contributes`` and ``supports`` edges, checked as a whole.

The graph is a networkx directed graph (:attr:`GoalGraph.nx`) whose edges run from a
child goal to its parent: ``contributes`` edges carry a weight and feed the parent's
rollup, ``supports`` edges record alignment only. A goal may contribute to several
parents, owned by anyone. A graph is immutable: :meth:`~GoalGraph.add`,
:meth:`~GoalGraph.link`, :meth:`~GoalGraph.check_in` and the revision methods return a
new graph and leave the old one as it was.

Building a graph checks everything at once and raises one
:class:`~perfkit.errors.GoalGraphError` listing every problem, each naming its goal ids:
duplicate ids, unknown parents, cycles (the goals around each one), a child whose period
does not lie within its parent's, weights under a parent that do not sum to 100%, a key
result without a target, a revision that predates its goal, and so on.
"""

from __future__ import annotations

import contextlib
import datetime
import difflib
import gc
from collections.abc import Iterable, Iterator, Mapping, Sequence
from decimal import Decimal
from typing import Any, Literal, NamedTuple

import attrs
import networkx as nx

from perfkit.errors import FormulaError, GoalGraphError, PerfkitError, one_error
from perfkit.goals.model import CheckIn, Contribution, Goal, Revision, parse_instant
from perfkit.numbers import to_decimal
from perfkit.org import Roster
from perfkit.periods import Calendar, Period
from perfkit.rules.compile import check_weights
from perfkit.rules.formula import Formula

__all__ = ["EdgeKind", "GoalGraph"]

EdgeKind = Literal["contributes", "supports"]
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
def _collector_paused() -> Iterator[None]:
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


class GoalGraph:
    """A checked set of goals and the edges between them. Build one with :func:`load_goals`,
    :meth:`from_goals` or :meth:`from_dict`.

    >>> graph = GoalGraph.from_dict({"perfkit_goals": 1, "goals": [
    ...     {"id": "grow", "title": "Grow", "owner": "org", "period": "2026"},
    ...     {"id": "kr1", "title": "Revenue", "kind": "key_result", "owner": "person:1001",
    ...      "period": "2026", "target": 100, "contributes_to": ["grow"]}]})
    >>> graph.children("grow"), graph.parents("kr1")
    (('kr1',), ('grow',))
    """

    __slots__ = (
        "_cache",
        "_calendar",
        "_children",
        "_formulas",
        "_goals",
        "_index",
        "_edges",
        "_order",
        "_parents",
        "_periods",
        "_roster",
        "_source",
        "_timelines",
        "_weights",
        "_counted",
    )

    _goals: tuple[Goal, ...]
    _index: dict[str, int]
    _calendar: Calendar
    _roster: Roster | None
    _source: str | None
    _edges: tuple[tuple[str, str, dict[str, Any]], ...]
    _periods: tuple[Period, ...]
    _children: tuple[tuple[int, ...], ...]
    _parents: tuple[tuple[int, ...], ...]
    _weights: tuple[tuple[Decimal, ...] | None, ...]
    _order: tuple[int, ...]
    _counted: tuple[bool, ...]
    _formulas: dict[int, Formula]
    _timelines: tuple[Timeline, ...]
    _cache: dict[str, Any]

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        raise TypeError("build a GoalGraph with load_goals(), GoalGraph.from_goals() or GoalGraph.from_dict()")

    # -- building ------------------------------------------------------------------------

    @classmethod
    def from_goals(
        cls,
        goals: Iterable[Goal | Mapping[str, Any]],
        *,
        calendar: Calendar | None = None,
        roster: Roster | None = None,
    ) -> GoalGraph:
        """Check ``goals`` (:class:`Goal` objects or their plain data) as a graph.

        ``calendar`` reads period labels and dates (default: UTC, calendar years). With a
        ``roster``, owners must be employees (``person:``) or units (``team:``) in it.
        Raises :class:`~perfkit.errors.GoalGraphError` listing every problem.
        """
        from perfkit.goals.files import read_goals

        return read_goals(goals, calendar=calendar or Calendar(), roster=roster)

    @classmethod
    def from_dict(cls, data: Mapping[str, Any], *, roster: Roster | None = None) -> GoalGraph:
        """A graph from the plain data of a goal file (``{"perfkit_goals": 1, "goals": [...]}``)."""
        from perfkit.goals.files import build_file

        return build_file(data, source=None, positions={}, roster=roster)

    @classmethod
    def _build(
        cls,
        goals: Sequence[Goal],
        *,
        calendar: Calendar,
        roster: Roster | None,
        source: str | None = None,
        where: Mapping[int, str] | None = None,
        elsewhere: Mapping[str, str] | None = None,
    ) -> GoalGraph:
        """Check and assemble; ``where[i]`` is the field path of goal i in its file.

        ``elsewhere`` maps the ids of goals that could not be read (reported already) to
        their paths: links to them are not reported again, a reuse of their id is.
        """
        graph = object.__new__(cls)
        with _collector_paused():
            checker = _Checker(goals, calendar, roster, where or {}, elsewhere or {})
            problems = checker.run()
        if problems:
            raise one_error(problems, f"{len(problems)} problems in the goals", GoalGraphError)
        set_ = object.__setattr__
        set_(graph, "_goals", tuple(goals))
        set_(graph, "_index", checker.index)
        set_(graph, "_calendar", calendar)
        set_(graph, "_roster", roster)
        set_(graph, "_source", source)
        set_(graph, "_edges", tuple(checker.edges))
        set_(graph, "_periods", tuple(checker.periods))
        set_(graph, "_children", tuple(tuple(c) for c in checker.children))
        set_(graph, "_parents", tuple(tuple(p) for p in checker.parents))
        set_(graph, "_weights", tuple(checker.weights))
        set_(graph, "_order", tuple(checker.order))
        set_(graph, "_counted", tuple(checker.counted))
        set_(graph, "_formulas", checker.formulas)
        set_(graph, "_timelines", tuple(checker.timelines))
        set_(graph, "_cache", {})
        from perfkit.goals.rollup import plan_of

        with _collector_paused():
            plan_of(graph)  # compiled with the graph, so the first rollup costs no more than the next
        return graph

    def __setattr__(self, name: str, value: Any) -> None:
        raise AttributeError("a GoalGraph is immutable; its methods return a new graph")

    def _rebuilt(self, goals: Sequence[Goal]) -> GoalGraph:
        return GoalGraph._build(goals, calendar=self._calendar, roster=self._roster, source=self._source)

    # -- reading -------------------------------------------------------------------------

    @property
    def goals(self) -> tuple[Goal, ...]:
        """The goals, in the order they were given."""
        return self._goals

    @property
    def ids(self) -> tuple[str, ...]:
        return tuple(g.id for g in self._goals)

    @property
    def calendar(self) -> Calendar:
        return self._calendar

    @property
    def roster(self) -> Roster | None:
        return self._roster

    @property
    def nx(self) -> nx.DiGraph[str]:
        """The graph as a (frozen) networkx DiGraph: nodes are goal ids with a ``goal``
        attribute; edges run child → parent with ``kind`` and, for contributions, ``weight``.
        Built on first use (rollups do not need it)."""
        found = self._cache.get("nx")
        if found is None:
            built: nx.DiGraph[str] = nx.DiGraph()
            built.add_nodes_from((goal.id, {"goal": goal}) for goal in self._goals)
            built.add_edges_from(self._edges)
            found = self._cache["nx"] = nx.freeze(built)
        return found  # type: ignore[no-any-return]

    def __len__(self) -> int:
        return len(self._goals)

    def __iter__(self) -> Iterator[Goal]:
        return iter(self._goals)

    def __contains__(self, goal_id: object) -> bool:
        return goal_id in self._index

    def __getitem__(self, goal_id: str) -> Goal:
        return self._goals[self._position(goal_id)]

    def __repr__(self) -> str:
        return f"<GoalGraph: {len(self)} goals, {len(self._edges)} edges>"

    def period(self, goal_id: str) -> Period:
        """The goal's period, read with the graph's calendar."""
        return self._periods[self._position(goal_id)]

    def children(self, goal_id: str, kind: EdgeKind = "contributes") -> tuple[str, ...]:
        """The goals linked under ``goal_id`` by edges of ``kind``, in the order given."""
        position = self._position(goal_id)
        if kind == "contributes":
            return tuple(self._goals[c].id for c in self._children[position])
        return tuple(c for c in self.nx.predecessors(goal_id) if self.nx.edges[c, goal_id]["kind"] == kind)

    def parents(self, goal_id: str, kind: EdgeKind = "contributes") -> tuple[str, ...]:
        """The goals ``goal_id`` is linked to by edges of ``kind``."""
        goal = self[goal_id]
        return goal.parents if kind == "contributes" else goal.supports

    def roots(self) -> tuple[str, ...]:
        """Goals linked to no parent by either kind of edge (strategic roots, and orphans)."""
        return tuple(g.id for g in self._goals if not g.contributes_to and not g.supports)

    def ancestors(self, goal_id: str) -> tuple[str, ...]:
        """Every goal above ``goal_id`` by either kind of edge, nearest first."""
        self._position(goal_id)
        seen: dict[str, None] = {}
        frontier = [goal_id]
        while frontier:
            step = [p for g in frontier for p in self.nx.successors(g) if p not in seen and p != goal_id]
            seen.update(dict.fromkeys(step))
            frontier = list(dict.fromkeys(step))
        return tuple(seen)

    def descendants(self, goal_id: str) -> tuple[str, ...]:
        """Every goal below ``goal_id`` by either kind of edge, nearest first."""
        self._position(goal_id)
        seen: dict[str, None] = {}
        frontier = [goal_id]
        while frontier:
            step = [c for g in frontier for c in self.nx.predecessors(g) if c not in seen and c != goal_id]
            seen.update(dict.fromkeys(step))
            frontier = list(dict.fromkeys(step))
        return tuple(seen)

    def subgraph(self, goal_id: str) -> GoalGraph:
        """``goal_id`` and everything below it, as a graph of its own (links to goals
        outside it are dropped)."""
        keep = {goal_id, *self.descendants(goal_id)}
        goals = []
        for goal in self._goals:
            if goal.id not in keep:
                continue
            top = goal.id == goal_id
            links = () if top else tuple(c for c in goal.contributes_to if c.goal in keep)
            supports = () if top else tuple(s for s in goal.supports if s in keep)
            goals.append(goal.model_copy(update={"contributes_to": links, "supports": supports}))
        return self._rebuilt(goals)

    def owned_by(self, employee_id: str) -> tuple[str, ...]:
        """Ids of the goals a person owns (``person:<employee_id>``)."""
        return tuple(g.id for g in self._goals if g.owner.kind == "person" and g.owner.id == employee_id)

    def history(self, goal_id: str) -> tuple[dict[str, Any], ...]:
        """Everything that happened to a goal, oldest first, as plain data: its creation,
        each revision at the date it takes effect (with its reason, who proposed it, its
        state and who decided it when), and each check-in."""
        goal = self[goal_id]
        period = self.period(goal_id)
        start = self.instant(goal.created) if goal.created else period.start
        events: list[tuple[datetime.datetime, int, dict[str, Any]]] = [
            (start, 0, {"event": "created", "at": start.isoformat(), **goal.model_dump(mode="json", include={"target", "baseline"})})
        ]
        for n, revision in enumerate(goal.revisions):
            effective = self.instant(revision.effective)
            entry = {"event": "revision", "index": n, **revision.model_dump(mode="json", exclude_none=True)}
            events.append((effective, 1, entry))
        for checkin in goal.checkins:
            entry = {"event": "checkin", **checkin.model_dump(mode="json", exclude_none=True)}
            events.append((self.instant(checkin.at), 2, entry))
        events.sort(key=lambda e: (e[0], e[1]))
        return tuple(e for _, _, e in events)

    def instant(self, value: datetime.date | datetime.datetime | str) -> datetime.datetime:
        """A date (its start, in the graph's calendar), an aware time, or ISO text, as an aware time."""
        return _to_instant(value, self._calendar)

    def cutoff(self, as_of: datetime.date | datetime.datetime | str) -> datetime.datetime:
        """The first instant *after* ``as_of``: a date includes its whole day."""
        as_of = _parsed(as_of)
        if isinstance(as_of, datetime.datetime):
            if as_of.tzinfo is None:
                raise GoalGraphError(f"the time {as_of.isoformat()} has no time zone; add one or give a date")
            return as_of + datetime.timedelta(microseconds=1)
        return self._calendar.start_of(as_of + datetime.timedelta(days=1))

    def _position(self, goal_id: str) -> int:
        try:
            return self._index[goal_id]
        except (KeyError, TypeError):
            raise GoalGraphError(_unknown(goal_id, self._index), goals=(str(goal_id),)) from None

    # -- changing (each returns a new graph) ---------------------------------------------

    def add(self, *goals: Goal | Mapping[str, Any]) -> GoalGraph:
        """A new graph with ``goals`` added (their links are checked like the rest)."""
        from perfkit.goals.files import to_goal

        return self._rebuilt([*self._goals, *(to_goal(g) for g in goals)])

    def link(
        self, child: str, parent: str, *, kind: EdgeKind = "contributes", weight: object = None
    ) -> GoalGraph:
        """A new graph with an edge from ``child`` to ``parent``.

        Refused with a :class:`~perfkit.errors.GoalGraphError` when either goal is unknown,
        the edge exists, or it would close a cycle (the error names the goals around it).
        """
        for goal_id in (child, parent):
            self._position(goal_id)
        if child == parent:
            raise GoalGraphError(f"goal {child!r} cannot be linked to itself", goals=(child,))
        if self.nx.has_edge(child, parent):
            raise GoalGraphError(f"{child!r} is already linked to {parent!r}", goals=(child, parent))
        if nx.has_path(self.nx, parent, child):
            path = nx.shortest_path(self.nx, parent, child)
            cycle = (child, *path)
            raise GoalGraphError(
                f"linking {child!r} to {parent!r} would make a cycle: {' → '.join(cycle)}", goals=cycle
            )
        goal = self[child]
        if kind == "contributes":
            link = Contribution(goal=parent, weight=weight)  # type: ignore[arg-type]
            changed = goal.model_copy(update={"contributes_to": (*goal.contributes_to, link)})
        elif weight is not None:
            raise GoalGraphError("a supports edge carries no weight (it does not feed the rollup)", goals=(child,))
        else:
            changed = goal.model_copy(update={"supports": (*goal.supports, parent)})
        return self._replace(changed)

    def check_in(
        self,
        goal_id: str,
        value: object,
        *,
        at: datetime.date | datetime.datetime | str,
        note: str | None = None,
        by: str | None = None,
    ) -> GoalGraph:
        """A new graph with a check-in recorded on ``goal_id``."""
        goal = self[goal_id]
        checkin = _model(CheckIn, {"at": at, "value": value, "note": note, "by": by}, goal_id)
        return self._replace(goal.model_copy(update={"checkins": (*goal.checkins, checkin)}))

    def propose(
        self,
        goal_id: str,
        *,
        target: object,
        effective: datetime.date | datetime.datetime | str,
        reason: str,
        proposed_by: str,
        baseline: object = None,
    ) -> GoalGraph:
        """A new graph with a proposed target change; it applies once :meth:`approve`\\ d."""
        goal = self[goal_id]
        data = {"target": target, "effective": effective, "reason": reason, "proposed_by": proposed_by}
        if baseline is not None:
            data["baseline"] = baseline
        revision = _model(Revision, data, goal_id)
        return self._replace(goal.model_copy(update={"revisions": (*goal.revisions, revision)}))

    def approve(
        self, goal_id: str, *, by: str, at: datetime.date | datetime.datetime | str, revision: int = -1
    ) -> GoalGraph:
        """A new graph where a proposed revision (default: the latest) is approved by ``by`` at ``at``."""
        return self._decide(goal_id, "approved", by, at, revision)

    def reject(
        self, goal_id: str, *, by: str, at: datetime.date | datetime.datetime | str, revision: int = -1
    ) -> GoalGraph:
        """A new graph where a proposed revision (default: the latest) is rejected."""
        return self._decide(goal_id, "rejected", by, at, revision)

    def _decide(self, goal_id: str, state: str, by: str, at: object, index: int) -> GoalGraph:
        goal = self[goal_id]
        try:
            revision = goal.revisions[index]
        except IndexError:
            raise GoalGraphError(
                f"there is no revision {index} (the goal has {len(goal.revisions)})", goals=(goal_id,)
            ) from None
        if revision.state != "proposed":
            raise GoalGraphError(f"revision {index} was already {revision.state}", goals=(goal_id,))
        decided = _model(Revision, {**revision.model_dump(), "state": state, "decided_by": by, "decided_at": at}, goal_id)
        revisions = list(goal.revisions)
        revisions[index] = decided
        return self._replace(goal.model_copy(update={"revisions": tuple(revisions)}))

    def with_status(self, goal_id: str, status: str) -> GoalGraph:
        """A new graph with the goal's declared status changed (``closed``, ``archived``...)."""
        goal = self[goal_id]
        return self._replace(_model(Goal, {**goal.model_dump(), "status": status}, goal_id))

    def replace(self, *goals: Goal | Mapping[str, Any]) -> GoalGraph:
        """A new graph with each of ``goals`` put in place of the goal with the same id
        (the whole graph is checked again)."""
        from perfkit.goals.files import to_goal

        changed = list(self._goals)
        for goal in map(to_goal, goals):
            changed[self._position(goal.id)] = goal
        return self._rebuilt(changed)

    def _replace(self, goal: Goal) -> GoalGraph:
        return self.replace(goal)

    # -- computing -----------------------------------------------------------------------

    def rollup(
        self,
        as_of: datetime.date | datetime.datetime | str,
        *,
        metric_values: Mapping[str, object] | None = None,
    ) -> Any:
        """Every goal's value and progress as of a date: see :class:`perfkit.goals.Rollup`."""
        from perfkit.goals.rollup import Rollup

        return Rollup.compute(self, as_of, metric_values=metric_values)


# -- helpers --------------------------------------------------------------------------------


def _parsed(value: object) -> datetime.date | datetime.datetime:
    try:
        return parse_instant(value)
    except ValueError as exc:
        raise GoalGraphError(str(exc)) from None


def _to_instant(value: datetime.date | datetime.datetime | str, calendar: Calendar) -> datetime.datetime:
    value = _parsed(value)
    if isinstance(value, datetime.datetime):
        if value.tzinfo is None:
            raise GoalGraphError(f"the time {value.isoformat()} has no time zone; add one or give a date")
        return value
    return calendar.start_of(value)


def _model(model: type[Any], data: Mapping[str, Any], goal_id: str) -> Any:
    from pydantic import ValidationError

    try:
        return model.model_validate({k: v for k, v in data.items() if v is not None})
    except ValidationError as exc:
        first = exc.errors()[0]
        where = ".".join(str(p) for p in first["loc"])
        message = first["msg"].removeprefix("Value error, ")
        raise GoalGraphError(f"{where}: {message}" if where else message, goals=(goal_id,)) from None


def _link_field(n: int, contributions: int) -> str:
    """The field path of a goal's n-th link (its contributions first, then its supports)."""
    return f"contributes_to[{n}].goal" if n < contributions else f"supports[{n - contributions}]"


def _unknown(goal_id: object, known: Iterable[str], purpose: str = "") -> str:
    close = difflib.get_close_matches(str(goal_id), list(known), n=1)
    hint = f"; did you mean {close[0]!r}?" if close else ""
    return f"there is no goal {goal_id!r}{purpose}{hint}"


class _Checker:
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
        if schedule is not None and schedule.start is not None:
            if not bounds[0] <= tick(schedule.start) < bounds[1]:
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
                    self._within(i, p, _link_field(n, count))

    def _bad_link(self, i: int, goal: Goal, parent: str, n: int, count: int, seen: set[str]) -> None:
        field = _link_field(n, count)
        if parent == goal.id:
            self.problem("a goal cannot be linked to itself", (goal.id,), i, field)
        elif parent in seen:
            self.problem(f"{goal.id!r} is linked to {parent!r} twice", (goal.id, parent), i, field)
        elif parent not in self.elsewhere:
            self.problem(_unknown(parent, self.index, " to link to"), (goal.id, parent), i, field)

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
