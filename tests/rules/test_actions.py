"""Rule actions and their phases: points → band → set/floor/cap/veto → flags and alerts."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import pytest

import perfkit as pk

BASE = """\
perfkit: 1
id: actions
inputs:
  score: {min: 0, max: 100}
  commendations: {unit: count, min: 0, default: 0}
  disciplinary: {unit: count, min: 0, default: 0}
  violations: {unit: count, min: 0, max: 10, default: 0}
  incidents: {unit: count, min: 0, default: 0}
  fraud: {min: 0, max: 1, default: 0}
kpis:
  - {id: work, weight: 100%, score: score}
grades:
  - {grade: S, min_score: 95}
  - {grade: A, min_score: 85}
  - {grade: B, min_score: 70}
  - {grade: C, min_score: 60}
  - {grade: D}
rules:
"""


def scheme(rules: str) -> pk.CompiledScheme:
    return pk.Scheme.from_yaml(BASE + rules).compile()


def card(compiled: pk.CompiledScheme, **values: Any) -> pk.ScoreCard:
    return compiled.evaluate([{"employee_id": "e", **values}])["e"]


def problems(rules: str) -> list[pk.SchemeError]:
    with pytest.raises(pk.SchemeError) as info:
        pk.Scheme.from_yaml(BASE + rules)
    return [p for p in info.value.problems if isinstance(p, pk.SchemeError)]


POINTS = """\
  - id: commendation-bonus
    when: commendations > 0
    then: {add_points: {points: commendations * 1, max: 5, unless: disciplinary >= 2}}
    reason: +1 per commendation, at most +5; none with 2 or more disciplinary cases
  - id: violation-penalty
    then: {subtract_points: {points: violations * 2}}
