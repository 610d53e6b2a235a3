"""Goal files (perfkit.goals.files): load, validate and dump, every problem with its line."""

from __future__ import annotations

import json
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from goals.strategies import goal_graphs
from hypothesis import HealthCheck, given, settings

from perfkit.errors import GoalGraphError
from perfkit.goals import GoalGraph, dump_goals, load_goals, validate_goals
from perfkit.org import Roster
from perfkit.periods import Calendar

GOOD = """\
perfkit_goals: 1
calendar: {tz: Asia/Shanghai}
goals:
  - id: revenue-2026
    title: 全年收入 5000 万
    owner: org
    period: "2026"
    rollup: sum
    target: 50000000
    unit: CNY
  - id: east
    title: 华东区收入
    kind: key_result
    owner: team:east
    period: "2026"
    target: 30000000
    contributes_to: [revenue-2026]
    checkin: {every: 2 weeks}
    checkins:
      - {at: 2026-03-01, value: 4100000.50, note: Q1 close}
  - id: south
    title: 华南区收入
    kind: key_result
    owner: person:1002
    period: "2026"
    target: 20000000
    metric: revenue
    contributes_to: [revenue-2026]
"""

BAD = """\
perfkit_goals: 1
goals:
  - id: grow
    title: Grow
    owner: org
    period: "2026"
  - id: east
    title: East
    kind: key_result
    owner: org
    period: "2026"
    contributes_to: [grw]
  - id: east
    title: East again
    kind: key_result
    owner: org
    period: "2026"
    target: 10
    contributes_to: [grow]
  - id: south
    title: South
    owner: org
    period: "2026"
    targt: 10
  - id: west
    title: West
    kind: key_result
    owner: person:1001
    period: "2026"
    target: 5
    metric: sales
    contributes_to:
      - {goal: grow, weight: 100%}
"""

# line numbers of BAD
EAST_PARENT, EAST_TARGET, DUPLICATE, TYPO, METRIC = 12, 7, 13, 24, 31


def write(tmp_path: Path, text: str, name: str = "goals.yaml") -> Path:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


class TestLoad:
    def test_good_file(self, tmp_path: Path) -> None:
        graph = load_goals(write(tmp_path, GOOD))
        assert graph.ids == ("revenue-2026", "east", "south")
        assert graph.calendar == Calendar(tz="Asia/Shanghai")
        assert graph["east"].checkins[0].value == Decimal("4100000.50")
        assert graph["south"].mode == "metric"
        assert graph.children("revenue-2026") == ("east", "south")

    def test_json_file(self, tmp_path: Path) -> None:
        data = {"perfkit_goals": 1, "goals": [
            {"id": "grow", "title": "Grow", "owner": "org", "period": "2026"},
            {"id": "kr", "title": "KR", "kind": "key_result", "owner": "org", "period": "2026",
             "target": 0.1, "contributes_to": ["grow"]},
        ]}
        graph = load_goals(write(tmp_path, json.dumps(data), "goals.json"))
        assert graph["kr"].target == Decimal("0.1")

    def test_same_as_from_dict(self, tmp_path: Path) -> None:
        text = GOOD
        from perfkit._files import read_text

        data, _ = read_text(text)
        assert load_goals(write(tmp_path, text)).goals == GoalGraph.from_dict(data).goals

    def test_missing_file(self, tmp_path: Path) -> None:
        with pytest.raises(GoalGraphError, match="file not found") as info:
            load_goals(tmp_path / "nope.yaml")
        assert info.value.source == str(tmp_path / "nope.yaml")

    def test_invalid_yaml(self, tmp_path: Path) -> None:
        with pytest.raises(GoalGraphError, match="not valid YAML") as info:
            load_goals(write(tmp_path, "perfkit_goals: 1\ngoals:\n  - id: [unclosed\n"))
        assert info.value.line is not None

    @pytest.mark.parametrize("text", ["- just a list\n", "42\n"])
    def test_not_a_mapping(self, tmp_path: Path, text: str) -> None:
        with pytest.raises(GoalGraphError, match="mapping"):
            load_goals(write(tmp_path, text))

    def test_goals_not_a_list(self, tmp_path: Path) -> None:
        with pytest.raises(GoalGraphError) as info:
            load_goals(write(tmp_path, "perfkit_goals: 1\ngoals: {id: x}\n"))
        assert [p.path for p in info.value.problems] == ["goals"]  # type: ignore[attr-defined]

    def test_format_version(self, tmp_path: Path) -> None:
        with pytest.raises(GoalGraphError) as info:
            load_goals(write(tmp_path, "perfkit_goals: 2\ngoals: []\n"))
        assert info.value.problems[0].line == 1  # type: ignore[attr-defined]

    def test_bad_calendar(self, tmp_path: Path) -> None:
        with pytest.raises(GoalGraphError) as info:
            load_goals(write(tmp_path, "perfkit_goals: 1\ncalendar: {tz: Mars/Olympus}\ngoals: []\n"))
        assert any(p.path == "calendar" for p in info.value.problems)  # type: ignore[attr-defined]


