"""The function library of the formula language (perfkit.rules.functions).

Each class is one function, or one rule the checker applies to every call. Values go
through :class:`perfkit.rules.Formula`, the way users reach the functions.
"""

from __future__ import annotations

from decimal import Decimal

import pytest

from perfkit.errors import DataError, FormulaError
from perfkit.rules import FUNCTIONS, Formula
from perfkit.rules.functions import MAX_ROUND_PLACES, FunctionFailed

NAMES = ["x", "y", "a", "b", "lo", "hi"]


def evaluate(text: str, **values: object) -> Decimal | bool:
    return Formula.compile(text, NAMES)(**values)


def refused(text: str) -> FormulaError:
    with pytest.raises(FormulaError) as info:
        Formula.compile(text, NAMES, path="kpis[0].score")
    return info.value


EXAMPLES = [
    pytest.param(name, text, expected, id=text)
    for name, function in FUNCTIONS.items()
    for text, expected in function.examples
]


class TestExamples:
    """The worked examples in the library are documentation; each must hold."""

    def test_every_function_has_examples(self) -> None:
        """No function is documented without at least one worked example."""
        assert FUNCTIONS
        assert [name for name, function in FUNCTIONS.items() if not function.examples] == []

    @pytest.mark.parametrize(("name", "text", "expected"), EXAMPLES)
    def test_example_calls_its_own_function(self, name: str, text: str, expected: str) -> None:
        assert text.startswith(f"{name}(")

    @pytest.mark.parametrize(("name", "text", "expected"), EXAMPLES)
    def test_example_gives_its_documented_result(self, name: str, text: str, expected: str) -> None:
        result = Formula.compile(text, names=[])()
        assert isinstance(result, Decimal)
        assert result == Decimal(expected)

    @pytest.mark.parametrize(("name", "text", "expected"), EXAMPLES)
    def test_example_explains_to_the_same_result(self, name: str, text: str, expected: str) -> None:
        """The step-by-step interpreter agrees with the compiled callable on every example."""
        value, steps = Formula.compile(text, names=[]).trace({})
        assert value == Decimal(expected)
        assert steps[-1].value == value


class TestArity:
    """A call with too few or too many arguments is refused when the formula is checked."""

    @pytest.mark.parametrize(
        ("text", "message"),
        [
            ("min(x)", "min() got 1 argument"),
            ("max(x)", "max() got 1 argument"),
            ("abs()", "abs() got 0 arguments"),
            ("abs(x, y)", "abs() got 2 arguments"),
            ("clamp(x, 0)", "clamp() got 2 arguments"),
            ("clamp(x, 0, 1, 2)", "clamp() got 4 arguments"),
            ("round()", "round() got 0 arguments"),
            ("round(x, 1, 2)", "round() got 3 arguments"),
            ("piecewise(x, (0, 1))", "piecewise() got 2 arguments"),
            ("steps(x, default=0)", "steps() got 1 argument"),
            ("ratio(x, default=0)", "ratio() got 1 argument"),
            ("ratio(x, y, a, default=0)", "ratio() got 3 arguments"),
        ],
    )
    def test_wrong_argument_count_names_the_count_and_shows_usage(self, text: str, message: str) -> None:
        error = refused(text)
        assert error.message == message
        name = text.split("(")[0]
        assert error.hint == f"usage: {FUNCTIONS[name].signature}"
        assert (error.formula_line, error.column) == (1, 1)
        assert error.path == "kpis[0].score"

    def test_unknown_keyword_is_refused_at_the_keyword(self) -> None:
        error = refused("ratio(x, y, defualt=0)")
        assert error.message == "ratio() takes no argument defualt="
        assert error.column == len("ratio(x, y, ") + 1

    def test_keyword_on_a_function_that_takes_none_is_refused(self) -> None:
        assert refused("abs(x, default=1)").message == "abs() takes no argument default="

    def test_min_and_max_take_any_number_of_arguments_from_two(self) -> None:
        assert evaluate("min(x, 4, 3, 9, 5)", x=7) == 3
        assert evaluate("max(x, 4, 3, 9, 5)", x=7) == 9


class TestRequiredDefault:
    """steps() and ratio() must say what they give when they have nothing to go on."""

    @pytest.mark.parametrize("text", ["steps(x, (1, 10))", "ratio(a, b)"])
    def test_missing_default_is_a_formula_error(self, text: str) -> None:
        error = refused(text)
        name = text.split("(")[0]
        assert error.message == f"{name}() needs default=..."
        assert FUNCTIONS[name].signature in (error.hint or "")

    def test_default_may_be_an_expression(self) -> None:
        assert evaluate("ratio(a, b, default=x * 2)", a=1, b=0, x=4) == 8


