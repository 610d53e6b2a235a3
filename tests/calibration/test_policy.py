"""Calibration policies: checking a declaration against the grades, and quotas as head counts."""

from __future__ import annotations

import math
from decimal import Decimal
from fractions import Fraction
from pathlib import Path
from typing import Any

import pytest
from calibration.strategies import GRADES, SCALE, SCHEME_TEXT, percents
from hypothesis import given, settings
from hypothesis import strategies as st

import perfkit as pk
from perfkit.apportion import apportion
from perfkit.calibration.policy import Policy, compile_policy, load_policy
from perfkit.errors import SchemeError
from perfkit.scheme import Calibration, QuotaRange

STANDARD = {"S": "10%", "A": "20%", "B": "50%", "C": "15%", "D": "5%"}


def policy(**declaration: Any) -> Policy:
    """A policy compiled against the five-grade scale S A B C D."""
    return compile_policy(Calibration.model_validate(declaration), SCALE)


def refused(**declaration: Any) -> SchemeError:
    """The error a declaration is refused with."""
    with pytest.raises(SchemeError) as caught:
        policy(**declaration)
    return caught.value


def messages(error: SchemeError) -> list[str]:
    return [p.message for p in error.problems]


def percent(units: int) -> str:
    """Tenths of a percent as text: 125 → ``12.5%``."""
    return f"{Decimal(units) / 10}%"


class TestCompile:
    def test_a_single_column_becomes_a_tuple(self) -> None:
        compiled = policy(mode="relative", group_by="department", distribution=STANDARD)
        assert compiled.group_by == ("department",)
        assert compiled.mode == "relative"
        assert [q.key for q in compiled.quotas] == list(GRADES)

    def test_no_group_by_is_one_pool(self) -> None:
        assert policy(distribution={"S": {"max": "10%"}}).group_by == ()

    def test_defaults(self) -> None:
        compiled = policy(distribution={"S": {"max": "10%"}})
        assert compiled.mode == "hybrid"
        assert compiled.apportionment == "largest_remainder"
        assert compiled.ties == "escalate"
        assert compiled.enforcement == "warn"
        assert compiled.boundary_margin == Decimal(1)
        assert compiled.min_pool_size is None and compiled.nested is None

    def test_targets_and_ranges_are_exact_decimals(self) -> None:
        compiled = policy(distribution={"S": "12.5%", "C": {"min": 0.1, "max": "15%"}})
        assert compiled.quota("S").target == Decimal("0.125")
        assert (compiled.quota("C").min, compiled.quota("C").max) == (Decimal("0.1"), Decimal("0.15"))

    def test_a_group_counts_its_grades_best_first(self) -> None:
        compiled = policy(distribution={"A+S": {"max": "30%"}})
        quota = compiled.quota("A+S")
        assert quota.grades == ("S", "A")
        assert quota.key == "A+S"  # as written

    def test_groups_come_before_the_grades_inside_them(self) -> None:
        compiled = policy(distribution={"S": {"max": "10%"}, "S+A": {"max": "30%"}, "C+D": {"min": "5%"}})
        assert [q.key for q in compiled.quotas] == ["S+A", "C+D", "S"]

    def test_unknown_quota_key(self) -> None:
        with pytest.raises(KeyError):
            policy(distribution={"S": {"max": "10%"}}).quota("A")

    @pytest.mark.parametrize(
        ("quota", "text"),
        [
            ("10%", "S 10%"),
            ({"max": "30%"}, "S at most 30%"),
            ({"min": "5%"}, "S at least 5%"),
            ({"min": "5%", "max": "15%"}, "S 5%–15%"),
        ],
    )
    def test_quotas_describe_themselves(self, quota: Any, text: str) -> None:
        assert policy(distribution={"S": quota}).quota("S").describe() == text

    def test_the_declaration_is_kept(self) -> None:
        declaration = Calibration(distribution={"S": QuotaRange(max=Decimal("0.1"))})
        assert compile_policy(declaration, SCALE).declaration is declaration


