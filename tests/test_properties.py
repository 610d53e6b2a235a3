"""Properties perfkit promises for every input, not only for the examples (STYLE item 15).

Weights sum exactly; save → load → save is the identity; rounding is half-up to the digit;
a higher input never gets a lower curve value; results do not depend on row order; the
compiled path equals the reference path; an explanation says what its card says; a total
that rounds onto a band edge gets that band; scoring leaves the caller's rows alone.
"""

from __future__ import annotations

import copy
import decimal
import json
import re
import tempfile
from collections import Counter
from collections.abc import Sequence
from decimal import Decimal
from fractions import Fraction
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, reject, settings
from hypothesis import strategies as st
from strategies import (
    NAMES,
    decimals_near_ties,
    environments,
    exact,
    fixed_point,
    formulas,
    literal,
    piecewise_points,
    sales_row,
    sales_rows,
    scheme_dicts,
    spelled,
    weight_lists,
    weight_units,
)

import perfkit as pk
from perfkit.errors import DataError, FormulaError, SchemeError
from perfkit.numbers import CONTEXT, quantize, to_decimal
from perfkit.rules.compile import check_weights
from perfkit.rules.formula import EvalFailure, Formula
from perfkit.scheme import Scheme, parse_weight

SALES = pk.load_scheme(pk.example_path("sales-quarterly.yaml")).compile()
"""The bundled sales example, compiled once."""

WIDE = decimal.Context(prec=200)
"""A context wide enough that sums and products of the generated decimals are exact."""

SLOW = settings(deadline=None, suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])


CALLER_PRECISIONS = st.sampled_from([None, 5, 28, 34, 60])
"""Decimal precisions a caller may have set (None: Python's default context, 28 digits)."""


def caller_context(precision: int | None) -> decimal.Context:
    return decimal.Context() if precision is None else decimal.Context(prec=precision)


def exact_sum(values: list[Decimal]) -> Decimal:
    total = Decimal(0)
    for value in values:
        total = WIDE.add(total, value)
    return total


def weights_scheme(weights: Sequence[object], *, normalize: bool = False) -> dict[str, Any]:
    """A one-input scheme with a KPI ``k0``, ``k1``, ... per weight."""
    return {
        "perfkit": 1,
        "id": "weights",
        "inputs": {"x": {"min": 0, "max": 100}},
        "kpis": [{"id": f"k{i}", "weight": w, "score": "x"} for i, w in enumerate(weights)],
        "normalize_weights": normalize,
        "grades": [{"grade": "A", "min_score": 50}, {"grade": "B"}],
    }


# -- 1. weights --------------------------------------------------------------------------------


