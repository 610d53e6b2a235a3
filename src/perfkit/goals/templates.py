"""Bulk assignment: one goal template, instantiated for everyone matching a filter.

A template is a mapping of :class:`~perfkit.goals.Goal` fields, as in a goal file, without
``owner`` (each goal is owned by ``person:<employee id>``) and without ``contributes_to``
(each goal contributes to the chosen parent). Its ``id`` is the template's own id: the goal
ids are made from it and the employee id (``id_format``, default ``{template}-{employee}``).
``title`` and ``description`` may use the placeholders ``{employee}``, ``{name}``,
``{unit}``, ``{role}``, ``{level}`` and ``{template}``; write ``{{`` for a literal brace.

Who gets a goal is a filter over the roster (:func:`matching`): ``unit`` (or ``department``)
takes the members of the unit and of every unit inside it; ``role``, ``level`` and any other
roster column compare as text; a list means any of its values. Goals are created in
employee id order, and have the parent's period unless the template names one.

**Weights.** By default the new goals carry no weight, and every child of the parent
counts equally: right for a parent whose children carry none. ``weight=`` gives each new
goal that weight, for a parent with no children yet (four people at ``25%``). Under one
parent either every child has a weight or none has, and weights total exactly 100%, so
assigning under a parent whose children already carry weights is refused without
``weight=``, and with it the graph checks the new total: re-weight the existing children
first (or assign under a parent of their own).

>>> from perfkit.org import Roster
>>> roster = Roster.from_records(
...     [{"id": "1002", "unit": "east", "role": "sales"}, {"id": "1001", "unit": "east", "role": "sales"},
...      {"id": "1003", "unit": "east", "role": "support"}])
>>> matching(roster, unit="east", role="sales")
('1001', '1002')
"""

from __future__ import annotations

import difflib
import re
import string
from collections.abc import Mapping
from typing import Any

from pydantic import ValidationError

from perfkit.errors import DataError, GoalGraphError, PerfkitError, one_error
from perfkit.goals.graph import GoalGraph
from perfkit.goals.model import Goal
from perfkit.org import Employee, Roster
from perfkit.scheme import format_weight

__all__ = ["PLACEHOLDERS", "assign", "instantiate", "matching"]

PLACEHOLDERS = ("employee", "name", "unit", "role", "level", "template")
"""What a template's title and description, and ``id_format``, may refer to."""
TEXT_FIELDS = ("title", "description")
_NOT_IN_TEMPLATE = {
    "owner": "each goal is owned by the person it is made for",
    "contributes_to": "each goal contributes to the parent given to assign()",
    "checkins": "a new goal starts without check-ins",
    "revisions": "a new goal starts without revisions",
}
_FIELDS = ("name", "manager", "unit", "role", "level")


def matching(roster: Roster, where: Mapping[str, object] | None = None, /, **criteria: object) -> tuple[str, ...]:
    """Ids of the employees matching every criterion, sorted.

    Criteria come from ``where`` and keyword arguments alike: ``unit`` (or ``department``)
    matches the unit's members and those of every unit inside it; any other name is a
    roster column (``role``, ``level``, ``region``...) compared as text. A list, tuple or set
    matches any of its values. No criteria match everyone. Raises
    :class:`~perfkit.errors.DataError` for an unknown unit or column.
    """
    wanted = {**(where or {}), **criteria}
    chosen = [e.id for e in roster]
    for key, value in wanted.items():
        values = _values(value)
        if key in ("unit", "department"):
            members: set[str] = set()
            for unit in values:
                members.update(roster.members(unit, recursive=True))
            chosen = [e for e in chosen if e in members]
            continue
        _known_column(roster, key)
        chosen = [e for e in chosen if roster.employee(e).attribute(key) in values]
    return tuple(chosen)


