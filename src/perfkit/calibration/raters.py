"""Rater diagnostics: how each rater's ratings compare with the whole pool.

Much of the variance in performance ratings is the rater's own tendency rather than the
ratee's performance (Scullen, Mount & Goff 2000 put it at 62%): a lenient manager inflates
the whole team, a strict one deflates it, and a manager who gives everybody the same score
tells calibration nothing. :func:`rater_report` shows these tendencies; the corrections are
in :mod:`perfkit.calibration.normalize`.

>>> ratings = [Rating(rater="王经理", ratee=e, score=Decimal(s)) for e, s in (("E1", 90), ("E2", 94))]
>>> ratings += [Rating(rater="李经理", ratee=e, score=Decimal(s)) for e, s in (("E3", 60), ("E4", 80))]
>>> report = rater_report(ratings)
>>> [(r.rater, r.mean, r.mean_vs_pool) for r in report.raters]
[('李经理', Decimal('70'), Decimal('-11')), ('王经理', Decimal('92'), Decimal('11'))]
>>> report.pool.mean, report.pool.spread == CONTEXT.sqrt(Decimal(173))   # population SD: √(692 / 4)
(Decimal('81'), True)
>>> print(report.to_text())
rater   n   mean  spread  vs pool  central
李经理  2  70.00   10.00   -11.00
王经理  2  92.00    2.00   +11.00  yes
(pool)  4  81.00   13.15
central: spread below 50% of the pool's spread (2 raters)

Figures are Decimal. Sums are exact; a mean is the exact sum divided by the count, and a
spread is the square root of the exact variance, each rounded once to the 34 significant
digits of :data:`perfkit.numbers.CONTEXT`.
"""

from __future__ import annotations

import decimal
from collections.abc import Iterable, Sequence
from decimal import Decimal
from typing import TYPE_CHECKING, Any

import attrs

from perfkit._text import display_width
from perfkit.calibration.scale import GradeScale
from perfkit.errors import CalibrationError, DataError
from perfkit.io.rows import is_empty
from perfkit.numbers import CONTEXT, plain_text, quantize, shift, to_decimal

if TYPE_CHECKING:
    from perfkit.rules.scorecard import Evaluation

__all__ = ["PoolStats", "RaterReport", "RaterStats", "Rating", "rater_report", "ratings_from_evaluation"]

EXACT = decimal.Context(prec=100_000, traps=[decimal.Inexact, decimal.InvalidOperation, decimal.Overflow])
"""Sums and products of scores with no rounding at all (scores have few digits)."""


@attrs.frozen(kw_only=True)
class Rating:
    """One score one rater gave one ratee, optionally on one ``item`` (a KPI, a question).

    ``score`` is read with :func:`perfkit.numbers.to_decimal` (``85``, ``"85.5"``, ``0.9``);
    anything that is not a number is a :class:`~perfkit.DataError` naming the rater and
    ratee.

    >>> Rating(rater="M1", ratee="E1", score="85.5").score
    Decimal('85.5')
    """

    rater: str
    ratee: str
    score: Decimal
    item: str | None = None

    def __attrs_post_init__(self) -> None:
        for field in ("rater", "ratee"):
            value = getattr(self, field)
            if not isinstance(value, str) or not value:
                ratee = self.ratee if isinstance(self.ratee, str) and self.ratee else None
                raise DataError(
                    f"a rating's {field} must be a non-empty text id, got {value!r}",
                    employee_id=ratee,
                    column=field,
                    value=value,
                )
        if self.item is not None and not isinstance(self.item, str):
            raise DataError(f"a rating's item must be text or None, got {self.item!r}", employee_id=self.ratee)
        try:
            score = to_decimal(self.score)
        except ValueError as exc:
            raise DataError(
                f"the score rater {self.rater!r} gave is not a number: {exc}",
                employee_id=self.ratee,
                column="score",
                value=self.score,
            ) from None
        object.__setattr__(self, "score", score)


@attrs.frozen(kw_only=True)
class Moments:
    """Exact count, sum and sum of squares of some scores, and what follows from them."""

    count: int
    total: Decimal
    squares: Decimal

    @property
    def mean(self) -> Decimal:
        return CONTEXT.divide(self.total, self.count)

    @property
    def spread(self) -> Decimal:
        """Population standard deviation: √(Σ(x − mean)² / n), from the exact n·Σx² − (Σx)²."""
        centred = EXACT.subtract(EXACT.multiply(self.count, self.squares), EXACT.multiply(self.total, self.total))
        return CONTEXT.sqrt(CONTEXT.divide(centred, self.count * self.count))


def moments(scores: Sequence[Decimal]) -> Moments:
    """The :class:`Moments` of ``scores`` (computed with no rounding)."""
    with decimal.localcontext(EXACT):
        total = sum(scores, Decimal(0))
        squares = sum([score * score for score in scores], Decimal(0))
    return Moments(count=len(scores), total=total, squares=squares)