class TestWeights:
    @settings(max_examples=150, deadline=None)
    @given(weight_lists())
    def test_weights_that_sum_to_exactly_one_validate(self, weights: tuple[list[Decimal], list[object]]) -> None:
        """Any non-negative weights ("NN.N%" or fractions) whose exact sum is 100% make a valid scheme."""
        values, spellings = weights
        assert exact_sum(values) == 1
        compiled = Scheme.from_dict(weights_scheme(spellings)).compile()
        assert [kpi.weight for kpi in compiled.kpis] == values

    @settings(max_examples=150, deadline=None)
    @given(st.booleans().flatmap(lambda ok: weight_lists(sums_to_one=ok)), CALLER_PRECISIONS)
    def test_check_weights_sums_exactly_whatever_the_callers_context(
        self, weights: tuple[list[Decimal], list[object]], caller_precision: int | None
    ) -> None:
        """check_weights (public in perfkit.rules.compile, "the sum is exact") accepts exactly the
        weights whose exact sum is 1, and reports the exact sum otherwise, in any decimal context."""
        values, _ = weights
        total = exact_sum(values)
        with decimal.localcontext(caller_context(caller_precision)):
            effective, problem = check_weights([(f"k{i}", v) for i, v in enumerate(values)])
        assert effective == values
        if total == 1:
            assert problem is None
        else:
            assert problem is not None
            found = re.search(r"they sum to (\S+%)", problem)
            assert found and to_decimal(found.group(1)) == total, problem

    @settings(max_examples=100)
    @given(weight_lists())
    def test_every_spelling_of_a_weight_reads_as_exactly_that_weight(
        self, weights: tuple[list[Decimal], list[object]]
    ) -> None:
        """parse_weight reads "NN.N%" text, fraction text, Decimals, ints and floats as the exact weight."""
        values, spellings = weights
        assert [parse_weight(s) for s in spellings] == values

    @settings(max_examples=150, deadline=None)
    @given(weight_lists(sums_to_one=False))
    def test_weights_that_do_not_sum_to_one_are_refused_listing_each_weight_and_the_sum(
        self, weights: tuple[list[Decimal], list[object]]
    ) -> None:
        """Weights whose exact sum is not 100% are a SchemeError naming every weight and the exact sum."""
        values, spellings = weights
        total = exact_sum(values)
        assert total != 1
        with pytest.raises(SchemeError) as info:
            Scheme.from_dict(weights_scheme(spellings))
        message = str(info.value)
        found = re.search(r"they sum to (\S+%) \(([^)]*)\)", message)
        assert found, message
        assert to_decimal(found.group(1)) == total, message
        listed = [item.split(" ") for item in found.group(2).split(", ")]
        assert [label for label, _ in listed] == [f"k{i}" for i in range(len(values))]
        assert [to_decimal(text) for _, text in listed] == values, message

    @settings(max_examples=100, deadline=None)
    @given(
        weight_units(sums_to_one=False, max_places=8).filter(lambda pu: any(pu[1])),
        CALLER_PRECISIONS,
    )
    def test_normalized_weights_are_the_quotients_rounded_in_perfkits_context(
        self, weights: tuple[int, list[int]], caller_precision: int | None
    ) -> None:
        """normalize_weights gives w / sum(w) rounded in perfkit's CONTEXT (34 digits), so the
        effective weights sum to 1 within one unit in the 34th digit per weight, whatever decimal
        context the caller has set."""
        places, units = weights
        values = [exact(u, places) for u in units]
        total = exact_sum(values)
        with decimal.localcontext(caller_context(caller_precision)):
            compiled = Scheme.from_dict(weights_scheme(values, normalize=True)).compile()
        effective = [kpi.weight for kpi in compiled.kpis]
        assert effective == [CONTEXT.divide(v, total) for v in values]
        assert abs(Fraction(exact_sum(effective)) - 1) <= Fraction(len(values), 10**34)

    @settings(max_examples=60, deadline=None)
    @given(weight_units(sums_to_one=False, max_places=8).filter(lambda pu: any(pu[1])), CALLER_PRECISIONS)
    def test_check_weights_normalizes_in_perfkits_context_whatever_the_callers(
        self, weights: tuple[int, list[int]], caller_precision: int | None
    ) -> None:
        """check_weights(..., normalize=True) called directly gives the same CONTEXT quotients as a
        compiled scheme does, whatever decimal context the caller has set."""
        places, units = weights
        values = [exact(u, places) for u in units]
        total = exact_sum(values)
        with decimal.localcontext(caller_context(caller_precision)):
            effective, problem = check_weights([(f"k{i}", v) for i, v in enumerate(values)], normalize=True)
        assert problem is None
        assert effective == [CONTEXT.divide(v, total) for v in values]

    @settings(max_examples=60, deadline=None)
    @given(weight_lists(max_places=8), st.sampled_from(["0.5", "0.25", "0.2", "0.125", "0.1", "0.8"]))
    def test_normalizing_proportional_weights_recovers_them_exactly(
        self, weights: tuple[list[Decimal], list[object]], factor: str
    ) -> None:
        """Weights that are a fixed fraction of a 100% set normalize back to that set, summing to exactly 1."""
        values, _ = weights
        scaled = [WIDE.multiply(v, Decimal(factor)) for v in values]
        compiled = Scheme.from_dict(weights_scheme(scaled, normalize=True)).compile()
        effective = [kpi.weight for kpi in compiled.kpis]
        assert effective == values
        assert exact_sum(effective) == 1

    @settings(max_examples=20, deadline=None)
    @given(st.integers(1, 5), st.booleans())
    def test_all_zero_weights_cannot_be_normalized(self, count: int, as_percent: bool) -> None:
        """Normalizing needs a weight above 0; all-zero weights are a SchemeError saying so."""
        with pytest.raises(SchemeError, match="all 0"):
            Scheme.from_dict(weights_scheme(["0%" if as_percent else 0] * count, normalize=True))


