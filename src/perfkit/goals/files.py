"""Reading goal files (YAML or JSON) into a checked :class:`~perfkit.goals.GoalGraph`.

Every problem of a file is reported together, in one
:class:`~perfkit.errors.GoalGraphError`: the shape of each goal (pydantic), then the graph
as a whole. Each problem names the file, the line, the field path and the goal ids.
"""

from __future__ import annotations

import difflib
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any

from pydantic import ValidationError

from perfkit._files import Positions, dump_json, dump_yaml, line_of, read_file, read_text
from perfkit.errors import GoalGraphError, PerfkitError, SchemeError, one_error
from perfkit.goals.checks import collector_paused
from perfkit.goals.graph import GoalGraph
from perfkit.goals.model import CalendarSpec, Goal, GoalFile
from perfkit.org import Roster
from perfkit.periods import Calendar

__all__ = ["dump_goals", "load_goals", "validate_goals"]


def load_goals(
    path: str | Path,
    *,
    roster: Roster | None = None,
    metrics: Iterable[str] | Any = None,
) -> GoalGraph:
    """Read a goal file (``.yaml``, ``.yml`` or ``.json``) and check it as a graph.

    With a ``roster``, owners must be in it. With ``metrics`` (metric definitions, or
    their ids), every metric a goal is bound to must be defined. Raises
    :class:`~perfkit.errors.GoalGraphError` listing every problem of the file.
    """
    source = str(path)
    text = read_file(path, lambda reason: GoalGraphError(reason, source=source))
    try:
        data, positions = read_text(text, source=source)
    except SchemeError as exc:
        raise GoalGraphError(exc.message, source=source, line=exc.line) from None
    return build_file(data, source=source, positions=positions, roster=roster, metrics=metrics)


def validate_goals(
    goals: str | Path | Mapping[str, Any], *, roster: Roster | None = None, metrics: Any = None
) -> list[GoalGraphError]:
    """Every problem of a goal file (a path or its plain data), without raising."""
    try:
        if isinstance(goals, Mapping):
            build_file(goals, source=None, positions={}, roster=roster, metrics=metrics)
        else:
            load_goals(goals, roster=roster, metrics=metrics)
    except GoalGraphError as exc:
        return [p for p in exc.problems if isinstance(p, GoalGraphError)]
    return []


def dump_goals(graph: GoalGraph, *, fmt: str = "yaml") -> str:
    """The graph as goal-file text (``yaml`` or ``json``); loading it gives the same graph."""
    if fmt not in ("yaml", "json"):
        raise GoalGraphError(f"a goal file is written as yaml or json, not {fmt!r}")
    calendar = graph.calendar
    data: dict[str, Any] = {"perfkit_goals": 1}
    if (calendar.tz, calendar.fiscal_year_start) != ("UTC", 1):
        data["calendar"] = {"tz": calendar.tz, "fiscal_year_start": calendar.fiscal_year_start}
    data["goals"] = [g.to_dict() for g in graph.goals]
    return dump_json(data) if fmt == "json" else dump_yaml(data)


def to_goal(value: Goal | Mapping[str, Any]) -> Goal:
    """A goal from a :class:`Goal` or its plain data; a GoalGraphError names what is wrong."""
    goal, problems = _read_goal(value, "goal")
    if goal is None:
        raise one_error(problems, f"{len(problems)} problems in the goal", GoalGraphError)
    return goal


def read_goals(
    goals: Iterable[Goal | Mapping[str, Any]], *, calendar: Calendar, roster: Roster | None
) -> GoalGraph:
    items = list(goals)
    problems: list[GoalGraphError] = []
    parsed: list[Goal] = []
    with collector_paused():
        for i, item in enumerate(items):
            goal, found = _read_goal(item, f"goals[{i}]")
            if goal is None:
                problems += found
            else:
                parsed.append(goal)
    if problems:
        raise one_error(problems, f"{len(problems)} problems in the goals", GoalGraphError)
    return GoalGraph._build(parsed, calendar=calendar, roster=roster)


