"""What goals measure for people and for metric-bound goals.

- :func:`metric_values`: the values of metric-bound goals, computed from source records
  for each goal's owner over its period up to a date (give them to ``graph.rollup``).
- :func:`personal_attainment`: one person's goal attainment as of a date, with the goals
  and check-ins behind it (:class:`GoalTrace`), as a scheme input reads it.

A person's **attainment** is the plain average of the progress of their *top goals*: the
goals they own (of the chosen kinds) that count in rollups and do not contribute to
another goal of theirs that is also chosen. A person with one objective over three
weighted key results gets the objective's progress, which is the weighted progress of the
key results; a person with key results under a team objective gets their average.
"""

from __future__ import annotations

import datetime
import decimal
from collections.abc import Collection, Iterable
from decimal import Decimal
from typing import Any

import attrs

from perfkit.errors import GoalGraphError
from perfkit.goals.graph import GoalGraph
from perfkit.goals.model import CheckIn, Revision
from perfkit.goals.rollup import Rollup
from perfkit.numbers import CONTEXT, percent, plain_text
from perfkit.org import Roster

__all__ = ["Attainment", "GoalTrace", "metric_values", "personal_attainment"]


def metric_values(
    graph: GoalGraph,
    definitions: Any,
    records: Any,
    *,
    as_of: datetime.date | datetime.datetime | str,
    roster: Roster | None = None,
) -> dict[str, Any]:
    """The value of each metric-bound goal as of a date: goal id → ``MetricValue``.

    Each goal's metric is computed with :func:`perfkit.metrics.compute` for its owner (an
    employee id, or a unit id when the metric rolls up by ``team``) from the start of the
    goal's period to ``as_of`` (or the period's end, if sooner): the records that happened
    by then, whenever they were loaded (for the data as it stood on a day, pass
    ``store.as_of(...)``'s records). A goal whose owner has no value is left out.
    ``definitions`` must define every metric a goal names (a GoalGraphError lists those
    it does not).
    """
    from perfkit.metrics.compute import compute
    from perfkit.metrics.definitions import MetricDefinitions

    bound = [g for g in graph.goals if g.mode == "metric"]
    if not bound:
        return {}
    known = set(definitions.ids if isinstance(definitions, MetricDefinitions) else definitions.definitions.ids)
    missing = [g for g in bound if g.metric not in known]
    if missing:
        names = ", ".join(f"{g.id} ({g.metric})" for g in missing)
        raise GoalGraphError(f"the definitions lack the metrics these goals name: {names}", goals=tuple(g.id for g in missing))
    cutoff = graph.cutoff(as_of)
    windows: dict[tuple[datetime.datetime, datetime.datetime], list[Any]] = {}
    for goal in bound:
        period = graph.period(goal.id)
        end = min(period.end_utc, cutoff)
        if end > period.start_utc:
            windows.setdefault((period.start_utc, end), []).append(goal)
    values: dict[str, Any] = {}
    for (start, end), goals in sorted(windows.items()):
        calendar = graph.calendar
        window = calendar.custom(calendar.to_local(start), calendar.to_local(end), label=f"{goals[0].period} to {as_of}")
        wanted = sorted({g.metric for g in goals})
        results = compute(definitions, records, window, roster=roster, metrics=wanted)
        for goal in goals:
            owner = goal.owner.id or ""
            if owner in results.values:
                values[goal.id] = results.values[owner][goal.metric]
    return values