def exact_means(groups: Iterable[Sequence[Decimal]]) -> list[Decimal]:
    """For each group, the exact sum divided by the count, rounded once in CONTEXT."""
    with decimal.localcontext(EXACT):
        totals = [(sum(scores, Decimal(0)), len(scores)) for scores in groups]
    return [CONTEXT.divide(total, count) for total, count in totals]


def checked_ratings(ratings: Iterable[Rating]) -> tuple[Rating, ...]:
    """``ratings`` as a tuple, with exact repeats dropped; refuses bad input.

    Raises :class:`~perfkit.DataError` for no ratings, an object that is not a
    :class:`Rating`, or a (rater, ratee, item) rated twice with different scores.
    """
    given = list(ratings)
    if not all(isinstance(rating, Rating) for rating in given):
        position = next(n for n, rating in enumerate(given) if not isinstance(rating, Rating))
        raise DataError(f"expected a Rating, got {type(given[position]).__name__}", row=position)
    if not given:
        raise DataError("no ratings given: there is nothing to compare raters on")
    seen = {(r.rater, r.ratee, r.item): r for r in given}
    if len(seen) == len(given):
        return tuple(given)
    first: dict[tuple[str, str, str | None], Rating] = {}
    for rating in given:
        earlier = first.setdefault((rating.rater, rating.ratee, rating.item), rating)
        if earlier.score != rating.score:
            on = "" if rating.item is None else f" on item {rating.item!r}"
            raise DataError(
                f"rater {rating.rater!r} rated this person twice{on}, with different scores "
                f"({earlier.score} and {rating.score}); keep one",
                employee_id=rating.ratee,
                column="score",
            )
    return tuple(first.values())


def by_rater(ratings: Sequence[Rating]) -> dict[str, list[Decimal]]:
    """Each rater's scores, raters in sorted order."""
    groups: dict[str, list[Decimal]] = {}
    for rating in ratings:
        groups.setdefault(rating.rater, []).append(rating.score)
    return {rater: groups[rater] for rater in sorted(groups)}


@attrs.frozen(kw_only=True)
class RaterStats:
    """One rater's figures against the pool.

    ``spread`` is the population standard deviation of the rater's scores; ``mean_vs_pool``
    is the rater's mean minus the pool's (positive: more lenient than the pool).
    ``central_tendency`` is true when the rater gave at least two ratings and their spread
    is below the report's threshold times the pool's spread. ``top_share`` and
    ``bottom_share`` are the fractions of the rater's scores in the best and worst grade of
    the scale (None when no scale was given).
    """

    rater: str
    count: int
    mean: Decimal
    spread: Decimal
    mean_vs_pool: Decimal
    central_tendency: bool
    top_share: Decimal | None = None
    bottom_share: Decimal | None = None

    def to_dict(self) -> dict[str, Any]:
        return attrs.asdict(self)


@attrs.frozen(kw_only=True)
class PoolStats:
    """The figures of every rating given, by every rater."""

    count: int
    raters: int
    mean: Decimal
    spread: Decimal
    top_share: Decimal | None = None
    bottom_share: Decimal | None = None


@attrs.frozen(kw_only=True)
class RaterReport:
    """Per-rater figures (sorted by rater id) against the pool; see :func:`rater_report`."""

    raters: tuple[RaterStats, ...]
    pool: PoolStats
    central_tendency: Decimal
    """The threshold: a spread below this times the pool's spread is central tendency."""
    top_grade: str | None = None
    bottom_grade: str | None = None

    def __getitem__(self, rater: str) -> RaterStats:
        for stats in self.raters:
            if stats.rater == rater:
                return stats
        raise KeyError(f"no ratings by rater {rater!r} in this report")

    def to_records(self) -> list[dict[str, Any]]:
        """One dict per rater: the fields of :class:`RaterStats`."""
        return [stats.to_dict() for stats in self.raters]

    def to_text(self) -> str:
        """A table for people: means and spreads to 2 places, shares as percentages."""
        shares = self.top_grade is not None
        head = ["rater", "n", "mean", "spread", "vs pool"]
        if shares:
            head += [f"in {self.top_grade}", f"in {self.bottom_grade}"]
        head.append("central")
        rows = [head]
        for s in self.raters:
            row = [s.rater, str(s.count), _fixed(s.mean), _fixed(s.spread), _signed(s.mean_vs_pool)]
            if shares:
                row += [_percent(s.top_share), _percent(s.bottom_share)]
            row.append("yes" if s.central_tendency else "")
            rows.append(row)
        pool = self.pool
        last = ["(pool)", str(pool.count), _fixed(pool.mean), _fixed(pool.spread), ""]
        if shares:
            last += [_percent(pool.top_share), _percent(pool.bottom_share)]
        rows.append([*last, ""])
        widths = [max(display_width(row[i]) for row in rows) for i in range(len(head))]
        lines = []
        for row in rows:
            cells = [_pad(row[0], widths[0], left=True)]
            cells += [_pad(cell, width) for cell, width in zip(row[1:-1], widths[1:-1])]
            cells.append(row[-1])
            lines.append("  ".join(cells).rstrip())
        threshold = plain_text(shift(self.central_tendency, 2))
        lines.append(f"central: spread below {threshold}% of the pool's spread ({pool.raters} raters)")
        return "\n".join(lines)

    def __str__(self) -> str:
        return self.to_text()


