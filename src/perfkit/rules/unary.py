"""Unary tests: the cells of a decision table's input columns.

A cell is text (or a number, as YAML reads it) that tests one value:

============================  ==============================================
``-`` (or an empty cell)      any value
``< 0.8``, ``<= 0.8``         below / at most (also ``>``, ``>=``)
``= 0.8`` or ``0.8``          equal (``85%`` is ``0.85``)
``[0.8..1.0)``                a range; ``[`` ``]`` closed ends, ``(`` ``)`` open ends
                              (``]a..b[`` also reads as open ends); ``a..b`` is ``[a..b]``
``[0..1), [2..3]``            any of several number tests
``S, A`` or ``{S, A}``        one of these names (``B`` alone is one name); quote names
                              with other characters: ``"A+"``
``not(...)``                  anything the tests inside do not match
============================  ==============================================

Numbers are read exactly as :class:`~decimal.Decimal` (:func:`perfkit.numbers.to_decimal`),
never through a float. A number test is kept as a union of disjoint intervals
(:class:`NumberTest`), a test of names as a set (:class:`TextTest`).

>>> test = parse_unary("[0.8..1.0)")
>>> test.matches(Decimal("0.8")), test.matches(Decimal("1.0"))
(True, False)
>>> parse_unary("not(S, A)").matches("B")
True
"""

from __future__ import annotations

import decimal
import re
from collections.abc import Iterable
from decimal import Decimal

import attrs

from perfkit.numbers import plain_text, to_decimal

__all__ = [
    "ANY",
    "EVERY_NUMBER",
    "AnyTest",
    "NumberTest",
    "Range",
    "TextTest",
    "UnaryTest",
    "exact_between",
    "is_number_text",
    "parse_unary",
]

_INF = Decimal("Infinity")
_NUMBER = r"[+-]?(?:\d+(?:\.\d+)?|\.\d+)(?:[eE][+-]?\d+)?%?"
_NUMBER_RE = re.compile(rf"^{_NUMBER}$")
_COMPARE_RE = re.compile(rf"^(<=|>=|<|>|=)\s*({_NUMBER})$")
_BRACKETED_RE = re.compile(rf"^([\[(\]])\s*({_NUMBER})\s*\.\.\s*({_NUMBER})\s*([\])\[])$")
_BARE_RANGE_RE = re.compile(rf"^({_NUMBER})\s*\.\.\s*({_NUMBER})$")
_NOT_RE = re.compile(r"^not\s*\((.*)\)$", re.DOTALL)
_NAME_RE = re.compile(r"^[^\W\d][\w+\-]*$")
_QUOTED_RE = re.compile(r"""^(?:"([^"]*)"|'([^']*)')$""")
_HELP = "write -, < x, <= x, > x, >= x, = x, a number, a range like [a..b), or names like S, A"


@attrs.frozen
class AnyTest:
    """``-``: matches every value."""

    def matches(self, value: Decimal | str) -> bool:
        return True

    def __str__(self) -> str:
        return "-"


ANY = AnyTest()


@attrs.frozen
class Range:
    """One interval of numbers; infinite ends (``Decimal('±Infinity')``) are always open."""

    lo: Decimal
    hi: Decimal
    lo_closed: bool = True
    hi_closed: bool = True

    @property
    def empty(self) -> bool:
        return self.lo > self.hi or (self.lo == self.hi and not (self.lo_closed and self.hi_closed))

    def contains(self, value: Decimal) -> bool:
        above = value > self.lo or (value == self.lo and self.lo_closed)
        return above and (value < self.hi or (value == self.hi and self.hi_closed))

    def intersect(self, other: Range) -> Range:
        lo, lo_closed = max((self.lo, not self.lo_closed), (other.lo, not other.lo_closed))
        hi, hi_closed = min((self.hi, self.hi_closed), (other.hi, other.hi_closed))
        return Range(lo, hi, not lo_closed, hi_closed)

    def example(self) -> Decimal:
        """A value inside (a closed end when there is one); the range must not be empty."""
        if self.lo_closed and self.lo.is_finite():
            return self.lo
        if self.hi_closed and self.hi.is_finite():
            return self.hi
        return exact_between(self.lo, self.hi)

    def __str__(self) -> str:
        lo, hi = plain_text(self.lo) if self.lo.is_finite() else "", plain_text(self.hi) if self.hi.is_finite() else ""
        if lo and lo == hi:
            return f"= {lo}"
        if not lo and not hi:
            return "-"
        if not lo:
            return f"<{'=' if self.hi_closed else ''} {hi}"
        if not hi:
            return f">{'=' if self.lo_closed else ''} {lo}"
        return f"{'[' if self.lo_closed else '('}{lo}..{hi}{']' if self.hi_closed else ')'}"


