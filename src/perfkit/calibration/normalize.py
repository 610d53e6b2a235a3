"""Correcting rater bias: per-rater standardisation, and an additive rater-effects model.

Two corrections, with different assumptions (``docs/rater-bias.md`` compares them):

* :func:`standardize` moves every rater's scores onto the pool's mean and spread. Exact
  Decimal arithmetic. It assumes that **every rater's team has the same true mean**: a
  rater whose team is genuinely strong is pulled down like a lenient one.
* :func:`rater_effects` fits ``score = overall + person + rater + noise`` by least squares
  (numpy, float64). It separates a rater's leniency from their team's strength where people
  are rated by more than one rater, but only *within a connected part* of the rater–ratee
  graph: scores from different parts are on different scales, and the result refuses to
  compare them unless the caller names ``anchors``.

>>> from perfkit.calibration.raters import Rating
>>> ratings = [Rating(rater=m, ratee=e, score=s) for m, e, s in (
...     ("M1", "E1", 90), ("M1", "E2", 80), ("M2", "E1", 80), ("M2", "E2", 70), ("M2", "E3", 75))]
>>> fit = rater_effects(ratings)
>>> [(r.rater, r.effect) for r in fit.raters]
[('M1', Decimal('5.0000')), ('M2', Decimal('-5.0000'))]
>>> [(s.ratee, s.corrected) for s in fit.ranking()]
[('E1', Decimal('85.0000')), ('E3', Decimal('80.0000')), ('E2', Decimal('75.0000'))]
"""

from __future__ import annotations

import decimal
from collections.abc import Iterable
from decimal import Decimal
from typing import Any

import attrs
import networkx as nx
import numpy as np
import numpy.typing as npt

from perfkit.calibration.raters import EXACT, Rating, checked_ratings, exact_means, moments
from perfkit.errors import CalibrationError, DataError
from perfkit.numbers import CONTEXT, quantize, shift, to_decimal

__all__ = [
    "Component",
    "CorrectedScore",
    "RaterAdjustment",
    "RaterEffect",
    "RaterEffects",
    "Standardized",
    "rater_effects",
    "standardize",
]

Floats = npt.NDArray[np.float64]
Ints = npt.NDArray[np.intp]
Bools = npt.NDArray[np.bool_]

NEAR_TIE = Decimal("1e-9")
"""A rounded value is listed in ``near_ties`` when it was this close (relative) to a tie."""


@attrs.frozen(kw_only=True)
class CorrectedScore:
    """One ratee's raw and corrected score (each the mean over the ratee's ratings)."""

    ratee: str
    count: int
    raw: Decimal
    corrected: Decimal
    component: int | None = None
    """The connected component (:func:`rater_effects` only)."""

    def to_dict(self) -> dict[str, Any]:
        return attrs.asdict(self)


def _ratee_index(scores: tuple[CorrectedScore, ...], ratee: str) -> CorrectedScore:
    for score in scores:
        if score.ratee == ratee:
            return score
    raise CalibrationError("no rating of this person was given", employee_id=ratee)


def _ranked(scores: Iterable[CorrectedScore]) -> tuple[CorrectedScore, ...]:
    return tuple(sorted(scores, key=lambda s: (-s.corrected, s.ratee)))


# -- standardisation ---------------------------------------------------------------------------


@attrs.frozen(kw_only=True)
class RaterAdjustment:
    """How :func:`standardize` moved one rater's scores.

    Each score ``x`` becomes ``target_mean + (x − mean) × factor``; ``factor`` is the target
    spread over the rater's spread, or 1 for a rater whose scores are all equal (one rating,
    or the same score for everybody), whose scores are only shifted onto the target mean.
    ``shift`` is ``target_mean − mean``: how far the rater's average moved.
    """

    rater: str
    count: int
    mean: Decimal
    spread: Decimal
    factor: Decimal
    shift: Decimal

    def to_dict(self) -> dict[str, Any]:
        return attrs.asdict(self)