# -- 2. save → load → save ---------------------------------------------------------------------


def valid_scheme(data: dict[str, Any]) -> Scheme:
    """The scheme ``data`` describes; data whose only problem is a formula that fails on
    constants (``1/0``) is rejected, any other problem is a failure."""
    try:
        return Scheme.from_dict(data)
    except SchemeError as exc:
        if all(isinstance(p, FormulaError) for p in exc.problems):
            reject()
        raise


class TestSaveLoad:
    @settings(SLOW, max_examples=60)
    @given(scheme_dicts())
    def test_yaml_round_trip_is_the_identity(self, data: dict[str, Any]) -> None:
        """For a valid scheme s: load(dump(s)) == s and dump(load(dump(s))) == dump(s), in YAML."""
        scheme = valid_scheme(data)
        text = scheme.to_yaml()
        again = Scheme.from_yaml(text)
        assert again == scheme
        assert again.to_yaml() == text

    @settings(SLOW, max_examples=60)
    @given(scheme_dicts())
    def test_json_round_trip_is_the_identity(self, data: dict[str, Any]) -> None:
        """For a valid scheme s: load(dump(s)) == s and dump(load(dump(s))) == dump(s), in JSON."""
        scheme = valid_scheme(data)
        text = scheme.to_json()
        json.loads(text)
        again = Scheme.from_json(text)
        assert again == scheme
        assert again.to_json() == text

    @settings(SLOW, max_examples=15)
    @given(scheme_dicts(), st.sampled_from([".yaml", ".yml", ".json"]))
    def test_files_round_trip_through_load_scheme(self, data: dict[str, Any], suffix: str) -> None:
        """A scheme saved to a file and read back with load_scheme is the same scheme."""
        scheme = valid_scheme(data)
        text = scheme.to_json() if suffix == ".json" else scheme.to_yaml()
        with tempfile.TemporaryDirectory() as directory:
            path = Path(directory) / f"scheme{suffix}"
            path.write_text(text, encoding="utf-8")
            assert pk.load_scheme(path) == scheme

    def test_the_bundled_example_round_trips(self) -> None:
        """The sales example survives YAML and JSON round trips unchanged."""
        scheme = SALES.scheme
        for dump, load in ((Scheme.to_yaml, Scheme.from_yaml), (Scheme.to_json, Scheme.from_json)):
            text = dump(scheme)
            assert load(text) == scheme
            assert dump(load(text)) == text


# -- 3. rounding -------------------------------------------------------------------------------


def half_up_reference(value: Decimal, places: int) -> tuple[int, int]:
    """``(sign, units)`` of ``value`` rounded half-up (ties away from zero) to ``places``,
    computed on the integer digits: the result is ``(-1)**sign × units × 10**-places``."""
    sign, digits, exponent = value.as_tuple()
    assert isinstance(exponent, int)
    magnitude = int("".join(map(str, digits)))
    shift = exponent + places
    if shift >= 0:
        return sign, magnitude * 10**shift
    divisor = 10**-shift
    units, remainder = divmod(magnitude, divisor)
    if 2 * remainder >= divisor:
        units += 1
    return sign, units


ROUND_2 = Formula.compile("round(x, 2)", ["x"])

places_and_ties = st.integers(0, 6).flatmap(lambda p: st.tuples(st.just(p), decimals_near_ties(p)))