def instantiate(
    graph: GoalGraph,
    template: Mapping[str, Any],
    *,
    parent: str,
    roster: Roster | None = None,
    where: Mapping[str, object] | None = None,
    weight: object = None,
    id_format: str = "{template}-{employee}",
) -> tuple[Goal, ...]:
    """The goals :func:`assign` would add, one per matching employee in id order, checked
    one by one (the graph checks them as a whole when they are added)."""
    parent_goal = graph[parent]
    people = _people(graph, roster, where, parent)
    base = _template(template, id_format, parent)
    existing = graph.children(parent)
    if weight is None and any(_weight(graph[c], parent) is not None for c in existing):
        listing = ", ".join(f"{c} {_weight(graph[c], parent)}" for c in existing)
        raise GoalGraphError(
            f"the children of {parent!r} carry weights ({listing}); give weight= for the new goals "
            "(all the weights under it must still total 100%)",
            goals=(parent, *existing),
        )
    link: dict[str, object] = {"goal": parent} if weight is None else {"goal": parent, "weight": weight}
    problems: dict[tuple[str | None, str], GoalGraphError] = {}
    goals: list[Goal] = []
    made: dict[str, str] = {}
    for person in people:
        values = _placeholders(person, base.get("id"))
        try:
            goal_id = _format(id_format, values, "id_format", person.id, parent)
            data = {key: _format(value, values, f"template.{key}", person.id, parent) if key in TEXT_FIELDS else value
                    for key, value in base.items()}
        except GoalGraphError as exc:
            problems.setdefault((exc.path, exc.message), exc)
            continue
        if goal_id in graph or goal_id in made:
            other = f"the goal made for {made[goal_id]}" if goal_id in made else "a goal in the graph"
            problems[(None, goal_id)] = GoalGraphError(
                f"the id {goal_id!r} made for employee {person.id} is already taken by {other}",
                goals=(goal_id,), path="id_format",
            )
            continue
        made[goal_id] = person.id
        data.update(id=goal_id, owner=f"person:{person.id}", contributes_to=[link])
        data.setdefault("period", parent_goal.period)
        try:
            goals.append(Goal.model_validate(data))
        except ValidationError as exc:
            for error in exc.errors():
                found = _problem(error, goal_id, person.id)
                problems.setdefault((found.path, found.message), found)
    if problems:
        listed = list(problems.values())
        raise one_error(listed, f"the template cannot be assigned under {parent!r} ({len(listed)} problems)",
                        GoalGraphError)
    return tuple(goals)


def assign(
    graph: GoalGraph,
    template: Mapping[str, Any],
    *,
    parent: str,
    roster: Roster | None = None,
    where: Mapping[str, object] | None = None,
    weight: object = None,
    id_format: str = "{template}-{employee}",
) -> GoalGraph:
    """A new graph with ``template`` instantiated for every employee matching ``where``
    (see :func:`matching`; default: everyone), each goal linked under ``parent``.

    ``roster`` defaults to the graph's own. ``weight`` is each new goal's weight under
    ``parent``, required when the parent's other children carry weights. Raises
    :class:`~perfkit.errors.GoalGraphError` naming the goals: an unknown parent, nobody
    matching, an id already taken, a template that is not a valid goal (with the template
    field), and whatever the graph refuses (a period outside the parent's, weights that do
    not total 100%, an owner missing from the graph's roster).
    """
    goals = instantiate(
        graph, template, parent=parent, roster=roster, where=where, weight=weight, id_format=id_format
    )
    try:
        return graph.add(*goals)
    except GoalGraphError as exc:
        raise _in_template(exc, len(graph), parent) from None


# -- helpers ----------------------------------------------------------------------------------


def _values(value: object) -> set[str]:
    if isinstance(value, (list, tuple, set, frozenset)):
        return {str(v) for v in value}
    return {str(value)}


def _known_column(roster: Roster, key: str) -> None:
    columns = {*_FIELDS, "id", *(name for e in roster for name, _ in e.attributes)}
    if key not in columns:
        close = difflib.get_close_matches(key, sorted(columns), n=1)
        hint = f"; did you mean {close[0]!r}?" if close else ""
        raise DataError(f"no employee in the roster has a {key!r} column{hint}", column=key)


def _people(graph: GoalGraph, roster: Roster | None, where: Mapping[str, object] | None, parent: str) -> list[Employee]:
    roster = roster if roster is not None else graph.roster
    if roster is None:
        raise GoalGraphError("assigning a template needs a roster: pass roster=", goals=(parent,))
    try:
        ids = matching(roster, where)
    except PerfkitError as exc:
        raise GoalGraphError(f"the filter cannot be applied: {exc}", goals=(parent,)) from None
    if not ids:
        shown = ", ".join(f"{k}={v!r}" for k, v in (where or {}).items()) or "no filter"
        raise GoalGraphError(f"nobody in the roster matches ({shown}), so there is nothing to assign", goals=(parent,))
    return [roster.employee(i) for i in ids]


