"""Coverage of a decision table's inputs: which rows can overlap, and what no row matches.

Both checks are exact. Two rows overlap when, column by column, their tests have a common
value (:func:`find_overlaps`). For gaps (:func:`find_gap`), each column is split at every
bound that appears in its tests (and at the ends of the values it can hold) into points
and open intervals, or into its names; every test gives one answer on a whole piece, so one
value from each piece decides it. The search goes column by column, keeping only the rows
that still match, and stops at the first combination of pieces that no row matches.

Every example these functions give is an input that can be evaluated: an overlap's matches
both rows, a gap's matches no row.
"""

from __future__ import annotations

import itertools
from collections.abc import Sequence
from decimal import Decimal
from typing import Literal

import attrs

from perfkit.numbers import plain_text
from perfkit.rules.unary import (
    ANY,
    EVERY_NUMBER,
    NumberTest,
    Range,
    TextTest,
    UnaryTest,
)

__all__ = ["Column", "CoverageTooLarge", "Gap", "Overlap", "find_gap", "find_overlaps", "format_example"]

Value = Decimal | str
"""An input value: a number or a name."""

_INF = Decimal("Infinity")
_BUDGET = 200_000
"""How many combinations of pieces the gap search may look at before it gives up."""


@attrs.frozen
class Column:
    """An input column: its name, what it holds, and the values it can take when known."""

    name: str
    kind: Literal["number", "text", "any"]
    """``any``: every cell is ``-``, so the column never decides anything."""
    names: tuple[str, ...] | None = None
    """Every name a text column can hold, when known (grades), in order."""
    span: Range = EVERY_NUMBER
    """The numbers a number column can hold."""

    def pieces(self, tests: Sequence[UnaryTest]) -> list[tuple[Range | str, Value]]:
        """Split the column's values where any of ``tests`` can change its answer.

        Each piece (a point or an open interval of numbers, or one name) comes with a value
        inside it, smallest first.
        """
        if self.kind == "text":
            assert self.names is not None, "gaps are searched only when every name is known"
            return [(name, name) for name in self.names]
        if self.kind == "any":
            return [(EVERY_NUMBER, Decimal(0))]
        cuts = {self.span.lo, self.span.hi}.union(*(t.bounds() for t in tests if isinstance(t, NumberTest)))
        ends = [-_INF, *sorted(c for c in cuts if c.is_finite()), _INF]
        found: list[tuple[Range | str, Value]] = []
        for lo, hi in itertools.pairwise(ends):
            between = Range(lo, hi, False, False)
            for piece in (between, Range(hi, hi)) if hi.is_finite() else (between,):
                value = piece.example()
                if self.span.contains(value):
                    found.append((piece, value))
        return found

    def covers(self, test: UnaryTest) -> bool:
        """Whether ``test`` matches every value the column can hold."""
        if test is ANY:
            return True
        if isinstance(test, NumberTest):
            return any(r.intersect(self.span) == self.span for r in test.ranges)
        return self.names is not None and all(test.matches(name) for name in self.names)

    def describe(self, pieces: Sequence[Range | str]) -> str:
        """``rate in [0.8..1.0)``, ``total > 100``, ``band_grade in {B, C}``: consecutive pieces as one phrase."""
        first, last = pieces[0], pieces[-1]
        if isinstance(first, Range) and isinstance(last, Range):
            text = str(Range(first.lo, last.hi, first.lo_closed, last.hi_closed))
            phrase = "any value" if text == "-" else f"in {text}" if text[0] in "([" else text
        else:
            phrase = f"= {first}" if len(pieces) == 1 else "in {" + ", ".join(map(str, pieces)) + "}"
        return f"{self.name} {phrase}"

    def common(self, left: UnaryTest, right: UnaryTest) -> Value | None:
        """A value both tests match (and the column can hold), or None."""
        tests = [t for t in (left, right) if t is not ANY]
        if self.kind == "text":
            both = TextTest(frozenset(), negated=True)
            for t in tests:
                assert isinstance(t, TextTest)
                both = both.intersect(t)
            return both.within(self.names).example() if self.names is not None else both.example()
        if self.kind == "any":
            return Decimal(0)
        span = NumberTest.of(self.span)
        for t in tests:
            assert isinstance(t, NumberTest)
            span = span.intersect(t)
        return span.example()


@attrs.frozen
class Overlap:
    """Two rows (0-based) that can both match, and an input that matches both."""

    first: int
    second: int
    example: dict[str, Value] = attrs.field(hash=False)


@attrs.frozen
class Gap:
    """A region of inputs that no row matches and an input in it.

    ``where`` has one phrase per column that bounds the region (``rate < 0.8``); columns
    it leaves out are free: no value of theirs makes a row match.
    """

    where: tuple[str, ...]
    example: dict[str, Value] = attrs.field(hash=False)


