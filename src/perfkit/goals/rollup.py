"""Rollup: every goal's value and progress as of a date, exactly, full or incremental.

**Own progress.** A goal measured against a number (check-ins, a metric, or a ``sum`` of
its children's values) uses the target *approved and in force* on the date (see
:class:`~perfkit.goals.Revision`) and its latest check-in at or before the date. Its
attainment is ``(value - baseline) / (target - baseline)`` (mirrored for ``decrease``)
through its curve. A goal with no check-in yet is at its baseline: progress 0, value None.

**From children.** ``weighted_average`` (the edge weights, or equal weights when none are
given), ``min``, a ``formula`` over the children's ids, or ``sum`` of their values toward
the parent's own target.

**Status.** What counts in a parent's rollup:

========== =========================================================================
draft      left out: not agreed yet. The other children's weights are scaled up.
active     counted.
expired    counted (an active goal past its period's end), with its latest check-in;
           flagged by :func:`~perfkit.goals.alignment_report` so someone closes it.
closed     counted, with its latest check-in (its final value).
archived   left out, like a draft.
========== =========================================================================

A goal whose children are all left out has no progress (None) and is left out of its own
parents' rollups in turn.

Arithmetic is Decimal in :data:`perfkit.numbers.CONTEXT`; the same inputs give the same
digits on every machine. :meth:`Rollup.with_checkin` updates one goal and then only its
ancestors; it gives exactly the numbers a full rollup of the graph with that check-in gives.
"""

from __future__ import annotations

import datetime
import decimal
import operator
from bisect import bisect_left, bisect_right
from collections.abc import Iterator, Mapping
from decimal import Decimal
from typing import Any, Literal

import attrs

from perfkit.errors import GoalGraphError
from perfkit.goals.checks import collector_paused, ticks
from perfkit.goals.graph import GoalGraph
from perfkit.goals.model import CheckIn, Revision, parse_instant
from perfkit.numbers import CONTEXT, percent, plain_text, to_decimal

__all__ = ["GoalProgress", "Rollup", "attainment"]

ShownStatus = Literal["draft", "active", "expired", "closed", "archived"]

_ONE = Decimal(1)
_ZERO = Decimal(0)
_SMALL_OVERLAY = 256
_LARGE_OVERLAY = 32_768
"""Incremental updates keep their changes in overlays of these sizes (see Rollup._evolved)."""


def attainment(
    value: Decimal,
    *,
    target: Decimal,
    baseline: Decimal = _ZERO,
    direction: str = "increase",
    curve: str = "linear",
    cap: Decimal | None = _ONE,
) -> Decimal:
    """How far ``value`` has come from ``baseline`` to ``target``, through the curve.

    >>> attainment(Decimal(30), target=Decimal(40))
    Decimal('0.75')
    >>> attainment(Decimal(12), target=Decimal(10), baseline=Decimal(20), direction="decrease")
    Decimal('0.8')
    """
    with decimal.localcontext(CONTEXT):
        return _attain(value, baseline, target, direction == "decrease", curve == "binary", cap)


def _attain(value: Decimal, baseline: Decimal, target: Decimal, decrease: bool, binary: bool, cap: Decimal | None) -> Decimal:
    ctx = CONTEXT
    if decrease:
        raw = ctx.divide(ctx.subtract(baseline, value), ctx.subtract(baseline, target))
    else:
        raw = ctx.divide(ctx.subtract(value, baseline), ctx.subtract(target, baseline))
    if binary:
        return _ONE if raw >= _ONE else _ZERO
    if raw < _ZERO:
        return _ZERO
    if cap is not None and raw > cap:
        return cap
    return raw