def _template(template: Mapping[str, Any], id_format: str, parent: str) -> dict[str, Any]:
    if not isinstance(template, Mapping):
        raise GoalGraphError("a template is a mapping of goal fields (title:, kind:, target:, ...)", goals=(parent,))
    problems = [
        GoalGraphError(f"a template has no {key}: {why}", goals=(parent,), path=f"template.{key}")
        for key, why in _NOT_IN_TEMPLATE.items()
        if key in template
    ]
    if "template" in _names(id_format) and not template.get("id"):
        problems.append(
            GoalGraphError(
                "id_format uses {template}, so the template needs an id (or give an id_format without it)",
                goals=(parent,), path="template.id",
            )
        )
    if problems:
        raise one_error(problems, f"the template has {len(problems)} problems", GoalGraphError)
    return {str(k): v for k, v in template.items() if k != "id"} | {"id": template.get("id")}


def _placeholders(person: Employee, template_id: object) -> dict[str, str | None]:
    return {
        "employee": person.id,
        "name": person.name,
        "unit": person.unit,
        "role": person.role,
        "level": person.level,
        "template": None if template_id is None else str(template_id),
    }


def _names(text: str) -> list[str]:
    try:
        return [name for _, name, _, _ in string.Formatter().parse(text) if name is not None]
    except ValueError:
        return []


def _format(text: object, values: Mapping[str, str | None], path: str, employee: str, parent: str) -> Any:
    """``text`` with its placeholders filled in for one employee (non-text is left alone)."""
    if not isinstance(text, str):
        return text
    try:
        names = [name for _, name, _, _ in string.Formatter().parse(text) if name is not None]
    except ValueError as exc:
        raise GoalGraphError(f"{exc} (write {{{{ and }}}} for literal braces)", goals=(parent,), path=path) from None
    for name in names:
        if name not in values:
            known = ", ".join("{" + p + "}" for p in PLACEHOLDERS)
            raise GoalGraphError(f"unknown placeholder {{{name}}}; use {known}", goals=(parent,), path=path)
        if values[name] is None:
            raise GoalGraphError(
                f"employee {employee} has no {name} to fill {{{name}}} with", goals=(parent,), path=path
            )
    return text.format_map(values)


def _weight(goal: Goal, parent: str) -> object:
    for link in goal.contributes_to:
        if link.goal == parent:
            return None if link.weight is None else format_weight(link.weight)
    return None


def _in_template(error: GoalGraphError, existing: int, parent: str) -> GoalGraphError:
    """The graph's problems with the new goals, their paths (``goals[7].target``) read as
    template fields (``template.target``), each problem once."""
    found: dict[tuple[str | None, str], GoalGraphError] = {}
    for problem in error.problems:
        if not isinstance(problem, GoalGraphError):
            continue
        path = problem.path
        match = re.match(r"goals\[(\d+)\](.*)", path or "")
        if match and int(match[1]) >= existing:
            path = "template" + match[2]
        found.setdefault((path, problem.message), GoalGraphError(problem.message, goals=problem.goals, path=path))
    problems = list(found.values())
    return one_error(problems, f"the template cannot be assigned under {parent!r} ({len(problems)} problems)",
                     GoalGraphError)


def _problem(error: Any, goal_id: str, employee: str) -> GoalGraphError:
    loc = [str(p) for p in error["loc"] if not (isinstance(p, str) and p.startswith("function-"))]
    message = str(error["msg"]).removeprefix("Value error, ")
    if loc and loc[0] == "id":
        return GoalGraphError(
            f"id_format gives {goal_id!r} for employee {employee}, which is not a goal id ({message})",
            goals=(goal_id,), path="id_format",
        )
    if loc and loc[0] == "contributes_to":
        return GoalGraphError(f"the weight is not valid: {message}", goals=(goal_id,), path="weight")
    if error["type"] == "extra_forbidden":
        close = difflib.get_close_matches(loc[-1], sorted(Goal.model_fields), n=1)
        message = f"unknown field {loc[-1]!r}" + (f"; did you mean {close[0]!r}?" if close else "")
    elif error["type"] == "missing":
        message = "is required"
    path = "template" + "".join(f"[{p}]" if p.isdigit() else f".{p}" for p in loc)
    return GoalGraphError(message, goals=(goal_id,), path=path)
