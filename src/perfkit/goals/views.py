"""Views of a goal graph: Mermaid, Graphviz DOT, JSON, and a text tree for the terminal.

Each view takes the graph, an optional ``root`` (show that goal and everything below it,
by either kind of edge) and an optional :class:`~perfkit.goals.Rollup` (add progress,
value, the target in force and the status on the rollup's date; a rollup of the graph,
or of a larger graph that holds it).

Edges run from a child to the parent it contributes to or supports, as in
:attr:`GoalGraph.nx <perfkit.goals.GoalGraph.nx>`: diagrams are drawn bottom-up, so the
strategy sits on top and the arrows point at it. ``contributes`` edges are solid, with
the weight as their label when one is given; ``supports`` edges are dashed.

Order follows the goal file: goals in the graph's order, each goal's edges in the order
it declares them. The same graph always gives the same text; a file listing the same
goals in another order gives the same nodes, edges and numbers, with siblings in that
file's order.

The JSON format (``perfkit-goals-graph/1``)::

    {"format": "perfkit-goals-graph/1",
     "root": null,                       # or the id of the subtree's root
     "as_of": "2026-07-01",              # only with a rollup
     "nodes": [{"id", "title", "kind", "owner", "period", "status", "target", "unit",
                # with a rollup: "progress", "value", "counted"; "status" and "target"
                # are then those on the rollup's date ("expired", revised targets)
               }, ...],
     "edges": [{"child", "parent", "kind": "contributes" | "supports",
                "weight": "0.4" | null}, ...]}

Numbers are strings holding the exact decimal (``"0.1366666666666666666666666666666667"``).
"""

from __future__ import annotations

import decimal
import json
from collections.abc import Iterator
from decimal import Decimal
from typing import Any

import attrs

from perfkit._text import display_width
from perfkit.goals.graph import GoalGraph
from perfkit.goals.model import Goal
from perfkit.goals.rollup import Rollup
from perfkit.numbers import CONTEXT, plain_text
from perfkit.scheme import format_weight

__all__ = ["JSON_FORMAT", "to_dot", "to_json", "to_mermaid", "to_text"]

JSON_FORMAT = "perfkit-goals-graph/1"
"""The ``format`` field of :func:`to_json`'s output; a change to its shape gets a new number."""

_BAR_CELLS = 10


@attrs.frozen(kw_only=True)
class _Edge:
    child: str
    parent: str
    kind: str
    weight: Decimal | None


@attrs.frozen(kw_only=True)
class _View:
    """The goals and edges to show, in file order."""

    goals: tuple[Goal, ...]
    edges: tuple[_Edge, ...]
    root: str | None


def _select(graph: GoalGraph, root: str | None) -> _View:
    keep: set[str] | None = None
    if root is not None:
        keep = {root, *graph.descendants(root)}
    goals = tuple(g for g in graph.goals if keep is None or g.id in keep)
    edges: list[_Edge] = []
    for goal in goals:
        if goal.id == root:
            continue  # the subtree's root is shown without its parents
        for link in goal.contributes_to:
            if keep is None or link.goal in keep:
                edges.append(_Edge(child=goal.id, parent=link.goal, kind="contributes", weight=link.weight))
        for parent in goal.supports:
            if keep is None or parent in keep:
                edges.append(_Edge(child=goal.id, parent=parent, kind="supports", weight=None))
    return _View(goals=goals, edges=tuple(edges), root=root)


# -- JSON ----------------------------------------------------------------------------------


def to_json(graph: GoalGraph, *, root: str | None = None, rollup: Rollup | None = None) -> str:
    """The graph (or the subtree under ``root``) as JSON in the ``perfkit-goals-graph/1`` format.

    >>> graph = GoalGraph.from_dict({"perfkit_goals": 1, "goals": [
    ...     {"id": "grow", "title": "增长", "owner": "org", "period": "2026"},
    ...     {"id": "kr1", "title": "Revenue", "kind": "key_result", "owner": "person:1001",
    ...      "period": "2026", "target": 100, "contributes_to": ["grow"]}]})
    >>> data = json.loads(to_json(graph))
    >>> data["format"], [n["id"] for n in data["nodes"]], data["edges"][0]["parent"]
    ('perfkit-goals-graph/1', ['grow', 'kr1'], 'grow')
    """
    view = _select(graph, root)
    data: dict[str, Any] = {"format": JSON_FORMAT, "root": root}
    if rollup is not None:
        data["as_of"] = _as_text(getattr(rollup, "as_of"))  # noqa: B009 - Rollup declares it in __slots__ only
    data["nodes"] = [_node(goal, rollup) for goal in view.goals]
    data["edges"] = [
        {"child": e.child, "parent": e.parent, "kind": e.kind, "weight": _text(e.weight)} for e in view.edges
    ]
    return json.dumps(data, ensure_ascii=False, indent=2)