@attrs.frozen(kw_only=True)
class GoalTrace:
    """One goal's part in a result: its progress and what made it, down to check-ins."""

    goal: str
    title: str
    kind: str
    owner: str
    status: str
    progress: Decimal | None
    value: Decimal | None
    target: Decimal | None
    baseline: Decimal | None
    weight: Decimal | None = None
    """Its weight where it was used (in an attainment, or under its parent)."""
    checkin: CheckIn | None = None
    revision: Revision | None = None
    rollup: str | None = None
    """How its progress was made from its children (``weighted_average``...), if it was."""
    children: tuple[GoalTrace, ...] = ()

    def to_dict(self) -> dict[str, Any]:
        def text(value: Decimal | None) -> str | None:
            return None if value is None else plain_text(value)

        data: dict[str, Any] = {
            "goal": self.goal,
            "title": self.title,
            "kind": self.kind,
            "owner": self.owner,
            "status": self.status,
            "progress": text(self.progress),
            "value": text(self.value),
            "target": text(self.target),
            "baseline": text(self.baseline),
            "weight": text(self.weight),
        }
        if self.checkin is not None:
            data["checkin"] = self.checkin.model_dump(mode="json", exclude_none=True)
        if self.revision is not None:
            data["revision"] = self.revision.model_dump(mode="json", exclude_none=True)
        if self.rollup is not None:
            data["rollup"] = self.rollup
            data["children"] = [c.to_dict() for c in self.children]
        return data

    def lines(self, depth: int = 0) -> list[str]:
        """Readable lines, children indented below."""
        pad = "  " * depth
        share = f"{percent(self.weight)} × " if self.weight is not None else ""
        head = f"{pad}{share}{self.goal} {self.title} ({self.kind}, {self.status}): progress {percent(self.progress)}"
        if self.target is not None and self.value is not None:
            head += f", {plain_text(self.value)} of target {plain_text(self.target)}"
            if self.baseline:
                head += f" from {plain_text(self.baseline)}"
        elif self.target is not None:
            head += f", no value yet (target {plain_text(self.target)})"
        out = [head]
        if self.revision is not None:
            r = self.revision
            out.append(f"{pad}    target revised from {r.effective}: {r.reason} (by {r.proposed_by}, approved by {r.decided_by})")
        if self.checkin is not None:
            c = self.checkin
            note = f' "{c.note}"' if c.note else ""
            by = f" by {c.by}" if c.by else ""
            out.append(f"{pad}    check-in {c.at}: {plain_text(c.value)}{by}{note}")
        if self.rollup is not None:
            out.append(f"{pad}    {self.rollup.replace('_', ' ')} of:")
            for child in self.children:
                out.extend(child.lines(depth + 2))
        return out


def trace(rollup: Rollup, goal_id: str, *, weight: Decimal | None = None, depth: int = 8) -> GoalTrace:
    """The goal's state in ``rollup`` and, for a rolled-up goal, its children's (``depth`` levels)."""
    graph = rollup.graph
    goal = graph[goal_id]
    state = rollup[goal_id]
    children: tuple[GoalTrace, ...] = ()
    method = None
    if goal.mode == "children":
        method = goal.rollup
        if depth > 0:
            children = tuple(
                trace(rollup, child, weight=used, depth=depth - 1) for child, used, _ in rollup.contributions(goal_id)
            )
    return GoalTrace(
        goal=goal.id,
        title=goal.title,
        kind=goal.kind,
        owner=str(goal.owner),
        status=state.status,
        progress=state.progress,
        value=state.value,
        target=state.target,
        baseline=state.baseline,
        weight=weight,
        checkin=state.checkin,
        revision=state.revision,
        rollup=method,
        children=children,
    )


@attrs.frozen(kw_only=True)
class Attainment:
    """A person's goal attainment: the average progress of their top goals, with traces."""

    employee: str
    value: Decimal | None
    """None when the person has no counted goal of the chosen kinds."""
    goals: tuple[GoalTrace, ...]

    def to_dict(self) -> dict[str, Any]:
        return {
            "employee": self.employee,
            "value": None if self.value is None else plain_text(self.value),
            "goals": [g.to_dict() for g in self.goals],
        }


def personal_attainment(
    rollup: Rollup, employee: str, *, kinds: Collection[str] | None = None
) -> Attainment:
    """``employee``'s attainment in ``rollup`` (see the module's docs for which goals count)."""
    graph = rollup.graph
    chosen = [
        goal_id
        for goal_id in graph.owned_by(employee)
        if (kinds is None or graph[goal_id].kind in kinds) and rollup[goal_id].counted
    ]
    mine = set(chosen)
    top = sorted(g for g in chosen if not any(p in mine for p in graph.parents(g)))
    if not top:
        return Attainment(employee=employee, value=None, goals=())
    with decimal.localcontext(CONTEXT):
        share = Decimal(1) / len(top)
        total = sum((rollup.progress(g) or Decimal(0) for g in top), Decimal(0))
        value = total / len(top)
    return Attainment(employee=employee, value=value, goals=tuple(trace(rollup, g, weight=share) for g in top))


def owners(graph: GoalGraph) -> Iterable[str]:
    """Employee ids owning at least one goal, sorted."""
    return sorted({g.owner.id for g in graph.goals if g.owner.kind == "person" and g.owner.id})