def build_file(
    data: Any,
    *,
    source: str | None,
    positions: Positions,
    roster: Roster | None,
    metrics: Any = None,
) -> GoalGraph:
    def located(problems: list[GoalGraphError]) -> GoalGraphError:
        for p in problems:
            p.source = source
            p.line = p.line or line_of(p.path, positions)
        problems.sort(key=lambda p: p.line or 0)
        where = f" ({source})" if source else ""
        return one_error(problems, f"the goal file{where} has {len(problems)} problems", GoalGraphError)

    if not isinstance(data, Mapping):
        raise GoalGraphError("a goal file is a mapping (perfkit_goals: 1, goals: [...])", source=source, line=1)
    problems: list[GoalGraphError] = []
    head = {k: v for k, v in data.items() if k != "goals"}
    try:
        spec = GoalFile.model_validate(head)
    except ValidationError as exc:
        problems += [_translate(e, "", None) for e in exc.errors()]
        spec = GoalFile(perfkit_goals=1)
    raw = data.get("goals", [])
    if not isinstance(raw, list):
        problems.append(GoalGraphError("goals: is a list of goals", path="goals"))
        raw = []
    goals: list[Goal] = []
    where: dict[int, str] = {}
    elsewhere: dict[str, str] = {}
    with collector_paused():
        for i, item in enumerate(raw):
            goal, found = _read_goal(item, f"goals[{i}]")
            if goal is None:
                problems += found
                if isinstance(item, Mapping) and isinstance(item.get("id"), str):
                    elsewhere.setdefault(item["id"], f"goals[{i}]")
            else:
                where[len(goals)] = f"goals[{i}]"
                goals.append(goal)
    try:
        calendar = _calendar(spec.calendar)
    except PerfkitError as exc:
        raise located([*problems, GoalGraphError(exc.message, path="calendar")]) from None
    problems += _metric_problems(goals, metrics, where)
    try:
        graph = GoalGraph._build(
            goals, calendar=calendar, roster=roster, source=source, where=where, elsewhere=elsewhere
        )
    except GoalGraphError as exc:
        problems += [p for p in exc.problems if isinstance(p, GoalGraphError)]
    if problems:
        raise located(problems)
    return graph


def _calendar(spec: CalendarSpec) -> Calendar:
    return Calendar(tz=spec.tz, fiscal_year_start=spec.fiscal_year_start)


def _metric_problems(goals: list[Goal], metrics: Any, where: Mapping[int, str]) -> list[GoalGraphError]:
    if metrics is None:
        return []
    known = list(getattr(metrics, "ids", None) or metrics)
    problems = []
    for i, goal in enumerate(goals):
        if goal.metric is not None and goal.metric not in known:
            close = difflib.get_close_matches(goal.metric, known, n=1)
            hint = f"; did you mean {close[0]!r}?" if close else ""
            problems.append(
                GoalGraphError(f"the metric {goal.metric!r} is not defined{hint}", goals=(goal.id,), path=f"{where[i]}.metric")
            )
    return problems


def _read_goal(item: Any, base: str) -> tuple[Goal | None, list[GoalGraphError]]:
    """A goal from its plain data, or the problems with it (each naming the field)."""
    if isinstance(item, Goal):
        return item, []
    if not isinstance(item, Mapping):
        return None, [GoalGraphError("a goal is a mapping (id:, title:, owner:, period:, ...)", path=base)]
    try:
        return Goal.model_validate(dict(item)), []
    except ValidationError as exc:
        goal_id = item.get("id")
        ids = (str(goal_id),) if isinstance(goal_id, str) else ()
        return None, [_translate(e, base, ids) for e in exc.errors()]


def _translate(error: Any, base: str, ids: tuple[str, ...] | None) -> GoalGraphError:
    loc = [p for p in error["loc"] if not (isinstance(p, str) and p.startswith("function-"))]
    path = base
    for part in loc:
        path += f"[{part}]" if isinstance(part, int) else (f".{part}" if path else str(part))
    message = str(error["msg"]).removeprefix("Value error, ")
    if error["type"] == "extra_forbidden":
        known = sorted(Goal.model_fields)
        close = difflib.get_close_matches(str(loc[-1]), known, n=1)
        message = f"unknown field {loc[-1]!r}" + (f"; did you mean {close[0]!r}?" if close else "")
    elif error["type"] == "missing":
        message = f"{loc[-1]}: is required"
    elif error["type"] == "literal_error":
        message = f"{message} (got {error.get('input')!r})"
    return GoalGraphError(message, goals=ids or (), path=path or None)
