"""Scheme files: shape, meaning, positions in errors, round trips, JSON Schema."""

from __future__ import annotations

import json
from decimal import Decimal
from pathlib import Path

import pytest

import perfkit as pk
from perfkit.scheme import format_weight, parse_weight

DESIGN_EXAMPLE = """\
perfkit: 1
id: sales-quarterly
name: 销售岗季度考核
period: 2026-Q2
inputs:
  sales:            {unit: CNY, source: crm}
  sales_target:     {unit: CNY}
  csat:             {min: 1, max: 5, source: helpdesk}
  collection_rate:  {unit: ratio, source: erp}
  attitude:         {min: 1, max: 5, source: manager_rating}
  major_incidents:  {unit: count, default: 0}
kpis:
  - id: revenue
    name: 销售额
    weight: 40%
    score: piecewise(sales / sales_target, (0.6, 0), (1.0, 100), (1.2, 120))
  - id: satisfaction
    name: 客户满意度
    weight: 20%
    score: (csat - 1) / 4 * 100
  - id: collection
    name: 回款率
    weight: 30%
    score: clamp(collection_rate * 100, 0, 100)
  - id: attitude
    name: 工作态度
    weight: 10%
    score: attitude * 20
rounding: {kpi: 2, total: 2, mode: half_up}
rules:
  - id: collection-cap
    when: collection_rate < 0.8
    then: {cap_grade: B}
    reason: 季度回款完成率低于80%者,综合评分不得高于B级
  - id: incidents
    when: major_incidents > 2
    then: {flag: needs_improvement}
grades:
  - {grade: S, min_score: 95, multiplier: 1.5}
  - {grade: A, min_score: 85, multiplier: 1.2}
  - {grade: B, min_score: 70, multiplier: 1.0}
  - {grade: C, min_score: 60, multiplier: 0.8}
  - {grade: D, min_score: 0,  multiplier: 0}
calibration:
  group_by: department
  distribution: {S: 10%, A: 20%, B: 50%, C: 15%, D: 5%}
"""

MINIMAL = """\
perfkit: 1
id: tiny
inputs:
  x: {min: 0, max: 100}
kpis:
  - {id: k, weight: 100%, score: x}
grades:
  - {grade: A, min_score: 50}
  - {grade: B, min_score: 0}
"""


def problems_of(text: str) -> list[pk.SchemeError]:
    with pytest.raises(pk.SchemeError) as info:
        pk.Scheme.from_yaml(text, source="s.yaml")
    return [p for p in info.value.problems if isinstance(p, pk.SchemeError)]


class TestDesignExample:
    def test_the_design_example_loads_and_scores_end_to_end(self) -> None:
        scheme = pk.Scheme.from_yaml(DESIGN_EXAMPLE)
        result = pk.evaluate(
            scheme,
            [
                {"employee_id": "a", "sales": 1_250_000, "sales_target": 1_000_000, "csat": 4.6,
                 "collection_rate": 0.78, "attitude": 4},
                {"employee_id": "b", "sales": 800_000, "sales_target": 1_000_000, "csat": 3,
                 "collection_rate": 0.9, "attitude": 3, "major_incidents": 3},
            ],
        )
        a, b = result["a"], result["b"]
        assert (a.total, a.band_grade, a.grade, a.rules) == (Decimal("97.40"), "S", "B", ("collection-cap",))
        # 50*0.4 + 50*0.2 + 90*0.3 + 60*0.1 = 63
        assert (b.total, b.grade, b.flags) == (Decimal("63.00"), "C", ("needs_improvement",))

    def test_bundled_example_is_valid(self) -> None:
        assert pk.validate_scheme(pk.example_path("sales-quarterly.yaml")) == []