def rater_report(
    ratings: Iterable[Rating], *, scale: GradeScale | None = None, central_tendency: Decimal = Decimal("0.5")
) -> RaterReport:
    """Each rater's count, mean and spread against the pool of all ratings given.

    ``central_tendency`` (default 0.5) flags a rater who gave two or more ratings whose
    spread (population standard deviation) is below that fraction of the pool's spread.
    With a ``scale``, each score is banded with ``scale.band(score)`` and the report gives
    the share of each rater's scores in the best grade and in the worst (a score below every
    band counts as the worst). Raises :class:`~perfkit.DataError` for no ratings and for a
    (rater, ratee, item) rated twice with different scores.
    """
    threshold = _threshold(central_tendency)
    given = checked_ratings(ratings)
    pool = moments([r.score for r in given])
    pool_spread = pool.spread
    groups = by_rater(given)
    top, bottom = (None, None) if scale is None else (scale.grades[0].name, scale.grades[-1].name)
    raters = []
    for rater, scores in groups.items():
        own = moments(scores)
        spread = own.spread
        top_share, bottom_share = _shares(scores, scale)
        raters.append(
            RaterStats(
                rater=rater,
                count=own.count,
                mean=own.mean,
                spread=spread,
                mean_vs_pool=CONTEXT.subtract(own.mean, pool.mean),
                central_tendency=own.count >= 2 and spread < CONTEXT.multiply(threshold, pool_spread),
                top_share=top_share,
                bottom_share=bottom_share,
            )
        )
    top_share, bottom_share = _shares([r.score for r in given], scale)
    pool_stats = PoolStats(
        count=pool.count,
        raters=len(groups),
        mean=pool.mean,
        spread=pool_spread,
        top_share=top_share,
        bottom_share=bottom_share,
    )
    return RaterReport(
        raters=tuple(raters), pool=pool_stats, central_tendency=threshold, top_grade=top, bottom_grade=bottom
    )


def ratings_from_evaluation(evaluation: Evaluation, *, rater: str = "manager") -> tuple[Rating, ...]:
    """One :class:`Rating` per score card: the card's ``total``, rated by its ``rater`` column.

    The rater is read from the card's extra columns (``card.attributes``); a card without
    that column, or with an empty one, is a :class:`~perfkit.DataError` naming the employee
    and the column.
    """
    found = []
    for card in evaluation.cards:
        columns = dict(card.attributes)
        value = columns.get(rater)
        if is_empty(value):
            known = ", ".join(sorted(columns)) or "none"
            raise DataError(
                f"no rater: the row has no {rater!r} column value (its extra columns: {known})",
                employee_id=card.employee_id,
                column=rater,
            )
        found.append(Rating(rater=str(value).strip(), ratee=card.employee_id, score=card.total))
    return tuple(found)


def _threshold(value: Decimal) -> Decimal:
    try:
        threshold = to_decimal(value)
    except ValueError as exc:
        raise CalibrationError(f"central_tendency must be a number: {exc}") from None
    if threshold < 0:
        raise CalibrationError(f"central_tendency is a fraction of the pool's spread, at least 0; got {threshold}")
    return threshold


def _shares(scores: Sequence[Decimal], scale: GradeScale | None) -> tuple[Decimal | None, Decimal | None]:
    if scale is None:
        return None, None
    top, bottom = scale.grades[0].name, scale.grades[-1].name
    top_count = bottom_count = 0
    for score in scores:
        grade = scale.band(score)
        name = bottom if grade is None else grade.name
        top_count += name == top
        bottom_count += name == bottom
    return CONTEXT.divide(top_count, len(scores)), CONTEXT.divide(bottom_count, len(scores))


def _fixed(value: Decimal) -> str:
    return str(quantize(value, 2))


def _signed(value: Decimal) -> str:
    rounded = quantize(value, 2)
    return f"{rounded.copy_abs()}" if rounded.is_zero() else f"{rounded:+}"


def _percent(value: Decimal | None) -> str:
    return "" if value is None else f"{quantize(shift(value, 2), 1)}%"


def _pad(text: str, width: int, *, left: bool = False) -> str:
    fill = " " * (width - display_width(text))
    return text + fill if left else fill + text