@attrs.frozen(kw_only=True)
class GoalProgress:
    """One goal's state as of a date.

    ``progress`` is the attainment after the curve, as a fraction (``0.75`` is 75%), or
    None when the goal has nothing to roll up. ``value`` is the measured value (the latest
    check-in, the metric's value, or the sum of the children's values), None when there is
    none. ``target`` and ``baseline`` are the ones in force on the date; ``revision`` is
    the approved revision that set them (None for the goal's own).
    """

    goal: str
    status: ShownStatus
    counted: bool
    """Whether it counts in its parents' rollups."""
    progress: Decimal | None
    value: Decimal | None
    target: Decimal | None
    baseline: Decimal | None
    checkin: CheckIn | None = None
    revision: Revision | None = None

    @property
    def percent(self) -> str:
        """Progress as a percentage with one decimal (``"75.0%"``), or ``"-"``."""
        return percent(self.progress)

    def to_dict(self) -> dict[str, Any]:
        def text(value: Decimal | None) -> str | None:
            return None if value is None else plain_text(value)

        data: dict[str, Any] = {
            "goal": self.goal,
            "status": self.status,
            "counted": self.counted,
            "progress": text(self.progress),
            "value": text(self.value),
            "target": text(self.target),
            "baseline": text(self.baseline),
        }
        if self.checkin is not None:
            data["checkin"] = self.checkin.model_dump(mode="json", exclude_none=True)
        if self.revision is not None:
            data["revision"] = self.revision.model_dump(mode="json", exclude_none=True)
        return data


# A goal's state: (value, progress, checkin, revision position)
_State = tuple[Decimal | None, Decimal | None, CheckIn | None, int]
_NOTHING: _State = (None, None, None, -1)
_BEFORE = -(2**63)
"""A time before any event."""

_WIDE = decimal.Context(prec=400, traps=[decimal.InvalidOperation, decimal.DivisionByZero, decimal.Overflow])
"""Sums of weighted progress are exact in this context, then rounded once in CONTEXT."""


@attrs.frozen(eq=False, slots=True)
class _Plan:
    """What a rollup needs from a graph, in flat lists by goal position (computed once)."""

    code: list[int]
    """0 check-ins, 1 metric, 2 weighted average, 3 sum, 4 min, 5 formula."""
    kids: list[tuple[int, ...]]
    """The counted contributing children."""
    weights: list[tuple[Decimal, ...] | None]
    """Their declared weights, or None for equal weights."""
    scale: list[Decimal]
    """The sum of those weights (1 when every weighted child counts)."""
    rank: list[int]
    """Each goal's position in the topological order (children before parents)."""
    measure: list[tuple[Decimal | None, Decimal, bool, bool, Decimal | None]]
    """(target, baseline, decrease, binary, cap) as declared."""
    terms: list[tuple[tuple[Decimal, Decimal], ...]]
    """(target, baseline) after each approved revision, in the order they apply."""
    own: list[int]
    """Goals measured by a metric (computed by each rollup)."""
    rolled: list[int]
    """Goals made from their children, children first."""
    base: list[_State]
    """Each check-in goal's state once its last check-in and revision have happened (the
    other goals' states are filled in by each rollup)."""
    steps: list[tuple[tuple[int, ...], tuple[_State, ...]] | None]
    """For check-in goals with events: their states over time (see :func:`_steps`)."""
    uniform: list[Decimal | None]
    """For weighted children that all weigh the same: that weight (one multiplication)."""
    last_times: list[int]
    """The times of those last events, sorted (:func:`~perfkit.goals.graph.ticks`)."""
    last_goals: list[int]
    """The check-in goals in that order: those from ``bisect(last_times, cutoff)`` on have
    an event at or after the cutoff, and are computed by each rollup."""


_CODES = {"checkins": 0, "metric": 1}
_ROLLUPS = {"weighted_average": 2, "sum": 3, "min": 4, "formula": 5}


def plan_of(graph: GoalGraph) -> _Plan:
    """The graph's rollup plan, computed once and kept with the graph."""
    cache: dict[str, Any] = graph._cache
    plan = cache.get("plan")
    if plan is None:
        with decimal.localcontext(_WIDE):
            plan = cache["plan"] = _make_plan(graph)
    return plan


