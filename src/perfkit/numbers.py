"""The exact-number policy (DESIGN §4).

Every number perfkit computes with is a :class:`decimal.Decimal`:

* :func:`to_decimal` reads a value as the decimal its author wrote: the float ``0.1``
  becomes ``Decimal("0.1")`` (through its shortest repr), never the binary expansion.
  NaN, infinities and booleans are refused.
* Arithmetic runs in :data:`CONTEXT` (34 significant digits, overflow and invalid
  operations trapped), whatever the caller's own decimal context is.
* :func:`quantize` rounds at a declared rounding point with a declared mode; the default
  mode is half-up (四舍五入, Excel's ROUND).
"""

from __future__ import annotations

import decimal
import math
import numbers
from collections.abc import Iterable
from decimal import Decimal
from enum import Enum
from fractions import Fraction
from typing import cast

__all__ = ["CONTEXT", "RoundingMode", "exact_sum", "percent", "plain_text", "quantize", "shift", "to_decimal"]

CONTEXT = decimal.Context(
    prec=34,
    rounding=decimal.ROUND_HALF_EVEN,
    Emax=999_999,
    Emin=-999_999,
    traps=[decimal.InvalidOperation, decimal.DivisionByZero, decimal.Overflow],
)
"""The decimal context every perfkit computation runs in."""


class RoundingMode(str, Enum):
    """How a value is rounded at a rounding point."""

    HALF_UP = "half_up"
    """Ties away from zero: 2.345 → 2.35, -2.345 → -2.35 (四舍五入, Excel ROUND)."""
    HALF_EVEN = "half_even"
    """Ties to the even digit (banker's rounding): 2.345 → 2.34, 2.355 → 2.36."""
    HALF_DOWN = "half_down"
    """Ties toward zero: 2.345 → 2.34."""
    UP = "up"
    """Away from zero: 2.341 → 2.35."""
    DOWN = "down"
    """Toward zero (truncate): 2.349 → 2.34."""
    CEILING = "ceiling"
    """Toward +infinity."""
    FLOOR = "floor"
    """Toward -infinity."""


_DECIMAL_ROUNDING = {
    RoundingMode.HALF_UP: decimal.ROUND_HALF_UP,
    RoundingMode.HALF_EVEN: decimal.ROUND_HALF_EVEN,
    RoundingMode.HALF_DOWN: decimal.ROUND_HALF_DOWN,
    RoundingMode.UP: decimal.ROUND_UP,
    RoundingMode.DOWN: decimal.ROUND_DOWN,
    RoundingMode.CEILING: decimal.ROUND_CEILING,
    RoundingMode.FLOOR: decimal.ROUND_FLOOR,
}

_ROUNDING_CONTEXTS = {
    mode: decimal.Context(
        prec=CONTEXT.prec, rounding=rounding, Emax=CONTEXT.Emax, Emin=CONTEXT.Emin, traps=[decimal.InvalidOperation]
    )
    for mode, rounding in _DECIMAL_ROUNDING.items()
}
_QUANTA = {places: Decimal(1).scaleb(-places) for places in range(0, 11)}


def to_decimal(value: object) -> Decimal:
    """Read ``value`` as the decimal its author wrote.

    Accepts ``Decimal``, ``int``, ``float`` (and numpy scalars) and numeric strings
    (``"1 234.5"`` is refused, ``"85%"`` is ``0.85``). Raises :class:`ValueError` with a
    short reason for anything else, including NaN, infinities and booleans.

    >>> to_decimal(0.1)
    Decimal('0.1')
    >>> to_decimal("85%")
    Decimal('0.85')
    """
    kind = type(value)
    if kind is float:  # the common cases first, without abstract-class checks
        number = cast(float, value)
        if not math.isfinite(number):
            raise ValueError("NaN and infinite values are not numbers perfkit can score")
        return Decimal(repr(number))
    if kind is int:
        return Decimal(cast(int, value))
    if isinstance(value, bool):
        raise ValueError("a true/false value is not a number")
    if isinstance(value, Decimal):
        result = value
    elif isinstance(value, numbers.Integral):
        return Decimal(int(value))
    elif isinstance(value, numbers.Real):
        result = Decimal(repr(float(value)))
    elif isinstance(value, str):
        result = _parse_text(value)
    else:
        raise ValueError(f"expected a number, got {type(value).__name__}")
    if not result.is_finite():
        raise ValueError("NaN and infinite values are not numbers perfkit can score")
    return result


