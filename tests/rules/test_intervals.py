"""Range analysis (perfkit.rules.intervals and Formula.bounds).

The promise: the computed interval always contains every value the formula can give for
inputs in their ranges; it may be wider (unbounded when nothing better is known).
"""

from __future__ import annotations

import decimal
from decimal import Decimal

import pytest
from hypothesis import HealthCheck, given, reject, settings
from hypothesis import strategies as st
from strategies import NAMES as GENERATED_NAMES
from strategies import environments, number_formulas

from perfkit.errors import DataError, FormulaError
from perfkit.rules import Formula
from perfkit.rules.intervals import EVERYTHING, Interval

INF = Decimal("Infinity")


def iv(lo: object, hi: object) -> Interval:
    return Interval(Decimal(str(lo)), Decimal(str(hi)))


def bounds(text: str, **ranges: tuple[object, object]) -> Interval:
    names = sorted(set(ranges) | {"x", "y"})
    formula = Formula.compile(text, names)
    return formula.bounds({name: iv(*pair) for name, pair in ranges.items()})


class TestInterval:
    """Interval arithmetic on decimals, with infinite ends allowed."""

    def test_point(self) -> None:
        assert Interval.point(Decimal("2.5")) == iv("2.5", "2.5")

    def test_of_open_ends(self) -> None:
        assert Interval.of(None, None) == EVERYTHING
        assert Interval.of(Decimal(0), None) == Interval(Decimal(0), INF)

    def test_bounded(self) -> None:
        assert iv(0, 100).bounded
        assert not Interval.of(Decimal(0), None).bounded
        assert not EVERYTHING.bounded

    def test_hull(self) -> None:
        assert iv(1, 2).hull(iv(5, 6), iv(-1, 0)) == iv(-1, 6)

    def test_negation_swaps_the_ends(self) -> None:
        assert -iv(1, 2) == iv(-2, -1)
        assert -Interval.of(Decimal(0), None) == Interval(-INF, Decimal(0))

    def test_addition_and_subtraction(self) -> None:
        assert iv(1, 2) + iv(10, 20) == iv(11, 22)
        assert iv(1, 2) - iv(10, 20) == iv(-19, -8)

    def test_infinities_of_opposite_signs_give_everything(self) -> None:
        assert Interval(-INF, Decimal(1)) + Interval(INF, INF) == EVERYTHING

    @pytest.mark.parametrize(
        ("left", "right", "product"),
        [
            (iv(1, 2), iv(3, 4), iv(3, 8)),
            (iv(-1, 2), iv(-3, 4), iv(-6, 8)),
            (iv(-2, -1), iv(3, 4), iv(-8, -3)),
            (iv(0, 0), EVERYTHING, iv(0, 0)),  # inputs are finite: 0 × x is 0
            (iv(0, 1), Interval.of(Decimal(0), None), Interval.of(Decimal(0), None)),
        ],
    )
    def test_multiplication_takes_the_extreme_corners(self, left: Interval, right: Interval, product: Interval) -> None:
        assert left * right == product

    def test_division_by_a_positive_interval(self) -> None:
        assert iv(1, 2) / iv(1, 4) == iv("0.25", 2)

    def test_division_by_a_negative_interval(self) -> None:
        assert iv(2, 4) / iv(-2, -1) == iv(-4, -1)

    def test_division_by_an_unbounded_interval(self) -> None:
        assert iv(1, 2) / Interval.of(Decimal(1), None) == iv(0, 2)

    @pytest.mark.parametrize("divisor", [iv(-1, 1), iv(0, 1), iv(-1, 0), iv(0, 0)])
    def test_division_by_an_interval_containing_zero_is_unbounded(self, divisor: Interval) -> None:
        assert iv(1, 2) / divisor == EVERYTHING

    def test_map_monotone_leaves_infinite_ends(self) -> None:
        assert iv(2, 4).map_monotone(lambda v: v * 2) == iv(4, 8)
        assert Interval.of(Decimal(2), None).map_monotone(lambda v: v * 2) == Interval.of(Decimal(4), None)

    def test_negation_is_exact_whatever_the_callers_context(self, caller_context: decimal.Context) -> None:
        """Negating an end needs no rounding; the caller's precision must not round it anyway."""
        caller_context.prec = 3
        assert -iv(1, "2.3444") == iv("-2.3444", -1)