def _make_plan(graph: GoalGraph) -> _Plan:
    goals = graph._goals
    counted = graph._counted
    code: list[int] = []
    kids: list[tuple[int, ...]] = []
    weights: list[tuple[Decimal, ...] | None] = []
    scale: list[Decimal] = []
    measure: list[tuple[Decimal | None, Decimal, bool, bool, Decimal | None]] = []
    terms: list[tuple[tuple[Decimal, Decimal], ...]] = []
    for i, goal in enumerate(goals):
        mode = goal.mode
        code.append(_CODES[mode] if mode != "children" else _ROLLUPS[goal.rollup])
        children = graph._children[i]
        keep = tuple(c for c in children if counted[c])
        declared = graph._weights[i]
        if declared is None or not keep:
            weights.append(None)
            scale.append(_ONE)
        else:
            by_child = dict(zip(children, declared))
            chosen = tuple(by_child[c] for c in keep)
            total = sum(chosen, _ZERO)
            if not total:
                keep = ()  # only 0% children count: nothing to scale up, no progress
            weights.append(chosen if total else None)
            scale.append(total if len(keep) != len(children) else _ONE)
        kids.append(keep)
        measure.append((goal.target, goal.baseline, goal.direction == "decrease", goal.curve == "binary", goal.cap))
        revised: list[tuple[Decimal, Decimal]] = []
        baseline = goal.baseline
        for revision in graph._timelines[i].revisions:
            baseline = baseline if revision.baseline is None else revision.baseline
            revised.append((revision.target, baseline))
        terms.append(tuple(revised))
    rank = [0] * len(goals)
    for position, i in enumerate(graph._order):
        rank[i] = position
    own = [i for i in graph._order if code[i] == 1]
    rolled = [i for i in graph._order if code[i] >= 2]
    base = [_NOTHING] * len(goals)
    steps: list[tuple[tuple[int, ...], tuple[_State, ...]] | None] = [None] * len(goals)
    timed: list[tuple[int, int]] = []
    timelines = graph._timelines
    for i, c in enumerate(code):
        if c == 0:
            timeline = timelines[i]
            times, states = _steps(measure[i], terms[i], timeline.checkin_times, timeline.checkins, timeline.revision_times)
            base[i] = states[-1]
            if len(times) > 1:
                steps[i] = (times, states)
                timed.append((times[-1], i))
    timed.sort()
    uniform = [_uniform(w) for w in weights]
    return _Plan(
        code=code, kids=kids, weights=weights, uniform=uniform, scale=scale, rank=rank, measure=measure,
        terms=terms, own=own, rolled=rolled, base=base, steps=steps,
        last_times=[t for t, _ in timed], last_goals=[i for _, i in timed],
    )


def _uniform(weights: tuple[Decimal, ...] | None) -> Decimal | None:
    """The weight every child has, when they all have the same one (8 × 12.5%)."""
    if weights and all(w == weights[0] for w in weights):
        return weights[0]
    return None


def _steps(
    measure: tuple[Decimal | None, Decimal, bool, bool, Decimal | None],
    terms: tuple[tuple[Decimal, Decimal], ...],
    checkin_times: tuple[int, ...],
    checkins: tuple[CheckIn, ...],
    revision_times: tuple[int, ...],
) -> tuple[tuple[int, ...], tuple[_State, ...]]:
    """A check-in goal's state before any event and after each time something happens.

    ``times[0]`` stands for "before everything"; ``states[j]`` holds from ``times[j]`` on
    (until the next time), so a cutoff picks ``states[bisect_left(times, cutoff) - 1]``.
    """
    times = [_BEFORE]
    states = [_measured(measure, terms, -1, None)]
    for t in sorted(set(checkin_times) | set(revision_times)):
        latest = bisect_right(checkin_times, t)
        revision = bisect_right(revision_times, t) - 1
        times.append(t)
        states.append(_measured(measure, terms, revision, checkins[latest - 1] if latest else None))
    return tuple(times), tuple(states)


def _measured(
    measure: tuple[Decimal | None, Decimal, bool, bool, Decimal | None],
    terms: tuple[tuple[Decimal, Decimal], ...],
    revision: int,
    checkin: CheckIn | None,
    value: Decimal | None = None,
) -> _State:
    """A measured goal's state from its value (a check-in's, or ``value``) and the terms in force."""
    target, baseline, decrease, binary, cap = measure
    if revision >= 0:
        target, baseline = terms[revision]
    if checkin is not None:
        value = checkin.value
    if value is None or target is None:
        return (None, _ZERO, None, revision)
    return (value, _attain(value, baseline, target, decrease, binary, cap), checkin, revision)


def _average(plan: _Plan, i: int, progress: list[Any]) -> Decimal:
    """The weighted average of the counted children's ``progress`` (Decimals: a counted
    child always has progress): exact, rounded once.

    Runs in :data:`_WIDE`. Children that all weigh the same are summed and multiplied
    once, which gives the same exact total.
    """
    weights = plan.weights[i]
    if weights is None:
        return CONTEXT.divide(sum(progress, _ZERO), len(progress))
    common = plan.uniform[i]
    total = common * sum(progress, _ZERO) if common is not None else sum(map(operator.mul, weights, progress), _ZERO)
    scale = plan.scale[i]
    return CONTEXT.plus(total) if scale is _ONE else CONTEXT.divide(total, scale)