EVERY_NUMBER = Range(-_INF, _INF, False, False)


def is_number_text(text: str) -> bool:
    """Whether ``text`` is written as a number (``0.8``, ``-3``, ``1e3``, ``85%``).

    >>> is_number_text("85%"), is_number_text("1st")
    (True, False)
    """
    return _NUMBER_RE.match(text.strip()) is not None


def exact_between(lo: Decimal, hi: Decimal) -> Decimal:
    """A value strictly between ``lo`` and ``hi`` (either may be infinite), computed exactly.

    The midpoint of two finite ends; past a single finite end, the nearest whole number
    beyond it; zero between two infinite ends.

    >>> exact_between(Decimal("0.8"), Decimal("1.0")), exact_between(Decimal("0.8"), Decimal("Infinity"))
    (Decimal('0.9'), Decimal('1'))
    >>> exact_between(Decimal("-Infinity"), Decimal("60"))
    Decimal('59')
    """
    finite = [v for v in (lo, hi) if v.is_finite()]
    if not finite:
        return Decimal(0)
    exponents = [int(v.as_tuple().exponent) for v in finite] + [0]
    digits = max(v.adjusted() for v in finite + [Decimal(1)]) - min(exponents) + 4
    exact = decimal.Context(
        prec=digits, traps=[decimal.Inexact, decimal.InvalidOperation], Emax=decimal.MAX_EMAX, Emin=decimal.MIN_EMIN
    )
    if not lo.is_finite():
        below = hi.to_integral_value(decimal.ROUND_FLOOR, exact)
        return below if below < hi else exact.subtract(below, Decimal(1))
    if not hi.is_finite():
        above = lo.to_integral_value(decimal.ROUND_CEILING, exact)
        return above if above > lo else exact.add(above, Decimal(1))
    return exact.divide(exact.add(lo, hi), Decimal(2))


def _union(ranges: Iterable[Range]) -> tuple[Range, ...]:
    """Disjoint, sorted, non-touching ranges covering exactly what ``ranges`` cover."""
    merged: list[Range] = []
    for r in sorted((r for r in ranges if not r.empty), key=lambda r: (r.lo, not r.lo_closed)):
        if merged:
            last = merged[-1]
            if last.hi > r.lo or (last.hi == r.lo and (last.hi_closed or r.lo_closed)):
                hi, hi_closed = max((last.hi, last.hi_closed), (r.hi, r.hi_closed))
                merged[-1] = Range(last.lo, hi, last.lo_closed, hi_closed)
                continue
        merged.append(r)
    return tuple(merged)


@attrs.frozen
class NumberTest:
    """A test of a number: the union of disjoint, sorted ``ranges``."""

    ranges: tuple[Range, ...] = attrs.field(converter=_union)

    @classmethod
    def of(cls, *ranges: Range) -> NumberTest:
        return cls(ranges)

    @property
    def empty(self) -> bool:
        return not self.ranges

    def matches(self, value: Decimal | str) -> bool:
        return isinstance(value, Decimal) and any(r.contains(value) for r in self.ranges)

    def intersect(self, other: NumberTest) -> NumberTest:
        return NumberTest(tuple(a.intersect(b) for a in self.ranges for b in other.ranges))

    def complement(self) -> NumberTest:
        gaps, lo, lo_closed = [], -_INF, False
        for r in self.ranges:
            gaps.append(Range(lo, r.lo, lo_closed, not r.lo_closed))
            lo, lo_closed = r.hi, not r.hi_closed
        gaps.append(Range(lo, _INF, lo_closed, False))
        return NumberTest(tuple(gaps))

    def bounds(self) -> set[Decimal]:
        """Every finite end of the ranges: the points where the test can change its answer."""
        return {end for r in self.ranges for end in (r.lo, r.hi) if end.is_finite()}

    def example(self) -> Decimal | None:
        return self.ranges[0].example() if self.ranges else None

    def __str__(self) -> str:
        return ", ".join(str(r) for r in self.ranges) if self.ranges else "not(-)"