@attrs.frozen(kw_only=True)
class Standardized:
    """The result of :func:`standardize`: scores sorted by ratee, adjustments by rater."""

    scores: tuple[CorrectedScore, ...]
    raters: tuple[RaterAdjustment, ...]
    target_mean: Decimal
    target_spread: Decimal
    precision: Decimal | None

    def __getitem__(self, ratee: str) -> CorrectedScore:
        return _ratee_index(self.scores, ratee)

    def ranking(self) -> tuple[CorrectedScore, ...]:
        """Best corrected score first; equal scores by ratee id."""
        return _ranked(self.scores)

    def to_records(self) -> list[dict[str, Any]]:
        """One dict per ratee: ``ratee``, ``count``, ``raw``, ``corrected``."""
        return [{k: v for k, v in s.to_dict().items() if k != "component"} for s in self.scores]

    def to_rater_records(self) -> list[dict[str, Any]]:
        """One dict per rater: the fields of :class:`RaterAdjustment`."""
        return [r.to_dict() for r in self.raters]


def standardize(
    ratings: Iterable[Rating],
    *,
    target_mean: Decimal | None = None,
    target_spread: Decimal | None = None,
    precision: Decimal | None = None,
) -> Standardized:
    """Put every rater's scores on the same mean and spread (per-rater z-scores).

    ``corrected = target_mean + (x − rater_mean) × target_spread / rater_spread`` for each
    rating ``x``; the targets default to the mean and the spread (population standard
    deviation) of all ratings. A rater whose scores are all equal (a single rating, say) has
    no spread to rescale: their scores are shifted onto the target mean only. A ratee's
    corrected score is the mean of their corrected ratings.

    **Assumption: every rater's team has the same true mean and spread.** A rater whose team
    is genuinely strong is pulled down exactly like a lenient rater; use
    :func:`rater_effects` where ratees are rated by several raters.

    Arithmetic is Decimal: deviations from a rater's mean are exact, each product and
    quotient is rounded once to 34 significant digits, so adding a constant to all of one
    rater's scores leaves every corrected score unchanged when the targets are given. With
    ``precision`` (``Decimal("0.01")``) corrected scores are rounded half-up to it.
    """
    given = checked_ratings(ratings)
    places = None if precision is None else _places(precision)
    pool = moments([r.score for r in given])
    mean = pool.mean if target_mean is None else _parameter("target_mean", target_mean)
    spread = pool.spread if target_spread is None else _parameter("target_spread", target_spread)
    if spread < 0:
        raise CalibrationError(f"target_spread is a standard deviation, at least 0; got {spread}")
    groups: dict[str, tuple[list[str], list[Decimal]]] = {}
    for rating in given:
        ratees, scores = groups.setdefault(rating.rater, ([], []))
        ratees.append(rating.ratee)
        scores.append(rating.score)
    raters = []
    by_ratee: dict[str, tuple[list[Decimal], list[Decimal]]] = {}
    for rater in sorted(groups):
        ratees, scores = groups[rater]
        own = moments(scores)
        own_spread = own.spread
        factor = Decimal(1) if own_spread.is_zero() else CONTEXT.divide(spread, own_spread)
        raters.append(
            RaterAdjustment(
                rater=rater,
                count=own.count,
                mean=own.mean,
                spread=own_spread,
                factor=factor,
                shift=CONTEXT.subtract(mean, own.mean),
            )
        )
        # (x − mean) × factor as (n·x − Σx) × (factor / n): the deviations are exact
        count, total, per_unit = own.count, own.total, CONTEXT.divide(factor, own.count)
        with decimal.localcontext(EXACT):
            deviations = [count * score - total for score in scores]
        with decimal.localcontext(CONTEXT):
            corrected = [mean + deviation * per_unit for deviation in deviations]
        for ratee, score, value in zip(ratees, scores, corrected):
            raw_scores, corrected_scores = by_ratee.setdefault(ratee, ([], []))
            raw_scores.append(score)
            corrected_scores.append(value)
    order = sorted(by_ratee)
    raw_means = exact_means(by_ratee[ratee][0] for ratee in order)
    corrected_means = exact_means(by_ratee[ratee][1] for ratee in order)
    scores_out = tuple(
        CorrectedScore(
            ratee=ratee,
            count=len(by_ratee[ratee][0]),
            raw=raw,
            corrected=value if places is None else quantize(value, places),
        )
        for ratee, raw, value in zip(order, raw_means, corrected_means)
    )
    return Standardized(
        scores=scores_out, raters=tuple(raters), target_mean=mean, target_spread=spread, precision=precision
    )