def _rolled(plan: _Plan, i: int, state_of: Any, rollup: Rollup) -> _State:
    """A rolled-up goal's state from its children's (``state_of(child)``).

    Runs in :data:`_WIDE`, so the sums are exact; each result is rounded once in CONTEXT.
    """
    code = plan.code[i]
    kids = plan.kids[i]
    revision = rollup._revision(i) if plan.terms[i] else -1
    if not kids:
        return (None, None, None, revision)
    if code == 2:
        return (None, _average(plan, i, [state_of(c)[1] for c in kids]), None, revision)
    if code == 4:
        return (None, min([state_of(c)[1] for c in kids]), None, revision)
    if code == 5:
        with decimal.localcontext(CONTEXT):
            return (None, rollup._formula(i, state_of), None, revision)
    value = sum([v for v in (state_of(c)[0] for c in kids) if v is not None], _ZERO)
    return _measured(plan.measure[i], plan.terms[i], revision, None, value)


class Rollup:
    """Every goal's value and progress as of a date. Build one with
    :meth:`GoalGraph.rollup <perfkit.goals.GoalGraph.rollup>`; read it by goal id.

    A Rollup is immutable: :meth:`with_checkin` returns a new one that shares what did
    not change.
    """

    __slots__ = ("_cutoff", "_graph", "_metrics", "_older", "_overlay", "_plan", "_state", "_tick", "as_of")

    as_of: datetime.date | datetime.datetime | str
    """The date (or time) the rollup is for, as given."""
    _graph: GoalGraph
    _plan: _Plan
    _cutoff: datetime.datetime
    _tick: int
    _metrics: dict[int, Decimal]
    _state: list[_State]
    _older: dict[int, _State]
    _overlay: dict[int, _State]

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        raise TypeError("build a Rollup with GoalGraph.rollup(as_of)")

    @classmethod
    def compute(
        cls,
        graph: GoalGraph,
        as_of: datetime.date | datetime.datetime | str,
        *,
        metric_values: Mapping[str, object] | None = None,
    ) -> Rollup:
        """The full rollup of ``graph`` as of ``as_of`` (a date includes its whole day).

        ``metric_values`` maps the ids of metric-bound goals to their values (numbers, or
        :class:`~perfkit.metrics.MetricValue`\\ s as :func:`perfkit.goals.metric_values`
        gives them); a metric-bound goal missing from it has no value yet.
        """
        rollup = object.__new__(cls)
        plan = plan_of(graph)
        cutoff = graph.cutoff(as_of)
        metrics = _metric_inputs(graph, metric_values or {})
        set_ = object.__setattr__
        set_(rollup, "as_of", as_of)
        set_(rollup, "_graph", graph)
        set_(rollup, "_plan", plan)
        set_(rollup, "_cutoff", cutoff)
        set_(rollup, "_metrics", metrics)
        set_(rollup, "_older", {})
        set_(rollup, "_overlay", {})
        set_(rollup, "_tick", ticks(cutoff))
        state = list(plan.base)
        set_(rollup, "_state", state)
        with decimal.localcontext(_WIDE), collector_paused():
            own = rollup._own
            tick = rollup._tick
            steps = plan.steps
            for i in plan.last_goals[bisect_left(plan.last_times, tick) :]:
                times, states = steps[i]  # type: ignore[misc]
                state[i] = states[bisect_left(times, tick) - 1]  # something happens at or after the cutoff
            for i in plan.own:
                state[i] = own(i, None)
            get = state.__getitem__
            code, kids, terms = plan.code, plan.kids, plan.terms
            for i in plan.rolled:
                if code[i] == 2 and kids[i] and not terms[i]:  # the common case, inline
                    state[i] = (None, _average(plan, i, [state[c][1] for c in kids[i]]), None, -1)
                else:
                    state[i] = _rolled(plan, i, get, rollup)
        return rollup

    def __setattr__(self, name: str, value: Any) -> None:
        raise AttributeError("a Rollup is immutable; with_checkin returns a new one")

    # -- computing one goal ----------------------------------------------------------------

    def _revision(self, i: int) -> int:
        """The position of the approved revision in force at the cutoff, or -1."""
        return bisect_left(self._graph._timelines[i].revision_times, self._tick) - 1

    def _own(self, i: int, checkin: CheckIn | None) -> _State:
        """A goal measured on its own, as of the cutoff (``checkin``: a newer one to use)."""
        plan = self._plan
        terms = plan.terms[i]
        revision = self._revision(i) if terms else -1
        if plan.code[i] == 1:
            return _measured(plan.measure[i], terms, revision, None, self._metrics.get(i))
        if checkin is None:
            found = plan.steps[i]
            if found is None:
                return plan.base[i]  # nothing ever happened to it
            return found[1][bisect_left(found[0], self._tick) - 1]
        return _measured(plan.measure[i], terms, revision, checkin)

    def _formula(self, i: int, state_of: Any) -> Decimal:
        graph = self._graph
        formula = graph._formulas[i]
        counted = set(self._plan.kids[i])
        env = {graph._goals[c].id: (state_of(c)[1] if c in counted else _ZERO) for c in graph._children[i]}
        try:
            result = formula.fast(env)
        except ArithmeticError:
            from perfkit.errors import DataError

            try:
                with decimal.localcontext(CONTEXT):
                    formula(env)
            except DataError as exc:
                raise GoalGraphError(f"the rollup formula fails: {exc}", goals=(graph._goals[i].id,)) from None
            raise
        return result  # type: ignore[return-value]

    def _state_of(self, i: int) -> _State:
        found = self._overlay.get(i)
        if found is None:
            found = self._older.get(i)
            if found is None:
                return self._state[i]
        return found

    # -- reading ---------------------------------------------------------------------------

    @property
    def graph(self) -> GoalGraph:
        return self._graph

    def __len__(self) -> int:
        return len(self._state)

    def __iter__(self) -> Iterator[GoalProgress]:
        for goal in self._graph._goals:
            yield self[goal.id]

    def __getitem__(self, goal_id: str) -> GoalProgress:
        i = self._graph._position(goal_id)
        value, progress, checkin, revision = self._state_of(i)
        plan = self._plan
        target, baseline = plan.measure[i][:2]
        if revision >= 0:
            target, baseline = plan.terms[i][revision]
        measured = plan.code[i] in (0, 1, 3)
        return GoalProgress(
            goal=goal_id,
            status=self.status(goal_id),
            counted=self._graph._counted[i] and progress is not None,
            progress=progress,
            value=value,
            target=target,
            baseline=baseline if measured else None,
            checkin=checkin,
            revision=self._graph._timelines[i].revisions[revision] if revision >= 0 else None,
        )

    def progress(self, goal_id: str) -> Decimal | None:
        """The goal's progress as a fraction (``Decimal('0.75')``), or None."""
        return self._state_of(self._graph._position(goal_id))[1]

    def status(self, goal_id: str) -> ShownStatus:
        """The goal's status on the date: its declared one, or ``expired`` for an active goal
        whose period has ended."""
        i = self._graph._position(goal_id)
        declared = self._graph._goals[i].status
        if declared == "active" and self._cutoff > self._graph._periods[i].end_utc:
            return "expired"
        return declared

    def to_rows(self) -> list[dict[str, Any]]:
        """One plain row per goal (id, title, owner, status, progress, value, target)."""
        rows = []
        for goal in self._graph._goals:
            state = self[goal.id].to_dict()
            state.pop("checkin", None)
            state.pop("revision", None)
            rows.append({"goal": goal.id, "title": goal.title, "owner": str(goal.owner), **state})
        return rows

    def contributions(self, goal_id: str) -> tuple[tuple[str, Decimal, Decimal | None], ...]:
        """How a rolled-up goal's progress is made: (child, weight used, child's progress)
        for each contributing child (weight 0 for a child left out)."""
        i = self._graph._position(goal_id)
        plan = self._plan
        kids = plan.kids[i]
        weights = plan.weights[i]
        used: dict[int, Decimal] = {}
        with decimal.localcontext(CONTEXT):
            if kids and plan.code[i] == 2 and weights:
                used = {c: w / plan.scale[i] for c, w in zip(kids, weights)}
            elif kids and plan.code[i] == 2:
                used = {c: _ONE / len(kids) for c in kids}
            elif kids:
                used = {c: _ONE for c in kids}
        return tuple(
            (self._graph._goals[c].id, used.get(c, _ZERO), self._state_of(c)[1]) for c in self._graph._children[i]
        )

    # -- incremental -----------------------------------------------------------------------

    def with_checkin(
        self,
        goal_id: str,
        value: object,
        *,
        at: datetime.date | datetime.datetime | str,
        note: str | None = None,
        by: str | None = None,
    ) -> Rollup:
        """A new rollup with a check-in on ``goal_id``, recomputing only it and its ancestors.

        Gives the same numbers as ``graph.check_in(...).rollup(as_of)``. The check-in must be
        at or before the rollup's date (a later one does not count as of that date).
        """
        graph = self._graph
        i = graph._position(goal_id)
        if self._plan.code[i] != 0:
            raise GoalGraphError(f"progress of {goal_id!r} is not from check-ins ({graph._goals[i].mode})", goals=(goal_id,))
        checkin, when = _new_checkin(graph, goal_id, value, at, note, by)
        if when >= self._cutoff:
            raise GoalGraphError(
                f"the check-in at {checkin.at} is after the rollup's date ({self.as_of}), so it does not count in it",
                goals=(goal_id,),
            )
        current = self._state_of(i)[2]
        if current is not None and when < graph.instant(current.at):
            return self._evolved({})  # an older check-in does not change the value
        changes: dict[int, _State] = {}
        overlay, older, base = self._overlay, self._older, self._state

        def state_of(k: int) -> _State:  # changes, then the overlays, then the arrays
            found = changes.get(k)
            if found is None:
                found = overlay.get(k)
                if found is None:
                    found = older.get(k)
                    if found is None:
                        return base[k]
            return found

        with decimal.localcontext(_WIDE):
            changes[i] = self._own(i, checkin)
            plan = self._plan
            rank = plan.rank
            parents = graph._parents
            todo = {p: rank[p] for p in parents[i]}
            while todo:
                k = min(todo, key=todo.__getitem__)
                del todo[k]
                changes[k] = _rolled(plan, k, state_of, self)
                for p in parents[k]:
                    todo[p] = rank[p]
        return self._evolved(changes)

    def _evolved(self, changes: dict[int, _State]) -> Rollup:
        """A rollup sharing this one's arrays, with ``changes`` on top.

        Changes go to a small overlay that is copied on each update; when it grows, it is
        merged into a larger one, and that into a fresh copy of the arrays, so that a long
        stream of updates costs little per update.
        """
        rollup = object.__new__(Rollup)
        set_ = object.__setattr__
        for name in ("as_of", "_graph", "_plan", "_cutoff", "_tick", "_metrics"):
            set_(rollup, name, getattr(self, name))
        overlay = {**self._overlay, **changes}
        older = self._older
        state = self._state
        if len(overlay) > _SMALL_OVERLAY:
            older = {**older, **overlay}
            overlay = {}
            if len(older) > _LARGE_OVERLAY:
                state = list(state)
                for k, v in older.items():
                    state[k] = v
                older = {}
        set_(rollup, "_state", state)
        set_(rollup, "_older", older)
        set_(rollup, "_overlay", overlay)
        return rollup


