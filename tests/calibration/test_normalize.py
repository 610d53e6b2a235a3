"""Rater-bias corrections: per-rater standardisation (exact) and the additive rater-effects
model (least squares per connected component, refusing comparisons across components)."""

from __future__ import annotations

import decimal
from collections.abc import Sequence
from decimal import Decimal
from fractions import Fraction

import numpy as np
import pytest
from hypothesis import assume, given, settings
from hypothesis import strategies as st

from perfkit.calibration.normalize import RaterEffects, rater_effects, standardize
from perfkit.calibration.raters import Rating, rater_report
from perfkit.errors import CalibrationError, DataError
from perfkit.numbers import CONTEXT

PRECISION = Decimal("0.0001")


def rate(rater: str, ratee: str, score: object, item: str | None = None) -> Rating:
    return Rating(rater=rater, ratee=ratee, score=score, item=item)  # type: ignore[arg-type]


def shifted(ratings: Sequence[Rating], rater: str, constant: Decimal) -> list[Rating]:
    """The same ratings with ``constant`` added to every score ``rater`` gave."""
    return [rate(r.rater, r.ratee, r.score + constant if r.rater == rater else r.score, r.item) for r in ratings]


# -- reference implementations, independent of the code under test ------------------------------


def components_of(ratings: Sequence[Rating]) -> list[tuple[set[str], set[str]]]:
    """Connected components (raters, ratees) by a plain union-find."""
    parent: dict[tuple[str, str], tuple[str, str]] = {}

    def find(node: tuple[str, str]) -> tuple[str, str]:
        parent.setdefault(node, node)
        while parent[node] != node:
            node = parent[node]
        return node

    for r in ratings:
        a, b = find(("rater", r.rater)), find(("ratee", r.ratee))
        parent[a] = b
    groups: dict[tuple[str, str], tuple[set[str], set[str]]] = {}
    for node in list(parent):
        raters, ratees = groups.setdefault(find(node), (set(), set()))
        (raters if node[0] == "rater" else ratees).add(node[1])
    return list(groups.values())


def least_squares(
    ratings: Sequence[Rating], anchors: frozenset[str] = frozenset()
) -> tuple[dict[str, float], dict[str, float]]:
    """Dense ``numpy.linalg.lstsq`` of score ≈ a[ratee] + r[rater], then the same constraint:
    rater effects sum to 0 in each unanchored component; anchors are held at 0."""
    ratees = sorted({r.ratee for r in ratings})
    raters = sorted({r.rater for r in ratings} - anchors)
    column = {("e", n): i for i, n in enumerate(ratees)} | {("m", n): len(ratees) + j for j, n in enumerate(raters)}
    design = np.zeros((len(ratings), len(column)))
    for row, r in enumerate(ratings):
        design[row, column["e", r.ratee]] = 1
        if r.rater not in anchors:
            design[row, column["m", r.rater]] = 1
    solution = np.linalg.lstsq(design, np.array([float(r.score) for r in ratings]), rcond=None)[0]
    a = {n: float(solution[column["e", n]]) for n in ratees}
    m = {n: float(solution[column["m", n]]) for n in raters} | {n: 0.0 for n in anchors}
    for comp_raters, comp_ratees in components_of(ratings):
        if comp_raters & anchors:
            continue
        centre = sum(m[n] for n in comp_raters) / len(comp_raters)
        for n in comp_raters:
            m[n] -= centre
        for n in comp_ratees:
            a[n] += centre
    return a, m


# -- data ----------------------------------------------------------------------------------------

# Two raters who both rate E1 and E2 (M1 five points more lenient), M2 also rates E3;
# a separate team (M3, M4) with their own ratees.
LINKED = [
    rate("M1", "E1", 90),
    rate("M1", "E2", 80),
    rate("M2", "E1", 80),
    rate("M2", "E2", 70),
    rate("M2", "E3", 75),
]
ISLAND = [rate("M3", "F1", 60), rate("M3", "F2", 70), rate("M4", "F1", 66), rate("M4", "F2", 76)]


