"""Range analysis: the interval of values a formula can produce.

Used when a scheme is checked, to prove that every reachable total falls in a grade band.
Bounds may be infinite (``Decimal('Infinity')``); the analysis is conservative: the true
range always lies inside the computed one.
"""

from __future__ import annotations

import decimal
from decimal import Decimal

import attrs

__all__ = ["EVERYTHING", "Interval"]

_INF = Decimal("Infinity")
_CTX = decimal.Context(prec=34, traps=[], rounding=decimal.ROUND_HALF_EVEN)


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
        return Interval(-self.hi, -self.lo)

    def __add__(self, other: Interval) -> Interval:
        return _from_corners(_CTX.add(self.lo, other.lo), _CTX.add(self.hi, other.hi))

    def __sub__(self, other: Interval) -> Interval:
        return self + (-other)

    def __mul__(self, other: Interval) -> Interval:
        corners = [_mul(a, b) for a in (self.lo, self.hi) for b in (other.lo, other.hi)]
        return Interval(min(corners), max(corners))

    def __truediv__(self, other: Interval) -> Interval:
        if other.lo <= 0 <= other.hi:
            return EVERYTHING
        inverse = Interval(_div(Decimal(1), other.hi), _div(Decimal(1), other.lo))
        return self * inverse

    def map_monotone(self, func: object) -> Interval:
        """Apply a non-decreasing function of finite values to both ends."""
        lo = self.lo if not self.lo.is_finite() else func(self.lo)  # type: ignore[operator]
        hi = self.hi if not self.hi.is_finite() else func(self.hi)  # type: ignore[operator]
        return Interval(lo, hi)


EVERYTHING = Interval(-_INF, _INF)


def _from_corners(lo: Decimal, hi: Decimal) -> Interval:
    if lo.is_nan() or hi.is_nan():
        return EVERYTHING
    return Interval(lo, hi)


def _mul(a: Decimal, b: Decimal) -> Decimal:
    if a == 0 or b == 0:
        return Decimal(0)
    return _CTX.multiply(a, b)


def _div(a: Decimal, b: Decimal) -> Decimal:
    if b.is_infinite():
        return Decimal(0)
    return _CTX.divide(a, b)
