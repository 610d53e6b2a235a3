"""Views of a goal graph: JSON, Mermaid, DOT and the text tree.

The outputs are checked by structure (parsed back, counted, unescaped), not against
copies of themselves.
"""

from __future__ import annotations

import itertools
import json
import re
from decimal import Decimal
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from perfkit._text import display_width
from perfkit.errors import GoalGraphError
from perfkit.goals import GoalGraph
from perfkit.goals.views import JSON_FORMAT, to_dot, to_json, to_mermaid, to_text

NASTY = '全年 "目标" [2026] <b>x</b> & #1 `q` \\n 反斜杠\\'
"""A title with quotes, brackets, angle brackets, an ampersand, a hash, backticks,
a backslash (and a backslash-n) and Chinese."""


def goal_data() -> list[dict[str, Any]]:
    """root ← t1 (60%), t2 (40%); p1 under both teams; p2 under t1; brand supports root."""
    return [
        {"id": "root", "title": NASTY, "owner": "org", "period": "2026"},
        {"id": "t1", "title": "华东", "owner": "team:east", "period": "2026",
         "contributes_to": [{"goal": "root", "weight": "60%"}]},
        {"id": "t2", "title": "华南", "owner": "team:south", "period": "2026",
         "contributes_to": [{"goal": "root", "weight": "40%"}]},
        {"id": "p1", "title": "张三的大客户", "kind": "key_result", "owner": "person:1001", "period": "2026-Q1",
         "target": 3, "contributes_to": [{"goal": "t1", "weight": "50%"}, "t2"],
         "checkins": [{"at": "2026-02-01", "value": 1}]},
        {"id": "p2", "title": "Renewals", "kind": "key_result", "owner": "person:1002", "period": "2026",
         "target": 10, "contributes_to": [{"goal": "t1", "weight": "50%"}],
         "checkins": [{"at": "2026-03-01", "value": 4}]},
        {"id": "brand", "title": "品牌", "kind": "kpi", "owner": "team:mkt", "period": "2026",
         "target": 5, "supports": ["root"]},
    ]


EDGES = {
    ("t1", "root", "contributes"),
    ("t2", "root", "contributes"),
    ("p1", "t1", "contributes"),
    ("p1", "t2", "contributes"),
    ("p2", "t1", "contributes"),
    ("brand", "root", "supports"),
}


@pytest.fixture
def graph() -> GoalGraph:
    return GoalGraph.from_dict({"perfkit_goals": 1, "goals": goal_data()})


# -- helpers that read the outputs back -------------------------------------------------------

MERMAID_NODE = re.compile(r'^    (n\d+)\["(.*)"\]$')
MERMAID_EDGE = re.compile(r'^    (n\d+) (-->|-\.->)(?:\|"?([^|"]*)"?\|)? (n\d+)$')
DOT_STRING = re.compile(r'"((?:[^"\\]|\\.)*)"')


def mermaid_unescape(text: str) -> str:
    return re.sub(r"#(\d+);", lambda m: chr(int(m[1])), text)


def read_mermaid(text: str) -> tuple[dict[str, list[str]], list[tuple[str, str, str, str | None]]]:
    """Labels by goal id (split at <br/>), and edges (child id, parent id, arrow, label)."""
    lines = text.splitlines()
    assert lines[0] == "flowchart BT"
    labels: dict[str, list[str]] = {}
    names: dict[str, str] = {}
    edges = []
    for line in lines[1:]:
        node = MERMAID_NODE.match(line)
        if node:
            assert '"' not in node[2], line
            parts = [mermaid_unescape(p) for p in node[2].split("<br/>")]
            names[node[1]] = parts[0]
            labels[parts[0]] = parts
            continue
        edge = MERMAID_EDGE.match(line)
        assert edge, f"not a node or an edge: {line!r}"
        edges.append((names[edge[1]], names[edge[4]], edge[2], edge[3]))
    return labels, edges