class TestProblemsTogether:
    """A whole file's problems come in one error, each with its line, field path and goal ids."""

    @pytest.fixture
    def error(self, tmp_path: Path) -> GoalGraphError:
        with pytest.raises(GoalGraphError) as info:
            load_goals(write(tmp_path, BAD), metrics=["revenue", "sale"])
        return info.value

    def by_path(self, error: GoalGraphError) -> dict[str, GoalGraphError]:
        found = {}
        for problem in error.problems:
            assert isinstance(problem, GoalGraphError)
            assert problem.path is not None
            found[problem.path] = problem
        return found

    def test_one_error_many_problems(self, error: GoalGraphError) -> None:
        paths = set(self.by_path(error))
        assert paths == {
            "goals[1].contributes_to[0].goal", "goals[1].target", "goals[2].id", "goals[3].targt", "goals[4].metric",
        }
        assert "5 problems" in error.message

    def test_lines(self, error: GoalGraphError) -> None:
        lines = {path: p.line for path, p in self.by_path(error).items()}
        assert lines["goals[1].contributes_to[0].goal"] == EAST_PARENT
        assert lines["goals[1].target"] == EAST_TARGET
        assert lines["goals[2].id"] == DUPLICATE
        assert lines["goals[3].targt"] == TYPO
        assert lines["goals[4].metric"] == METRIC
        assert [p.line for p in error.problems] == sorted(p.line for p in error.problems)  # type: ignore[attr-defined]

    def test_ids_and_messages(self, error: GoalGraphError) -> None:
        found = self.by_path(error)
        assert found["goals[1].contributes_to[0].goal"].goals == ("east", "grw")
        assert "did you mean 'grow'" in found["goals[1].contributes_to[0].goal"].message
        assert found["goals[1].target"].goals == ("east",)
        assert found["goals[2].id"].goals == ("east",)
        assert found["goals[3].targt"].goals == ("south",)
        assert "did you mean 'target'" in found["goals[3].targt"].message
        assert found["goals[4].metric"].goals == ("west",)
        assert "did you mean 'sale'" in found["goals[4].metric"].message

    def test_source_named(self, error: GoalGraphError, tmp_path: Path) -> None:
        assert all(p.source == str(tmp_path / "goals.yaml") for p in error.problems)  # type: ignore[attr-defined]
        assert f"{tmp_path / 'goals.yaml'}:{EAST_PARENT}" in str(error.problems[1])

    def test_as_data(self, error: GoalGraphError) -> None:
        data = error.to_dict()
        assert data["type"] == "GoalGraphError"
        assert len(data["problems"]) == 5
        assert {"goals": ["east", "grw"], "line": EAST_PARENT}.items() <= data["problems"][1].items()

    def test_validate_goals_lists_them(self, tmp_path: Path, error: GoalGraphError) -> None:
        listed = validate_goals(write(tmp_path, BAD), metrics=["revenue", "sale"])
        assert [(p.path, p.line) for p in listed] == [(p.path, p.line) for p in error.problems]  # type: ignore[attr-defined]
        assert validate_goals(write(tmp_path, GOOD, "good.yaml")) == []

    def test_validate_plain_data(self) -> None:
        listed = validate_goals({"perfkit_goals": 1, "goals": [
            {"id": "a", "title": "A", "owner": "org", "period": "2026", "contributes_to": ["b"]},
        ]})
        assert [p.goals for p in listed] == [("a", "b")]

    def test_weights_and_cycle_in_a_file(self, tmp_path: Path) -> None:
        text = """\
perfkit_goals: 1
goals:
  - {id: a, title: A, owner: org, period: "2026", contributes_to: [c]}
  - {id: b, title: B, owner: org, period: "2026", contributes_to: [a]}
  - {id: c, title: C, owner: org, period: "2026", contributes_to: [b]}
  - {id: grow, title: G, owner: org, period: "2026"}
  - {id: x, title: X, kind: key_result, owner: org, period: "2026", target: 1, contributes_to: [{goal: grow, weight: 60%}]}
  - {id: y, title: Y, kind: key_result, owner: org, period: "2026", target: 1, contributes_to: [{goal: grow, weight: 30%}]}
"""
        with pytest.raises(GoalGraphError) as info:
            load_goals(write(tmp_path, text))
        found = info.value.problems
        assert len(found) == 2
        cycle = next(p for p in found if "cycle" in p.message)
        weights = next(p for p in found if "100%" in p.message)
        assert cycle.goals[0] == cycle.goals[-1] and set(cycle.goals) == {"a", "b", "c"}  # type: ignore[attr-defined]
        assert cycle.line == 3  # type: ignore[attr-defined]
        assert weights.goals == ("grow", "x", "y")  # type: ignore[attr-defined]
        assert weights.line == 6  # type: ignore[attr-defined]

    def test_bad_goal_does_not_hide_the_rest(self, tmp_path: Path) -> None:
        """A goal that cannot be read is reported, links to it are not reported again,
        and other goals are still checked."""
        text = """\
perfkit_goals: 1
goals:
  - {id: grow, title: "", owner: org, period: "2026"}
  - {id: kr, title: KR, kind: key_result, owner: org, period: "2026", contributes_to: [grow]}
  - {id: kr2, title: KR2, kind: key_result, owner: org, period: "2026", target: 1, contributes_to: [nowhere]}
"""
        with pytest.raises(GoalGraphError) as info:
            load_goals(write(tmp_path, text))
        found = {(p.path, p.goals) for p in info.value.problems}  # type: ignore[attr-defined]
        assert found == {
            ("goals[0].title", ("grow",)),
            ("goals[1].target", ("kr",)),
            ("goals[2].contributes_to[0].goal", ("kr2", "nowhere")),
        }


