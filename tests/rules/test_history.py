"""Earlier periods in formulas: previous_total(), avg_total(n), streak("A"); composite periods."""

from __future__ import annotations

import io
import json
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest

import perfkit as pk
from perfkit.cli import main

MONTHLY = """\
perfkit: 1
id: monthly
inputs:
  score: {min: 0, max: 100}
kpis:
  - {id: work, weight: 100%, score: score}
grades:
  - {grade: S, min_score: 95}
  - {grade: A, min_score: 85}
  - {grade: B, min_score: 70}
  - {grade: C}
"""

PROMOTION = MONTHLY.replace("id: monthly", "id: promotion") + """\
rules:
  - id: promotion
    when: streak("A") >= 3 and total >= 85
    then: {flag: promotion_candidate}
"""


def period(*scores: tuple[str, Any]) -> pk.Evaluation:
    scheme = pk.Scheme.from_yaml(MONTHLY)
    return pk.evaluate(scheme, [{"employee_id": e, "score": s} for e, s in scores])


class TestStreak:
    def test_three_periods_at_a_or_better_flag_a_promotion_candidate(self) -> None:
        history = [period(("x", 90), ("y", 90)), period(("x", 99), ("y", 75)), period(("x", 86), ("y", 90))]
        result = pk.evaluate(pk.Scheme.from_yaml(PROMOTION), [{"employee_id": "x", "score": 88}, {"employee_id": "y", "score": 88}], history=history)
        assert result["x"].flags == ("promotion_candidate",)
        assert result["y"].flags == ()  # a B in the middle: the streak is 1
        assert result["x"].input('streak("A")') == Decimal(3) and result["y"].input('streak("A")') == Decimal(1)

    def test_a_missing_period_ends_the_streak(self) -> None:
        history = [period(("x", 90)), period(("z", 90)), period(("x", 90))]
        card = pk.evaluate(pk.Scheme.from_yaml(PROMOTION), [{"employee_id": "x", "score": 88}], history=history)["x"]
        assert card.input('streak("A")') == Decimal(1)

    def test_the_grade_must_be_one_of_the_scheme(self) -> None:
        with pytest.raises(pk.SchemeError, match="unknown grade 'AA'"):
            pk.Scheme.from_yaml(PROMOTION.replace('streak("A")', 'streak("AA")'))

    def test_the_grade_is_written_in_quotes(self) -> None:
        with pytest.raises(pk.FormulaError, match="written in quotes"):
            pk.Scheme.from_yaml(PROMOTION.replace('streak("A")', "streak(A)"))


AVERAGE = MONTHLY.replace("id: monthly", "id: trend") + """\
rules:
  - id: improving
    when: total > avg_total(3) + 5 and total > previous_total()
    then: {flag: improving}
"""


class TestTotalsOfEarlierPeriods:
    def history(self) -> list[pk.Evaluation]:
        return [period(("x", 70), ("y", 80)), period(("x", 74)), period(("x", 76), ("y", 80))]

    def test_average_and_previous(self) -> None:
        card = pk.evaluate(pk.Scheme.from_yaml(AVERAGE), [{"employee_id": "x", "score": 82}], history=self.history())["x"]
        assert card.input("avg_total(3)") == Decimal("73.33333333333333333333333333333333")
        assert card.input("previous_total()") == Decimal("76.00") and card.flags == ("improving",)

    def test_missing_periods_fail_by_default(self) -> None:
        with pytest.raises(pk.DataError, match="missing from an earlier period") as info:
            pk.evaluate(pk.Scheme.from_yaml(AVERAGE), [{"employee_id": "y", "score": 90}], history=self.history())
        assert info.value.employee_id == "y"
        with pytest.raises(pk.DataError, match="needs 3 earlier periods, but 0 are given"):
            pk.evaluate(pk.Scheme.from_yaml(AVERAGE), [{"employee_id": "y", "score": 90}])

    def test_skip_averages_the_periods_that_are_there(self) -> None:
        scheme = pk.Scheme.from_yaml(AVERAGE + "history: {missing: skip}\n")
        card = pk.evaluate(scheme, [{"employee_id": "y", "score": 90}], history=self.history())["y"]
        assert card.input("avg_total(3)") == Decimal("80.00")

    def test_value_counts_a_missing_period_as_the_stated_value(self) -> None:
        scheme = pk.Scheme.from_yaml(AVERAGE + "history: {missing: value, value: 60}\n")
        card = pk.evaluate(scheme, [{"employee_id": "y", "score": 90}], history=self.history())["y"]
        assert card.input("avg_total(3)") == Decimal("73.33333333333333333333333333333333")  # (80 + 60 + 80) / 3

    def test_value_needs_a_value(self) -> None:
        with pytest.raises(pk.SchemeError, match="exactly when missing is 'value'"):
            pk.Scheme.from_yaml(AVERAGE + "history: {missing: value}\n")

    def test_n_is_a_whole_number_written_in_the_formula(self) -> None:
        for bad in ("avg_total(score)", "avg_total(0)", "avg_total(1.5)", "previous_total(1)"):
            with pytest.raises(pk.FormulaError):
                pk.Scheme.from_yaml(AVERAGE.replace("avg_total(3)", bad))


