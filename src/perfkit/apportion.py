"""Exact apportionment: whole units shared out in proportion, summing exactly.

Calibration turns a distribution (``S: 10%, A: 20%, ...``) into head counts for a pool, and
a goal cascade splits a parent's target across children at a stated unit (1 yuan, 10k
yuan). Both need the same thing: integers proportional to some shares that add up to
exactly the total, decided the same way every time.

>>> apportion(10, {"S": "20%", "A": "70%", "B": "10%"})
{'S': 2, 'A': 7, 'B': 1}
>>> apportion(2, {"S": "20%", "A": "70%", "B": "10%"})   # rounding 0.4, 1.4, 0.2 gives 1 person
{'S': 1, 'A': 1, 'B': 0}
>>> split_amount(Decimal("50000000"), {"east": 3, "south": 2, "north": 2}, unit=Decimal("10000"))
{'east': Decimal('21430000'), 'south': Decimal('14290000'), 'north': Decimal('14280000')}

Methods: ``largest_remainder`` (Hamilton; the default), ``sainte_lague`` and ``dhondt``
(highest averages). Arithmetic is exact (fractions), so no float decides a seat. Ties are
broken by the order of the shares as given (the earlier key wins), so the result depends
only on the inputs, never on hashing or platform.
"""

from __future__ import annotations

import heapq
from collections.abc import Hashable, Mapping
from decimal import Decimal
from fractions import Fraction
from typing import Literal, TypeVar

from perfkit.numbers import to_decimal

__all__ = ["Method", "apportion", "split_amount"]

K = TypeVar("K", bound=Hashable)
Method = Literal["largest_remainder", "sainte_lague", "dhondt"]

MAX_HIGHEST_AVERAGES = 100_000
"""The most units ``sainte_lague`` and ``dhondt`` share out (they go one unit at a time)."""


def apportion(total: int, shares: Mapping[K, object], *, method: Method = "largest_remainder") -> dict[K, int]:
    """Share ``total`` whole units in proportion to ``shares``; the counts sum to ``total``.

    ``shares`` are non-negative numbers (``"20%"``, ``0.2``, ``Decimal``, ``int``), not all
    zero; they need not sum to 100%. Raises :class:`ValueError` for bad input.
    """
    if isinstance(total, bool) or not isinstance(total, int) or total < 0:
        raise ValueError(f"the total to share is a whole number of at least 0, got {total!r}")
    weights = _weights(shares)
    if method == "largest_remainder":
        return _largest_remainder(total, weights)
    if method in ("sainte_lague", "dhondt"):
        return _highest_averages(total, weights, method)
    raise ValueError(f"unknown method {method!r}; use largest_remainder, sainte_lague or dhondt")


def split_amount(
    amount: Decimal, shares: Mapping[K, object], *, unit: Decimal = Decimal(1), method: Method = "largest_remainder"
) -> dict[K, Decimal]:
    """Split ``amount`` into multiples of ``unit`` in proportion to ``shares``, summing exactly.

    ``amount`` must be a whole number of units (50,000,000 at a unit of 10,000), so that
    the parts can add up to it exactly.
    """
    amount, unit = to_decimal(amount), to_decimal(unit)
    if unit <= 0:
        raise ValueError(f"the unit must be positive, got {unit}")
    units = amount / unit
    if amount < 0 or units != units.to_integral_value():
        raise ValueError(f"{amount} is not a whole number of units of {unit}, so it cannot be split exactly")
    counts = apportion(int(units), shares, method=method)
    return {key: unit * count for key, count in counts.items()}


def _weights(shares: Mapping[K, object]) -> dict[K, Fraction]:
    if not shares:
        raise ValueError("there is nothing to share between: no shares given")
    weights: dict[K, Fraction] = {}
    for key, share in shares.items():
        try:
            value = to_decimal(share)
        except ValueError as exc:
            raise ValueError(f"the share of {key!r} is not a number: {exc}") from None
        if value < 0:
            raise ValueError(f"the share of {key!r} is negative ({value})")
        weights[key] = Fraction(value)
    if not any(weights.values()):
        raise ValueError("every share is 0, so there is no proportion to follow")
    return weights


def _largest_remainder(total: int, weights: dict[K, Fraction]) -> dict[K, int]:
    whole = sum(weights.values())
    quotas = {key: total * weight / whole for key, weight in weights.items()}
    counts = {key: int(quota) for key, quota in quotas.items()}  # floor: quotas are >= 0
    left = total - sum(counts.values())
    position = {key: n for n, key in enumerate(weights)}
    by_remainder = sorted(weights, key=lambda key: (-(quotas[key] - counts[key]), position[key]))
    for key in by_remainder[:left]:
        counts[key] += 1
    return counts


def _highest_averages(total: int, weights: dict[K, Fraction], method: str) -> dict[K, int]:
    if total > MAX_HIGHEST_AVERAGES:
        raise ValueError(
            f"{method} shares out one unit at a time, and {total} units are more than it handles "
            f"({MAX_HIGHEST_AVERAGES}); use largest_remainder, or a larger unit"
        )
    order = list(weights)
    counts = dict.fromkeys(order, 0)
    step = 2 if method == "sainte_lague" else 1

    def entry(position: int) -> tuple[Fraction, int]:
        key = order[position]
        divisor = step * counts[key] + 1
        return -weights[key] / divisor, position  # the highest average first, then the earlier key

    heap = [entry(position) for position in range(len(order))]
    heapq.heapify(heap)
    for _ in range(total):
        _, position = heapq.heappop(heap)
        counts[order[position]] += 1
        heapq.heappush(heap, entry(position))
    return counts