# -- rater effects -----------------------------------------------------------------------------


@attrs.frozen(kw_only=True)
class Component:
    """A connected part of the rater–ratee graph: raters and ratees linked by ratings.

    Effects are identified only within a component; ``anchors`` are the anchor raters in it
    (a component with an anchor is on the common scale of every anchored component).
    ``converged`` tells whether the fit met its tolerance here.
    """

    id: int
    raters: tuple[str, ...]
    ratees: tuple[str, ...]
    ratings: int
    anchors: tuple[str, ...] = ()
    converged: bool = True

    def describe(self) -> str:
        shown = ", ".join(repr(r) for r in self.raters[:3]) + (", ..." if len(self.raters) > 3 else "")
        anchored = "anchored" if self.anchors else "no anchor"
        raters = f"{len(self.raters)} rater{'s' if len(self.raters) != 1 else ''}"
        ratees = f"{len(self.ratees)} ratee{'s' if len(self.ratees) != 1 else ''}"
        return f"component {self.id} ({raters}: {shown}; {ratees}; {anchored})"


@attrs.frozen(kw_only=True)
class RaterEffect:
    """One rater's fitted effect: how many points above (positive) or below the average rater
    of the component (or an anchor rater, in an anchored component) they score the same person.
    ``mean`` is the rater's raw mean score."""

    rater: str
    component: int
    count: int
    mean: Decimal
    effect: Decimal
    anchor: bool = False

    def to_dict(self) -> dict[str, Any]:
        return attrs.asdict(self)