@st.composite
def effect_data(
    draw: st.DrawFn, *, max_raters: int = 6, max_ratees: int = 8
) -> tuple[list[Rating], dict[str, int], dict[str, int]]:
    """Ratings with known whole-number person and rater effects and no noise, on a random
    (possibly disconnected) rater–ratee graph; every rater and ratee has a rating."""
    n_raters = draw(st.integers(1, max_raters))
    n_ratees = draw(st.integers(1, max_ratees))
    raters = [f"M{j}" for j in range(n_raters)]
    ratees = [f"E{i}" for i in range(n_ratees)]
    pairs = {(raters[i % n_raters], ratees[i]) for i in range(n_ratees)}
    pairs |= {(raters[j], ratees[draw(st.integers(0, n_ratees - 1))]) for j in range(n_raters)}
    extra = draw(st.lists(st.tuples(st.sampled_from(raters), st.sampled_from(ratees)), max_size=12))
    pairs |= set(extra)
    person = {e: draw(st.integers(-30, 30)) for e in ratees}
    bias = {m: draw(st.integers(-10, 10)) for m in raters}
    ratings = [rate(m, e, 70 + person[e] + bias[m]) for m, e in sorted(pairs)]
    return draw(st.permutations(ratings)), person, bias


# -- standardize ---------------------------------------------------------------------------------