class TestRounding:
    def _check(self, value: Decimal, places: int) -> None:
        sign, units = half_up_reference(value, places)
        result = quantize(value, places)
        result_sign, digits, exponent = result.as_tuple()
        assert exponent == -places, (value, result)
        assert int("".join(map(str, digits))) == units, (value, result)
        if units:
            assert result_sign == sign, (value, result)

    @settings(max_examples=200)
    @given(decimals_near_ties(2))
    def test_half_up_to_two_places_matches_an_integer_reference(self, value: Decimal) -> None:
        """quantize(d, 2) rounds ties away from zero, like the integer reference, near …xx5 of both signs."""
        self._check(value, 2)

    @settings(max_examples=200)
    @given(places_and_ties)
    def test_half_up_at_any_places_matches_an_integer_reference(self, case: tuple[int, Decimal]) -> None:
        """quantize(d, n) agrees with the integer reference for n = 0..6 near ties."""
        places, value = case
        self._check(value, places)

    @settings(max_examples=200)
    @given(st.decimals(min_value=-(10**9), max_value=10**9, allow_nan=False, allow_infinity=False), st.integers(0, 10))
    def test_half_up_matches_the_reference_on_any_decimal(self, value: Decimal, places: int) -> None:
        """quantize agrees with the integer reference on arbitrary decimals, not only near ties."""
        self._check(value, places)

    @settings(max_examples=100, deadline=None)
    @given(decimals_near_ties(2))
    def test_formula_round_matches_the_reference(self, value: Decimal) -> None:
        """The formula function round(x, 2) rounds like the reference too."""
        sign, units = half_up_reference(value, 2)
        result = ROUND_2(x=value)
        assert isinstance(result, Decimal)
        assert result == exact(-units if sign else units, 2)

    @settings(max_examples=200)
    @given(st.floats(allow_nan=False, allow_infinity=False))
    def test_a_float_reads_as_its_shortest_repr(self, value: float) -> None:
        """to_decimal(f) == Decimal(repr(f)): the decimal the author wrote, which reads back as f."""
        result = to_decimal(value)
        assert result == Decimal(repr(value))
        assert result.as_tuple() == Decimal(repr(value)).as_tuple()
        assert float(result) == value


# -- 4. monotonicity ---------------------------------------------------------------------------


class TestMonotonicity:
    @settings(max_examples=100, deadline=None)
    @given(piecewise_points(), st.data())
    def test_a_rising_curve_never_falls(self, points: list[tuple[Decimal, Decimal]], data: st.DataObject) -> None:
        """piecewise with increasing x's and non-decreasing y's: a higher x never gives a lower value."""
        text = "piecewise(x, " + ", ".join(f"({literal(x)}, {literal(y)})" for x, y in points) + ")"
        formula = Formula.compile(text, ["x"])
        xs = st.sampled_from([x for x, _ in points]) | st.decimals(min_value=-1200, max_value=1200, places=5)
        low, high = sorted([data.draw(xs), data.draw(xs)])
        with decimal.localcontext(CONTEXT):
            at_low = formula.fast({"x": low})
            at_high = formula.fast({"x": high})
        assert isinstance(at_low, Decimal) and isinstance(at_high, Decimal)
        assert at_low <= at_high, (text, low, at_low, high, at_high)
        assert points[0][1] <= at_low <= points[-1][1]


# -- 5. row order ------------------------------------------------------------------------------


def problem_keys(evaluation: pk.Evaluation) -> Counter[tuple[Any, ...]]:
    return Counter((p.employee_id, p.column, p.message) for p in evaluation.problems)