def dot_unescape(text: str) -> str:
    return re.sub(r"\\(.)", lambda m: "\n" if m[1] == "n" else m[1], text)


def read_dot(text: str) -> tuple[dict[str, list[str]], list[tuple[str, str, str]]]:
    """Node labels by id (split at line breaks) and edges (child, parent, attributes)."""
    outside = DOT_STRING.sub("S", text)
    assert '"' not in outside and "\\" not in outside, "a quote or backslash outside a DOT string"
    assert outside.count("{") == outside.count("}") == 1
    labels: dict[str, list[str]] = {}
    edges = []
    for line in text.splitlines()[3:-1]:
        strings = [dot_unescape(s) for s in DOT_STRING.findall(line)]
        if " -> " in DOT_STRING.sub("S", line):
            edges.append((strings[0], strings[1], DOT_STRING.sub("S", line)))
        else:
            labels[strings[0]] = strings[1].split("\n")
    return labels, edges


def full_lines(text: str) -> dict[str, str]:
    """Goal id → its full line in the text tree (reference lines left out)."""
    found: dict[str, str] = {}
    for line in text.splitlines():
        body = line.lstrip("│├└─╌ ")
        goal_id = body.split(" ")[0]
        if "↑ see above" not in line:
            assert goal_id not in found, f"{goal_id} printed in full twice"
            found[goal_id] = line
    return found


# -- JSON -------------------------------------------------------------------------------------


class TestToJson:
    def test_names_its_format_and_lists_every_goal_and_edge(self, graph: GoalGraph) -> None:
        data = json.loads(to_json(graph))
        assert data["format"] == JSON_FORMAT == "perfkit-goals-graph/1"
        assert data["root"] is None
        assert [n["id"] for n in data["nodes"]] == list(graph.ids)
        assert {(e["child"], e["parent"], e["kind"]) for e in data["edges"]} == EDGES
        assert len(data["edges"]) == len(EDGES)

    def test_edges_carry_their_weight_supports_none(self, graph: GoalGraph) -> None:
        weights = {(e["child"], e["parent"]): e["weight"] for e in json.loads(to_json(graph))["edges"]}
        assert Decimal(weights["t1", "root"]) == Decimal("0.6")
        assert Decimal(weights["p1", "t1"]) == Decimal("0.5")
        assert weights["p1", "t2"] is None
        assert weights["brand", "root"] is None

    def test_titles_survive_unchanged(self, graph: GoalGraph) -> None:
        text = to_json(graph)
        nodes = {n["id"]: n for n in json.loads(text)["nodes"]}
        assert nodes["root"]["title"] == NASTY
        assert "全年" in text, "Chinese is written as it is, not as \\u escapes"

    def test_without_a_rollup_nodes_have_no_progress(self, graph: GoalGraph) -> None:
        data = json.loads(to_json(graph))
        assert "as_of" not in data
        assert all("progress" not in n for n in data["nodes"])
        assert {n["id"]: n["target"] for n in data["nodes"]}["p2"] == "10"

    def test_with_a_rollup_nodes_carry_its_numbers_exactly(self, graph: GoalGraph) -> None:
        rollup = graph.rollup("2026-05-01")
        data = json.loads(to_json(graph, rollup=rollup))
        assert data["as_of"] == "2026-05-01"
        for node in data["nodes"]:
            state = rollup[node["id"]]
            shown = None if node["progress"] is None else Decimal(node["progress"])
            assert shown == state.progress
            assert node["status"] == state.status
            assert node["counted"] == state.counted
        statuses = {n["id"]: n["status"] for n in data["nodes"]}
        assert statuses["p1"] == "expired"  # its quarter ended before May

    def test_a_subtree_keeps_only_its_goals_and_inner_edges(self, graph: GoalGraph) -> None:
        data = json.loads(to_json(graph, root="t1"))
        assert data["root"] == "t1"
        assert [n["id"] for n in data["nodes"]] == ["t1", "p1", "p2"]
        assert {(e["child"], e["parent"]) for e in data["edges"]} == {("p1", "t1"), ("p2", "t1")}

    def test_an_unknown_root_is_a_goal_graph_error(self, graph: GoalGraph) -> None:
        with pytest.raises(GoalGraphError, match="did you mean 't1'"):
            to_json(graph, root="t11")