class TestStandardize:
    def test_each_rater_is_moved_onto_the_target_mean_and_spread(self) -> None:
        """M1 (mean 85, spread 5) and M2 (mean 70, spread 10) onto mean 75, spread 10."""
        ratings = [rate("M1", "E1", 80), rate("M1", "E2", 90), rate("M2", "E3", 60), rate("M2", "E4", 80)]
        result = standardize(ratings, target_mean=Decimal(75), target_spread=Decimal(10))
        assert [(s.ratee, s.corrected) for s in result.scores] == [
            ("E1", Decimal(65)),
            ("E2", Decimal(85)),
            ("E3", Decimal(65)),
            ("E4", Decimal(85)),
        ]
        m1, m2 = result.raters
        assert (m1.mean, m1.spread, m1.factor, m1.shift) == (Decimal(85), Decimal(5), Decimal(2), Decimal(-10))
        assert (m2.mean, m2.spread, m2.factor, m2.shift) == (Decimal(70), Decimal(10), Decimal(1), Decimal(5))

    def test_default_targets_are_the_pool_mean_and_spread(self) -> None:
        ratings = [*LINKED, *ISLAND]
        result = standardize(ratings)
        pool = rater_report(ratings).pool
        assert (result.target_mean, result.target_spread) == (pool.mean, pool.spread)

    @settings(max_examples=60, deadline=None)
    @given(st.lists(st.tuples(st.sampled_from("ABC"), st.integers(0, 100)), min_size=2, max_size=25))
    def test_corrected_ratings_have_the_pool_mean_and_spread(self, pairs: list[tuple[str, int]]) -> None:
        """Single-rated ratees: corrected scores are the corrected ratings. Their mean is the
        pool mean; their spread is the pool spread when every rater's spread is above 0."""
        ratings = [rate(rater, f"E{n}", score) for n, (rater, score) in enumerate(pairs)]
        result = standardize(ratings)
        pool = rater_report(ratings).pool
        corrected = [Fraction(s.corrected) for s in result.scores]
        mean = sum(corrected, Fraction(0)) / len(corrected)
        assert abs(mean - Fraction(pool.mean)) < Fraction(1, 10**28)
        if all(r.spread > 0 for r in result.raters):
            variance = sum(((c - mean) ** 2 for c in corrected), Fraction(0)) / len(corrected)
            assert abs(variance - Fraction(pool.spread) ** 2) < Fraction(1, 10**25)

    def test_a_rater_with_no_spread_is_shifted_to_the_target_mean_only(self) -> None:
        ratings = [
            rate("M1", "E1", 80),
            rate("M1", "E2", 90),
            rate("M2", "E3", 99),
            rate("M3", "E4", 70),
            rate("M3", "E5", 70),
        ]
        result = standardize(ratings, target_mean=Decimal(75), target_spread=Decimal(10))
        assert result["E3"].corrected == result["E4"].corrected == result["E5"].corrected == Decimal(75)
        single, flat = result.raters[1], result.raters[2]
        assert (single.spread, single.factor, single.shift) == (Decimal(0), Decimal(1), Decimal(-24))
        assert (flat.spread, flat.factor) == (Decimal(0), Decimal(1))

    def test_a_ratee_rated_several_times_gets_the_mean_of_the_corrected_ratings(self) -> None:
        ratings = [rate("M1", "E1", 80), rate("M1", "E2", 90), rate("M2", "E1", 60), rate("M2", "E2", 80)]
        result = standardize(ratings, target_mean=Decimal(75), target_spread=Decimal(10))
        # M1: 80 → 65, 90 → 85; M2: 60 → 65, 80 → 85
        assert (result["E1"].count, result["E1"].raw, result["E1"].corrected) == (2, Decimal(70), Decimal(65))

    def test_a_strong_team_is_pulled_down_like_a_lenient_rater(self) -> None:
        """The documented assumption: equal true team means. M1's team really is better."""
        ratings = [rate("M1", "E1", 90), rate("M1", "E2", 94), rate("M2", "E3", 60), rate("M2", "E4", 64)]
        result = standardize(ratings)
        assert result["E1"].corrected == result["E3"].corrected
        assert result["E2"].corrected == result["E4"].corrected

    def test_precision_rounds_half_up(self) -> None:
        ratings = [rate("M1", "E1", 0), rate("M1", "E2", 1)]
        exact = standardize(ratings, target_mean=Decimal("0.5"), target_spread=Decimal("0.125"))
        assert exact["E2"].corrected == Decimal("0.625")
        rounded = standardize(
            ratings, target_mean=Decimal("0.5"), target_spread=Decimal("0.125"), precision=Decimal("0.01")
        )
        assert (rounded["E1"].corrected, rounded["E2"].corrected) == (Decimal("0.38"), Decimal("0.63"))
        assert rounded.precision == Decimal("0.01")

    @pytest.mark.parametrize("bad", [Decimal("0.5"), Decimal(0), Decimal("-0.01"), Decimal("NaN")])
    def test_precision_must_be_a_power_of_ten(self, bad: Decimal) -> None:
        with pytest.raises(CalibrationError, match="power of ten"):
            standardize(LINKED, precision=bad)

    def test_bad_targets_are_refused(self) -> None:
        with pytest.raises(CalibrationError, match="target_spread"):
            standardize(LINKED, target_spread=Decimal(-1))
        with pytest.raises(CalibrationError, match="target_mean"):
            standardize(LINKED, target_mean="high")  # type: ignore[arg-type]

    def test_records(self) -> None:
        result = standardize(LINKED)
        assert result.to_records()[0] == {
            "ratee": "E1",
            "count": 2,
            "raw": Decimal(85),
            "corrected": result["E1"].corrected,
        }
        assert [r["rater"] for r in result.to_rater_records()] == ["M1", "M2"]
        assert set(result.to_rater_records()[0]) == {"rater", "count", "mean", "spread", "factor", "shift"}

    def test_ranking_is_best_first_ties_by_ratee(self) -> None:
        ratings = [rate("M1", "E2", 90), rate("M1", "E1", 70), rate("M2", "E3", 60), rate("M2", "E4", 40)]
        assert [s.ratee for s in standardize(ratings).ranking()] == ["E2", "E3", "E1", "E4"]

    def test_unknown_ratee(self) -> None:
        with pytest.raises(CalibrationError) as caught:
            standardize(LINKED)["E9"]
        assert caught.value.employee_id == "E9"

    def test_bad_input_names_rater_and_ratee(self) -> None:
        with pytest.raises(DataError, match="no ratings"):
            standardize([])
        with pytest.raises(DataError) as caught:
            standardize([*LINKED, rate("M1", "E1", 91)])
        assert caught.value.employee_id == "E1" and "'M1'" in str(caught.value)

    def test_the_callers_decimal_context_does_not_matter(self, caller_context: decimal.Context) -> None:
        expected = standardize([*LINKED, *ISLAND])
        caller_context.prec = 4
        caller_context.rounding = decimal.ROUND_CEILING
        assert standardize([*LINKED, *ISLAND]) == expected

    @settings(max_examples=80, deadline=None)
    @given(effect_data(), st.integers(-40, 40), st.data())
    def test_a_constant_added_to_one_rater_changes_nothing_with_given_targets(
        self, data: tuple[list[Rating], dict[str, int], dict[str, int]], constant: int, pick: st.DataObject
    ) -> None:
        ratings = data[0]
        rater = pick.draw(st.sampled_from(sorted({r.rater for r in ratings})))
        targets = {"target_mean": Decimal(75), "target_spread": Decimal(10)}
        before = standardize(ratings, **targets)
        after = standardize(shifted(ratings, rater, Decimal(constant)), **targets)
        assert [s.corrected for s in after.scores] == [s.corrected for s in before.scores]

    @settings(max_examples=80, deadline=None)
    @given(effect_data(), st.integers(-40, 40), st.data())
    def test_with_pool_targets_a_constant_moves_every_score_the_same_affine_way(
        self, data: tuple[list[Rating], dict[str, int], dict[str, int]], constant: int, pick: st.DataObject
    ) -> None:
        """The pool's mean and spread change with the constant, so the corrected scores do
        too, but only as one affine map for everybody: the z-scores are unchanged."""
        ratings = data[0]
        rater = pick.draw(st.sampled_from(sorted({r.rater for r in ratings})))
        before = standardize(ratings)
        after = standardize(shifted(ratings, rater, Decimal(constant)))
        for old, new in zip(before.scores, after.scores):
            if before.target_spread == 0 or after.target_spread == 0:
                continue
            z_old = (Fraction(old.corrected) - Fraction(before.target_mean)) / Fraction(before.target_spread)
            z_new = (Fraction(new.corrected) - Fraction(after.target_mean)) / Fraction(after.target_spread)
            assert abs(z_old - z_new) < Fraction(1, 10**25)

    @settings(max_examples=60, deadline=None)
    @given(effect_data(), st.data())
    def test_order_of_ratings_does_not_matter(
        self, data: tuple[list[Rating], dict[str, int], dict[str, int]], pick: st.DataObject
    ) -> None:
        ratings = data[0]
        again = pick.draw(st.permutations(ratings))
        assert standardize(again) == standardize(ratings)


