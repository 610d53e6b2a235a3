"""Scheme tests (``tests:``): the runner in perfkit.testing and ``perfkit test``."""

from __future__ import annotations

import io
import json
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest

import perfkit as pk
from perfkit.cli import main
from perfkit.scheme import Expectation
from perfkit.testing import CHECKS, CaseResult, Difference, run_tests

BASE: dict[str, Any] = {
    "perfkit": 1,
    "id": "mini",
    "inputs": {
        "a": {"min": 0, "max": 100},
        "b": {"min": 0, "max": 100},
        "incidents": {"min": 0, "default": 0},
    },
    "kpis": [
        {"id": "ka", "weight": "80%", "score": "a"},
        {"id": "kb", "weight": "20%", "score": "b"},
    ],
    "rules": [
        {"id": "low-b", "when": "b < 50", "then": {"cap_grade": "B"}},
        {"id": "incidents", "when": "incidents > 2", "then": {"flag": "needs_improvement"}},
    ],
    "grades": [{"grade": "A", "min_score": 85}, {"grade": "B", "min_score": 70}, {"grade": "C"}],
}

# a = 100, b = 40: ka 100, kb 40, total 0.8×100 + 0.2×40 = 88.00 → band A, low-b caps at B.
ROW = {"a": 100, "b": 40, "incidents": 3}
RIGHT = {
    "kpis": {"ka": 100, "kb": 40},
    "total": "88.00",
    "band_grade": "A",
    "grade": "B",
    "flags": ["needs_improvement"],
    "rules": ["incidents", "low-b"],
}


def scheme_with(*tests: dict[str, Any]) -> pk.Scheme:
    return pk.Scheme.from_dict({**BASE, "tests": list(tests)})


def one_case(expect: dict[str, Any], inputs: dict[str, Any] | None = None) -> CaseResult:
    report = run_tests(scheme_with({"name": "case", "inputs": ROW if inputs is None else inputs, "expect": expect}))
    (case,) = report.cases
    return case


