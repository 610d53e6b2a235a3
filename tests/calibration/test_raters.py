"""Rater diagnostics: per-rater mean, spread and count against the pool; central tendency;
shares of the best and worst grades; reading raters from an evaluation."""

from __future__ import annotations

import decimal
from decimal import Decimal
from fractions import Fraction

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import perfkit
from perfkit._text import display_width
from perfkit.calibration import Grade, GradeScale
from perfkit.calibration.raters import Rating, rater_report, ratings_from_evaluation
from perfkit.errors import CalibrationError, DataError
from perfkit.numbers import CONTEXT

SCALE = GradeScale((Grade("A", Decimal(85)), Grade("B", Decimal(70)), Grade("C", Decimal(60))))


def rate(rater: str, ratee: str, score: object, item: str | None = None) -> Rating:
    return Rating(rater=rater, ratee=ratee, score=score, item=item)  # type: ignore[arg-type]


def population_sd(values: list[int]) -> Decimal:
    """The reference: √(Σ(x − mean)² / n) from exact fractions, one square root in CONTEXT."""
    mean = Fraction(sum(values), len(values))
    variance = sum((Fraction(v) - mean) ** 2 for v in values) / len(values)
    return CONTEXT.sqrt(CONTEXT.divide(Decimal(variance.numerator), Decimal(variance.denominator)))


# M1 is lenient and uniform, M2 harsh and spread out, M3 rated one person.
RATINGS = [
    rate("M1", "E1", 90),
    rate("M1", "E2", 92),
    rate("M1", "E3", 88),
    rate("M2", "E4", 50),
    rate("M2", "E5", 75),
    rate("M2", "E6", 64),
    rate("M3", "E7", 71),
]
ALL_SCORES = [90, 92, 88, 50, 75, 64, 71]


class TestRating:
    def test_scores_are_read_as_exact_decimals(self) -> None:
        assert rate("M1", "E1", "85.5").score == Decimal("85.5")
        assert rate("M1", "E1", 0.1).score == Decimal("0.1")
        assert rate("M1", "E1", 85).score == Decimal(85)

    @pytest.mark.parametrize("bad", ["good", float("nan"), None, True, "1 234"])
    def test_a_score_that_is_not_a_number_names_rater_and_ratee(self, bad: object) -> None:
        with pytest.raises(DataError) as caught:
            rate("王经理", "E9", bad)
        assert caught.value.employee_id == "E9"
        assert caught.value.column == "score"
        assert "王经理" in str(caught.value) and "E9" in str(caught.value)

    @pytest.mark.parametrize(
        ("rater", "ratee", "column"), [("", "E1", "rater"), ("M1", "", "ratee"), (7, "E1", "rater")]
    )
    def test_ids_must_be_non_empty_text(self, rater: object, ratee: object, column: str) -> None:
        with pytest.raises(DataError) as caught:
            rate(rater, ratee, 80)  # type: ignore[arg-type]
        assert caught.value.column == column

    def test_item_must_be_text(self) -> None:
        with pytest.raises(DataError, match="item"):
            Rating(rater="M1", ratee="E1", score=Decimal(80), item=3)  # type: ignore[arg-type]