def _node(goal: Goal, rollup: Rollup | None) -> dict[str, Any]:
    node: dict[str, Any] = {
        "id": goal.id,
        "title": goal.title,
        "kind": goal.kind,
        "owner": str(goal.owner),
        "period": goal.period,
        "status": goal.status,
        "target": _text(goal.target),
        "unit": goal.unit,
    }
    if rollup is not None:
        state = rollup[goal.id]
        node.update(
            status=state.status,
            target=_text(state.target),
            progress=_text(state.progress),
            value=_text(state.value),
            counted=state.counted,
        )
    return node


# -- Mermaid -------------------------------------------------------------------------------


def to_mermaid(graph: GoalGraph, *, root: str | None = None, rollup: Rollup | None = None) -> str:
    """The graph (or the subtree under ``root``) as a Mermaid flowchart, drawn bottom-up.

    Node ids are ``n0``, ``n1``, ... in file order; each label holds the goal id, its title
    and, with a rollup, its progress (and its status when not active). Quotes, ``#``,
    ``<``, ``>``, ``&``, backticks and backslashes in labels are written as Mermaid
    entity codes (``#34;``); other text, Chinese included, is kept as it is.

    >>> graph = GoalGraph.from_dict({"perfkit_goals": 1, "goals": [
    ...     {"id": "grow", "title": 'Say "hi"', "owner": "org", "period": "2026"},
    ...     {"id": "kr1", "title": "Revenue", "kind": "key_result", "owner": "person:1001",
    ...      "period": "2026", "target": 100, "contributes_to": ["grow"]}]})
    >>> print(to_mermaid(graph))
    flowchart BT
        n0["grow<br/>Say #34;hi#34;"]
        n1["kr1<br/>Revenue"]
        n1 --> n0
    """
    view = _select(graph, root)
    names = {goal.id: f"n{i}" for i, goal in enumerate(view.goals)}
    lines = ["flowchart BT"]
    for goal in view.goals:
        parts = [goal.id, goal.title, *_state_words(goal, rollup)]
        label = "<br/>".join(_mermaid_text(part) for part in parts)
        lines.append(f'    {names[goal.id]}["{label}"]')
    for edge in view.edges:
        child, parent = names[edge.child], names[edge.parent]
        if edge.kind == "supports":
            lines.append(f"    {child} -.->|supports| {parent}")
        elif edge.weight is not None:
            lines.append(f'    {child} -->|"{format_weight(edge.weight)}"| {parent}')
        else:
            lines.append(f"    {child} --> {parent}")
    return "\n".join(lines)


_MERMAID_ESCAPES = {ch: f"#{ord(ch)};" for ch in '#"<>&`\\'}


def _mermaid_text(text: str) -> str:
    flat = " ".join(text.split())
    return "".join(_MERMAID_ESCAPES.get(ch, ch) for ch in flat)


# -- DOT -----------------------------------------------------------------------------------


def to_dot(graph: GoalGraph, *, root: str | None = None, rollup: Rollup | None = None) -> str:
    r"""The graph (or the subtree under ``root``) as a Graphviz DOT digraph, drawn bottom-up.

    Every id and label is a quoted DOT string (``\`` and ``"`` escaped, line breaks as
    ``\n``); Chinese text is kept as it is.

    >>> graph = GoalGraph.from_dict({"perfkit_goals": 1, "goals": [
    ...     {"id": "grow", "title": "增长", "owner": "org", "period": "2026"},
    ...     {"id": "brand", "title": 'The "brand"', "owner": "team:mkt", "period": "2026",
    ...      "supports": ["grow"]}]})
    >>> print(to_dot(graph))
    digraph goals {
        rankdir=BT;
        node [shape=box];
        "grow" [label="grow\n增长"];
        "brand" [label="brand\nThe \"brand\""];
        "brand" -> "grow" [style=dashed, label="supports"];
    }
    """
    view = _select(graph, root)
    lines = ["digraph goals {", "    rankdir=BT;", "    node [shape=box];"]
    for goal in view.goals:
        parts = [goal.id, goal.title, *_state_words(goal, rollup)]
        label = "\\n".join(_dot_text(" ".join(part.split())) for part in parts)
        style = ", style=dashed" if goal.status in ("draft", "archived") else ""
        lines.append(f'    "{_dot_text(goal.id)}" [label="{label}"{style}];')
    for edge in view.edges:
        ends = f'"{_dot_text(edge.child)}" -> "{_dot_text(edge.parent)}"'
        if edge.kind == "supports":
            lines.append(f'    {ends} [style=dashed, label="supports"];')
        elif edge.weight is not None:
            lines.append(f'    {ends} [label="{format_weight(edge.weight)}"];')
        else:
            lines.append(f"    {ends};")
    lines.append("}")
    return "\n".join(lines)


def _dot_text(text: str) -> str:
    return text.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n")


# -- text tree -----------------------------------------------------------------------------