class TestRunner:
    def test_a_passing_case(self) -> None:
        report = run_tests(scheme_with({"name": "capped", "description": "d", "inputs": ROW, "expect": RIGHT}))
        assert report.ok and (report.passed, report.failed) == (1, 0)
        assert report.scheme_id == "mini"
        assert report.cases == (CaseResult("capped", (), "d"),)
        assert report.to_text() == "scheme mini: 1 test, all passed\n  ✓ capped"

    def test_only_the_fields_set_are_checked(self) -> None:
        assert one_case({}).passed
        assert one_case({"grade": "B"}).passed
        assert one_case({"kpis": {"kb": 40}}).passed  # ka is not listed, so not checked

    def test_total_is_exact_decimal_equality(self) -> None:
        assert one_case({"total": 88}).passed  # 88 == 88.00
        (difference,) = one_case({"total": "88.001"}).differences
        assert difference == Difference("total", Decimal("88.001"), Decimal("88.00"))

    @pytest.mark.parametrize(
        ("expect", "difference"),
        [
            ({"kpis": {"ka": 100, "kb": 41}}, Difference("kpis.kb", Decimal(41), Decimal("40.00"))),
            ({"total": "87.99"}, Difference("total", Decimal("87.99"), Decimal("88.00"))),
            ({"band_grade": "B"}, Difference("band_grade", "B", "A")),
            ({"grade": "A"}, Difference("grade", "A", "B")),
            ({"flags": []}, Difference("flags", (), ("needs_improvement",))),
            ({"rules": ["low-b"]}, Difference("rules", ("low-b",), ("incidents", "low-b"))),
        ],
        ids=["kpi", "total", "band_grade", "grade", "flags", "rules"],
    )
    def test_each_kind_of_mismatch(self, expect: dict[str, Any], difference: Difference) -> None:
        case = one_case(expect)
        assert not case.passed
        assert case.differences == (difference,)

    def test_sets_ignore_order(self) -> None:
        assert one_case({"rules": ["low-b", "incidents"], "flags": ["needs_improvement"]}).passed

    def test_every_difference_is_reported(self) -> None:
        case = one_case({**RIGHT, "total": 90, "grade": "A", "kpis": {"ka": 99}})
        assert [d.field for d in case.differences] == ["kpis.ka", "total", "grade"]

    def test_a_kpi_the_scheme_does_not_have(self) -> None:
        (difference,) = one_case({"kpis": {"ka": 100, "kc": 50}}).differences
        assert (difference.field, difference.expected, difference.actual) == ("kpis.kc", Decimal(50), None)
        assert difference.to_text() == "kpis.kc: expected 50, but the card has no 'kc' (it has: ka, kb)"

    def test_a_row_that_fails_unexpectedly(self) -> None:
        case = one_case({"grade": "A"}, inputs={"a": 100, "b": 140})
        (difference,) = case.differences
        message = "employee 'case', column 'b': 140 is outside the declared range 0..100"
        assert (difference.field, difference.expected, difference.actual) == ("error", None, message)
        assert difference.to_text() == f"error: the row failed: {message}"

    def test_an_expected_error(self) -> None:
        assert one_case({"error": "outside the declared range 0..100"}, inputs={"a": 100, "b": 140}).passed
        assert one_case({"error": "column 'b': the required input is missing"}, inputs={"a": 100}).passed

    def test_an_expected_error_that_is_another_error(self) -> None:
        (difference,) = one_case({"error": "is not a number"}, inputs={"a": 100, "b": 140}).differences
        assert difference.field == "error" and difference.expected == "is not a number"
        assert "140 is outside the declared range" in difference.actual
        assert difference.to_text().startswith("error: expected an error containing 'is not a number', got: employee")

    def test_an_expected_error_that_does_not_happen(self) -> None:
        (difference,) = one_case({"error": "is not a number"}).differences
        assert difference == Difference(
            "error",
            "is not a number",
            None,
            "expected an error containing 'is not a number', but the row was scored (total 88.00, grade B)",
        )

    def test_an_expected_error_with_other_expectations(self) -> None:
        case = one_case({"error": "outside", "grade": "A"}, inputs={"b": 140, "a": 1})
        assert [(d.field, d.message) for d in case.differences] == [
            ("grade", "cannot be checked: the row failed, as expected")
        ]

    def test_the_test_name_is_the_default_employee_id(self) -> None:
        report = run_tests(
            scheme_with(
                {"name": "王五 case", "inputs": {"a": 1}, "expect": {}},
                {"name": "other", "inputs": {"employee_id": "E9", "a": 1}, "expect": {}},
            )
        )
        messages = [d.actual for case in report.cases for d in case.differences]
        assert messages == [
            "employee '王五 case', column 'b': the required input is missing",
            "employee 'E9', column 'b': the required input is missing",
        ]

    def test_a_failed_report(self) -> None:
        report = run_tests(
            scheme_with(
                {"name": "good", "inputs": ROW, "expect": RIGHT},
                {"name": "bad", "inputs": ROW, "expect": {"grade": "A", "rules": []}},
            )
        )
        assert not report.ok and (report.passed, report.failed) == (1, 1)
        assert report.to_text(title="mini.yaml") == (
            "mini.yaml: 2 tests, 1 failed\n"
            "  ✓ good\n"
            "  ✗ bad\n"
            "      grade: expected A, got B\n"
            "      rules: expected [], got [incidents, low-b]"
        )
        assert "\x1b" not in report.to_text()
        data = report.to_dict()
        assert json.loads(json.dumps(data)) == data  # plain JSON; decimals are text
        assert data["tests"][1] == {
            "name": "bad",
            "description": None,
            "passed": False,
            "differences": [
                {"field": "grade", "expected": "A", "actual": "B"},
                {"field": "rules", "expected": [], "actual": ["incidents", "low-b"]},
            ],
        }
        total = run_tests(scheme_with({"name": "t", "inputs": ROW, "expect": {"total": 1}})).to_dict()
        assert total["tests"][0]["differences"] == [{"field": "total", "expected": "1", "actual": "88.00"}]

    def test_no_tests(self) -> None:
        report = run_tests(scheme_with())
        assert report.ok and report.cases == () and report.summary() == "no tests"

    def test_every_expectation_field_can_be_checked(self) -> None:
        """A new Expectation field needs an entry in perfkit.testing.CHECKS."""
        assert set(Expectation.model_fields) - {"error"} <= set(CHECKS)


def run_cli(*args: str) -> tuple[int, str]:
    out = io.StringIO()
    code = main(["test", *args], stdout=out)
    return code, out.getvalue()