# -- Mermaid ----------------------------------------------------------------------------------


class TestToMermaid:
    def test_one_node_per_goal_with_safe_ids(self, graph: GoalGraph) -> None:
        text = to_mermaid(graph)
        labels, _ = read_mermaid(text)
        assert set(labels) == set(graph.ids)
        ids = re.findall(r"^    (\S+)\[", text, flags=re.MULTILINE)
        assert ids == [f"n{i}" for i in range(len(graph))]

    def test_labels_escape_quotes_and_markup_and_keep_chinese(self, graph: GoalGraph) -> None:
        text = to_mermaid(graph)
        root_line = next(line for line in text.splitlines() if line.startswith("    n0["))
        for raw in ("<b>", "&", "`", "\\"):
            assert raw not in root_line
        assert "全年" in root_line and "[2026]" in root_line
        labels, _ = read_mermaid(text)
        assert labels["root"] == ["root", " ".join(NASTY.split())]

    def test_contributes_solid_with_weight_supports_dashed(self, graph: GoalGraph) -> None:
        _, edges = read_mermaid(to_mermaid(graph))
        kinds = {"-->": "contributes", "-.->": "supports"}
        assert {(c, p, kinds[a]) for c, p, a, _ in edges} == EDGES
        assert len(edges) == len(EDGES)
        labels = {(c, p): label for c, p, _, label in edges}
        assert labels["t1", "root"] == "60%"
        assert labels["p1", "t2"] is None
        assert labels["brand", "root"] == "supports"

    def test_a_rollup_adds_progress_and_a_non_active_status(self, graph: GoalGraph) -> None:
        rollup = graph.rollup("2026-05-01")
        labels, _ = read_mermaid(to_mermaid(graph, rollup=rollup))
        assert labels["p2"][2] == rollup["p2"].percent
        assert labels["p1"][2] == f"{rollup['p1'].percent} · expired"

    def test_a_subtree(self, graph: GoalGraph) -> None:
        labels, edges = read_mermaid(to_mermaid(graph, root="t2"))
        assert set(labels) == {"t2", "p1"}
        assert [(c, p) for c, p, _, _ in edges] == [("p1", "t2")]


# -- DOT --------------------------------------------------------------------------------------


class TestToDot:
    def test_strings_are_quoted_and_escaped(self, graph: GoalGraph) -> None:
        labels, _ = read_dot(to_dot(graph))
        assert labels["root"] == ["root", " ".join(NASTY.split())]
        assert labels["t1"] == ["t1", "华东"]

    def test_every_goal_and_edge_once(self, graph: GoalGraph) -> None:
        labels, edges = read_dot(to_dot(graph))
        assert set(labels) == set(graph.ids)
        kinds = {(c, p): ("supports" if "style=dashed" in attrs else "contributes") for c, p, attrs in edges}
        assert {(c, p, k) for (c, p), k in kinds.items()} == EDGES
        assert len(edges) == len(EDGES)

    def test_weights_label_contributions(self, graph: GoalGraph) -> None:
        _, edges = read_dot(to_dot(graph))
        attributes = {(c, p): a for c, p, a in edges}
        assert "label=S" in attributes["t1", "root"]
        assert re.search(r'"t1" -> "root" \[label="60%"\]', to_dot(graph))
        assert "label" not in attributes["p1", "t2"]

    def test_a_subtree_with_a_rollup(self, graph: GoalGraph) -> None:
        rollup = graph.rollup("2026-12-31")
        labels, edges = read_dot(to_dot(graph, root="t1", rollup=rollup))
        assert set(labels) == {"t1", "p1", "p2"}
        assert labels["t1"][2] == rollup["t1"].percent
        assert {(c, p) for c, p, _ in edges} == {("p1", "t1"), ("p2", "t1")}


