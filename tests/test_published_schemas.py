"""The JSON Schemas perfkit publishes accept the files perfkit itself ships and documents."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import jsonschema
import pytest
import yaml

from perfkit import example_path
from perfkit.goals.model import GoalFile
from perfkit.scheme import Scheme

ROOT = Path(__file__).resolve().parents[1]
EXAMPLES = sorted(p for p in example_path("sales-quarterly.yaml").parent.glob("*.yaml"))
FILE_BLOCK = re.compile(r'```yaml title="(?P<name>[^"]+)"\n(?P<body>.*?)```', re.DOTALL)


def as_json(data: Any) -> Any:
    """YAML data as a JSON reader would see it (dates become text)."""
    return json.loads(json.dumps(data, default=str))


def documented_goal_files() -> list[tuple[str, Any]]:
    found = []
    for page in sorted((ROOT / "docs").glob("goal*.md")):
        for block in FILE_BLOCK.finditer(page.read_text(encoding="utf-8")):
            data = yaml.safe_load(block["body"])
            if isinstance(data, dict) and "perfkit_goals" in data:
                found.append((f"{page.name}:{block['name']}", as_json(data)))
    return found


GOAL_FILES = documented_goal_files()


@pytest.mark.parametrize("path", EXAMPLES, ids=[p.name for p in EXAMPLES])
def test_every_example_scheme_matches_the_scheme_schema(path: Path) -> None:
    validator = jsonschema.Draft202012Validator(Scheme.json_schema())
    errors = [e.message for e in validator.iter_errors(as_json(yaml.safe_load(path.read_text(encoding="utf-8"))))]
    assert errors == []


@pytest.mark.parametrize("data", [d for _, d in GOAL_FILES], ids=[n for n, _ in GOAL_FILES])
def test_every_documented_goal_file_matches_the_goal_schema(data: Any) -> None:
    validator = jsonschema.Draft202012Validator(GoalFile.json_schema())
    assert [e.message for e in validator.iter_errors(data)] == []


def test_the_schemas_refuse_what_the_loaders_refuse() -> None:
    scheme = jsonschema.Draft202012Validator(Scheme.json_schema())
    assert list(scheme.iter_errors({"perfkit": 1, "id": "x", "kpis": [{"id": "k", "weight": "forty", "score": "1"}]}))
    goals = jsonschema.Draft202012Validator(GoalFile.json_schema())
    assert list(goals.iter_errors({"perfkit_goals": 1, "goals": [{"id": "a", "title": "A", "owner": "boss", "period": "2026"}]}))
    assert list(goals.iter_errors({"perfkit_goals": 1, "goals": [
        {"id": "a", "title": "A", "owner": "org", "period": "2026", "checkin": {"every": "fortnightly"}}]}))


def test_there_are_documented_goal_files() -> None:
    assert len(GOAL_FILES) >= 4