class TestRefusals:
    def test_unknown_grade_names_the_key(self) -> None:
        error = refused(distribution={"S": "10%", "X": {"max": "5%"}})
        assert error.path == "calibration.distribution.X"
        assert "unknown grade 'X'" in error.message and "S, A, B, C, D" in error.message

    def test_unknown_grade_inside_a_group(self) -> None:
        error = refused(distribution={"S+Z": {"max": "30%"}})
        assert error.path == "calibration.distribution.S+Z"
        assert "'Z'" in error.message

    def test_a_group_naming_a_grade_twice(self) -> None:
        assert "names a grade twice" in refused(distribution={"S+S": {"max": "30%"}}).message

    def test_overlapping_groups(self) -> None:
        error = refused(distribution={"S+A": {"max": "30%"}, "A+B": {"max": "60%"}})
        assert error.path == "calibration.distribution"
        assert "'S+A'" in error.message and "'A+B'" in error.message and "overlap" in error.message

    def test_the_same_grades_twice(self) -> None:
        error = refused(distribution={"S+A": {"max": "30%"}, "A+S": {"max": "40%"}})
        assert "count the same grades" in error.message

    def test_targets_over_100_percent(self) -> None:
        error = refused(distribution={"S": "60%", "A": "50%"})
        assert "the target shares add up to 110%, more than 100%" in messages(error)
        assert {p.to_dict()["path"] for p in error.problems} == {"calibration.distribution"}

    def test_targets_covering_every_grade_must_add_up_to_100_percent(self) -> None:
        error = refused(distribution={**STANDARD, "D": "4%"})
        assert "99%" in error.message and "not 100%" in error.message

    def test_minimums_over_100_percent(self) -> None:
        error = refused(distribution={"S": {"min": "60%"}, "C+D": {"min": "50%"}})
        assert "at least 110%" in error.message

    def test_maximums_under_100_percent(self) -> None:
        error = refused(distribution={"S+A": {"max": "40%"}, "B": {"max": "30%"}, "C+D": {"max": "20%"}})
        assert "at most 90%" in error.message

    def test_relative_needs_a_target_for_every_grade(self) -> None:
        error = refused(mode="relative", distribution={"S": "10%", "A": "20%", "B": {"max": "70%"}})
        assert error.path == "calibration.distribution"
        assert "missing: B, C, D" in error.message

    def test_relative_with_no_distribution(self) -> None:
        assert "missing: S, A, B, C, D" in refused(mode="relative").message

    def test_negative_boundary_margin(self) -> None:
        assert refused(distribution=STANDARD, boundary_margin=-1).path == "calibration.boundary_margin"

    def test_every_problem_is_reported_at_once(self) -> None:
        error = refused(mode="relative", distribution={"X": "10%", "S+A": {"max": "30%"}, "A+B": {"max": "50%"}})
        assert len(error.problems) == 3
        assert {p.path for p in error.problems} == {"calibration.distribution.X", "calibration.distribution"}

    def test_a_range_needs_min_or_max(self) -> None:
        with pytest.raises(ValueError, match="needs min, max or both"):
            QuotaRange()

    def test_a_range_min_above_max(self) -> None:
        with pytest.raises(ValueError, match=r"min \(30%\) is more than max \(10%\)"):
            QuotaRange(min=Decimal("0.3"), max=Decimal("0.1"))