def write(tmp_path: Path, name: str, data: dict[str, Any]) -> str:
    path = tmp_path / name
    path.write_text(json.dumps(data, ensure_ascii=False), encoding="utf-8")
    return str(path)


class TestCommand:
    def test_passing_schemes_exit_0(self) -> None:
        sales = str(pk.example_path("sales-quarterly.yaml"))
        code, out = run_cli(sales, str(pk.example_path("rd-okr.yaml")))
        assert code == 0
        assert out.startswith(f"{sales}: 5 tests, all passed\n  ✓ ")
        assert "rd-okr.yaml: 5 tests, all passed" in out and "✗" not in out

    def test_a_failing_test_exits_1(self, tmp_path: Path) -> None:
        bad = write(tmp_path, "bad.json", {**BASE, "tests": [{"name": "bad", "inputs": ROW, "expect": {"grade": "A"}}]})
        code, out = run_cli(str(pk.example_path("hr.yaml")), bad)
        assert code == 1
        assert f"{bad}: 1 test, 1 failed\n  ✗ bad\n      grade: expected A, got B\n" in out
        assert "hr.yaml: 5 tests, all passed" in out

    def test_a_scheme_that_does_not_load_exits_1(self, tmp_path: Path) -> None:
        broken = write(tmp_path, "broken.json", {**BASE, "kpis": [{"id": "ka", "weight": "90%", "score": "a"}]})
        code, out = run_cli(broken, str(pk.example_path("hr.yaml")))
        assert code == 1
        assert out.startswith(f"{broken}: the scheme does not load\n  ")
        assert "sum to 90%" in out and "hr.yaml: 5 tests, all passed" in out
        code, out = run_cli(str(tmp_path / "missing.yaml"))
        assert code == 1 and "file not found" in out

    def test_json_format(self, tmp_path: Path) -> None:
        bad = write(tmp_path, "bad.json", {**BASE, "tests": [{"name": "bad", "inputs": ROW, "expect": {"total": 90}}]})
        broken = write(tmp_path, "broken.json", {**BASE, "grades": []})
        sales = str(pk.example_path("sales-quarterly.yaml"))
        code, out = run_cli("--format", "json", sales, bad, broken)
        assert code == 1
        first, second, third = json.loads(out)
        assert (first["path"], first["scheme"], first["ok"], first["passed"], first["error"]) == (
            sales, "sales-quarterly", True, 5, None
        )
        assert second["tests"][0]["differences"] == [{"field": "total", "expected": "90", "actual": "88.00"}]
        assert (third["ok"], third["scheme"], third["tests"]) == (False, None, [])
        assert "grades" in third["error"]
        code, out = run_cli("--format", "json", sales)
        assert code == 0 and json.loads(out)[0]["ok"]


class TestRuleActionExpectations:
    """Points, ineligibility, alerts and reviews can be expected too."""

    SCHEME = """\
perfkit: 1
id: actions
inputs:
  x: {min: 0, max: 100}
  commendations: {unit: count, min: 0, default: 0}
  breach: {min: 0, max: 1, default: 0}
kpis:
  - {id: k, weight: 100%, score: x}
rules:
  - {id: bonus, then: {add_points: {points: commendations, max: 5}}}
  - id: breach
    when: breach == 1
    then: {veto: {ineligible: [bonus]}, require_review: true, alert: {message: 数据泄露}}
grades:
  - {grade: A, min_score: 85}
  - {grade: B}
tests:
  - name: everything
    inputs: {x: 82, commendations: 3, breach: 1}
    expect:
      base_total: 82
      points: {bonus: 3}
      total: 85
      grade: A
      ineligible: [bonus]
      alerts: [数据泄露]
      review_required: true
  - name: wrong
    inputs: {x: 82, commendations: 9}
    expect: {points: {bonus: 9}, review_required: true}
"""

    def test_expected_rule_effects_pass_and_wrong_ones_fail_with_the_difference(self) -> None:
        report = run_tests(pk.Scheme.from_yaml(self.SCHEME))
        everything, wrong = report.cases
        assert everything.passed
        assert [(d.field, d.expected, d.actual) for d in wrong.differences] == [
            ("points.bonus", Decimal(9), Decimal(5)),
            ("review_required", True, False),
        ]
