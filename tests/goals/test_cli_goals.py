"""`perfkit goals validate | rollup | show | cascade | due | align`."""

from __future__ import annotations

import io
import json
from pathlib import Path

import pytest

from perfkit.cli import main
from perfkit.goals import load_goals

GOALS = """\
perfkit_goals: 1
calendar: {tz: Asia/Shanghai}
goals:
  - {id: strategy, title: 战略, owner: org, period: "2026"}
  - id: revenue
    title: 收入
    owner: org
    period: "2026"
    rollup: sum
    target: 50000000
    contributes_to: [strategy]
  - id: east
    title: 华东 "east"
    kind: key_result
    owner: person:1001
    period: "2026"
    target: 30000000
    contributes_to: [revenue]
    checkin: {every: 2 weeks}
    checkins: [{at: 2026-06-30, value: 15000000}]
  - id: south
    title: 华南
    kind: key_result
    owner: person:1002
    period: "2026"
    target: 20000000
    contributes_to: [revenue]
    checkins: [{at: 2026-06-30, value: 5000000}]
"""

ROSTER = "id,manager,unit\n1001,2001,east\n1002,2001,south\n2001,,sales\n"


def run(*args: str) -> tuple[int, str]:
    out = io.StringIO()
    code = main(list(args), stdout=out)
    return code, out.getvalue()


@pytest.fixture
def goals(tmp_path: Path) -> Path:
    path = tmp_path / "goals.yaml"
    path.write_text(GOALS, encoding="utf-8")
    return path


class TestValidate:
    def test_a_good_file(self, goals: Path) -> None:
        assert run("goals", "validate", str(goals)) == (0, f"{goals}: ok (4 goals)\n")

    def test_every_problem_with_exit_1(self, tmp_path: Path) -> None:
        bad = tmp_path / "bad.yaml"
        bad.write_text(GOALS.replace("contributes_to: [strategy]", "contributes_to: [strategy, east]"), encoding="utf-8")
        code, out = run("goals", "validate", str(bad), "--format", "json")
        assert code == 1
        (report,) = json.loads(out)
        assert report["ok"] is False
        assert [p["goals"] for p in report["problems"]] == [["east", "revenue", "east"]]

    def test_owners_are_checked_against_a_roster(self, goals: Path, tmp_path: Path) -> None:
        roster = tmp_path / "roster.csv"
        roster.write_text(ROSTER.replace("1002,2001,south\n", ""), encoding="utf-8")
        code, out = run("goals", "validate", str(goals), "--roster", str(roster))
        assert code == 1
        assert "the owner person:1002 is not in the roster" in out


class TestRollup:
    def test_a_tree_with_progress(self, goals: Path) -> None:
        code, out = run("goals", "rollup", str(goals), "--as-of", "2026-06-30")
        assert code == 0
        first, *rest = out.splitlines()
        assert first.startswith("strategy 战略") and first.rstrip().endswith("40.0% ████░░░░░░")
        assert any("east 华东" in line and "50.0%" in line for line in rest)

    def test_formats_agree(self, goals: Path) -> None:
        _, data = run("goals", "rollup", str(goals), "--as-of", "2026-06-30", "--format", "json")
        rows = {row["goal"]: row for row in json.loads(data)}
        assert rows["revenue"]["value"] == "20000000" and rows["revenue"]["progress"] == "0.4"
        _, csv_text = run("goals", "rollup", str(goals), "--as-of", "2026-06-30", "--format", "csv")
        assert csv_text.splitlines()[0].startswith("goal,title,owner,status,counted,progress")
        _, table = run("goals", "rollup", str(goals), "--as-of", "2026-06-30", "--format", "table", "--root", "revenue")
        assert [line.split()[0] for line in table.splitlines()[2:]] == ["revenue", "east", "south"]

    def test_an_unreadable_date_is_an_error(self, goals: Path) -> None:
        code, out = run("goals", "rollup", str(goals), "--as-of", "June")
        assert code == 1 and "--as-of" in out


class TestShow:
    @pytest.mark.parametrize("fmt, marker", [("mermaid", "flowchart"), ("dot", "digraph"), ("text", "strategy")])
    def test_formats(self, goals: Path, fmt: str, marker: str) -> None:
        code, out = run("goals", "show", str(goals), "--format", fmt)
        assert code == 0 and marker in out

    def test_json_with_progress(self, goals: Path) -> None:
        _, out = run("goals", "show", str(goals), "--format", "json", "--as-of", "2026-06-30", "--root", "revenue")
        data = json.loads(out)
        assert data["format"] == "perfkit-goals-graph/1"
        assert sorted(n["id"] for n in data["nodes"]) == ["east", "revenue", "south"]


class TestCascade:
    def test_split_and_write(self, goals: Path, tmp_path: Path) -> None:
        written = tmp_path / "cascaded.yaml"
        code, out = run("goals", "cascade", str(goals), "revenue", "--unit", "10000", "--write", str(written))
        assert code == 0 and "25,000,000" in out
        graph = load_goals(written)
        assert (graph["east"].target, graph["south"].target) == (25_000_000, 25_000_000)

    def test_actuals_from_a_file(self, goals: Path, tmp_path: Path) -> None:
        actuals = tmp_path / "actuals.csv"
        actuals.write_text("goal,actual\neast,300\nsouth,100\n", encoding="utf-8")
        code, out = run("goals", "cascade", str(goals), "revenue", "--actuals", str(actuals), "--format", "json")
        assert code == 0
        assert json.loads(out)["targets"] == {"east": "37500000", "south": "12500000"}

    def test_an_amount_that_is_not_whole_units(self, goals: Path) -> None:
        code, out = run("goals", "cascade", str(goals), "revenue", "--unit", "30000000")
        assert code == 1 and "revenue" in out


class TestDueAndAlign:
    def test_overdue_with_escalation(self, goals: Path, tmp_path: Path) -> None:
        roster = tmp_path / "roster.csv"
        roster.write_text(ROSTER, encoding="utf-8")
        code, out = run("goals", "due", str(goals), "--as-of", "2026-07-20", "--roster", str(roster), "--format", "json")
        assert code == 0
        (entry,) = json.loads(out)["entries"]
        assert (entry["goal"], entry["state"], entry["escalate_to"]) == ("east", "overdue", "2001")

    def test_alignment(self, goals: Path) -> None:
        code, out = run("goals", "align", str(goals), "--as-of", "2026-06-30", "--format", "json")
        assert code == 0
        data = json.loads(out)
        assert data["share"] == "1"
        code, text = run("goals", "align", str(goals), "--as-of", "2026-06-30")
        assert code == 0 and "strategy" in text


def test_the_goal_file_schema() -> None:
    code, out = run("goals", "schema")
    schema = json.loads(out)
    assert code == 0 and schema["title"] == "perfkit goal file (format version 1)"
    goal = schema["$defs"]["Goal"]
    assert {"id", "title", "owner", "period"} <= set(goal["required"])
    assert goal["properties"]["owner"]["pattern"] == "^(org|person:.+|team:.+)$"
    every = schema["$defs"]["CheckinSchedule"]["properties"]["every"]
    assert every["type"] == "string" and "weeks" in every["pattern"]


def test_goals_without_a_subcommand_shows_its_help() -> None:
    code, out = run("goals")
    assert code == 2 and "validate" in out and "cascade" in out
