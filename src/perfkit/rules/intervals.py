"""Range analysis: the interval of values a formula can produce.

Used when a scheme is checked, to prove that every reachable total falls in a grade band.
Bounds may be infinite (``Decimal('Infinity')``); the analysis is conservative: the true
range always lies inside the computed one.
"""

from __future__ import annotations

import decimal
from collections.abc import Callable
from decimal import Decimal

import attrs

__all__ = ["EVERYTHING", "Interval"]

_INF = Decimal("Infinity")
# Bounds are rounded outward (lower bounds down, upper bounds up) so that every value the
# engine computes, itself rounded in perfkit's context, stays inside them.
_DOWN = decimal.Context(prec=34, traps=[], rounding=decimal.ROUND_FLOOR, Emax=999_999, Emin=-999_999)
_UP = decimal.Context(prec=34, traps=[], rounding=decimal.ROUND_CEILING, Emax=999_999, Emin=-999_999)


@attrs.frozen
class Interval:
    lo: Decimal
    hi: Decimal

    @classmethod
    def point(cls, value: Decimal) -> Interval:
        return cls(value, value)

    @classmethod
    def of(cls, lo: Decimal | None, hi: Decimal | None) -> Interval:
        return cls(-_INF if lo is None else lo, _INF if hi is None else hi)

    @property
    def bounded(self) -> bool:
        return self.lo.is_finite() and self.hi.is_finite()

    def hull(self, *others: Interval) -> Interval:
        return Interval(min(self.lo, *(o.lo for o in others)), max(self.hi, *(o.hi for o in others)))

    def __neg__(self) -> Interval:
        return Interval(self.hi.copy_negate(), self.lo.copy_negate())

    def __add__(self, other: Interval) -> Interval:
        return _checked(_DOWN.add(self.lo, other.lo), _UP.add(self.hi, other.hi))

    def __sub__(self, other: Interval) -> Interval:
        return self + (-other)

    def __mul__(self, other: Interval) -> Interval:
        pairs = [(a, b) for a in (self.lo, self.hi) for b in (other.lo, other.hi)]
        return _checked(min(_mul(a, b, _DOWN) for a, b in pairs), max(_mul(a, b, _UP) for a, b in pairs))

    def __truediv__(self, other: Interval) -> Interval:
        if other.lo <= 0 <= other.hi:
            return EVERYTHING
        inverse = Interval(_inverse(other.hi, _DOWN), _inverse(other.lo, _UP))
        return self * inverse

    def map_monotone(self, func: Callable[[Decimal], Decimal]) -> Interval:
        """Apply a non-decreasing function of finite values to both ends.

        An end where the function fails (a value too large to round) becomes unbounded.
        """
        return Interval(_apply(func, self.lo, -_INF), _apply(func, self.hi, _INF))


EVERYTHING = Interval(-_INF, _INF)


def _apply(func: Callable[[Decimal], Decimal], value: Decimal, fallback: Decimal) -> Decimal:
    if not value.is_finite():
        return value
    try:
        return func(value)
    except ArithmeticError:
        return fallback


def _checked(lo: Decimal, hi: Decimal) -> Interval:
    if lo.is_nan() or hi.is_nan():
        return EVERYTHING
    return Interval(lo, hi)


def _mul(a: Decimal, b: Decimal, context: decimal.Context) -> Decimal:
    if a == 0 or b == 0:
        return Decimal(0)
    return context.multiply(a, b)


def _inverse(b: Decimal, context: decimal.Context) -> Decimal:
    if b.is_infinite():
        return Decimal(0)
    return context.divide(Decimal(1), b)
