"""The function library of the formula language.

Each :class:`Function` carries its signature, a summary and worked examples; the examples
are part of the documentation and are run by the test suite. Implementations take and
return :class:`~decimal.Decimal` and run inside :data:`perfkit.numbers.CONTEXT`.
"""

from __future__ import annotations

from bisect import bisect_right
from collections.abc import Callable, Mapping, Sequence
from decimal import Decimal
from types import MappingProxyType
from typing import Any

import attrs

from perfkit.numbers import RoundingMode, quantize
from perfkit.rules.intervals import Interval

__all__ = ["FUNCTIONS", "Function", "FunctionFailed"]

MAX_ROUND_PLACES = 10


class FunctionFailed(ArithmeticError):
    """A function was called with values it cannot work with (raised while evaluating)."""


Bounds = Callable[[Sequence[Any], Mapping[str, Any]], Interval]


@attrs.frozen
class Function:
    """One function of the formula language."""

    name: str
    signature: str
    summary: str
    examples: tuple[tuple[str, str], ...]
    impl: Callable[..., Decimal] = attrs.field(repr=False)
    bounds: Bounds = attrs.field(repr=False)
    min_args: int = 1
    max_args: int | None = None
    pairs_from: int | None = None
    """Index from which every positional argument must be an ``(x, y)`` pair."""
    keywords: tuple[str, ...] = ()
    required_keywords: tuple[str, ...] = ()
    literal_int_args: tuple[int, ...] = ()
    """Positions that must be whole numbers written in the formula (round's places)."""
    impl_checked: Callable[..., Decimal] | None = attrs.field(default=None, repr=False)
    """The same function without the run-time check of the points' x values, for calls
    whose x values are all written in the formula (checked once, when it is compiled)."""


def _clamp(x: Decimal, lo: Decimal, hi: Decimal) -> Decimal:
    if lo > hi:
        raise FunctionFailed(f"clamp(): the lower limit {lo} is above the upper limit {hi}")
    return lo if x < lo else hi if x > hi else x


def _round(x: Decimal, places: Decimal = Decimal(0)) -> Decimal:
    return quantize(x, int(places), RoundingMode.HALF_UP)


def _check_increasing(name: str, xs: Sequence[Decimal]) -> None:
    for left, right in zip(xs, xs[1:]):
        if not left < right:
            raise FunctionFailed(
                f"{name}(): the x values must be strictly increasing, but {left} is followed by {right}"
            )


def _piecewise(x: Decimal, *points: tuple[Decimal, Decimal]) -> Decimal:
    _check_increasing("piecewise", [p[0] for p in points])
    return _piecewise_checked(x, *points)


def _piecewise_checked(x: Decimal, *points: tuple[Decimal, Decimal]) -> Decimal:
    xs = [p[0] for p in points]
    if x <= xs[0]:
        return points[0][1]
    if x >= xs[-1]:
        return points[-1][1]
    i = bisect_right(xs, x) - 1
    (x0, y0), (x1, y1) = points[i], points[i + 1]
    return y0 + (x - x0) * (y1 - y0) / (x1 - x0)


def _steps(x: Decimal, *points: tuple[Decimal, Decimal], default: Decimal) -> Decimal:
    _check_increasing("steps", [p[0] for p in points])
    return _steps_checked(x, *points, default=default)


def _steps_checked(x: Decimal, *points: tuple[Decimal, Decimal], default: Decimal) -> Decimal:
    xs = [p[0] for p in points]
    i = bisect_right(xs, x) - 1
    return default if i < 0 else points[i][1]


def _ratio(a: Decimal, b: Decimal, *, default: Decimal) -> Decimal:
    return default if b == 0 else a / b


def _min(*args: Decimal) -> Decimal:
    return min(args)


def _max(*args: Decimal) -> Decimal:
    return max(args)


def _bounds_min(args: Sequence[Interval], kw: Mapping[str, Interval]) -> Interval:
    return Interval(min(a.lo for a in args), min(a.hi for a in args))


def _bounds_max(args: Sequence[Interval], kw: Mapping[str, Interval]) -> Interval:
    return Interval(max(a.lo for a in args), max(a.hi for a in args))


def _bounds_abs(args: Sequence[Interval], kw: Mapping[str, Interval]) -> Interval:
    (x,) = args
    if x.lo >= 0:
        return x
    if x.hi <= 0:
        return -x
    return Interval(Decimal(0), max(x.lo.copy_negate(), x.hi))


def _bounds_clamp(args: Sequence[Interval], kw: Mapping[str, Interval]) -> Interval:
    x, lo, hi = args
    low = _bounds_max([x, lo], kw)
    return _bounds_min([low, hi], kw)


def _bounds_round(args: Sequence[Any], kw: Mapping[str, Interval]) -> Interval:
    x: Interval = args[0]
    places = int(args[1].lo) if len(args) > 1 else 0
    return x.map_monotone(lambda v: quantize(v, places))