@attrs.frozen(kw_only=True)
class RaterEffects:
    """The result of :func:`rater_effects`.

    ``scores`` (sorted by ratee) hold each ratee's ``corrected`` score, ``overall + person``:
    the score an average rater of the component would give (an anchor rater, in an
    anchored component), rounded half-up to ``precision``. Corrected scores in different
    components are on different scales: :meth:`compare` and :meth:`ranking` refuse to put
    them side by side unless both components are anchored.

    ``near_ties`` lists the ratees whose unrounded corrected score was within 1e-9
    (relative) of a rounding tie: the last digit of those depends on float arithmetic.
    """

    scores: tuple[CorrectedScore, ...]
    raters: tuple[RaterEffect, ...]
    components: tuple[Component, ...]
    anchors: tuple[str, ...]
    precision: Decimal
    tolerance: Decimal
    iterations: int
    converged: bool
    near_ties: tuple[str, ...]

    def __getitem__(self, ratee: str) -> CorrectedScore:
        return _ratee_index(self.scores, ratee)

    def comparable(self, a: str, b: str) -> bool:
        """True when the corrected scores of ratees ``a`` and ``b`` are on one scale."""
        return self._linked(self[a].component, self[b].component)

    def compare(self, a: str, b: str) -> Decimal:
        """``a``'s corrected score minus ``b``'s (positive: ``a`` scores higher).

        Raises :class:`~perfkit.CalibrationError` naming both components when they are not
        linked by a rater (and not both anchored).
        """
        first, second = self[a], self[b]
        self._refuse(first, second)
        return CONTEXT.subtract(first.corrected, second.corrected)

    def ranking(self, component: int | None = None) -> tuple[CorrectedScore, ...]:
        """Best corrected score first (equal scores by ratee id), in one ``component`` or all.

        Ranking everybody raises :class:`~perfkit.CalibrationError` naming two components
        whose scores are not comparable; rank each component on its own instead.
        """
        if component is None:
            chosen = self.scores
            for score in chosen[1:]:
                self._refuse(chosen[0], score)
        else:
            if not 0 <= component < len(self.components):
                raise CalibrationError(f"no component {component}; there are {len(self.components)}")
            chosen = tuple(s for s in self.scores if s.component == component)
        return _ranked(chosen)

    def to_records(self) -> list[dict[str, Any]]:
        """One dict per ratee: ``ratee``, ``count``, ``raw``, ``corrected``, ``component``."""
        return [s.to_dict() for s in self.scores]

    def to_rater_records(self) -> list[dict[str, Any]]:
        """One dict per rater: the fields of :class:`RaterEffect`."""
        return [r.to_dict() for r in self.raters]

    def _linked(self, a: int | None, b: int | None) -> bool:
        assert a is not None and b is not None
        return a == b or bool(self.components[a].anchors and self.components[b].anchors)

    def _refuse(self, first: CorrectedScore, second: CorrectedScore) -> None:
        if self._linked(first.component, second.component):
            return
        assert first.component is not None and second.component is not None
        one, other = self.components[first.component], self.components[second.component]
        raise CalibrationError(
            f"{first.ratee!r} and {second.ratee!r} are in different components of the rater-ratee graph: "
            f"no chain of shared ratings links them, so their corrected scores are on different scales "
            f"and cannot be compared. Compare within a component, or pass anchors (raters assumed to be "
            f"on one scale) that reach both",
            employee_id=first.ratee,
            constraints=(one.describe(), other.describe()),
        )


def rater_effects(
    ratings: Iterable[Rating],
    *,
    anchors: Iterable[str] = (),
    precision: Decimal = Decimal("0.0001"),
    tolerance: Decimal = Decimal("1e-12"),
    max_iterations: int = 10_000,
) -> RaterEffects:
    """Fit ``score = overall + person + rater + noise`` by least squares, per component.

    The raters and ratees linked by ratings form a bipartite graph; each connected component
    is fitted on its own, with the rater effects of the component summing to zero (so a
    ratee's corrected score is what the component's average rater would give). Raters in
    ``anchors`` have their effect fixed at 0 instead: they are assumed to rate on one
    common scale, which makes anchored components comparable with each other.

    The fit is numpy float64 conjugate gradients on the normal equations, preconditioned by
    the rating counts (an accelerated backfitting). It stops when, for every ratee and rater,
    the mean residual of their ratings is at most ``tolerance`` times the largest absolute
    score, or after ``max_iterations`` (``converged`` then says False). Ratings are put in a
    canonical order first, so the result does not depend on their order. Scores are read as
    float64 (about 16 significant digits). Results are Decimals from the floats' shortest
    repr, rounded half-up to ``precision``.
    """
    given = checked_ratings(ratings)
    places = _places(precision)
    tolerance = _parameter("tolerance", tolerance)
    tol = _tolerance(tolerance)
    if isinstance(max_iterations, bool) or not isinstance(max_iterations, int) or max_iterations < 1:
        raise CalibrationError(f"max_iterations must be a whole number of at least 1, got {max_iterations!r}")
    data = _Data(given, _anchor_set(anchors, given))
    graph = _components(data)
    fit_ratee, fit_rater, iterations, converged = _fit(data, graph, tol, max_iterations)

    per_component = np.bincount(graph.of_ratee[data.ratee_of], minlength=len(graph.members))
    components = tuple(
        Component(
            id=k,
            raters=tuple(data.raters[j] for j in members[0]),
            ratees=tuple(data.ratees[i] for i in members[1]),
            ratings=int(per_component[k]),
            anchors=tuple(data.raters[j] for j in members[0] if data.fixed[j]),
            converged=bool(converged[k]),
        )
        for k, members in enumerate(graph.members)
    )
    corrected, near = _rounded(fit_ratee, places)
    scores = tuple(
        CorrectedScore(ratee=ratee, count=count, raw=raw, corrected=value, component=component)
        for ratee, count, raw, value, component in zip(
            data.ratees,
            data.ratee_counts.tolist(),
            _group_means(data.objects, data.ratee_of),
            corrected,
            graph.of_ratee.tolist(),
        )
    )
    raters = tuple(
        RaterEffect(rater=rater, component=component, count=count, mean=mean, effect=effect, anchor=anchor)
        for rater, component, count, mean, effect, anchor in zip(
            data.raters,
            graph.of_rater.tolist(),
            data.rater_counts.tolist(),
            _group_means(data.objects, data.rater_of),
            _rounded(fit_rater, places)[0],
            data.fixed.tolist(),
        )
    )
    return RaterEffects(
        scores=scores,
        raters=raters,
        components=components,
        anchors=tuple(data.raters[j] for j in np.flatnonzero(data.fixed)),
        precision=precision,
        tolerance=tolerance,
        iterations=iterations,
        converged=bool(converged.all()),
        near_ties=tuple(data.ratees[i] for i in np.flatnonzero(near)),
    )