class TestRowOrder:
    @settings(SLOW, max_examples=60)
    @given(sales_rows(max_size=8).flatmap(lambda rows: st.tuples(st.just(rows), st.permutations(rows))))
    def test_shuffled_rows_give_an_equal_evaluation(self, case: tuple[list[Any], list[Any]]) -> None:
        """Scoring the sales example on shuffled rows gives equal cards in the same order."""
        rows, shuffled = case
        first, second = SALES.evaluate(rows), SALES.evaluate(shuffled)
        assert first == second
        assert [c.employee_id for c in first] == [c.employee_id for c in second]
        assert len(first) == len(rows)

    @settings(SLOW, max_examples=30)
    @given(sales_rows(max_size=8, valid=False).flatmap(lambda rows: st.tuples(st.just(rows), st.permutations(rows))))
    def test_shuffled_rows_with_bad_data_give_the_same_cards_and_problems(
        self, case: tuple[list[Any], list[Any]]
    ) -> None:
        """With errors="collect", shuffling rows changes neither the cards nor which problems are found."""
        rows, shuffled = case
        first, second = SALES.evaluate(rows, errors="collect"), SALES.evaluate(shuffled, errors="collect")
        assert first == second
        assert problem_keys(first) == problem_keys(second)
        assert len(first) + len(first.problems) == len(rows)


# -- 6. fast path == reference path -----------------------------------------------------------


def outcome(run: Any, failure: type[BaseException]) -> tuple[Any, ...]:
    try:
        value = run()
    except failure:
        return ("fails",)
    return ("value", type(value), value, str(value))


class TestFastPath:
    @settings(SLOW, max_examples=250)
    @given(formulas, environments)
    def test_compiled_and_interpreted_formulas_agree(self, formula: tuple[str, str], env: dict[str, Decimal]) -> None:
        """For a formula that compiles, Formula.fast and Formula.interpret give the same value
        (same type, same digits), or both fail: fast with ArithmeticError, interpret with EvalFailure."""
        kind, text = formula
        try:
            compiled = Formula.compile(text, NAMES, kind=kind)  # type: ignore[arg-type]
        except FormulaError:
            reject()
        with decimal.localcontext(CONTEXT):
            fast = outcome(lambda: compiled.fast(env), ArithmeticError)
            reference = outcome(lambda: compiled.interpret(env), EvalFailure)
        assert fast == reference, (text, env)


# -- 7. explanations ---------------------------------------------------------------------------


class TestExplain:
    @settings(SLOW, max_examples=60)
    @given(sales_rows(min_size=1, max_size=4))
    def test_an_explanation_says_what_its_card_says(self, rows: list[dict[str, Any]]) -> None:
        """card.explain() has the card's KPI scores, total, band grade, final grade, multiplier and
        flags, and the rules it shows as fired are exactly card.rules; explaining the row agrees."""
        evaluation = SALES.evaluate(rows)
        by_id = {str(row["employee_id"]).strip(): row for row in rows}
        rounding = SALES.rounding
        for card in evaluation:
            explanation = card.explain()
            assert tuple((k.id, k.score) for k in explanation.kpis) == tuple((k.id, k.score) for k in card.kpis)
            for trace in explanation.kpis:
                assert quantize(trace.raw, rounding.kpi, rounding.mode) == trace.score
            assert explanation.total.total == card.total
            assert quantize(explanation.total.raw, rounding.total, rounding.mode) == card.total
            assert explanation.band_grade == card.band_grade
            assert explanation.grade == card.grade
            assert explanation.multiplier == card.multiplier
            assert explanation.flags == card.flags
            assert tuple(r.id for r in explanation.rules if r.fired) == card.rules
            assert SALES.explain(by_id[card.employee_id]) == explanation


# -- 8. band boundaries ------------------------------------------------------------------------


def boundary_scheme(threshold: Decimal) -> pk.CompiledScheme:
    """One KPI (weight 100%, score = x) rounded to 3 places, total to 2; A from ``threshold``."""
    return Scheme.from_dict(
        {
            "perfkit": 1,
            "id": "boundary",
            "inputs": {"x": {"min": 0, "max": 100}},
            "kpis": [{"id": "k", "weight": "100%", "score": "x"}],
            "rounding": {"kpi": 3, "total": 2, "mode": "half_up"},
            "grades": [{"grade": "A", "min_score": threshold}, {"grade": "B", "min_score": 0}],
        }
    ).compile()


