"""Exact apportionment: counts sum to the total, follow the shares, and never depend on luck."""

from __future__ import annotations

from decimal import Decimal
from fractions import Fraction

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from perfkit.apportion import Method, apportion, split_amount

METHODS: list[Method] = ["largest_remainder", "sainte_lague", "dhondt"]

shares_st = st.lists(st.integers(0, 1000), min_size=1, max_size=8).filter(any)


class TestApportion:
    def test_the_issues_example(self) -> None:
        """20/70/10 of 8 people: 2, 5, 1 (naive rounding gives 2 + 6 + 1 = 9)."""
        assert apportion(8, {"S+A": "20%", "B": "70%", "C+D": "10%"}) == {"S+A": 2, "B": 5, "C+D": 1}

    def test_ties_go_to_the_earlier_share(self) -> None:
        assert apportion(1, {"x": 1, "y": 1}) == {"x": 1, "y": 0}
        assert apportion(1, {"y": 1, "x": 1}) == {"y": 1, "x": 0}

    @pytest.mark.parametrize(
        ("method", "expected"),
        [
            ("largest_remainder", {"a": 5, "b": 3, "c": 2}),
            ("sainte_lague", {"a": 5, "b": 3, "c": 2}),
            ("dhondt", {"a": 6, "b": 3, "c": 1}),
        ],
    )
    def test_methods_on_a_known_case(self, method: Method, expected: dict[str, int]) -> None:
        """Shares 53/30/17 of 10 (a textbook case where D'Hondt favours the largest)."""
        assert apportion(10, {"a": 53, "b": 30, "c": 17}, method=method) == expected

    @pytest.mark.parametrize("bad", [-1, 2.5, True])
    def test_bad_totals(self, bad: object) -> None:
        with pytest.raises(ValueError, match="whole number"):
            apportion(bad, {"a": 1})  # type: ignore[arg-type]

    @pytest.mark.parametrize(
        ("shares", "message"), [({}, "no shares"), ({"a": 0}, "every share is 0"), ({"a": -1}, "negative"), ({"a": "x"}, "not a number")]
    )
    def test_bad_shares(self, shares: dict[str, object], message: str) -> None:
        with pytest.raises(ValueError, match=message):
            apportion(3, shares)

    def test_unknown_method(self) -> None:
        with pytest.raises(ValueError, match="unknown method"):
            apportion(3, {"a": 1}, method="nearest")  # type: ignore[arg-type]


class TestProperties:
    @settings(max_examples=200, deadline=None)
    @given(st.integers(0, 200), shares_st, st.sampled_from(METHODS))
    def test_counts_sum_to_the_total(self, total: int, shares: list[int], method: Method) -> None:
        counts = apportion(total, dict(enumerate(shares)), method=method)
        assert sum(counts.values()) == total and all(c >= 0 for c in counts.values())

    @settings(max_examples=200, deadline=None)
    @given(st.integers(0, 200), shares_st)
    def test_largest_remainder_stays_within_one_of_the_quota(self, total: int, shares: list[int]) -> None:
        counts = apportion(total, dict(enumerate(shares)))
        whole = sum(shares)
        for key, share in enumerate(shares):
            quota = Fraction(total * share, whole)
            assert quota - 1 < counts[key] < quota + 1

    @settings(max_examples=200, deadline=None)
    @given(st.integers(0, 200), shares_st, st.sampled_from(METHODS))
    def test_a_zero_share_gets_nothing_and_a_larger_share_never_gets_less(
        self, total: int, shares: list[int], method: Method
    ) -> None:
        counts = apportion(total, dict(enumerate(shares)), method=method)
        for i, a in enumerate(shares):
            if a == 0:
                assert counts[i] == 0
            for j, b in enumerate(shares):
                if a > b:
                    assert counts[i] >= counts[j]


class TestSplitAmount:
    def test_a_target_split_at_ten_thousand_yuan(self) -> None:
        parts = split_amount(Decimal("50000000"), {"east": 3, "south": 2, "north": 2}, unit=Decimal("10000"))
        assert sum(parts.values()) == Decimal("50000000")
        assert all(part % Decimal("10000") == 0 for part in parts.values())

    def test_an_amount_that_is_not_a_whole_number_of_units(self) -> None:
        with pytest.raises(ValueError, match="not a whole number of units"):
            split_amount(Decimal("50000003"), {"a": 1, "b": 1}, unit=Decimal("10000"))

    @settings(max_examples=100, deadline=None)
    @given(st.integers(0, 10**9), shares_st, st.sampled_from(["1", "0.01", "10000"]))
    def test_parts_always_sum_exactly(self, units: int, shares: list[int], unit: str) -> None:
        amount = Decimal(units) * Decimal(unit)
        parts = split_amount(amount, dict(enumerate(shares)), unit=Decimal(unit))
        assert sum(parts.values()) == amount


class TestLimits:
    def test_highest_averages_refuse_huge_totals_instead_of_hanging(self) -> None:
        with pytest.raises(ValueError, match="use largest_remainder"):
            apportion(10**9, {"a": 1, "b": 2}, method="dhondt")

    def test_largest_remainder_handles_huge_totals(self) -> None:
        assert apportion(10**12, {"a": 1, "b": 2}) == {"a": 333333333333, "b": 666666666667}