class TestRoundPlaces:
    """round()'s places must be a whole number from 0 to 10 written in the formula."""

    @pytest.mark.parametrize(
        ("places", "expected"),
        [("0", "2"), ("10", "1.5000000000"), ("10.0", "1.5000000000")],
    )
    def test_whole_literal_places_in_range_are_accepted(self, places: str, expected: str) -> None:
        assert str(evaluate(f"round(x, {places})", x="1.5")) == expected

    @pytest.mark.parametrize("places", ["11", "-1", "1.5", "y", "1 + 1", "abs(2)"])
    def test_other_places_are_refused_at_the_places_argument(self, places: str) -> None:
        text = f"round(x, {places})"
        error = refused(text)
        assert f"from 0 to {MAX_ROUND_PLACES}" in error.message
        assert error.column == len("round(x, ") + 1
        assert error.end_column == len(text)

    def test_limit_is_ten(self) -> None:
        assert MAX_ROUND_PLACES == 10


class TestIncreasingPoints:
    """The x values of piecewise() and steps() must be strictly increasing."""

    @pytest.mark.parametrize(
        ("text", "bad"),
        [
            ("piecewise(x, (0, 0), (2, 50), (1, 100))", "(1, 100)"),
            ("piecewise(x, (1.0, 0), (1.00, 5))", "(1.00, 5)"),
            ("steps(x, (0.8, 60), (0.8, 80), default=0)", "(0.8, 80)"),
            ("steps(x, (0.9, 60), (0.8, 80), default=0)", "(0.8, 80)"),
        ],
    )
    def test_written_out_x_values_are_checked_when_the_formula_is_checked(self, text: str, bad: str) -> None:
        """The error points at the x that breaks the order."""
        error = refused(text)
        assert "strictly increasing" in error.message
        x = bad[1:].split(",")[0]
        assert error.column == text.index(bad) + 2
        assert error.end_column == error.column + len(x)

    def test_message_names_both_values(self) -> None:
        error = refused("piecewise(x, (0, 0), (2, 50), (1, 100))")
        assert error.message == "the x values of piecewise() must be strictly increasing, but 2 is followed by 1"

    def test_multi_line_formula_points_at_the_right_line(self) -> None:
        error = refused("piecewise(x,\n  (1, 0),\n  (1, 5))")
        assert (error.formula_line, error.column) == (3, 4)

    @pytest.mark.parametrize(
        "text",
        ["piecewise(x, (a, 0), (b, 100))", "steps(x, (a, 0), (b, 100), default=0)"],
    )
    def test_x_values_from_inputs_are_checked_on_evaluation(self, text: str) -> None:
        formula = Formula.compile(text, NAMES, path="kpis[1].score")
        assert formula(x=5, a=1, b=2) == 100
        with pytest.raises(DataError, match="strictly increasing, but 2 is followed by 2") as info:
            formula(x=5, a=2, b=2)
        assert info.value.path == "kpis[1].score"
        assert info.value.formula == text
        with pytest.raises(DataError, match="strictly increasing, but 3 is followed by 2"):
            formula(x=5, a=3, b=2)


class TestPiecewise:
    """piecewise(x, (x1, y1), ...): linear between the points, flat outside them."""

    CURVE = "piecewise(x, (0.6, 0), (1.0, 100), (1.2, 120))"

    @pytest.mark.parametrize(
        ("x", "expected"),
        [
            ("-5", "0"),  # far below the first point
            ("0.6", "0"),  # on the first point
            ("0.7", "25"),  # between the first two
            ("1.0", "100"),  # on a middle point
            ("1.05", "105"),  # between the last two
            ("1.2", "120"),  # on the last point
            ("99", "120"),  # far above the last point
        ],
    )
    def test_rising_curve(self, x: str, expected: str) -> None:
        assert evaluate(self.CURVE, x=x) == Decimal(expected)

    @pytest.mark.parametrize(
        ("x", "expected"),
        [("-1", "100"), ("0", "100"), ("1", "80"), ("3", "40"), ("5", "0"), ("6", "0")],
    )
    def test_lower_is_better_curve(self, x: str, expected: str) -> None:
        """y values may fall: fewer defects, higher score."""
        assert evaluate("piecewise(x, (0, 100), (5, 0))", x=x) == Decimal(expected)

    def test_interpolation_is_decimal_to_34_digits(self) -> None:
        assert evaluate("piecewise(x, (0, 0), (3, 1))", x=1) == Decimal("0." + "3" * 34)

    def test_needs_pairs(self) -> None:
        error = refused("piecewise(x, 1, (2, 3))")
        assert error.message == "each point of piecewise() is a pair (x, y)"
        assert error.column == len("piecewise(x, ") + 1