# -- text tree --------------------------------------------------------------------------------


class TestToText:
    def test_each_goal_in_full_once_and_a_reference_for_a_second_parent(self, graph: GoalGraph) -> None:
        text = to_text(graph)
        assert set(full_lines(text)) == set(graph.ids)
        references = [line for line in text.splitlines() if "↑ see above" in line]
        assert len(references) == 1
        assert references[0].lstrip("│├└─ ").startswith("p1 ")
        assert len(text.splitlines()) == len(graph) + 1

    def test_the_full_line_is_under_the_first_parent(self, graph: GoalGraph) -> None:
        lines = to_text(graph).splitlines()
        full = lines.index(full_lines("\n".join(lines))["p1"])
        reference = next(i for i, line in enumerate(lines) if "↑ see above" in line)
        assert lines[full - 1].lstrip("│├└─ ").startswith("t1 ")
        assert lines[reference - 1].lstrip("│├└─ ").startswith("t2 ")

    def test_supports_hang_from_a_dotted_branch(self, graph: GoalGraph) -> None:
        brand = full_lines(to_text(graph))["brand"]
        assert "╌╌" in brand and "supports" in brand
        others = [line for goal, line in full_lines(to_text(graph)).items() if goal != "brand"]
        assert not any("╌" in line for line in others)

    def test_kind_owner_and_weight_are_shown(self, graph: GoalGraph) -> None:
        lines = full_lines(to_text(graph))
        assert "(key_result, person:1001, 50%)" in lines["p1"]
        assert "(objective, team:east, 60%)" in lines["t1"]

    def test_progress_percent_and_bar_line_up(self, graph: GoalGraph) -> None:
        rollup = graph.rollup("2026-03-15")
        lines = full_lines(to_text(graph, rollup=rollup))
        columns = set()
        for goal, line in lines.items():
            percent = rollup[goal].percent
            match = re.search(rf"\s{re.escape(percent)} ([█░·]{{10}})", line)
            assert match, line
            filled = match[1].count("█")
            progress = rollup[goal].progress
            assert filled == (0 if progress is None else int(min(progress, Decimal(1)) * 10))
            columns.add(display_width(line[: match.end()]))
        assert len(columns) == 1, "the bars end in the same column, wide characters counted"

    def test_a_subtree_prints_its_root_first(self, graph: GoalGraph) -> None:
        lines = to_text(graph, root="t2").splitlines()
        assert lines[0].startswith("t2 ")
        assert len(lines) == 2 and "↑" not in lines[1]

    def test_a_deep_chain_needs_no_recursion(self) -> None:
        depth = 1200
        goals = [{"id": "g0", "title": "top", "owner": "org", "period": "2026"}]
        goals += [
            {"id": f"g{i}", "title": f"level {i}", "owner": "team:a", "period": "2026", "contributes_to": [f"g{i - 1}"]}
            for i in range(1, depth)
        ]
        goals[-1].update(kind="key_result", target=1)
        text = to_text(GoalGraph.from_dict({"perfkit_goals": 1, "goals": goals}))
        assert len(text.splitlines()) == depth


# -- order --------------------------------------------------------------------------------------


