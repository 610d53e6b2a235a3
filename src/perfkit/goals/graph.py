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

import datetime
from collections.abc import Iterable, Iterator, Mapping, Sequence
from decimal import Decimal
from typing import Any, Literal

import networkx as nx

from perfkit.errors import GoalGraphError, one_error
from perfkit.goals.checks import Checker, Timeline, collector_paused, unknown_goal
from perfkit.goals.model import CheckIn, Contribution, Goal, Revision, parse_instant
from perfkit.org import Roster
from perfkit.periods import Calendar, Period
from perfkit.rules.formula import Formula

__all__ = ["EdgeKind", "GoalGraph"]

EdgeKind = Literal["contributes", "supports"]
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
        "_counted",
        "_edges",
        "_formulas",
        "_goals",
        "_index",
        "_order",
        "_parents",
        "_periods",
        "_roster",
        "_source",
        "_timelines",
        "_weights",
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
        with collector_paused():
            checker = Checker(goals, calendar, roster, where or {}, elsewhere or {})
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

        with collector_paused():
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
            raise GoalGraphError(unknown_goal(goal_id, self._index), goals=(str(goal_id),)) from None

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
            link = _model(Contribution, {"goal": parent, "weight": weight}, child)
            changed = goal.model_copy(update={"contributes_to": (*goal.contributes_to, link)})
        elif weight is not None:
            raise GoalGraphError("a supports edge carries no weight (it does not feed the rollup)", goals=(child,))
        else:
            changed = goal.model_copy(update={"supports": (*goal.supports, parent)})
        return self._replace(changed)

    def reweight(self, parent: str, weights: Mapping[str, object]) -> GoalGraph:
        """A new graph where the goals contributing to ``parent`` are exactly ``weights``'
        keys, with those weights (``{"a": "50%", "b": "30%", "new": "20%"}``).

        A goal named here that does not contribute to ``parent`` yet is linked to it (so a
        weighted child can be added in one step); every current child must be named. The
        weights are checked like any others: they must sum to exactly 100%.
        """
        self._position(parent)
        current = set(self.children(parent))
        missing = sorted(current - set(weights))
        if missing:
            raise GoalGraphError(
                f"name every child of {parent!r} with its weight; missing: {', '.join(missing)}",
                goals=(parent, *missing),
            )
        changed = []
        for child, weight in weights.items():
            goal = self[child]
            if child not in current and nx.has_path(self.nx, parent, child):
                return self.link(child, parent, weight=weight)  # refused there, naming the cycle
            link = _model(Contribution, {"goal": parent, "weight": weight}, child)
            kept = tuple(c for c in goal.contributes_to if c.goal != parent)
            changed.append(goal.model_copy(update={"contributes_to": (*kept, link)}))
        return self.replace(*changed)

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