def _bounds_curve(args: Sequence[Any], kw: Mapping[str, Interval]) -> Interval:
    ys: list[Interval] = [pair[1] for pair in args[1:]]
    ys.extend(kw.values())
    return ys[0].hull(*ys[1:])


def _bounds_ratio(args: Sequence[Interval], kw: Mapping[str, Interval]) -> Interval:
    a, b = args
    return (a / b).hull(kw["default"])


_FUNCTIONS = [
    Function(
        name="min",
        signature="min(a, b, ...)",
        summary="The smallest of two or more values.",
        examples=(("min(80, 95.5)", "80"), ("min(3, 1, 2)", "1")),
        impl=_min,
        bounds=_bounds_min,
        min_args=2,
    ),
    Function(
        name="max",
        signature="max(a, b, ...)",
        summary="The largest of two or more values.",
        examples=(("max(80, 95.5)", "95.5"), ("max(-1, 0)", "0")),
        impl=_max,
        bounds=_bounds_max,
        min_args=2,
    ),
    Function(
        name="abs",
        signature="abs(x)",
        summary="The absolute value of x.",
        examples=(("abs(-2.5)", "2.5"), ("abs(3)", "3")),
        impl=abs,
        bounds=_bounds_abs,
        min_args=1,
        max_args=1,
    ),
    Function(
        name="clamp",
        signature="clamp(x, lo, hi)",
        summary="x limited to the range lo..hi (lo must not exceed hi).",
        examples=(("clamp(112, 0, 100)", "100"), ("clamp(-5, 0, 100)", "0"), ("clamp(87.5, 0, 100)", "87.5")),
        impl=_clamp,
        bounds=_bounds_clamp,
        min_args=3,
        max_args=3,
    ),
    Function(
        name="round",
        signature="round(x, n)",
        summary=(
            "x rounded to n decimal places, ties away from zero (half-up, like Excel's ROUND). "
            f"n is a whole number from 0 to {MAX_ROUND_PLACES} written in the formula; "
            "round(x) rounds to a whole number."
        ),
        examples=(("round(2.345, 2)", "2.35"), ("round(2.5)", "3"), ("round(-2.5)", "-3")),
        impl=_round,
        bounds=_bounds_round,
        min_args=1,
        max_args=2,
        literal_int_args=(1,),
    ),
    Function(
        name="piecewise",
        signature="piecewise(x, (x1, y1), (x2, y2), ...)",
        summary=(
            "A curve through the points, linear between them: below x1 it gives y1, above the "
            "last x it gives the last y. The x values must be strictly increasing; the y values "
            "may fall (lower-is-better curves)."
        ),
        examples=(
            ("piecewise(0.5, (0.6, 0), (1.0, 100), (1.2, 120))", "0"),
            ("piecewise(0.8, (0.6, 0), (1.0, 100), (1.2, 120))", "50"),
            ("piecewise(1.1, (0.6, 0), (1.0, 100), (1.2, 120))", "110"),
            ("piecewise(1.5, (0.6, 0), (1.0, 100), (1.2, 120))", "120"),
            ("piecewise(3, (0, 100), (5, 0))", "40"),
        ),
        impl=_piecewise,
        impl_checked=_piecewise_checked,
        bounds=_bounds_curve,
        min_args=3,
        pairs_from=1,
    ),
    Function(
        name="steps",
        signature="steps(x, (t1, y1), (t2, y2), ..., default=y0)",
        summary=(
            "A staircase: the y of the highest threshold t that is <= x; default when x is "
            "below every threshold. Thresholds must be strictly increasing."
        ),
        examples=(
            ("steps(0.85, (0.8, 60), (0.9, 80), (1.0, 100), default=0)", "60"),
            ("steps(0.9, (0.8, 60), (0.9, 80), (1.0, 100), default=0)", "80"),
            ("steps(0.5, (0.8, 60), (0.9, 80), (1.0, 100), default=0)", "0"),
        ),
        impl=_steps,
        impl_checked=_steps_checked,
        bounds=_bounds_curve,
        min_args=2,
        pairs_from=1,
        keywords=("default",),
        required_keywords=("default",),
    ),
    Function(
        name="ratio",
        signature="ratio(a, b, default=d)",
        summary="a / b, or d when b is zero (plain a / b with b = 0 is a data error).",
        examples=(("ratio(3, 4, default=0)", "0.75"), ("ratio(3, 0, default=0)", "0")),
        impl=_ratio,
        bounds=_bounds_ratio,
        min_args=2,
        max_args=2,
        keywords=("default",),
        required_keywords=("default",),
    ),
]

FUNCTIONS: Mapping[str, Function] = MappingProxyType({f.name: f for f in _FUNCTIONS})
"""The function library, by name."""