class TestNestedTargets:
    """``S+A`` with ``S`` is declared fine (nested), so both may be targets."""

    def test_a_group_target_around_grade_targets_is_accepted(self) -> None:
        # S 10%, A 20% (S+A 30%), B 50%, C 15%, D 5%: the usual distribution, written with a group.
        compiled = policy(mode="hybrid", distribution={"S+A": "30%", "S": "10%", "B": "50%", "C": "15%", "D": "5%"})
        bounds = compiled.bounds(10)
        assert bounds["S+A"] == (3, 3) and bounds["S"] == (1, 1) and bounds["B"] == (5, 5)

    def test_nested_targets_are_not_added_up_as_if_disjoint(self) -> None:
        compiled = policy(distribution={"S+A": "60%", "S": "50%"})  # S 50%, A 10%
        assert compiled.bounds(10) == {"S+A": (6, 6), "S": (5, 5)}

    def test_targets_inside_a_group_may_not_exceed_it(self) -> None:
        error = refused(distribution={"S+A": "20%", "S": "15%", "A": "10%"})
        assert any("25%" in m and "S+A" in m for m in messages(error))

    def test_targets_covering_a_group_must_add_up_to_it(self) -> None:
        error = refused(distribution={"S+A": "30%", "S": "10%", "A": "10%"})
        assert any("20%" in m and "S+A" in m for m in messages(error))

    def test_relative_mode_with_a_group_target(self) -> None:
        compiled = policy(mode="relative", distribution={"S+A": "30%", **STANDARD})
        bounds = compiled.bounds(7)
        assert bounds["S"][0] + bounds["A"][0] == bounds["S+A"][0]
        assert sum(bounds[g][0] for g in GRADES) == 7

    @settings(max_examples=200)
    @given(top=percents(("S+A", "B", "C", "D")), inner=st.integers(0, 100), size=st.integers(0, 300))
    def test_nested_targets_are_consistent_head_counts(self, top: dict[str, str], inner: int, size: int) -> None:
        """S and A share S+A's head count; S+A, B, C and D share the pool; every grade a target."""
        group = int(top["S+A"][:-1])
        s_share = Fraction(group * inner, 100)  # a share of S+A, as a percent of the pool
        s_text = f"{Decimal(s_share.numerator) / Decimal(s_share.denominator)}%"
        a_text = f"{Decimal(group) - Decimal(s_share.numerator) / Decimal(s_share.denominator)}%"
        distribution = {**top, "S": s_text, "A": a_text}
        compiled = policy(mode="relative", distribution=distribution)
        bounds = compiled.bounds(size)
        assert all(low == high for low, high in bounds.values())
        assert bounds["S"][0] + bounds["A"][0] == bounds["S+A"][0]
        assert bounds["S+A"][0] + sum(bounds[g][0] for g in "BCD") == size
        exact = Fraction(group, 100) * size
        assert math.floor(exact) <= bounds["S+A"][0] <= math.ceil(exact)