def _parse_text(text: str) -> Decimal:
    stripped = text.strip()
    percent = stripped.endswith("%")
    if percent:
        stripped = stripped[:-1].rstrip()
    try:
        result = Decimal(stripped)
    except decimal.InvalidOperation:
        raise ValueError(f"{text!r} is not a number") from None
    if percent and result.is_finite():
        result = shift(result, -2)
    return result


def shift(value: Decimal, places: int) -> Decimal:
    """``value × 10**places``, exactly (no context rounding, whatever the precision).

    >>> shift(Decimal("99.999999999999999999999999999999999"), -2)
    Decimal('0.99999999999999999999999999999999999')
    """
    sign, digits, exponent = value.as_tuple()
    assert isinstance(exponent, int), "only finite values can be shifted"
    return Decimal((sign, digits, exponent + places))


def plain_text(value: Decimal) -> str:
    """Fixed-point text without trailing zeros after the point: ``40.50`` → ``"40.5"``."""
    text = format(value, "f")
    if "." in text:
        text = text.rstrip("0").rstrip(".")
    return "0" if text in ("", "-0") else text


_EXACT = decimal.Context(prec=100_000, traps=[decimal.Inexact, decimal.InvalidOperation, decimal.Overflow])


def exact_sum(values: Iterable[Decimal]) -> Decimal:
    """The sum of ``values`` with no rounding at all (for weights that must total 100%).

    >>> exact_sum([Decimal("0.1000000000000000000000000000001"), Decimal("0.8999999999999999999999999999999")])
    Decimal('1.0000000000000000000000000000000')
    """
    total = Decimal(0)
    for value in values:
        total = _EXACT.add(total, value)
    return total


def quantize(value: Decimal, places: int, mode: RoundingMode = RoundingMode.HALF_UP) -> Decimal:
    """Round ``value`` to ``places`` decimal places with ``mode``.

    >>> quantize(Decimal("84.995"), 2)
    Decimal('85.00')
    >>> quantize(Decimal("2.345"), 2, RoundingMode.HALF_EVEN)
    Decimal('2.34')

    Raises ``decimal.InvalidOperation`` when the rounded value would need more than
    :data:`CONTEXT`'s 34 digits.
    """
    return _ROUNDING_CONTEXTS[mode].quantize(value, quantum(places))


def percent(value: Decimal | Fraction | None, places: int = 1) -> str:
    """A fraction shown as a percentage, rounded half up (``"75.0%"``); ``"-"`` for None.

    >>> percent(Decimal("0.4625")), percent(Fraction(1, 3)), percent(None)
    ('46.3%', '33.3%', '-')
    """
    if value is None:
        return "-"
    if isinstance(value, Fraction):
        value = CONTEXT.divide(Decimal(value.numerator), Decimal(value.denominator))
    return f"{quantize(CONTEXT.multiply(value, Decimal(100)), places)}%"


def quantum(places: int) -> Decimal:
    """``Decimal("0.01")`` for 2 places: what :meth:`decimal.Decimal.quantize` takes."""
    return _QUANTA.get(places) or Decimal(1).scaleb(-places)


def rounder(mode: RoundingMode) -> decimal.Context:
    """The context that rounds with ``mode`` (its ``quantize`` is :func:`quantize` without the checks)."""
    return _ROUNDING_CONTEXTS[mode]