class CoverageTooLarge(Exception):
    """The gap search would look at more combinations of pieces than it may."""


def find_overlaps(columns: Sequence[Column], rows: Sequence[Sequence[UnaryTest]]) -> list[Overlap]:
    """Every pair of rows that some input matches both of, in row order."""
    outlines = [[_outline(test) for test in row] for row in rows]
    found = []
    for i, first in enumerate(rows):
        for j in range(i + 1, len(rows)):
            if any(_apart(a, b) for a, b in zip(outlines[i], outlines[j])):  # a quick no, most of the time
                continue
            common = [column.common(left, right) for column, left, right in zip(columns, first, rows[j])]
            if all(value is not None for value in common):
                example = {column.name: value for column, value in zip(columns, common) if value is not None}
                found.append(Overlap(first=i, second=j, example=example))
    return found


_Outline = Range | frozenset[str] | None


def _outline(test: UnaryTest) -> _Outline:
    """What two tests must share to overlap: the hull of a number test, the names of a plain set."""
    if isinstance(test, NumberTest) and test.ranges:
        first, last = test.ranges[0], test.ranges[-1]
        return Range(first.lo, last.hi, first.lo_closed, last.hi_closed)
    if isinstance(test, TextTest) and not test.negated:
        return test.names
    return None


def _apart(a: _Outline, b: _Outline) -> bool:
    if isinstance(a, Range) and isinstance(b, Range):
        return a.intersect(b).empty
    if isinstance(a, frozenset) and isinstance(b, frozenset):
        return a.isdisjoint(b)
    return False


def find_gap(columns: Sequence[Column], rows: Sequence[Sequence[UnaryTest]], *, budget: int = _BUDGET) -> Gap | None:
    """The first region (in column order, smallest values first) that no row matches, or None.

    Every text column's names must be known. Raises :class:`CoverageTooLarge` when the
    search needs more than ``budget`` steps (tables of hundreds of rows over several columns).
    """
    return _Search(columns, rows, budget).gap()


class _Search:
    def __init__(self, columns: Sequence[Column], rows: Sequence[Sequence[UnaryTest]], budget: int) -> None:
        self.columns = columns
        self.rows = rows
        self.budget = budget
        # covers_rest[i][a]: row i matches everything on columns a, a+1, ...
        self.covers_rest = [
            [all(c.covers(t) for c, t in zip(columns[a:], row[a:])) for a in range(len(columns) + 1)] for row in rows
        ]
        self.memo: dict[tuple[int, tuple[int, ...]], Gap | None] = {}

    def gap(self) -> Gap | None:
        return self._search(0, tuple(range(len(self.rows))))

    def _search(self, axis: int, rows: tuple[int, ...]) -> Gap | None:
        """A gap within columns ``axis`` onwards, given that only ``rows`` match so far."""
        if any(self.covers_rest[i][axis] for i in rows):
            return None
        if not rows:
            return self._anything(axis)
        key = (axis, rows)
        if key not in self.memo:
            self.memo[key] = self._split(axis, rows)
        return self.memo[key]

    def _split(self, axis: int, rows: tuple[int, ...]) -> Gap | None:
        column = self.columns[axis]
        groups: list[tuple[tuple[int, ...], list[Range | str], Value]] = []
        for piece, value in column.pieces([self.rows[i][axis] for i in rows]):
            self.budget -= 1
            if self.budget < 0:
                raise CoverageTooLarge
            kept = tuple(i for i in rows if self.rows[i][axis].matches(value))
            if groups and groups[-1][0] == kept:  # the search below depends only on the rows kept
                groups[-1][1].append(piece)
            else:
                groups.append((kept, [piece], value))
        for kept, pieces, value in groups:
            found = self._search(axis + 1, kept)
            if found is not None:
                # Pieces that keep every row leave the gap open along this whole column
                # (fewer rows only cover less): only pieces that drop rows bound the region.
                where = found.where if kept == rows else (column.describe(pieces), *found.where)
                return Gap(where=where, example={column.name: value, **found.example})
        return None

    def _anything(self, axis: int) -> Gap | None:
        example: dict[str, Value] = {}
        for column in self.columns[axis:]:
            pieces = column.pieces([])
            if not pieces:  # a column that can hold nothing
                return None
            example[column.name] = pieces[0][1]
        return Gap(where=(), example=example)


def format_example(example: dict[str, Value]) -> str:
    """``rate = 0.8, band_grade = A``."""
    return ", ".join(f"{k} = {plain_text(v) if isinstance(v, Decimal) else v}" for k, v in example.items())