class TestRaterReport:
    def test_per_rater_count_mean_and_population_spread(self) -> None:
        report = rater_report(RATINGS)
        m1, m2, m3 = report.raters
        assert (m1.rater, m1.count, m1.mean) == ("M1", 3, Decimal(90))
        assert m1.spread == population_sd([90, 92, 88])
        assert (m2.count, m2.mean, m2.spread) == (3, Decimal(63), population_sd([50, 75, 64]))
        assert (m3.count, m3.mean, m3.spread) == (1, Decimal(71), Decimal(0))

    def test_pool_figures_cover_every_rating(self) -> None:
        pool = rater_report(RATINGS).pool
        assert (pool.count, pool.raters) == (7, 3)
        assert pool.mean == CONTEXT.divide(Decimal(sum(ALL_SCORES)), 7)
        assert pool.spread == population_sd(ALL_SCORES)

    def test_mean_vs_pool_is_the_rater_mean_minus_the_pool_mean(self) -> None:
        report = rater_report(RATINGS)
        for stats in report.raters:
            assert stats.mean_vs_pool == CONTEXT.subtract(stats.mean, report.pool.mean)
        assert report["M1"].mean_vs_pool > 0 > report["M2"].mean_vs_pool

    def test_a_mean_that_does_not_terminate_is_rounded_once_to_34_digits(self) -> None:
        report = rater_report([rate("M1", "E1", 1), rate("M1", "E2", 1), rate("M1", "E3", 2)])
        assert report.pool.mean == Decimal("1.333333333333333333333333333333333")

    def test_central_tendency_flags_a_spread_below_the_threshold(self) -> None:
        report = rater_report(RATINGS)
        pool_spread = report.pool.spread
        assert report["M1"].spread < pool_spread / 2
        assert report["M1"].central_tendency
        assert not report["M2"].central_tendency
        assert report.central_tendency == Decimal("0.5")

    def test_a_single_rating_is_never_central_tendency(self) -> None:
        """One rating has spread 0, but shows nothing about the rater's habits."""
        assert not rater_report(RATINGS)["M3"].central_tendency

    def test_the_threshold_is_a_parameter(self) -> None:
        ratio = rater_report(RATINGS)["M1"].spread / rater_report(RATINGS).pool.spread
        below = rater_report(RATINGS, central_tendency=ratio * Decimal("0.99"))
        above = rater_report(RATINGS, central_tendency=ratio * Decimal("1.01"))
        assert not below["M1"].central_tendency
        assert above["M1"].central_tendency
        assert not rater_report(RATINGS, central_tendency=Decimal(0))["M1"].central_tendency

    def test_a_spread_exactly_at_the_threshold_is_not_flagged(self) -> None:
        """Every mean is 80; deviations ±7, ±1, ±5 give a pool spread of √(150 / 6) = 5, and
        M2's spread of 1 is exactly 0.2 of it."""
        ratings = [rate("M1", "E1", 73), rate("M1", "E2", 87), rate("M2", "E3", 79), rate("M2", "E4", 81)]
        ratings += [rate("M3", "E5", 75), rate("M3", "E6", 85)]
        report = rater_report(ratings, central_tendency=Decimal("0.2"))
        assert (report.pool.spread, report["M2"].spread) == (Decimal(5), Decimal(1))
        assert not report["M2"].central_tendency
        assert rater_report(ratings, central_tendency=Decimal("0.21"))["M2"].central_tendency

    @pytest.mark.parametrize("bad", [Decimal(-1), "x"])
    def test_a_bad_threshold_is_refused(self, bad: object) -> None:
        with pytest.raises(CalibrationError, match="central_tendency"):
            rater_report(RATINGS, central_tendency=bad)  # type: ignore[arg-type]

    def test_top_and_bottom_shares_band_each_score_with_the_scale(self) -> None:
        report = rater_report(RATINGS, scale=SCALE)
        assert (report.top_grade, report.bottom_grade) == ("A", "C")
        assert report["M1"].top_share == Decimal(1)  # 90, 92, 88 are all A
        assert report["M1"].bottom_share == Decimal(0)
        # 50 is below every band (counted with the worst grade), 64 is C, 75 is B
        assert report["M2"].top_share == Decimal(0)
        assert report["M2"].bottom_share == CONTEXT.divide(2, 3)
        assert report.pool.top_share == CONTEXT.divide(3, 7)
        assert report.pool.bottom_share == CONTEXT.divide(2, 7)

    def test_without_a_scale_there_are_no_shares(self) -> None:
        report = rater_report(RATINGS)
        assert report.top_grade is None
        assert all(s.top_share is None and s.bottom_share is None for s in report.raters)

    def test_raters_are_sorted_by_id_whatever_the_input_order(self) -> None:
        report = rater_report(list(reversed(RATINGS)))
        assert [s.rater for s in report.raters] == ["M1", "M2", "M3"]
        assert report == rater_report(RATINGS)

    def test_exact_repeats_count_once(self) -> None:
        assert rater_report([*RATINGS, rate("M1", "E1", 90)]) == rater_report(RATINGS)

    def test_the_same_person_on_two_items_is_two_ratings(self) -> None:
        report = rater_report([rate("M1", "E1", 80, "quality"), rate("M1", "E1", 90, "speed")])
        assert report["M1"].count == 2

    def test_a_pair_rated_twice_differently_names_rater_and_ratee(self) -> None:
        with pytest.raises(DataError) as caught:
            rater_report([*RATINGS, rate("M2", "E5", 76)])
        assert caught.value.employee_id == "E5"
        assert "'M2'" in str(caught.value) and "75" in str(caught.value) and "76" in str(caught.value)

    def test_no_ratings_is_an_error(self) -> None:
        with pytest.raises(DataError, match="no ratings"):
            rater_report([])

    def test_something_that_is_not_a_rating_is_an_error(self) -> None:
        with pytest.raises(DataError, match="expected a Rating") as caught:
            rater_report([RATINGS[0], ("M1", "E2", 80)])  # type: ignore[list-item]
        assert caught.value.row == 1

    def test_unknown_rater_lookup_is_a_key_error(self) -> None:
        with pytest.raises(KeyError, match="M9"):
            rater_report(RATINGS)["M9"]

    def test_records_carry_every_field(self) -> None:
        records = rater_report(RATINGS, scale=SCALE).to_records()
        assert [r["rater"] for r in records] == ["M1", "M2", "M3"]
        assert set(records[0]) == {
            "rater",
            "count",
            "mean",
            "spread",
            "mean_vs_pool",
            "central_tendency",
            "top_share",
            "bottom_share",
        }
        assert records[1]["mean"] == Decimal(63)

    def test_text_table_lines_up_wide_characters(self) -> None:
        ratings = [rate("王经理", "E1", 90), rate("王经理", "E2", 91), rate("Li", "E3", 60), rate("Li", "E4", 80)]
        text = rater_report(ratings, scale=SCALE).to_text()
        lines = text.splitlines()
        assert lines[0].split() == ["rater", "n", "mean", "spread", "vs", "pool", "in", "A", "in", "C", "central"]
        assert lines[1].startswith("Li ") and lines[2].startswith("王经理")
        # the "n" column ends at the same terminal column on every row of the table
        ends = {display_width(line[: line.index(" 2 ") + 2]) for line in lines[1:3]}
        assert len(ends) == 1
        assert "+10.25" in lines[2] and "yes" in lines[2]
        assert "100.0%" in lines[2]
        assert lines[3].startswith("(pool)")
        assert lines[-1] == "central: spread below 50% of the pool's spread (2 raters)"
        assert str(rater_report(ratings, scale=SCALE)) == text

    def test_the_callers_decimal_context_does_not_matter(self, caller_context: decimal.Context) -> None:
        expected = rater_report(RATINGS, scale=SCALE)
        caller_context.prec = 3
        caller_context.rounding = decimal.ROUND_DOWN
        assert rater_report(RATINGS, scale=SCALE) == expected

    @settings(max_examples=60, deadline=None)
    @given(st.permutations(RATINGS))
    def test_order_of_ratings_does_not_matter(self, shuffled: list[Rating]) -> None:
        assert rater_report(shuffled, scale=SCALE) == rater_report(RATINGS, scale=SCALE)

    @settings(max_examples=60, deadline=None)
    @given(st.lists(st.tuples(st.sampled_from("ABC"), st.integers(0, 100)), min_size=1, max_size=20))
    def test_pool_mean_is_the_count_weighted_mean_of_rater_means(self, pairs: list[tuple[str, int]]) -> None:
        ratings = [rate(rater, f"E{n}", score) for n, (rater, score) in enumerate(pairs)]
        report = rater_report(ratings)
        weighted = sum((Fraction(s.count) * Fraction(s.mean) for s in report.raters), Fraction(0))
        assert abs(weighted / report.pool.count - Fraction(report.pool.mean)) < Fraction(1, 10**30)
        assert sum(s.count for s in report.raters) == report.pool.count == len(pairs)