class TestFormulaBounds:
    """Formula.bounds: the interval a formula's values lie in, given its inputs' ranges."""

    def test_clamp_bounds_an_unbounded_input(self) -> None:
        assert Formula.compile("clamp(x * 100, 0, 100)", ["x"]).bounds({}) == iv(0, 100)

    def test_csat_rescaled_to_a_percentage(self) -> None:
        assert bounds("(csat - 1) / 4 * 100", csat=(1, 5)) == iv(0, 100)

    def test_division_by_an_input_range_containing_zero_is_unbounded(self) -> None:
        result = bounds("100 / x", x=(-1, 1))
        assert result == EVERYTHING
        assert not result.bounded
        assert not bounds("100 / x", x=(0, 1)).bounded

    def test_division_by_a_positive_input_range(self) -> None:
        assert bounds("1 / x", x=(1, 2)) == iv("0.5", 1)

    def test_inputs_without_a_range_are_unbounded(self) -> None:
        assert Formula.compile("x + 1", ["x"]).bounds({}) == EVERYTHING

    def test_constants(self) -> None:
        assert Formula.compile("x * 0 + 7", ["x"]).bounds({}) == iv(7, 7)

    def test_abs(self) -> None:
        assert bounds("abs(x)", x=(-3, 2)) == iv(0, 3)
        assert bounds("abs(x)", x=(-3, -1)) == iv(1, 3)

    def test_min_and_max(self) -> None:
        assert bounds("max(x, 0) - min(x, 1)", x=(-1, 2)) == iv(-1, 3)

    def test_round(self) -> None:
        assert bounds("round(x, 1)", x=("0.04", "0.96")) == iv(0, 1)

    def test_piecewise_stays_between_its_lowest_and_highest_y(self) -> None:
        assert Formula.compile("piecewise(x, (0, 100), (1, 0), (2, 30))", ["x"]).bounds({}) == iv(0, 100)

    def test_steps_includes_the_default(self) -> None:
        assert bounds("steps(x, (0.8, 60), (0.9, 80), default=-5)", x=(0, 2)) == iv(-5, 80)

    def test_ratio_includes_the_default(self) -> None:
        assert bounds("ratio(x, y, default=-1)", x=(0, 10), y=(1, 2)) == iv(-1, 10)
        assert bounds("ratio(x, y, default=7)", x=(0, 10), y=(0, 2)) == EVERYTHING

    def test_if_else_covers_both_branches(self) -> None:
        assert bounds("x if x > 1 else 5", x=(0, 2)) == iv(0, 5)

    def test_power_is_not_analysed(self) -> None:
        """Conservative: unknown is unbounded, never a guess."""
        assert bounds("x ** 2", x=(1, 2)) == EVERYTHING

    def test_repeated_input_is_treated_as_independent(self) -> None:
        """x - x is 0, but the analysis does not know both are the same x: wider, still sound."""
        assert bounds("x - x", x=(0, 1)) == iv(-1, 1)

    @pytest.mark.parametrize(
        ("text", "ranges", "values"),
        [
            ("x / 3", {"x": (0, 2)}, {"x": 2}),
            ("(x - 1) / 3 * 100", {"x": (1, 3)}, {"x": 3}),
            ("-ratio(1, 3, default=0)", {}, {}),
        ],
    )
    def test_bounds_contain_the_formulas_own_value(
        self, text: str, ranges: dict[str, tuple[object, object]], values: dict[str, object]
    ) -> None:
        """The true value must lie inside, to the last digit (ends must round outward)."""
        formula = Formula.compile(text, ["x"])
        result = formula.bounds({name: iv(*pair) for name, pair in ranges.items()})
        value = formula(values)
        assert result.lo <= value <= result.hi

    def test_callers_context_does_not_change_bounds(self, caller_context: decimal.Context) -> None:
        caller_context.prec = 3
        assert bounds("-x", x=(1, "2.3444")) == iv("-2.3444", -1)
        assert bounds("abs(x)", x=("-2.3456", 1)) == iv(0, "2.3456")


EXACT = decimal.Context(prec=200)
"""Wide enough to widen generated values into ranges without rounding."""


class TestBoundsContainEveryValue:
    """Property: for any formula, inputs and ranges around them, the value lies in the bounds."""

    @settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much])
    @given(
        text=number_formulas(GENERATED_NAMES, 2),
        values=environments,
        widths=st.fixed_dictionaries({name: st.integers(0, 50) for name in GENERATED_NAMES}),
    )
    def test_value_lies_within_bounds(self, text: str, values: dict[str, Decimal], widths: dict[str, int]) -> None:
        try:
            formula = Formula.compile(text, GENERATED_NAMES)
            value = formula(values)
        except (FormulaError, DataError):
            reject()
        ranges = {
            name: Interval(EXACT.subtract(values[name], widths[name]), EXACT.add(values[name], widths[name]))
            for name in GENERATED_NAMES
        }
        result = formula.bounds(ranges)
        assert result.lo <= value <= result.hi, (text, values, ranges, value, result)