ANNUAL = """\
perfkit: 1
id: annual
name: 年度考核
inputs:
  review: {min: 0, max: 100, description: 年度述职评分}
kpis:
  - {id: annual_review, weight: 100%, score: review}
total: 0.4 * avg_total(12) + 0.6 * annual_review
history: {missing: skip}
grades:
  - {grade: A, min_score: 85}
  - {grade: B, min_score: 70}
  - {grade: C}
"""


class TestCompositePeriods:
    def test_annual_total_mixes_the_monthly_average_and_the_annual_review(self) -> None:
        months = [period(("x", 80 + m)) for m in range(12)]  # 80 .. 91, average 85.5
        card = pk.evaluate(pk.Scheme.from_yaml(ANNUAL), [{"employee_id": "x", "review": 90}], history=months)["x"]
        assert card.total == Decimal("88.20")  # 0.4 × 85.5 + 0.6 × 90
        assert "avg_total(12) = 85.5" in str(card.explain())

    def test_missing_months_are_averaged_over_the_months_present_with_skip(self) -> None:
        months = [period(("x", 80)) if m % 2 else period(("other", 50)) for m in range(12)]
        card = pk.evaluate(pk.Scheme.from_yaml(ANNUAL), [{"employee_id": "x", "review": 90}], history=months)["x"]
        assert card.total == Decimal("86.00")  # 0.4 × 80 + 0.6 × 90

    def test_records_can_stand_for_earlier_periods(self) -> None:
        records = [[{"employee_id": "x", "total": "85.50", "grade": "A"}]]
        card = pk.evaluate(pk.Scheme.from_yaml(ANNUAL), [{"employee_id": "x", "review": 90}], history=records)["x"]
        assert card.total == Decimal("88.20")

    def test_a_bad_history_record_is_a_data_error(self) -> None:
        with pytest.raises(pk.DataError, match="has no 'grade'"):
            pk.evaluate(pk.Scheme.from_yaml(ANNUAL), [{"employee_id": "x", "review": 90}], history=[[{"employee_id": "x", "total": 1}]])


class TestCommandLine:
    def test_score_with_history_files(self, tmp_path: Path) -> None:
        (tmp_path / "promotion.yaml").write_text(PROMOTION, encoding="utf-8")
        (tmp_path / "now.csv").write_text("employee_id,score\nx,88\n", encoding="utf-8")
        paths = []
        for n, score in enumerate((90, 99, 86)):
            path = tmp_path / f"m{n}.json"
            path.write_text(period(("x", score)).to_json(), encoding="utf-8")
            paths.extend(["--history", str(path)])
        out = io.StringIO()
        code = main(["score", str(tmp_path / "promotion.yaml"), str(tmp_path / "now.csv"), "--format", "json", *paths], stdout=out)
        assert code == 0 and json.loads(out.getvalue())[0]["flags"] == ["promotion_candidate"]