class _Data:
    """The ratings as index arrays, in canonical order (by rater, ratee, item)."""

    def __init__(self, given: tuple[Rating, ...], anchors: frozenset[str]) -> None:
        rater_names = [r.rater for r in given]
        ratee_names = [r.ratee for r in given]
        self.raters = sorted(set(rater_names))
        self.ratees = sorted(set(ratee_names))
        rater_code = {name: j for j, name in enumerate(self.raters)}
        ratee_code = {name: i for i, name in enumerate(self.ratees)}
        item_code = {name: k + 1 for k, name in enumerate(sorted({r.item for r in given if r.item is not None}))}
        rater_of = np.array([rater_code[name] for name in rater_names], dtype=np.intp)
        ratee_of = np.array([ratee_code[name] for name in ratee_names], dtype=np.intp)
        if item_code:
            item_of = np.array([0 if r.item is None else item_code[r.item] for r in given], dtype=np.intp)
            order = np.lexsort((item_of, ratee_of, rater_of))
        else:  # (rater, ratee) is unique without items
            order = np.lexsort((ratee_of, rater_of))
        values = [r.score for r in given]
        objects = np.empty(len(values), dtype=object)
        objects[:] = values
        scores = np.fromiter(map(float, values), dtype=np.float64, count=len(values))
        if not np.isfinite(scores).all():
            bad = given[int(np.flatnonzero(~np.isfinite(scores))[0])]
            raise DataError(
                f"the score rater {bad.rater!r} gave ({bad.score}) is too large for the float fit",
                employee_id=bad.ratee,
                column="score",
            )
        self.rater_of: Ints = rater_of[order]
        self.ratee_of: Ints = ratee_of[order]
        self.scores: Floats = scores[order]
        self.objects: npt.NDArray[np.object_] = objects[order]
        self.rater_counts: Ints = np.bincount(self.rater_of, minlength=len(self.raters))
        self.ratee_counts: Ints = np.bincount(self.ratee_of, minlength=len(self.ratees))
        self.fixed: Bools = np.array([name in anchors for name in self.raters], dtype=bool)


class _Graph:
    """Connected components: for each, its rater and ratee indices; the component of each."""

    def __init__(self, members: list[tuple[list[int], list[int]]], raters: int, ratees: int) -> None:
        self.members = members
        self.of_rater: Ints = np.empty(raters, dtype=np.intp)
        self.of_ratee: Ints = np.empty(ratees, dtype=np.intp)
        for k, (rater_ids, ratee_ids) in enumerate(members):
            self.of_rater[rater_ids] = k
            self.of_ratee[ratee_ids] = k