class TestWeights:
    @pytest.mark.parametrize(("text", "expected"), [("40%", "0.40"), (0.4, "0.4"), ("0.25", "0.25"), ("12.5%", "0.125")])
    def test_percentages_and_fractions(self, text: object, expected: str) -> None:
        assert parse_weight(text) == Decimal(expected)

    @pytest.mark.parametrize("bad", ["-10%", 40, "140%", "abc"])
    def test_bad_weights(self, bad: object) -> None:
        with pytest.raises(ValueError):
            parse_weight(bad)

    def test_format(self) -> None:
        assert format_weight(Decimal("0.4")) == "40%"
        assert format_weight(Decimal("0.125")) == "12.5%"

    def test_weights_must_sum_to_exactly_100_percent(self) -> None:
        text = MINIMAL.replace("- {id: k, weight: 100%, score: x}", "- {id: k, weight: 33.33%, score: x}\n  - {id: j, weight: 66.66%, score: x}")
        (problem,) = problems_of(text)
        assert problem.path == "kpis"
        assert "99.99%" in problem.message and "k 33.33%" in problem.message and "j 66.66%" in problem.message

    def test_normalize_weights_scales_instead(self) -> None:
        text = MINIMAL.replace("- {id: k, weight: 100%, score: x}", "- {id: k, weight: 1%, score: x}\n  - {id: j, weight: 3%, score: x}")
        scheme = pk.Scheme.from_yaml(text + "normalize_weights: true\n")
        compiled = scheme.compile()
        assert [k.weight for k in compiled.kpis] == [Decimal("0.25"), Decimal("0.75")]


class TestErrorsPointAtTheFix:
    def test_unknown_field_with_did_you_mean_and_line(self) -> None:
        (problem, *_) = [p for p in problems_of(MINIMAL.replace("{id: k, weight", "{id: k, wieght")) if "unknown" in p.message]
        assert problem.message == "unknown field 'wieght'; did you mean 'weight'?"
        assert problem.path == "kpis[0].wieght"
        assert (problem.source, problem.line) == ("s.yaml", 6)

    def test_every_problem_is_reported_at_once_in_file_order(self) -> None:
        text = MINIMAL.replace("score: x}", "score: y}").replace("min_score: 50", "min_score: -5") + (
            "rules:\n  - {id: r, when: x = 1, then: {cap_grade: Z}}\n"
        )
        problems = problems_of(text)
        assert [p.path for p in problems] == [
            "kpis[0].score",  # line 6
            "grades[1].min_score",  # line 9
            "rules[0].when",  # line 11, like the next one: stable order within a line
            "rules[0].then.cap_grade",
        ]
        assert [p.line for p in problems] == [6, 9, 11, 11]
        formula = next(p for p in problems if isinstance(p, pk.FormulaError) and p.path == "rules[0].when")
        assert formula.hint is not None and "==" in formula.hint

    def test_yaml_syntax_error_has_a_line(self) -> None:
        (problem,) = problems_of("perfkit: 1\nid: x\n  bad: [\n")
        assert problem.line == 3 and problem.message.startswith("not valid YAML")

    def test_json_syntax_error_has_a_line(self) -> None:
        with pytest.raises(pk.SchemeError) as info:
            pk.Scheme.from_json('{"perfkit": 1,\n "id": }', source="s.json")
        assert info.value.line == 2 and info.value.source == "s.json"

    def test_wrong_format_version(self) -> None:
        problems = problems_of(MINIMAL.replace("perfkit: 1", "perfkit: 2"))
        assert problems[0].path == "perfkit" and "version 1" in problems[0].message

    def test_duplicate_yaml_key_is_an_error(self) -> None:
        (problem,) = problems_of(MINIMAL + "id: again\n")
        assert "appears twice" in problem.message

    def test_missing_file(self, tmp_path: Path) -> None:
        with pytest.raises(pk.SchemeError, match="file not found"):
            pk.load_scheme(tmp_path / "nope.yaml")

    def test_constructing_in_python_raises_scheme_error_not_pydantic(self) -> None:
        with pytest.raises(pk.SchemeError) as info:
            pk.Scheme(perfkit=1, id="x", inputs={}, kpis=[], grades=[])
        assert {p.path for p in info.value.problems} == {"kpis", "grades"}

    def test_formula_problem_is_a_formula_error_with_caret(self) -> None:
        (problem,) = problems_of(MINIMAL.replace("score: x}", "score: 'clamp(xx, 0, 1)'}"))
        assert isinstance(problem, pk.FormulaError)
        assert problem.suggestion == "x" and problem.path == "kpis[0].score" and problem.line == 6
        assert "    clamp(xx, 0, 1)\n          ^^" in str(problem)

    def test_unquoted_formula_with_commas_in_flow_style_gets_a_hint(self) -> None:
        problems = problems_of(MINIMAL.replace("score: x}", "score: clamp(x, 0, 1)}"))
        assert any("must be quoted" in p.message for p in problems)

    def test_to_dict_lists_every_problem(self) -> None:
        with pytest.raises(pk.SchemeError) as info:
            pk.Scheme.from_yaml(MINIMAL.replace("score: x}", "score: y}").replace("min_score: 50", "min_score: -1"))
        data = info.value.to_dict()
        assert len(data["problems"]) == 2
        json.dumps(data)  # plain data