class TestBandBoundary:
    @pytest.mark.parametrize("x", [Decimal("84.995"), "84.995", 84.995, "84.9950"])
    def test_a_total_that_rounds_up_to_85_gets_the_85_band(self, x: object) -> None:
        """84.995 → total 85.00 → the band with min_score 85, on the card and in its explanation."""
        compiled = boundary_scheme(Decimal(85))
        card = compiled.evaluate([{"employee_id": "E1", "x": x}])["E1"]
        assert card.score("k") == Decimal("84.995")
        assert card.total == Decimal("85.00")
        assert str(card.total) == "85.00"
        assert (card.band_grade, card.grade) == ("A", "A")
        explanation = card.explain()
        assert (explanation.band_grade, explanation.band_min_score) == ("A", Decimal(85))

    def test_a_total_that_rounds_down_stays_below(self) -> None:
        """84.994 → total 84.99 → the band below."""
        card = boundary_scheme(Decimal(85)).evaluate([{"employee_id": "E1", "x": "84.994"}])["E1"]
        assert (card.total, card.band_grade) == (Decimal("84.99"), "B")

    @settings(max_examples=60, deadline=None)
    @given(st.integers(1, 10_000))
    def test_every_band_edge_is_reached_by_rounding(self, hundredths: int) -> None:
        """For any edge t (2 places): x = t − 0.005 rounds to t and gets the band; t − 0.006 does not."""
        threshold = exact(hundredths, 2)
        compiled = boundary_scheme(threshold)
        rows = [
            {"employee_id": "up", "x": exact(hundredths * 10 - 5, 3)},
            {"employee_id": "down", "x": exact(hundredths * 10 - 6, 3)},
        ]
        evaluation = compiled.evaluate(rows)
        assert (evaluation["up"].total, evaluation["up"].band_grade) == (threshold, "A")
        assert (evaluation["down"].total, evaluation["down"].band_grade) == (exact(hundredths - 1, 2), "B")


# -- 9. rows are not changed -------------------------------------------------------------------


class TestNoMutation:
    @settings(SLOW, max_examples=60)
    @given(sales_rows(max_size=6, valid=False), st.sampled_from(["raise", "collect"]))
    def test_evaluate_leaves_the_rows_unchanged(self, rows: list[dict[str, Any]], errors: str) -> None:
        """evaluate (raising or collecting) changes no row: same keys, order, values and types."""
        before = copy.deepcopy(rows)
        try:
            SALES.evaluate(rows, errors=errors)  # type: ignore[arg-type]
        except DataError:
            assert errors == "raise"
        assert rows == before
        assert repr(rows) == repr(before)

    @settings(SLOW, max_examples=30)
    @given(sales_row())
    def test_explaining_a_row_leaves_it_unchanged(self, row: dict[str, Any]) -> None:
        """explain(row) changes nothing in the row."""
        before = copy.deepcopy(row)
        SALES.explain(row)
        assert repr(row) == repr(before)


# -- the strategies themselves -------------------------------------------------------------------


class TestStrategies:
    @settings(max_examples=100)
    @given(spelled(fixed_point(-100_000, 100_000, 3), percent=True))
    def test_value_spellings_read_back_as_the_value(self, case: tuple[Decimal, object]) -> None:
        """Each generated spelling of a row value (Decimal, text, int, float, "NN%") reads back as that value."""
        value, spelling = case
        assert to_decimal(spelling) == value

    @settings(max_examples=50)
    @given(weight_units(), weight_units(sums_to_one=False))
    def test_weight_units_sum_as_promised(self, summing: tuple[int, list[int]], other: tuple[int, list[int]]) -> None:
        """weight_units gives units in 0..100% adding up to exactly 100%, or (when asked) to anything else."""
        for (places, units), adds_up in ((summing, True), (other, False)):
            assert all(0 <= u <= 10**places for u in units)
            assert (sum(units) == 10**places) is adds_up