class TestBounds:
    def test_docstring_example(self) -> None:
        # 10% of 7 is 0.7 → 1; 20% of 7 is 1.4 → 1; the remaining 70% take 5.
        compiled = policy(distribution={"S": "10%", "A": "20%"})
        assert compiled.bounds(7) == {"S": (1, 1), "A": (1, 1)}

    def test_largest_remainder_by_hand(self) -> None:
        # 10 20 50 15 5 % of 4: 0.4 0.8 2 0.6 0.2 → floors 0 0 2 0 0, two more by remainder: A, C.
        bounds = policy(mode="relative", distribution=STANDARD).bounds(4)
        assert bounds == {"S": (0, 0), "A": (1, 1), "B": (2, 2), "C": (1, 1), "D": (0, 0)}

    @pytest.mark.parametrize(
        ("method", "counts"),
        [
            # 3 17 60 15 5 % of 8 = 0.24 1.36 4.8 1.2 0.4: floors 0 1 4 1 0, then B (0.8) and D (0.4).
            ("largest_remainder", (0, 1, 5, 1, 1)),
            # divisors 1 3 5 7 9: 60 17 20 15 12 8.57 5.67 5.45 win (B B A C B B A B).
            ("sainte_lague", (0, 2, 5, 1, 0)),
            # divisors 1 2 3 ...: 60 30 20 17 15(B, the earlier key) 15 12 10 win (B B B A B C B B).
            ("dhondt", (0, 1, 6, 1, 0)),
        ],
    )
    def test_apportionment_methods_by_hand(self, method: str, counts: tuple[int, ...]) -> None:
        shares = {"S": "3%", "A": "17%", "B": "60%", "C": "15%", "D": "5%"}
        bounds = policy(mode="relative", apportionment=method, distribution=shares).bounds(8)
        assert tuple(bounds[g][0] for g in GRADES) == counts
        assert all(low == high for low, high in bounds.values())

    def test_targets_on_some_grades_leave_the_rest_to_the_others(self) -> None:
        # S 10% of 5 = 0.5 and A 10% = 0.5 with the rest 4: the earlier key, S, takes the remainder.
        assert policy(distribution={"S": "10%", "A": "10%"}).bounds(5) == {"S": (1, 1), "A": (0, 0)}

    def test_ranges_round_inwards(self) -> None:
        # min 10% of 7 = 0.7 → 1; max 30% of 7 = 2.1 → 2
        bounds = policy(
            distribution={"S+A": {"max": "30%"}, "C": {"min": "10%"}, "B": {"min": "10%", "max": "50%"}}
        ).bounds(7)
        assert bounds == {"S+A": (0, 2), "C": (1, 7), "B": (1, 3)}

    def test_an_empty_pool(self) -> None:
        bounds = policy(distribution={"S": "10%", "C": {"min": "10%"}}).bounds(0)
        assert bounds == {"S": (0, 0), "C": (0, 0)}

    def test_bounds_are_a_copy(self) -> None:
        compiled = policy(distribution={"S": "10%"})
        compiled.bounds(10)["S"] = (5, 5)
        assert compiled.bounds(10) == {"S": (1, 1)}

    @settings(max_examples=200)
    @given(
        shares=percents(),
        size=st.integers(0, 400),
        method=st.sampled_from(["largest_remainder", "sainte_lague", "dhondt"]),
    )
    def test_relative_targets_sum_to_the_pool_size(self, shares: dict[str, str], size: int, method: str) -> None:
        bounds = policy(mode="relative", apportionment=method, distribution=shares).bounds(size)
        assert sum(bounds[g][0] for g in GRADES) == size
        assert all(low == high for low, high in bounds.values())
        if size:
            assert {g: bounds[g][0] for g in GRADES} == apportion(size, shares, method=method)  # type: ignore[arg-type]

    @settings(max_examples=200)
    @given(shares=percents(), size=st.integers(1, 400))
    def test_largest_remainder_stays_within_a_head_of_the_exact_share(self, shares: dict[str, str], size: int) -> None:
        bounds = policy(mode="relative", distribution=shares).bounds(size)
        for grade, share in shares.items():
            exact = Fraction(int(share[:-1]), 100) * size
            assert math.floor(exact) <= bounds[grade][0] <= math.ceil(exact)

    @settings(max_examples=200)
    @given(
        targets=st.lists(st.integers(0, 300), min_size=1, max_size=3).filter(lambda t: sum(t) <= 1000),
        size=st.integers(0, 300),
    )
    def test_partial_targets_never_take_more_than_the_pool(self, targets: list[int], size: int) -> None:
        distribution = {grade: percent(units) for grade, units in zip(GRADES, targets)}
        bounds = policy(distribution=distribution).bounds(size)
        assert sum(low for low, _ in bounds.values()) <= size
        assert all(low == high for low, high in bounds.values())
        for grade, units in zip(GRADES, targets):
            exact = Fraction(units, 1000) * size
            assert math.floor(exact) <= bounds[grade][0] <= math.ceil(exact)

    @settings(max_examples=200)
    @given(
        low=st.integers(0, 1000),
        spread=st.integers(0, 1000),
        size=st.integers(0, 300),
        group=st.sampled_from(["S", "S+A", "C+D"]),
    )
    def test_ranges_are_ceil_of_min_to_floor_of_max(self, low: int, spread: int, size: int, group: str) -> None:
        high = min(1000, low + spread)
        compiled = policy(distribution={group: {"min": percent(low), "max": percent(high)}})
        assert compiled.bounds(size)[group] == (
            math.ceil(Fraction(low, 1000) * size),
            math.floor(Fraction(high, 1000) * size),
        )

    @settings(max_examples=100)
    @given(high=st.integers(0, 1000), size=st.integers(0, 300))
    def test_an_open_range_runs_from_nobody_or_to_everybody(self, high: int, size: int) -> None:
        compiled = policy(distribution={"S": {"max": percent(high)}, "D": {"min": percent(1000 - high)}})
        assert compiled.bounds(size)["S"][0] == 0
        assert compiled.bounds(size)["D"][1] == size