def _new_checkin(
    graph: GoalGraph, goal_id: str, value: object, at: object, note: str | None, by: str | None
) -> tuple[CheckIn, datetime.datetime]:
    """A check-in read like one in a goal file; a GoalGraphError naming the goal otherwise."""
    try:
        if isinstance(value, bool):
            raise ValueError("a check-in value is a number, not true/false")
        number = to_decimal(value)
        when = parse_instant(at)
    except (ValueError, GoalGraphError) as exc:
        message = exc.message if isinstance(exc, GoalGraphError) else str(exc)
        raise GoalGraphError(f"the check-in cannot be read: {message}", goals=(goal_id,)) from None
    checkin = CheckIn.model_construct(at=when, value=number, note=note, by=by)
    return checkin, graph.instant(when)


def _metric_inputs(graph: GoalGraph, values: Mapping[str, object]) -> dict[int, Decimal]:
    result: dict[int, Decimal] = {}
    for goal_id, value in values.items():
        i = graph._position(goal_id)
        if graph._goals[i].mode != "metric":
            raise GoalGraphError(f"goal {goal_id!r} is not bound to a metric, so it takes no metric value", goals=(goal_id,))
        raw = getattr(value, "value", value)
        if raw is None:
            continue
        try:
            result[i] = to_decimal(raw)
        except ValueError as exc:
            raise GoalGraphError(f"the metric value is not a number: {exc}", goals=(goal_id,)) from None
    return result