ROWS = [
    {
        "employee_id": "E001",
        "manager": "王经理",
        "sales": 1_050_000,
        "sales_target": 1_000_000,
        "csat": 4.5,
        "collection_rate": 0.92,
        "attitude": 4,
    },
    {
        "employee_id": "E002",
        "manager": "王经理",
        "sales": 900_000,
        "sales_target": 1_000_000,
        "csat": 4.0,
        "collection_rate": 0.85,
        "attitude": 5,
    },
    {
        "employee_id": "E003",
        "manager": "李经理",
        "sales": 700_000,
        "sales_target": 1_000_000,
        "csat": 3.0,
        "collection_rate": 0.95,
        "attitude": 3,
    },
]


@pytest.fixture(scope="module")
def evaluation() -> perfkit.Evaluation:
    return perfkit.evaluate(perfkit.example_path("sales-quarterly.yaml"), ROWS)


class TestRatingsFromEvaluation:

    def test_each_card_gives_its_total_rated_by_its_manager(self, evaluation: perfkit.Evaluation) -> None:
        ratings = ratings_from_evaluation(evaluation)
        assert [(r.rater, r.ratee) for r in ratings] == [("王经理", "E001"), ("王经理", "E002"), ("李经理", "E003")]
        assert [r.score for r in ratings] == [card.total for card in evaluation]
        assert all(r.item is None for r in ratings)

    def test_the_rater_column_is_a_parameter(self) -> None:
        rows = [{**row, "reviewer": f"R{n}"} for n, row in enumerate(ROWS)]
        evaluation = perfkit.evaluate(perfkit.example_path("sales-quarterly.yaml"), rows)
        assert [r.rater for r in ratings_from_evaluation(evaluation, rater="reviewer")] == ["R0", "R1", "R2"]

    def test_a_card_without_the_column_names_employee_and_column(self, evaluation: perfkit.Evaluation) -> None:
        with pytest.raises(DataError) as caught:
            ratings_from_evaluation(evaluation, rater="reviewer")
        assert (caught.value.employee_id, caught.value.column) == ("E001", "reviewer")
        assert "manager" in str(caught.value)  # the columns it does have

    def test_an_empty_rater_cell_is_an_error(self) -> None:
        rows = [dict(ROWS[0]), {**ROWS[1], "manager": "  "}]
        evaluation = perfkit.evaluate(perfkit.example_path("sales-quarterly.yaml"), rows)
        with pytest.raises(DataError) as caught:
            ratings_from_evaluation(evaluation)
        assert caught.value.employee_id == "E002"

    def test_feeds_the_report(self, evaluation: perfkit.Evaluation) -> None:
        report = rater_report(ratings_from_evaluation(evaluation))
        cards = {card.employee_id: card.total for card in evaluation}
        assert report["李经理"].mean == cards["E003"]
        assert report["王经理"].mean == (cards["E001"] + cards["E002"]) / 2