class TestRelaxedBounds:
    def test_targets_within_a_head(self) -> None:
        # of 5: S 0.5, A 1, B 2.5, C 0.75, D 0.25
        relaxed = policy(mode="relative", distribution=STANDARD).relaxed_bounds(5)
        assert relaxed == {"S": (0, 1), "A": (1, 1), "B": (2, 3), "C": (0, 1), "D": (0, 1)}

    def test_ranges_widen_outwards_and_groups_do_not_apply(self) -> None:
        relaxed = policy(distribution={"S+A": {"max": "30%"}, "C": {"min": "10%", "max": "25%"}}).relaxed_bounds(6)
        assert relaxed == {"C": (0, 2)}  # 0.6 → 0, 1.5 → 2

    @settings(max_examples=100)
    @given(shares=percents(), size=st.integers(0, 200))
    def test_relaxed_bounds_hold_the_exact_share(self, shares: dict[str, str], size: int) -> None:
        relaxed = policy(mode="relative", distribution=shares).relaxed_bounds(size)
        for grade, share in shares.items():
            exact = Fraction(int(share[:-1]), 100) * size
            assert relaxed[grade] == (math.floor(exact), math.ceil(exact))


class TestSchemeSection:
    """A scheme's ``calibration:`` section is checked when the scheme is loaded."""

    def load(self, section: str) -> pk.Scheme:
        return pk.Scheme.from_yaml(SCHEME_TEXT + "calibration:\n" + section)

    def test_a_good_section_loads(self) -> None:
        scheme = self.load(
            "  mode: relative\n  group_by: department\n  distribution: {S: 10%, A: 20%, B: 50%, C: 15%, D: 5%}\n"
        )
        assert scheme.calibration is not None and scheme.calibration.mode == "relative"

    def test_an_unknown_grade_names_its_field_and_line(self) -> None:
        with pytest.raises(SchemeError) as caught:
            self.load("  distribution: {S: 10%, X: 5%}\n")
        (problem,) = caught.value.problems
        assert isinstance(problem, SchemeError)
        assert problem.path == "calibration.distribution.X"
        assert problem.line is not None

    def test_overlapping_groups_in_a_scheme(self) -> None:
        with pytest.raises(SchemeError, match="overlap") as caught:
            self.load("  distribution: {S+A: {max: 30%}, A+B: {max: 50%}}\n")
        assert caught.value.problems[0].to_dict()["path"] == "calibration.distribution"

    def test_relative_without_every_grade_in_a_scheme(self) -> None:
        with pytest.raises(SchemeError, match="missing: B, C, D"):
            self.load("  mode: relative\n  distribution: {S: 10%, A: 20%}\n")

    def test_an_unknown_mode(self) -> None:
        with pytest.raises(SchemeError) as caught:
            self.load("  mode: bogus\n")
        assert caught.value.problems[0].to_dict()["path"] == "calibration.mode"

    def test_a_range_with_min_above_max(self) -> None:
        """One SchemeError at calibration.distribution.S saying what is wrong (not a raw ValueError)."""
        with pytest.raises(SchemeError) as caught:
            self.load("  distribution: {S: {min: 30%, max: 10%}}\n")
        paths = {p.to_dict().get("path") for p in caught.value.problems}
        assert paths == {"calibration.distribution.S"}
        assert "min (30%) is more than max (10%)" in str(caught.value)