@st.composite
def goal_dags(draw: st.DrawFn) -> list[dict[str, Any]]:
    """A random valid goal graph in 2026: goal i contributes to some earlier objectives and
    supports some earlier goals; statuses mixed; objectives average or sum (a sum takes key
    results only); the other goals are key results, some with a check-in."""
    count = draw(st.integers(1, 9))
    kinds = [draw(st.sampled_from(["average", "sum", "key_result", "key_result"])) for _ in range(count)]
    goals: list[dict[str, Any]] = []
    for i, kind in enumerate(kinds):
        eligible = [j for j in range(i) if kinds[j] == "average" or (kinds[j] == "sum" and kind == "key_result")]
        parents = draw(st.lists(st.sampled_from(eligible), unique=True, max_size=2)) if eligible else []
        supports = [j for j in draw(st.lists(st.integers(0, i - 1), unique=True, max_size=1)) if j not in parents] if i else []
        goal: dict[str, Any] = {
            "id": f"g{i}",
            "title": draw(st.sampled_from(["增长", 'say "hi"', "a [b]", "plain"])),
            "owner": draw(st.sampled_from(["org", "team:east", "person:1001", "person:1002"])),
            "period": "2026",
            "status": draw(st.sampled_from(["active", "active", "draft", "closed", "archived"])),
            "contributes_to": [f"g{j}" for j in parents],
            "supports": [f"g{j}" for j in supports],
        }
        if kind == "key_result":
            goal.update(kind="key_result", target=draw(st.sampled_from([3, 7, 100])))
            if draw(st.booleans()):
                goal["checkins"] = [{"at": "2026-03-01", "value": draw(st.integers(0, 120))}]
        elif kind == "sum":
            goal.update(rollup="sum", target=draw(st.sampled_from([10, 50])))
        goals.append(goal)
    return goals


def _structure(graph: GoalGraph, root: str | None = None) -> dict[str, Any]:
    """What a view says regardless of the file's order."""
    data = json.loads(to_json(graph, root=root, rollup=graph.rollup("2026-12-31")))
    _, mermaid_edges = read_mermaid(to_mermaid(graph, root=root))
    tree = to_text(graph, root=root)
    return {
        "nodes": sorted(json.dumps(n, sort_keys=True) for n in data["nodes"]),
        "edges": sorted(json.dumps(e, sort_keys=True) for e in data["edges"]),
        "mermaid": sorted(mermaid_edges, key=str),
        "dot": sorted(to_dot(graph, root=root).splitlines()),
        "tree_goals": sorted(full_lines(tree)),
        "tree_lines": len(tree.splitlines()),
    }


class TestOrder:
    def test_the_same_graph_gives_the_same_text(self, graph: GoalGraph) -> None:
        again = GoalGraph.from_dict({"perfkit_goals": 1, "goals": goal_data()})
        for view in (to_json, to_mermaid, to_dot, to_text):
            assert view(graph) == view(again)

    def test_children_follow_the_file(self, graph: GoalGraph) -> None:
        heads = [line.lstrip("│├└─╌ ").split(" ")[0] for line in to_text(graph).splitlines()]
        assert heads == ["root", "t1", "p1", "p2", "t2", "p1", "brand"]

    @pytest.mark.parametrize("order", list(itertools.islice(itertools.permutations(range(6)), 0, 720, 37)))
    def test_a_permuted_file_gives_the_same_nodes_edges_and_numbers(self, order: tuple[int, ...]) -> None:
        goals = goal_data()
        permuted = GoalGraph.from_dict({"perfkit_goals": 1, "goals": [goals[i] for i in order]})
        original = GoalGraph.from_dict({"perfkit_goals": 1, "goals": goals})
        assert _structure(permuted) == _structure(original)
        assert _structure(permuted, root="t1") == _structure(original, root="t1")

    @settings(max_examples=40, deadline=None)
    @given(data=st.data())
    def test_any_permuted_graph_gives_the_same_structure(self, data: st.DataObject) -> None:
        goals = data.draw(goal_dags())
        permuted = data.draw(st.permutations(goals))
        original = GoalGraph.from_dict({"perfkit_goals": 1, "goals": goals})
        shuffled = GoalGraph.from_dict({"perfkit_goals": 1, "goals": permuted})
        assert _structure(shuffled) == _structure(original)