"""


class TestPoints:
    def test_bonus_is_added_before_banding(self) -> None:
        result = card(scheme(POINTS), score=83, commendations=3)
        assert (result.base_total, result.total) == (Decimal("83.00"), Decimal("86.00"))
        assert (result.band_grade, result.grade) == ("A", "A")
        assert [(p.rule_id, p.points) for p in result.points] == [("commendation-bonus", Decimal(3))]

    def test_bonus_is_capped_per_rule(self) -> None:
        result = card(scheme(POINTS), score=80, commendations=9)
        assert result.total == Decimal("85.00") and result.points[0].points == Decimal(5)

    def test_unless_blocks_the_bonus(self) -> None:
        result = card(scheme(POINTS), score=80, commendations=3, disciplinary=2)
        assert result.total == Decimal("80.00") and result.points == () and result.rules == ()

    def test_penalty_with_an_always_firing_rule(self) -> None:
        result = card(scheme(POINTS), score=90, violations=3)
        assert result.total == Decimal("84.00") and result.grade == "B"
        assert [p.points for p in result.points] == [Decimal(-6)]

    def test_grade_rules_see_base_total_and_total(self) -> None:
        rules = POINTS + "  - {id: saved, when: base_total < 85 and total >= 85, then: {flag: saved_by_points}}\n"
        assert card(scheme(rules), score=84, commendations=1).flags == ("saved_by_points",)

    def test_points_rules_cannot_read_the_final_total(self) -> None:
        (problem,) = problems("  - {id: p, when: total > 50, then: {add_points: {points: 1}}}\n")
        assert isinstance(problem, pk.FormulaError) and "use base_total" in problem.message

    def test_points_without_an_upper_bound_need_max(self) -> None:
        (problem,) = problems("  - {id: p, then: {add_points: {points: incidents * 2}}}\n")
        assert problem.path == "rules[0].then.add_points.points" and "add max:" in problem.message

    def test_negative_points_are_a_data_error(self) -> None:
        compiled = scheme("  - {id: p, then: {add_points: {points: score - 50, max: 10}}}\n")
        with pytest.raises(pk.DataError, match="points are never negative") as info:
            card(compiled, score=40)
        assert info.value.path == "rules[0].then.add_points.points"

    def test_a_points_rule_has_no_other_action(self) -> None:
        (problem,) = problems("  - {id: p, then: {add_points: {points: 1}, flag: x}}\n")
        assert "no other action" in problem.message

    def test_penalties_that_can_push_the_total_below_every_band_are_refused(self) -> None:
        text = BASE.replace("  - {grade: D}", "  - {grade: D, min_score: 0}") + (
            "  - {id: p, then: {subtract_points: {points: violations * 2}}}\n"
        )
        with pytest.raises(pk.SchemeError, match="as low as -20"):
            pk.Scheme.from_yaml(text)


class TestGradeActions:
    def test_set_grade_highest_priority_wins(self) -> None:
        compiled = scheme(
            "  - {id: low, when: score > 10, then: {set_grade: C}, priority: 1}\n"
            "  - {id: high, when: score > 20, then: {set_grade: A}, priority: 2}\n"
        )
        assert card(compiled, score=30).grade == "A"
        assert card(compiled, score=15).grade == "C"

    def test_set_grade_rules_that_cannot_be_ordered_are_refused(self) -> None:
        (problem,) = problems(
            "  - {id: one, when: score > 10, then: {set_grade: C}}\n"
            "  - {id: two, when: score > 20, then: {set_grade: A}}\n"
        )
        assert problem.path == "rules[1].priority" and "'one' and 'two'" in problem.message

    def test_set_grade_rules_that_agree_need_no_priority(self) -> None:
        compiled = scheme(
            "  - {id: one, when: score > 10, then: {set_grade: C}}\n"
            "  - {id: two, when: score > 20, then: {set_grade: C}}\n"
        )
        assert card(compiled, score=99).grade == "C"

    def test_order_is_set_then_floor_then_cap(self) -> None:
        compiled = scheme(
            "  - {id: set, then: {set_grade: S}, priority: 1}\n"
            "  - {id: floor, then: {floor_grade: A}}\n"
            "  - {id: cap, when: incidents > 0, then: {cap_grade: B}}\n"
        )
        assert card(compiled, score=10).grade == "S"
        assert card(compiled, score=10, incidents=1).grade == "B"

    def test_veto_beats_a_floor_and_never_improves_a_grade(self) -> None:
        compiled = scheme(
            "  - {id: floor, then: {floor_grade: A}}\n"
            "  - {id: veto, when: fraud == 1, then: {veto: {grade: C}}}\n"
        )
        assert card(compiled, score=99, fraud=1).grade == "C"
        assert card(compiled, score=10, fraud=0).grade == "A"
        plain = scheme("  - {id: veto, when: fraud == 1, then: {veto: {grade: C}}}\n")
        assert card(plain, score=10, fraud=1).grade == "D"

    def test_zero_total_veto(self) -> None:
        compiled = scheme(
            "  - {id: floor, then: {floor_grade: B}}\n"
            "  - {id: redline, when: fraud == 1, then: {veto: zero_total}, reason: 一票否决}\n"
        )
        result = card(compiled, score=97, fraud=1)
        assert (result.base_total, result.total, result.band_grade, result.grade) == (
            Decimal("97.00"), Decimal("0.00"), "S", "D"
        )

    def test_ineligibility_veto_keeps_the_grade(self) -> None:
        compiled = scheme(
            "  - {id: a, when: incidents > 2, then: {veto: {ineligible: [promotion, bonus]}}}\n"
            "  - {id: b, when: incidents > 3, then: {veto: {ineligible: [bonus]}}}\n"
        )
        result = card(compiled, score=90, incidents=4)
        assert result.grade == "A" and result.ineligible == ("bonus", "promotion")

    def test_unknown_grades_in_any_action(self) -> None:
        paths = {
            p.path
            for p in problems(
                "  - {id: a, then: {set_grade: X}}\n"
                "  - {id: b, then: {veto: {grade: Y}}}\n"
            )
        }
        assert paths == {"rules[0].then.set_grade", "rules[1].then.veto.grade"}


class TestFlagsAlertsReviews:
    def test_alerts_and_reviews(self) -> None:
        compiled = scheme(
            "  - {id: incidents, when: incidents > 2, then: {alert: {severity: critical, message: 重大事故超过2次}, "
            "require_review: true, flag: needs_improvement}}\n"
        )
        result = card(compiled, score=90, incidents=3)
        assert result.review_required and result.flags == ("needs_improvement",)
        (alert,) = result.alerts
        assert (alert.rule_id, alert.severity, alert.message) == ("incidents", "critical", "重大事故超过2次")
        assert not card(compiled, score=90).review_required

    def test_fired_records_carry_the_limits_later_stages_read(self) -> None:
        compiled = scheme("  - {id: cap, when: incidents > 0, then: {cap_grade: B, veto: {ineligible: [bonus]}}}\n")
        (fired,) = card(compiled, score=90, incidents=1).fired
        assert (fired.cap_grade, fired.ineligible) == ("B", ("bonus",))


class TestExplanation:
    def test_every_rule_in_order_with_before_and_after(self) -> None:
        compiled = scheme(
            POINTS
            + "  - {id: cap, when: incidents > 0, then: {cap_grade: B}}\n"
            + "  - {id: redline, when: fraud == 1, then: {veto: zero_total}}\n"
        )
        explanation = card(compiled, score=84, commendations=2, violations=0, incidents=1, fraud=1).explain()
        assert [r.id for r in explanation.rules] == ["commendation-bonus", "violation-penalty", "cap", "redline"]
        effects = {r.id: r.effect for r in explanation.rules}
        assert effects["commendation-bonus"] == "+2 points: total 84.00 → 86.00"
        assert effects["violation-penalty"] == "0 points: no change"
        assert effects["cap"] == "grade A → B"
        assert effects["redline"] == "total 86.00 → 0; grade B → D"
        text = str(explanation)
        assert text.index("rule commendation-bonus") < text.index("total after points: 86.00") < text.index("band grade: A")
        assert "final total: 0.00; final grade: D" in text

    def test_blocked_points_say_so(self) -> None:
        explanation = card(scheme(POINTS), score=80, commendations=3, disciplinary=2).explain()
        bonus = explanation.rules[0]
        assert not bonus.fired and bonus.effect == "blocked by its unless condition; no points"