class TestLoadPolicy:
    def test_from_a_mapping(self) -> None:
        compiled = load_policy({"mode": "relative", "distribution": STANDARD}, SCALE)
        assert compiled == policy(mode="relative", distribution=STANDARD)

    def test_from_a_scheme_like_file(self, tmp_path: Path) -> None:
        path = tmp_path / "policy.yaml"
        path.write_text(
            "calibration:\n  group_by: [department, level]\n  distribution: {S: {max: 10%}}\n", encoding="utf-8"
        )
        compiled = load_policy(path, SCALE)
        assert compiled.group_by == ("department", "level")
        assert compiled.bounds(20) == {"S": (0, 2)}

    def test_from_a_bare_json_file(self, tmp_path: Path) -> None:
        path = tmp_path / "policy.json"
        path.write_text(
            '{"mode": "relative", "distribution": {"S": "10%", "A": "20%", "B": "50%", "C": 0.15, "D": 0.05}}'
        )
        assert load_policy(path, SCALE).bounds(20)["C"] == (3, 3)

    def test_a_missing_file(self, tmp_path: Path) -> None:
        with pytest.raises(SchemeError, match="cannot read the policy") as caught:
            load_policy(tmp_path / "nowhere.yaml", SCALE)
        assert caught.value.source == str(tmp_path / "nowhere.yaml")
        assert caught.value.message == "cannot read the policy: file not found"

    def test_a_file_that_is_not_text(self, tmp_path: Path) -> None:
        path = tmp_path / "policy.yaml"
        path.write_bytes(b"mode: relative\n\xff\xfe")
        with pytest.raises(SchemeError, match="cannot read the policy: the file is not UTF-8 text"):
            load_policy(path, SCALE)

    def test_a_byte_order_mark_is_read_past(self, tmp_path: Path) -> None:
        path = tmp_path / "policy.yaml"
        path.write_text('{"mode": "relative", "distribution": {"S": "10%", "A": "20%", "B": "50%", "C": 0.15, "D": 0.05}}',
                        encoding="utf-8-sig")
        assert load_policy(path, SCALE).bounds(20)["C"] == (3, 3)

    def test_check_errors_name_the_file(self, tmp_path: Path) -> None:
        path = tmp_path / "policy.yaml"
        path.write_text("calibration:\n  mode: relative\n  distribution: {S: 10%, A: 20%}\n", encoding="utf-8")
        with pytest.raises(SchemeError, match="missing: B, C, D") as caught:
            load_policy(path, SCALE)
        assert caught.value.source == str(path)
        assert caught.value.path == "calibration.distribution"

    def test_a_problem_in_a_file_names_its_line(self, tmp_path: Path) -> None:
        path = tmp_path / "policy.yaml"
        path.write_text("mode: hybrid\ndistribution:\n  S: 10%\n  Q: 50%\n", encoding="utf-8")
        with pytest.raises(SchemeError) as caught:
            load_policy(path, SCALE)
        assert (caught.value.source, caught.value.line, caught.value.path) == (str(path), 4, "calibration.distribution.Q")

    def test_a_shape_problem_under_a_calibration_key_names_its_line(self, tmp_path: Path) -> None:
        path = tmp_path / "policy.yaml"
        path.write_text("calibration:\n  mode: hybrid\n  ties: sometimes\n", encoding="utf-8")
        with pytest.raises(SchemeError) as caught:
            load_policy(path, SCALE)
        assert (caught.value.line, caught.value.path) == (3, "calibration.ties")

    def test_shape_errors_use_the_same_field_paths_as_check_errors(self, tmp_path: Path) -> None:
        """In the same file, a bad mode sits at calibration.mode as a bad quota sits at calibration.distribution."""
        path = tmp_path / "policy.yaml"
        path.write_text("calibration:\n  mode: nope\n", encoding="utf-8")
        with pytest.raises(SchemeError) as caught:
            load_policy(path, SCALE)
        assert caught.value.source == str(path)
        assert caught.value.path == "calibration.mode"

    def test_a_bad_range_is_one_problem_at_its_key(self) -> None:
        """No pydantic internals (``function-after[_ordered(), QuotaRange]``) in the path, no union noise."""
        with pytest.raises(SchemeError) as caught:
            load_policy({"distribution": {"S": {"min": "30%", "max": "10%"}}}, SCALE)
        problems = caught.value.problems
        assert len(problems) == 1
        assert isinstance(problems[0], SchemeError)
        assert problems[0].path is not None and problems[0].path.endswith("distribution.S")
        assert "min (30%) is more than max (10%)" in problems[0].message

    def test_unknown_fields_are_refused(self) -> None:
        with pytest.raises(SchemeError, match="extra"):
            load_policy({"distribution": STANDARD, "extra": 1}, SCALE)