class TestMetricsAndRoster:
    def test_metric_missing(self, tmp_path: Path) -> None:
        with pytest.raises(GoalGraphError) as info:
            load_goals(write(tmp_path, GOOD), metrics=["headcount"])
        (problem,) = info.value.problems
        assert problem.goals == ("south",)  # type: ignore[attr-defined]
        assert problem.path == "goals[2].metric"  # type: ignore[attr-defined]
        assert problem.line == 27  # type: ignore[attr-defined]

    def test_metric_defined(self, tmp_path: Path) -> None:
        assert "south" in load_goals(write(tmp_path, GOOD), metrics=["revenue"])

    def test_metrics_object_with_ids(self, tmp_path: Path) -> None:
        class Definitions:
            ids = ("revenue",)

        assert "south" in load_goals(write(tmp_path, GOOD), metrics=Definitions())

    def test_roster(self, tmp_path: Path) -> None:
        roster = Roster.from_records([{"id": "1001", "unit": "east"}], [{"id": "east"}])
        with pytest.raises(GoalGraphError) as info:
            load_goals(write(tmp_path, GOOD), roster=roster)
        (problem,) = info.value.problems
        assert problem.goals == ("south",)  # type: ignore[attr-defined]
        assert problem.path == "goals[2].owner" and problem.line == 24  # type: ignore[attr-defined]


class TestDump:
    def test_dump_good_file(self, tmp_path: Path) -> None:
        graph = load_goals(write(tmp_path, GOOD))
        text = dump_goals(graph)
        assert "tz: Asia/Shanghai" in text
        assert "'2026'" in text or '"2026"' in text
        again = load_goals(write(tmp_path, text, "again.yaml"))
        assert again.goals == graph.goals and again.calendar == graph.calendar

    def test_default_calendar_left_out(self) -> None:
        graph = GoalGraph.from_goals([{"id": "grow", "title": "Grow", "owner": "org", "period": "2026"}])
        assert "calendar" not in dump_goals(graph)

    def test_json(self, tmp_path: Path) -> None:
        graph = load_goals(write(tmp_path, GOOD))
        data = json.loads(dump_goals(graph, fmt="json"))
        assert data["perfkit_goals"] == 1
        assert data["goals"][1]["checkins"][0]["value"] == 4100000.5
        assert load_goals(write(tmp_path, dump_goals(graph, fmt="json"), "again.json")).goals == graph.goals

    @settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
    @given(goal_graphs(calendars=True))
    def test_dump_then_load_is_the_identity(self, tmp_path: Path, graph: GoalGraph) -> None:
        for fmt in ("yaml", "json"):
            text = dump_goals(graph, fmt=fmt)
            path = write(tmp_path, text, f"round.{fmt}")
            again = load_goals(path)
            assert again.goals == graph.goals
            assert again.calendar == graph.calendar
            assert _same_edges(again, graph)
            assert dump_goals(again, fmt=fmt) == text


def _same_edges(a: GoalGraph, b: GoalGraph) -> bool:
    def edges(g: GoalGraph) -> dict[tuple[str, str], Any]:
        return {(u, v): dict(d) for u, v, d in g.nx.edges(data=True)}

    return edges(a) == edges(b)