class TestGradeBands:
    def test_bands_out_of_order_or_overlapping(self) -> None:
        (problem,) = problems_of(MINIMAL.replace("min_score: 50", "min_score: 0"))
        assert problem.path == "grades[1].min_score" and "strictly decreasing" in problem.message

    def test_a_gap_below_the_lowest_band(self) -> None:
        (problem,) = problems_of(MINIMAL.replace("{grade: B, min_score: 0}", "{grade: B, min_score: 10}"))
        assert problem.path == "grades[1].min_score"
        assert "as low as 0" in problem.message

    def test_unbounded_totals_need_an_open_last_band(self) -> None:
        text = MINIMAL.replace("x: {min: 0, max: 100}", "x: {}")
        (problem,) = problems_of(text)
        assert "no lower bound" in problem.message and "k" in problem.message
        open_band = text.replace("{grade: B, min_score: 0}", "{grade: B}")
        assert pk.Scheme.from_yaml(open_band).compile().scale.band(Decimal(-1000)).name == "B"  # type: ignore[union-attr]

    def test_only_the_last_band_may_leave_out_min_score(self) -> None:
        (problem,) = problems_of(MINIMAL.replace("{grade: A, min_score: 50}", "{grade: A}"))
        assert problem.path == "grades[0].min_score"

    def test_duplicate_grade(self) -> None:
        problems = problems_of(MINIMAL.replace("grade: B", "grade: A"))
        assert any("appears twice" in p.message for p in problems)


class TestNames:
    def test_duplicate_kpi_and_rule_ids(self) -> None:
        text = MINIMAL.replace(
            "- {id: k, weight: 100%, score: x}", "- {id: k, weight: 50%, score: x}\n  - {id: k, weight: 50%, score: x}"
        ) + "rules:\n  - {id: r, when: x > 1, then: {flag: f}}\n  - {id: r, when: x > 2, then: {flag: g}}\n"
        paths = {p.path for p in problems_of(text)}
        assert paths == {"kpis[1].id", "rules[1].id"}

    def test_a_name_that_is_input_and_kpi_is_refused_in_rules(self) -> None:
        text = MINIMAL.replace("{id: k,", "{id: x,") + "rules:\n  - {id: r, when: x > 1, then: {flag: f}}\n"
        (problem,) = problems_of(text)
        assert isinstance(problem, pk.FormulaError) and "both an input and a KPI id" in problem.message

    def test_rule_can_read_kpi_scores_and_total(self) -> None:
        text = MINIMAL + "rules:\n  - {id: r, when: k >= 60 and total < 70, then: {flag: middling}}\n"
        result = pk.evaluate(pk.Scheme.from_yaml(text), [{"employee_id": 1, "x": 65}, {"employee_id": 2, "x": 90}])
        assert result["1"].flags == ("middling",) and result["2"].flags == ()

    def test_formula_that_is_a_number(self) -> None:
        scheme = pk.Scheme.from_yaml(MINIMAL.replace("score: x}", "score: 60}"))
        assert pk.evaluate(scheme, [{"employee_id": "a", "x": 1}])["a"].total == Decimal("60.00")