def to_text(graph: GoalGraph, *, root: str | None = None, rollup: Rollup | None = None) -> str:
    """A tree for the terminal, like ``tree``: each goal with its kind and owner and, with a
    rollup, its progress and a small bar.

    Top-level goals (those with no parent, or ``root``) come first, children under them
    in file order. A ``supports`` child hangs from a dotted branch (``╌╌``) and is marked
    ``supports``; a contributing child shows its weight when it has one. A goal under
    several parents is printed in full under the first and as a reference line
    (``↑ see above``) under the others. Progress columns line up, wide characters counted.

    >>> graph = GoalGraph.from_dict({"perfkit_goals": 1, "goals": [
    ...     {"id": "grow", "title": "增长", "owner": "org", "period": "2026"},
    ...     {"id": "kr1", "title": "Revenue", "kind": "key_result", "owner": "person:1001",
    ...      "period": "2026", "target": 100, "contributes_to": ["grow"]}]})
    >>> print(to_text(graph))
    grow 增长 (objective, org)
    └── kr1 Revenue (key_result, person:1001)
    """
    view = _select(graph, root)
    under: dict[str, list[_Edge]] = {goal.id: [] for goal in view.goals}
    for edge in view.edges:
        under[edge.parent].append(edge)
    position = {goal.id: i for i, goal in enumerate(view.goals)}
    for edges in under.values():
        edges.sort(key=lambda e: position[e.child])
    has_parent = {edge.child for edge in view.edges}
    tops = [root] if root is not None else [g.id for g in view.goals if g.id not in has_parent]
    by_id = {goal.id: goal for goal in view.goals}

    rows: list[tuple[str, str]] = []
    for line in _walk(tops, under):
        if line.reference:
            rows.append((f"{line.prefix}{line.goal} ↑ see above{_edge_note(line.edge)}", ""))
            continue
        goal = by_id[line.goal]
        title = " ".join(goal.title.split())
        left = f"{line.prefix}{goal.id} {title} ({goal.kind}, {goal.owner}{_edge_note(line.edge, inside=True)})"
        rows.append((left, _progress_cells(goal, rollup)))
    width = max((display_width(left) for left, right in rows if right), default=0)
    out = []
    for left, right in rows:
        if right:
            out.append(left + " " * (width - display_width(left)) + "  " + right)
        else:
            out.append(left)
    return "\n".join(out)


@attrs.frozen(kw_only=True)
class _Line:
    prefix: str
    goal: str
    edge: _Edge | None
    reference: bool = False
    """True for a goal already printed above (it has several parents)."""


def _walk(tops: list[str], under: dict[str, list[_Edge]]) -> Iterator[_Line]:
    """Depth-first, children in order, without recursion (graphs may be deep)."""
    printed: set[str] = set()
    # Each stack entry: (goal id, edge from it to its parent, prefix of its line, prefix of its children).
    stack: list[tuple[str, _Edge | None, str, str]] = [(top, None, "", "") for top in reversed(tops)]
    while stack:
        goal_id, edge, prefix, inner = stack.pop()
        if goal_id in printed:
            yield _Line(prefix=prefix, goal=goal_id, edge=edge, reference=True)
            continue
        printed.add(goal_id)
        yield _Line(prefix=prefix, goal=goal_id, edge=edge)
        children = under[goal_id]
        for n in range(len(children) - 1, -1, -1):
            child = children[n]
            last = n == len(children) - 1
            branch = ("└" if last else "├") + ("╌╌ " if child.kind == "supports" else "── ")
            stack.append((child.child, child, inner + branch, inner + ("    " if last else "│   ")))


def _edge_note(edge: _Edge | None, *, inside: bool = False) -> str:
    if edge is None:
        return ""
    if edge.kind == "supports":
        return ", supports" if inside else " (supports)"
    if edge.weight is not None:
        return f", {format_weight(edge.weight)}" if inside else f" ({format_weight(edge.weight)})"
    return ""


def _progress_cells(goal: Goal, rollup: Rollup | None) -> str:
    if rollup is None:
        return "" if goal.status == "active" else f"[{goal.status}]"
    state = rollup[goal.id]
    cells = f"{state.percent:>6} {_bar(state.progress)}"
    if state.status != "active":
        cells += f" [{state.status}]"
    return cells


def _bar(progress: Decimal | None) -> str:
    if progress is None:
        return "·" * _BAR_CELLS
    with decimal.localcontext(CONTEXT):
        filled = int((min(max(progress, Decimal(0)), Decimal(1)) * _BAR_CELLS).to_integral_value(decimal.ROUND_FLOOR))
    return "█" * filled + "░" * (_BAR_CELLS - filled)


# -- shared --------------------------------------------------------------------------------


def _state_words(goal: Goal, rollup: Rollup | None) -> list[str]:
    """What a diagram label adds after the id and title: progress and a non-active status."""
    if rollup is None:
        return [] if goal.status == "active" else [goal.status]
    state = rollup[goal.id]
    words = state.percent if state.progress is not None else "no progress"
    return [words if state.status == "active" else f"{words} · {state.status}"]


def _text(value: Decimal | None) -> str | None:
    return None if value is None else plain_text(value)


def _as_text(value: object) -> str:
    isoformat = getattr(value, "isoformat", None)
    return str(isoformat()) if callable(isoformat) else str(value)