# -- rater effects -------------------------------------------------------------------------------


class TestRaterEffects:
    def test_a_small_case_solved_by_hand(self) -> None:
        """M1 − M2 = 10 from E1 and E2; sum to zero gives ±5; E3 is 75 + 5 from M2."""
        result = rater_effects(LINKED)
        assert [(r.rater, r.effect, r.count, r.mean) for r in result.raters] == [
            ("M1", Decimal("5.0000"), 2, Decimal(85)),
            ("M2", Decimal("-5.0000"), 3, Decimal(75)),
        ]
        assert [(s.ratee, s.raw, s.corrected) for s in result.scores] == [
            ("E1", Decimal(85), Decimal("85.0000")),
            ("E2", Decimal(75), Decimal("75.0000")),
            ("E3", Decimal(75), Decimal("80.0000")),
        ]
        assert result.converged and result.near_ties == ()

    def test_matches_a_dense_least_squares_solution(self) -> None:
        """With noise, the fit is the least-squares one (checked against numpy.linalg.lstsq)."""
        ratings = [
            rate("M1", "E1", 91),
            rate("M1", "E2", 78),
            rate("M1", "E4", 83),
            rate("M2", "E1", 80),
            rate("M2", "E2", 73),
            rate("M2", "E3", 75),
            rate("M3", "E3", 69),
            rate("M3", "E4", 88),
            rate("M3", "E5", 62),
            rate("M4", "E5", 70),
        ]
        result = rater_effects(ratings)
        a, m = least_squares(ratings)
        for score in result.scores:
            assert abs(Fraction(score.corrected) - Fraction(a[score.ratee])) <= Fraction(PRECISION) / 2 + Fraction(
                1, 10**9
            )
        for rater in result.raters:
            assert abs(Fraction(rater.effect) - Fraction(m[rater.rater])) <= Fraction(PRECISION) / 2 + Fraction(
                1, 10**9
            )
        assert sum(Fraction(r.effect) for r in result.raters) == pytest.approx(0, abs=4 * 0.00005)

    def test_components_are_reported_sorted(self) -> None:
        result = rater_effects([*ISLAND, *LINKED])
        first, second = result.components
        assert (first.id, first.raters, first.ratees, first.ratings) == (0, ("M1", "M2"), ("E1", "E2", "E3"), 5)
        assert (second.id, second.raters, second.ratees, second.ratings) == (1, ("M3", "M4"), ("F1", "F2"), 4)
        assert [s.component for s in result.scores] == [0, 0, 0, 1, 1]
        assert [r.component for r in result.raters] == [0, 0, 1, 1]

    def test_comparing_across_components_is_refused_naming_both(self) -> None:
        result = rater_effects([*LINKED, *ISLAND])
        with pytest.raises(CalibrationError) as caught:
            result.compare("E1", "F2")
        text = str(caught.value)
        assert "'E1'" in text and "'F2'" in text
        assert "component 0 (2 raters: 'M1', 'M2'" in text and "component 1 (2 raters: 'M3', 'M4'" in text
        assert not result.comparable("E1", "F2")
        with pytest.raises(CalibrationError, match="component 1"):
            result.ranking()

    def test_comparing_within_a_component_works(self) -> None:
        result = rater_effects([*LINKED, *ISLAND])
        assert result.comparable("E1", "E3")
        assert result.compare("E1", "E3") == Decimal("5.0000")
        assert result.compare("F2", "F1") == Decimal("10.0000")
        assert [s.ratee for s in result.ranking(component=1)] == ["F2", "F1"]
        with pytest.raises(CalibrationError, match="no component 2"):
            result.ranking(component=2)

    def test_anchors_put_their_components_on_one_scale(self) -> None:
        result = rater_effects([*LINKED, *ISLAND], anchors={"M2", "M3"})
        assert result.anchors == ("M2", "M3")
        assert [c.anchors for c in result.components] == [("M2",), ("M3",)]
        effects = {r.rater: r.effect for r in result.raters}
        assert (effects["M1"], effects["M2"], effects["M3"], effects["M4"]) == (
            Decimal("10.0000"),
            Decimal("0.0000"),
            Decimal("0.0000"),
            Decimal("6.0000"),
        )
        # corrected = what the anchor would give: E1 80 (M2's own score), F2 70 (M3's)
        assert result["E1"].corrected == Decimal("80.0000") and result["F2"].corrected == Decimal("70.0000")
        assert result.compare("E1", "F2") == Decimal("10.0000")
        assert [s.ratee for s in result.ranking()] == ["E1", "E3", "E2", "F2", "F1"]

    def test_a_component_without_an_anchor_stays_apart(self) -> None:
        result = rater_effects([*LINKED, *ISLAND], anchors=["M1"])
        assert result.components[1].anchors == ()
        with pytest.raises(CalibrationError, match="no anchor"):
            result.compare("F1", "E1")

    def test_bad_anchors(self) -> None:
        with pytest.raises(CalibrationError, match="'M9' gave no ratings"):
            rater_effects(LINKED, anchors={"M9"})
        with pytest.raises(CalibrationError, match="wrap one rater in a list"):
            rater_effects(LINKED, anchors="M1")

    def test_a_360_ratee_and_a_rater_of_one_person(self) -> None:
        """E1 is rated by four raters; M5 rated E1 only and is 12 points above M1 (no noise:
        M1 +5, M2 -5, M3 +1, M5 +17 around E1 85, E2 75, E3 80)."""
        ratings = [*LINKED, rate("M3", "E1", 86), rate("M3", "E3", 81), rate("M5", "E1", 102)]
        result = rater_effects(ratings)
        assert result["E1"].count == 4
        effects = {r.rater: r.effect for r in result.raters}
        assert effects["M5"] - effects["M1"] == Decimal(12)
        assert len(result.components) == 1 and result.converged

    def test_several_items_from_one_rater_are_separate_ratings(self) -> None:
        ratings = [rate("M1", "E1", 90, "q"), rate("M1", "E1", 80, "s"), rate("M2", "E1", 75), rate("M2", "E2", 65)]
        result = rater_effects(ratings)
        assert result["E1"].count == 3 and result.raters[0].count == 2

    def test_near_ties_are_listed(self) -> None:
        """80.00005 sits on the tie between 80.0000 and 80.0001 (rounded half up)."""
        result = rater_effects([rate("M1", "E1", "80.00005"), rate("M1", "E2", "80.00012")])
        assert result["E1"].corrected == Decimal("80.0001")
        assert result.near_ties == ("E1",)
        coarse = rater_effects([rate("M1", "E1", "80.00005"), rate("M1", "E2", "80.5")], precision=Decimal(1))
        assert coarse.near_ties == ("E2",) and coarse["E2"].corrected == Decimal(81)

    def test_precision_is_a_parameter(self) -> None:
        result = rater_effects(LINKED, precision=Decimal("0.01"))
        assert result["E3"].corrected == Decimal("80.00") and result.precision == Decimal("0.01")

    def test_an_iteration_cap_that_is_too_low_says_not_converged(self) -> None:
        """A long chain of raters, each sharing one ratee with the next, needs many steps."""
        chain = [rate(f"M{j:02d}", f"E{j:02d}", 50 + j) for j in range(30)]
        chain += [rate(f"M{j + 1:02d}", f"E{j:02d}", 60 + 2 * j) for j in range(29)]
        capped = rater_effects(chain, max_iterations=2)
        assert not capped.converged and capped.iterations == 2
        assert not all(c.converged for c in capped.components)
        full = rater_effects(chain)
        assert full.converged and 2 < full.iterations < 10_000

    @pytest.mark.parametrize(
        ("keyword", "value", "message"),
        [
            ("tolerance", Decimal(0), "tolerance"),
            ("tolerance", Decimal(1), "tolerance"),
            ("max_iterations", 0, "max_iterations"),
            ("max_iterations", True, "max_iterations"),
            ("precision", Decimal("0.25"), "power of ten"),
        ],
    )
    def test_bad_parameters(self, keyword: str, value: object, message: str) -> None:
        with pytest.raises(CalibrationError, match=message):
            rater_effects(LINKED, **{keyword: value})  # type: ignore[arg-type]

    def test_bad_input(self) -> None:
        with pytest.raises(DataError, match="no ratings"):
            rater_effects([])
        with pytest.raises(DataError) as caught:
            rater_effects([*LINKED, rate("M2", "E3", 76)])
        assert caught.value.employee_id == "E3" and "'M2'" in str(caught.value)
        with pytest.raises(DataError, match="too large"):
            rater_effects([rate("M1", "E1", Decimal("1e400"))])

    def test_records(self) -> None:
        result = rater_effects([*LINKED, *ISLAND])
        assert result.to_records()[2] == {
            "ratee": "E3",
            "count": 1,
            "raw": Decimal(75),
            "corrected": Decimal("80.0000"),
            "component": 0,
        }
        assert result.to_rater_records()[0] == {
            "rater": "M1",
            "component": 0,
            "count": 2,
            "mean": Decimal(85),
            "effect": Decimal("5.0000"),
            "anchor": False,
        }

    @settings(max_examples=120, deadline=None)
    @given(effect_data())
    def test_recovers_person_and_rater_effects_in_each_component(
        self, data: tuple[list[Rating], dict[str, int], dict[str, int]]
    ) -> None:
        """No noise: within a component, corrected scores differ exactly as the person
        effects do, and rater effects are the true ones centred on the component's mean."""
        ratings, person, bias = data
        result = rater_effects(ratings)
        assert result.converged
        expected = components_of(ratings)
        assert sorted((sorted(m), sorted(e)) for m, e in expected) == sorted(
            (list(c.raters), list(c.ratees)) for c in result.components
        )
        slack = Fraction(PRECISION) + Fraction(1, 10**8)
        for component in result.components:
            base = component.ratees[0]
            for ratee in component.ratees:
                difference = Fraction(result.compare(ratee, base))
                assert abs(difference - (person[ratee] - person[base])) <= slack
            centre = Fraction(sum(bias[m] for m in component.raters), len(component.raters))
            for rater in result.raters:
                if rater.component == component.id:
                    assert abs(Fraction(rater.effect) - (bias[rater.rater] - centre)) <= slack

    @settings(max_examples=80, deadline=None)
    @given(effect_data(), st.integers(-40, 40), st.data())
    def test_a_constant_added_to_one_rater_leaves_person_differences_unchanged(
        self, data: tuple[list[Rating], dict[str, int], dict[str, int]], constant: int, pick: st.DataObject
    ) -> None:
        """The rater's effect absorbs the constant; the component's average rater moves by
        constant / raters, so its corrected scores all move by that (up to the rounding)."""
        ratings = data[0]
        rater = pick.draw(st.sampled_from(sorted({r.rater for r in ratings})))
        before = rater_effects(ratings)
        after = rater_effects(shifted(ratings, rater, Decimal(constant)))
        home = next(c for c in before.components if rater in c.raters)
        move = Fraction(constant, len(home.raters))
        slack = Fraction(PRECISION) + Fraction(1, 10**8)
        for old, new in zip(before.scores, after.scores):
            expected = move if old.component == home.id else 0
            assert abs(Fraction(new.corrected) - Fraction(old.corrected) - expected) <= slack

    @settings(max_examples=80, deadline=None)
    @given(effect_data(), st.integers(-40, 40), st.data())
    def test_with_an_anchor_a_constant_added_to_another_rater_of_its_component_changes_nothing(
        self, data: tuple[list[Rating], dict[str, int], dict[str, int]], constant: int, pick: st.DataObject
    ) -> None:
        ratings = data[0]
        anchor = pick.draw(st.sampled_from(sorted({r.rater for r in ratings})))
        before = rater_effects(ratings, anchors={anchor})
        home = next(c for c in before.components if anchor in c.raters)
        assume(len(home.raters) > 1)
        rater = pick.draw(st.sampled_from([m for m in home.raters if m != anchor]))
        after = rater_effects(shifted(ratings, rater, Decimal(constant)), anchors={anchor})
        for old, new in zip(before.scores, after.scores):
            assert abs(Fraction(new.corrected) - Fraction(old.corrected)) <= Fraction(PRECISION)

    @settings(max_examples=60, deadline=None)
    @given(effect_data(), st.data())
    def test_order_of_ratings_does_not_matter(
        self, data: tuple[list[Rating], dict[str, int], dict[str, int]], pick: st.DataObject
    ) -> None:
        ratings = data[0]
        again = pick.draw(st.permutations(ratings))
        assert rater_effects(again) == rater_effects(ratings)

    def test_results_are_decimals_and_frozen(self) -> None:
        result = rater_effects(LINKED)
        assert isinstance(result, RaterEffects)
        assert all(isinstance(s.corrected, Decimal) and isinstance(s.raw, Decimal) for s in result.scores)
        assert isinstance(result.tolerance, Decimal)
        with pytest.raises(AttributeError):
            result.converged = False  # type: ignore[misc]

    def test_the_callers_decimal_context_does_not_matter(self, caller_context: decimal.Context) -> None:
        expected = rater_effects([*LINKED, *ISLAND])
        caller_context.prec = 3
        assert rater_effects([*LINKED, *ISLAND]) == expected
        assert CONTEXT.prec == 34
