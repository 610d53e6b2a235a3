"""Every bundled example scheme loads and passes its own worked examples (``tests:``)."""

from __future__ import annotations

from pathlib import Path

import pytest

import perfkit as pk
from perfkit.testing import run_tests

EXAMPLES = sorted(pk.example_path("sales-quarterly.yaml").parent.glob("*.yaml"))


def test_the_role_examples_are_shipped() -> None:
    names = {path.name for path in EXAMPLES}
    assert {
        "sales-quarterly.yaml",
        "tech-support.yaml",
        "business-development.yaml",
        "administration.yaml",
        "hr.yaml",
        "rd-okr.yaml",
    } <= names
    for name in names:
        assert pk.example_path(name).is_file()


@pytest.mark.parametrize("path", EXAMPLES, ids=[p.name for p in EXAMPLES])
def test_example_passes_its_tests(path: Path) -> None:
    scheme = pk.load_scheme(path)
    assert pk.validate_scheme(path) == []
    assert len(scheme.tests) >= 3, f"{path.name} needs at least 3 tests"
    report = run_tests(scheme)
    assert report.ok, report.to_text(title=path.name)
    assert report.passed == len(scheme.tests)


@pytest.mark.parametrize("path", EXAMPLES, ids=lambda p: p.name)
def test_example_saves_and_loads_unchanged(path: Path) -> None:
    scheme = pk.load_scheme(path)
    assert pk.Scheme.from_yaml(scheme.to_yaml()) == scheme