class TestRoundTrip:
    def test_yaml_and_json_round_trips_are_identities(self) -> None:
        scheme = pk.load_scheme(pk.example_path("sales-quarterly.yaml"))
        for dump, load in ((pk.Scheme.to_yaml, pk.Scheme.from_yaml), (pk.Scheme.to_json, pk.Scheme.from_json)):
            text = dump(scheme)
            again = load(text)
            assert again == scheme
            assert dump(again) == text

    def test_exact_decimals_survive(self) -> None:
        text = MINIMAL.replace("min_score: 50", "min_score: 50.123456789012345678901")
        scheme = pk.Scheme.from_yaml(text)
        assert scheme.grades[0].min_score == Decimal("50.123456789012345678901")
        assert pk.Scheme.from_yaml(scheme.to_yaml()).grades[0].min_score == Decimal("50.123456789012345678901")
        assert pk.Scheme.from_json(scheme.to_json()).grades[0].min_score == Decimal("50.123456789012345678901")

    def test_load_from_files(self, tmp_path: Path) -> None:
        scheme = pk.Scheme.from_yaml(MINIMAL)
        (tmp_path / "s.json").write_text(scheme.to_json(), encoding="utf-8")
        (tmp_path / "s.yaml").write_text(scheme.to_yaml(), encoding="utf-8")
        assert pk.load_scheme(tmp_path / "s.json") == pk.load_scheme(tmp_path / "s.yaml") == scheme


class TestJsonSchema:
    def test_schema_describes_the_format(self) -> None:
        schema = pk.Scheme.json_schema()
        assert schema["$schema"].endswith("2020-12/schema")
        assert {"perfkit", "id", "inputs", "kpis", "grades"} <= set(schema["required"])
        assert schema["additionalProperties"] is False
        json.dumps(schema)


class TestFriendlyReading:
    def test_unquoted_version_and_period_keep_their_text(self) -> None:
        scheme = pk.Scheme.from_yaml(MINIMAL + "version: 2026.10\nperiod: 2026-06-30\n")
        assert (scheme.version, scheme.period) == ("2026.10", "2026-06-30")

    def test_grade_in_another_case_gets_a_did_you_mean(self) -> None:
        (problem,) = problems_of(MINIMAL + "rules:\n  - {id: r, when: x < 1, then: {cap_grade: b}}\n")
        assert problem.message == "unknown grade 'b'; did you mean 'B'?"

    def test_calibration_distribution_must_sum_to_100_percent(self) -> None:
        (problem,) = problems_of(MINIMAL + "calibration: {group_by: department, distribution: {A: 30%, B: 60%}}\n")
        assert problem.path == "calibration.distribution"
        assert problem.message == "the target shares cover every grade but add up to 90%, not 100%"

    def test_an_operation_that_fails_on_every_row_is_refused_when_checked(self) -> None:
        (problem,) = problems_of(MINIMAL.replace("score: x}", "score: x / (2 - 2)}"))
        assert isinstance(problem, pk.FormulaError) and problem.message == "division by zero: the divisor is always 0"


class TestRangeAnalysis:
    def test_a_kpi_named_like_an_input_does_not_change_that_inputs_range(self) -> None:
        """KPI `x` scores 0..1000, but the next KPI reads input `x`, which is 0..100."""
        text = MINIMAL.replace(
            "- {id: k, weight: 100%, score: x}", "- {id: x, weight: 50%, score: x * 10}\n  - {id: k, weight: 50%, score: x}"
        )
        compiled = pk.Scheme.from_yaml(text).compile()
        assert [k.bounds.hi for k in compiled.kpis] == [Decimal("1000.00"), Decimal("100.00")]
        assert compiled.total_bounds.hi == Decimal("550.00")