class TestSteps:
    """steps(x, (t1, y1), ..., default=y0): the y of the highest threshold <= x."""

    TABLE = "steps(x, (0.8, 60), (0.9, 80), (1.0, 100), default=0)"

    @pytest.mark.parametrize(
        ("x", "expected"),
        [
            ("0.5", "0"),  # below every threshold: the default
            ("0.79999", "0"),
            ("0.8", "60"),  # a threshold reached exactly counts
            ("0.85", "60"),
            ("0.9", "80"),
            ("0.99", "80"),
            ("1.0", "100"),
            ("7", "100"),  # above every threshold: the last y
        ],
    )
    def test_picks_the_highest_threshold_not_above_x(self, x: str, expected: str) -> None:
        assert evaluate(self.TABLE, x=x) == Decimal(expected)

    def test_default_can_be_any_number(self) -> None:
        assert evaluate("steps(x, (1, 10), default=-5)", x=0) == -5


class TestRatio:
    """ratio(a, b, default=d): a / b, or d when b is zero."""

    def test_divides(self) -> None:
        assert evaluate("ratio(a, b, default=7)", a=3, b=4) == Decimal("0.75")

    @pytest.mark.parametrize("a", [1, 0, -3])
    def test_gives_the_default_when_b_is_zero(self, a: int) -> None:
        assert evaluate("ratio(a, b, default=7)", a=a, b=0) == 7

    def test_written_zero_divisor_gives_the_default(self) -> None:
        assert evaluate("ratio(a, 0, default=7)", a=1) == 7
        assert Formula.compile("ratio(1, 0, default=7)", [])() == 7


class TestRound:
    """round(x, n): half-up (ties away from zero), like Excel's ROUND."""

    @pytest.mark.parametrize(
        ("text", "expected"),
        [
            ("round(2.345, 2)", "2.35"),
            ("round(-2.345, 2)", "-2.35"),
            ("round(2.5)", "3"),
            ("round(-2.5)", "-3"),
            ("round(0.5)", "1"),
            ("round(1.5)", "2"),
            ("round(2.344, 2)", "2.34"),
            ("round(84.995, 2)", "85.00"),
            ("round(2, 2)", "2.00"),
        ],
    )
    def test_rounds_half_up_to_the_places(self, text: str, expected: str) -> None:
        """The result also carries exactly the requested places (str compares the digits)."""
        assert str(Formula.compile(text, [])()) == expected

    def test_float_input_is_rounded_as_written(self) -> None:
        """2.345 as a float is 2.34499999...; perfkit reads it as 2.345, so it rounds up."""
        assert evaluate("round(x, 2)", x=2.345) == Decimal("2.35")
        assert evaluate("round(x)", x=-2.5) == Decimal("-3")


class TestClamp:
    """clamp(x, lo, hi): x limited to lo..hi."""

    @pytest.mark.parametrize(("x", "expected"), [(-5, 0), (0, 0), (50, 50), (100, 100), (112, 100)])
    def test_limits(self, x: int, expected: int) -> None:
        assert evaluate("clamp(x, 0, 100)", x=x) == expected

    def test_equal_limits_pin_the_value(self) -> None:
        assert evaluate("clamp(x, lo, hi)", x=9, lo=3, hi=3) == 3

    def test_lower_limit_above_upper_limit_is_a_data_error(self) -> None:
        formula = Formula.compile("clamp(x, lo, hi)", NAMES, path="kpis[0].score")
        with pytest.raises(DataError, match="the lower limit 5 is above the upper limit 0") as info:
            formula(x=1, lo=5, hi=0)
        assert info.value.formula == "clamp(x, lo, hi)"

    def test_written_out_limits_in_the_wrong_order_fail_at_check_time(self) -> None:
        error = refused("clamp(1, 5, 0)")
        assert "lower limit 5 is above the upper limit 0" in error.message


class TestFunctionFailed:
    def test_is_an_arithmetic_error(self) -> None:
        """The compiled callable signals every failure as ArithmeticError; functions join in."""
        assert issubclass(FunctionFailed, ArithmeticError)
