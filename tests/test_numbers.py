"""The exact-number policy (DESIGN §4)."""

import decimal
from decimal import Decimal

import pytest

from perfkit.numbers import RoundingMode, quantize, to_decimal


class TestToDecimal:
    @pytest.mark.parametrize(
        ("value", "expected"),
        [
            (0.1, "0.1"),
            (0.30000000000000004, "0.30000000000000004"),
            (3, "3"),
            ("  42.50 ", "42.50"),
            ("85%", "0.85"),
            ("12.5 %", "0.125"),
            (Decimal("1.10"), "1.10"),
            (1e-7, "1E-7"),
        ],
    )
    def test_reads_the_decimal_the_author_wrote(self, value: object, expected: str) -> None:
        result = to_decimal(value)
        assert isinstance(result, Decimal)
        assert result == Decimal(expected)
        assert str(result) == expected

    @pytest.mark.parametrize(
        "value", [float("nan"), float("inf"), "NaN", "-Infinity", Decimal("NaN"), True, None, "1,234", "abc", [1]]
    )
    def test_refuses_what_is_not_a_finite_number(self, value: object) -> None:
        with pytest.raises(ValueError):
            to_decimal(value)

    def test_numpy_scalars(self) -> None:
        import numpy as np  # installed with the test extra (pandas needs it)

        assert to_decimal(np.float64(0.1)) == Decimal("0.1")
        assert to_decimal(np.int64(7)) == Decimal(7)


class TestQuantize:
    @pytest.mark.parametrize(
        ("value", "places", "mode", "expected"),
        [
            ("84.995", 2, RoundingMode.HALF_UP, "85.00"),
            ("2.345", 2, RoundingMode.HALF_UP, "2.35"),
            ("-2.345", 2, RoundingMode.HALF_UP, "-2.35"),
            ("2.345", 2, RoundingMode.HALF_EVEN, "2.34"),
            ("2.355", 2, RoundingMode.HALF_EVEN, "2.36"),
            ("2.345", 2, RoundingMode.HALF_DOWN, "2.34"),
            ("2.341", 2, RoundingMode.UP, "2.35"),
            ("2.349", 2, RoundingMode.DOWN, "2.34"),
            ("-2.341", 2, RoundingMode.CEILING, "-2.34"),
            ("-2.341", 2, RoundingMode.FLOOR, "-2.35"),
            ("7.5", 0, RoundingMode.HALF_UP, "8"),
        ],
    )
    def test_modes(self, value: str, places: int, mode: RoundingMode, expected: str) -> None:
        assert str(quantize(Decimal(value), places, mode)) == expected

    def test_default_mode_is_half_up(self) -> None:
        assert quantize(Decimal("0.125"), 2) == Decimal("0.13")

    def test_ignores_the_callers_decimal_context(self) -> None:
        with decimal.localcontext() as ctx:
            ctx.prec = 2
            ctx.rounding = decimal.ROUND_FLOOR
            assert quantize(Decimal("12345.675"), 2) == Decimal("12345.68")
