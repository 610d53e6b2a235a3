"""Decision tables as scheme rules: outputs are actions, checked with the scheme."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import pytest

import perfkit as pk

BASE = """\
perfkit: 1
id: tables
inputs:
  score: {min: 0, max: 100}
  collection_rate: {unit: ratio, min: 0, max: 2}
  commendations: {unit: count, min: 0, max: 20, default: 0}
kpis:
  - {id: work, weight: 100%, score: score}
grades:
  - {grade: S, min_score: 95}
  - {grade: A, min_score: 85}
  - {grade: B, min_score: 70}
  - {grade: C}
rules:
"""

CAP_TABLE = """\
  - id: collection
    reason: 回款率决定最高等级
    table:
      inputs: [collection_rate, band_grade]
      outputs: [cap_grade, flag]
      hit: first
      rows:
        - ["< 0.6", "-", C, collection_alert]
        - ["[0.6..0.8)", "S, A", B, "-"]
        - ["-", "-", "-", "-"]
"""

BONUS_TABLE = """\
  - id: commendations
    table:
      inputs: [commendations]
      outputs: [add_points]
      hit: unique
      rows:
        - ["< 1", 0]
        - ["[1..3)", 1]
        - [">= 3", 3]
"""


def compiled(rules: str) -> pk.CompiledScheme:
    return pk.Scheme.from_yaml(BASE + rules).compile()


def card(scheme: pk.CompiledScheme, **values: Any) -> pk.ScoreCard:
    return scheme.evaluate([{"employee_id": "e", "collection_rate": 1, **values}])["e"]


def problems(rules: str) -> list[pk.SchemeError]:
    with pytest.raises(pk.SchemeError) as info:
        pk.Scheme.from_yaml(BASE + rules)
    return [p for p in info.value.problems if isinstance(p, pk.SchemeError)]


class TestGradeTables:
    def test_first_matching_row_gives_the_actions(self) -> None:
        scheme = compiled(CAP_TABLE)
        low = card(scheme, score=99, collection_rate=0.5)
        assert (low.band_grade, low.grade, low.flags, low.rules) == ("S", "C", ("collection_alert",), ("collection",))
        assert low.fired[0].reason == "回款率决定最高等级"
        assert card(scheme, score=90, collection_rate=0.7).grade == "B"
        assert card(scheme, score=75, collection_rate=0.7).grade == "B"  # band B: the table gives nothing
        assert card(scheme, score=99, collection_rate=0.9).rules == ()

    def test_explanation_names_the_matched_row(self) -> None:
        explanation = card(compiled(CAP_TABLE), score=99, collection_rate=0.5).explain()
        (rule,) = explanation.rules
        assert rule.fired and rule.effect == "row 0 matched first: cap_grade C, flag collection_alert; grade S → C"
        assert "decision table (first) on collection_rate, band_grade → cap_grade, flag" in str(explanation)


class TestPointsTables:
    def test_points_from_a_table_change_the_total_before_banding(self) -> None:
        scheme = compiled(BONUS_TABLE)
        result = card(scheme, score=84, commendations=2)
        assert (result.base_total, result.total, result.band_grade) == (Decimal("84.00"), Decimal("85.00"), "A")
        assert [(p.rule_id, p.points) for p in result.points] == [("commendations", Decimal(1))]
        assert card(scheme, score=84).points == ()

    def test_collect_sums_points(self) -> None:
        rules = """\
  - id: bonus
    table:
      inputs: [commendations, collection_rate]
      outputs: [add_points]
      hit: collect
      aggregate: sum
      rows:
        - [">= 1", "-", 1]
        - ["-", ">= 1", 2]
        - ["< 1", "< 1", 0]
"""
        result = card(compiled(rules), score=50, commendations=1, collection_rate=1.2)
        assert result.total == Decimal("53.00")


class TestTablesAreCheckedWithTheScheme:
    def test_an_output_that_is_not_an_action(self) -> None:
        (problem,) = problems(CAP_TABLE.replace("[cap_grade, flag]", "[cap_grad, flag]"))
        assert problem.path == "rules[0].table.outputs" and "did you mean 'cap_grade'?" in problem.message

    def test_an_unknown_input(self) -> None:
        (problem,) = problems(CAP_TABLE.replace("[collection_rate, band_grade]", "[colection_rate, band_grade]"))
        assert problem.path == "rules[0].table.inputs" and "did you mean 'collection_rate'?" in problem.message

    def test_an_unknown_grade_in_the_rows(self) -> None:
        (problem,) = problems(CAP_TABLE.replace('"S, A", B,', '"S, A", BB,'))
        assert problem.path == "rules[0].table.rows" and "unknown grade 'BB'" in problem.message

    def test_a_grade_the_band_grade_column_cannot_hold(self) -> None:
        (problem,) = problems(CAP_TABLE.replace('"S, A", B,', '"S, X", B,'))
        assert problem.path is not None and problem.path.startswith("rules[0].table.rows[1]")

    def test_a_gap_is_reported_with_an_example(self) -> None:
        (problem,) = problems(CAP_TABLE.replace('        - ["-", "-", "-", "-"]\n', ""))
        assert problem.path is not None and problem.path.startswith("rules[0].table")
        assert "no row matches" in problem.message

    def test_points_tables_cannot_read_the_final_total(self) -> None:
        (problem,) = problems(BONUS_TABLE.replace("inputs: [commendations]", "inputs: [total]"))
        assert "use base_total" in problem.message

    def test_a_rule_has_then_or_table_not_both(self) -> None:
        (problem,) = problems(CAP_TABLE.replace("    reason: 回款率决定最高等级\n", "    then: {flag: x}\n"))
        assert "either then:" in problem.message

    def test_table_points_widen_the_reachable_totals(self) -> None:
        scheme = compiled(BONUS_TABLE)
        assert scheme.total_bounds.hi == Decimal("103.00")


class TestSetGradeTables:
    def test_a_set_grade_table_needs_its_own_priority(self) -> None:
        rules = """\
  - {id: manual, when: score > 90, then: {set_grade: A}}
  - id: by-rate
    table:
      inputs: [collection_rate]
      outputs: [set_grade]
      hit: first
      rows:
        - ["< 0.5", C]
        - ["-", "-"]
"""
        (problem,) = problems(rules)
        assert problem.path == "rules[1].priority" and "'manual' and 'by-rate'" in problem.message
        scheme = compiled(rules.replace("  - id: by-rate\n", "  - id: by-rate\n    priority: 1\n"))
        assert card(scheme, score=99, collection_rate=0.4).grade == "C"


class TestRoundTrip:
    def test_a_scheme_with_tables_points_and_vetoes_saves_and_loads_unchanged(self) -> None:
        text = BASE + CAP_TABLE + BONUS_TABLE + "  - {id: v, when: score < 1, then: {veto: zero_total}}\n"
        scheme = pk.Scheme.from_yaml(text + "history: {missing: value, value: 60}\n")
        for dump, load in ((pk.Scheme.to_yaml, pk.Scheme.from_yaml), (pk.Scheme.to_json, pk.Scheme.from_json)):
            saved = dump(scheme)
            assert load(saved) == scheme and dump(load(saved)) == saved