def _components(data: _Data) -> _Graph:
    """The connected components of the bipartite rater–ratee graph, ordered by first rater."""
    raters = len(data.raters)
    nodes = raters + len(data.ratees)
    pairs = np.unique(data.rater_of.astype(np.int64) * nodes + raters + data.ratee_of)
    try:
        graph: nx.Graph[int] = nx.Graph()
        graph.add_nodes_from(range(nodes))
        graph.add_edges_from(zip((pairs // nodes).tolist(), (pairs % nodes).tolist()))
        found = [sorted(c) for c in nx.connected_components(graph)]
    except nx.NetworkXException as exc:  # pragma: no cover - a graph of ints does not fail
        raise CalibrationError(f"could not split the ratings into connected components: {exc}") from None
    members = [([n for n in c if n < raters], [n - raters for n in c if n >= raters]) for c in found]
    members.sort(key=lambda m: m[0][0])  # every component has a rater; indices follow sorted ids
    return _Graph(members, raters, len(data.ratees))


def _fit(data: _Data, graph: _Graph, tol: float, max_iterations: int) -> tuple[Floats, Floats, int, Bools]:
    """Least squares ``score ≈ a[ratee] + r[rater]``; returns a, r, iterations, converged per component.

    In each component without an anchor, its first rater is held at 0 during the solve (so
    the system has one solution), and the rater effects are centred on 0 afterwards. The
    solver is conjugate gradients preconditioned by the rating counts: the preconditioned
    residual of a ratee or rater is the mean residual of their ratings.
    """
    n_ratees, n_raters = len(data.ratees), len(data.raters)
    pi, ri, y = data.ratee_of, data.rater_of, data.scores
    anchored = np.bincount(graph.of_rater, weights=data.fixed, minlength=len(graph.members)) > 0
    held = data.fixed.copy()
    for k, (rater_ids, _) in enumerate(graph.members):
        if not anchored[k]:
            held[rater_ids[0]] = True
    free = ~held
    diagonal = np.concatenate([data.ratee_counts, np.where(free, data.rater_counts, 1)]).astype(np.float64)
    limit = tol * max(float(np.abs(y).max()), 1.0)

    def normal(x: Floats) -> Floats:
        """The normal-equations matrix times ``x`` (ratee values, then rater values)."""
        fitted = x[:n_ratees][pi] + x[n_ratees:][ri]
        by_ratee = np.bincount(pi, weights=fitted, minlength=n_ratees)
        by_rater = np.bincount(ri, weights=fitted, minlength=n_raters) * free
        return np.concatenate([by_ratee, by_rater])

    rhs = np.concatenate(
        [np.bincount(pi, weights=y, minlength=n_ratees), np.bincount(ri, weights=y, minlength=n_raters) * free]
    )
    x = np.concatenate([rhs[:n_ratees] / diagonal[:n_ratees], np.zeros(n_raters)])  # start: each ratee's mean
    iterations = 0
    while True:  # each round starts from the true residual (the updated one drifts)
        residual = rhs - normal(x)
        z = residual / diagonal
        if np.abs(z).max() <= limit or iterations >= max_iterations:
            break
        direction = z.copy()
        rz = float(residual @ z)
        while iterations < max_iterations:
            iterations += 1
            product = normal(direction)
            curvature = float(direction @ product)
            if not curvature > 0.0:  # only a vanishing direction; start again from the true residual
                break
            step = rz / curvature
            x += step * direction
            residual -= step * product
            z = residual / diagonal
            if np.abs(z).max() <= limit:
                break
            rz_next = float(residual @ z)
            direction = z + (rz_next / rz) * direction
            rz = rz_next
    worst = np.zeros(len(graph.members))
    np.maximum.at(worst, np.concatenate([graph.of_ratee, graph.of_rater]), np.abs(z))
    a, r = x[:n_ratees], x[n_ratees:]
    centre = np.bincount(graph.of_rater, weights=r, minlength=len(graph.members)) / np.bincount(graph.of_rater)
    centre[anchored] = 0.0
    return a + centre[graph.of_ratee], r - centre[graph.of_rater], iterations, worst <= limit


# -- shared helpers ----------------------------------------------------------------------------


def _group_means(objects: npt.NDArray[np.object_], codes: Ints) -> list[Decimal]:
    """The exact mean of the Decimals in ``objects`` for each code 0, 1, ... (each one present)."""
    order = np.argsort(codes, kind="stable")
    ordered = codes[order]
    starts = np.flatnonzero(np.concatenate([[True], ordered[1:] != ordered[:-1]]))
    with decimal.localcontext(EXACT):
        totals = np.add.reduceat(objects[order], starts).tolist()
    counts = np.diff(np.append(starts, len(codes))).tolist()
    return [CONTEXT.divide(total, count) for total, count in zip(totals, counts)]


def _rounded(values: Floats, places: int) -> tuple[list[Decimal], Bools]:
    """Floats as the Decimals of their shortest repr, rounded half-up; and which were near a tie.

    A value is near a tie when it lies within ``NEAR_TIE × max(1, |value|)`` of a point
    halfway between two rounded values. A float pre-check (ten times looser) picks the
    candidates, which are then checked exactly.
    """
    unit = 10.0**-places
    rounded = []
    for value in values.tolist():
        number = quantize(Decimal(repr(value)), places)
        rounded.append(number.copy_abs() if number.is_zero() else number)
    with np.errstate(all="ignore"):
        units = values / unit
        gap = np.abs(units - np.floor(units) - 0.5) * unit
        candidates = (gap <= 10 * float(NEAR_TIE) * np.maximum(1.0, np.abs(values))) | (np.abs(units) > 2.0**52)
    near = np.zeros(len(values), dtype=bool)
    for i in np.flatnonzero(candidates).tolist():
        exact = Decimal(repr(float(values[i])))
        scaled = shift(exact, places)
        fraction = CONTEXT.subtract(scaled, scaled.to_integral_value(rounding=decimal.ROUND_FLOOR))
        distance = shift(CONTEXT.subtract(fraction, Decimal("0.5")).copy_abs(), -places)
        near[i] = distance <= CONTEXT.multiply(NEAR_TIE, max(exact.copy_abs(), Decimal(1)))
    return rounded, near


def _places(precision: Decimal) -> int:
    """4 for ``Decimal("0.0001")``; refuses anything that is not 1, 0.1, 0.01, ..."""
    if isinstance(precision, Decimal) and precision.is_finite() and precision > 0:
        _, digits, exponent = precision.normalize().as_tuple()
        if digits == (1,) and isinstance(exponent, int) and -28 <= exponent <= 0:
            return -exponent
    raise CalibrationError(f"precision must be a Decimal power of ten such as Decimal('0.0001'), got {precision!r}")


def _tolerance(tolerance: Decimal) -> float:
    value = _parameter("tolerance", tolerance)
    if not Decimal(0) < value < Decimal(1):
        raise CalibrationError(f"tolerance must be between 0 and 1 (relative), got {value}")
    return float(value)


def _parameter(name: str, value: Decimal) -> Decimal:
    try:
        return to_decimal(value)
    except ValueError as exc:
        raise CalibrationError(f"{name} must be a number: {exc}") from None


def _anchor_set(anchors: Iterable[str], given: tuple[Rating, ...]) -> frozenset[str]:
    if isinstance(anchors, str):
        raise CalibrationError(f"anchors is a collection of rater ids; wrap one rater in a list: [{anchors!r}]")
    chosen = frozenset(anchors)
    known = {r.rater for r in given}
    unknown = sorted(a for a in chosen if a not in known)
    if unknown:
        raise CalibrationError(f"anchor rater {unknown[0]!r} gave no ratings; anchors must be raters who rated someone")
    return chosen