@attrs.frozen
class TextTest:
    """A test of a name: one of ``names``, or (``negated``) none of them."""

    names: frozenset[str]
    negated: bool = False

    def matches(self, value: Decimal | str) -> bool:
        return isinstance(value, str) and (value in self.names) != self.negated

    def intersect(self, other: TextTest) -> TextTest:
        if not self.negated and not other.negated:
            return TextTest(self.names & other.names)
        if self.negated and other.negated:
            return TextTest(self.names | other.names, negated=True)
        positive, negative = (other, self) if self.negated else (self, other)
        return TextTest(positive.names - negative.names)

    def within(self, domain: Iterable[str]) -> TextTest:
        """The same test as a plain set of names, for a column whose names are all known."""
        return TextTest(frozenset(name for name in domain if self.matches(name)))

    def example(self) -> str | None:
        """A name the test matches (for a negated test, a name it does not list)."""
        if not self.negated:
            return min(self.names) if self.names else None
        return next(name for n in range(len(self.names) + 1) if (name := f"other{n or ''}") not in self.names)

    def __str__(self) -> str:
        listed = ", ".join(sorted(self.names))
        return f"not({listed})" if self.negated else listed


UnaryTest = AnyTest | NumberTest | TextTest
"""What an input cell holds once parsed."""


def parse_unary(cell: str | Decimal | None) -> UnaryTest:
    """Parse one input cell; raises :class:`ValueError` saying what is wrong with it.

    ``None`` and the empty string mean ``-``; a Decimal (a number YAML read) means equal.

    >>> parse_unary("< 0.8")
    NumberTest(ranges=(Range(lo=Decimal('-Infinity'), hi=Decimal('0.8'), lo_closed=False, hi_closed=False),))
    >>> sorted(parse_unary("{S, A}").names)
    ['A', 'S']
    """
    if cell is None:
        return ANY
    if isinstance(cell, Decimal):
        return NumberTest.of(Range(cell, cell))
    text = cell.strip()
    if text in ("", "-"):
        return ANY
    negated = _NOT_RE.match(text)
    if negated:
        inner = negated.group(1).strip()
        if inner in ("", "-") or _NOT_RE.match(inner):
            raise ValueError(f"{text!r}: not(...) takes number tests or names, not {inner or 'nothing'!r}")
        test = _parse_list(inner)
        return test.complement() if isinstance(test, NumberTest) else TextTest(test.names, negated=True)
    return _parse_list(text)


def _parse_list(text: str) -> NumberTest | TextTest:
    braced = text.startswith("{") and text.endswith("}")
    items = [item.strip() for item in (text[1:-1] if braced else text).split(",")]
    ranges: list[Range] = []
    names: set[str] = set()
    for item in items:
        if not item:
            raise ValueError(f"{text!r} has an empty item in its list; {_HELP}")
        name = _name(item)
        if name is not None:
            names.add(name)
        else:
            ranges.append(_parse_number_test(item))
    if names and ranges:
        raise ValueError(f"{text!r} mixes number tests and names; a column tests either numbers or names")
    if names:
        return TextTest(frozenset(names))
    if braced:
        raise ValueError(f"{text!r}: braces hold names ({{S, A}}); for numbers write a range like [a..b]")
    return NumberTest(tuple(ranges))


def _name(item: str) -> str | None:
    quoted = _QUOTED_RE.match(item)
    if quoted:
        return quoted.group(1) if quoted.group(1) is not None else quoted.group(2)
    return item if _NAME_RE.match(item) and item.lower() != "not" else None


def _parse_number_test(item: str) -> Range:
    if _NUMBER_RE.match(item):
        value = to_decimal(item)
        return Range(value, value)
    compare = _COMPARE_RE.match(item)
    if compare:
        op, value = compare.group(1), to_decimal(compare.group(2))
        return {
            "<": Range(-_INF, value, False, False),
            "<=": Range(-_INF, value, False, True),
            ">": Range(value, _INF, False, False),
            ">=": Range(value, _INF, True, False),
            "=": Range(value, value),
        }[op]
    bracketed = _BRACKETED_RE.match(item)
    bare = _BARE_RANGE_RE.match(item)
    if bracketed:
        opening, lo, hi, closing = bracketed.groups()
        found = Range(to_decimal(lo), to_decimal(hi), opening == "[", closing == "]")
    elif bare:
        found = Range(to_decimal(bare.group(1)), to_decimal(bare.group(2)))
    else:
        raise ValueError(f"{item!r} is not a test; {_HELP}")
    if found.empty:
        raise ValueError(f"{item!r} is an empty range: no number lies in it")
    return found
