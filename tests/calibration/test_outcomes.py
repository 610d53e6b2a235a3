"""Outcomes: grade → multiplier → bonus, and bonuses shared exactly from a pool."""

from __future__ import annotations

import random
from decimal import Decimal
from fractions import Fraction

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from perfkit.calibration.outcomes import BonusResult, bonuses, pool_bonuses
from perfkit.calibration.scale import Grade, GradeScale
from perfkit.errors import CalibrationError

SCALE = GradeScale(
    (
        Grade("S", Decimal(95), Decimal("1.5")),
        Grade("A", Decimal(85), Decimal("1.2")),
        Grade("B", Decimal(70), Decimal("1.0")),
        Grade("C", Decimal(60), Decimal("0.5")),
        Grade("D", None, Decimal(0)),
    )
)
NO_MULTIPLIER = GradeScale((Grade("A", Decimal(80), Decimal("1.2")), Grade("B", None)))


class TestBonuses:
    def test_base_times_multiplier(self) -> None:
        result = bonuses({"1001": "S", "1002": "B", "1003": "D"}, {"1001": 10000, "1002": "8000", "1003": 5000}, SCALE)
        assert result.amounts == {"1001": Decimal("15000.00"), "1002": Decimal("8000.00"), "1003": Decimal("0.00")}
        assert result.total == Decimal("23000.00")
        assert result.pool is None

    def test_rounds_half_up_by_default(self) -> None:
        """1000.005 × 1.0 sits exactly on a half cent: half-up goes up, half-even to the even cent."""
        grades, base = {"1": "B"}, {"1": "1000.005"}
        assert bonuses(grades, base, SCALE)["1"].amount == Decimal("1000.01")
        assert bonuses(grades, base, SCALE, rounding="half_even")["1"].amount == Decimal("1000.00")

    def test_float_bases_are_read_as_written(self) -> None:
        """1000.1 × 1.5 is 1500.15 exactly; through binary floats it would be 1500.1499… and round down."""
        assert bonuses({"1": "S"}, {"1": 1000.1}, SCALE)["1"].amount == Decimal("1500.15")

    def test_department_factor_multiplies(self) -> None:
        result = bonuses(
            {"1": "A", "2": "A"},
            {"1": 10000, "2": 10000},
            SCALE,
            department_of={"1": "销售", "2": "研发"},
            department_factor={"销售": "1.1", "研发": Decimal("0.9")},
        )
        assert result["1"].amount == Decimal("13200.00")
        assert result["2"].amount == Decimal("10800.00")
        assert result["1"].department_factor == Decimal("1.1")

    def test_departments_without_factors_change_nothing(self) -> None:
        result = bonuses({"1": "A"}, {"1": 100}, SCALE, department_of={"1": "销售"})
        assert result["1"].amount == Decimal("120.00")
        assert result["1"].department_factor is None

    def test_ineligible_people_get_zero_and_keep_the_reason(self) -> None:
        result = bonuses({"1": "S", "2": "S"}, {"1": 100, "2": 100}, SCALE, ineligible={"2": "安全一票否决"})
        assert result["2"].amount == Decimal("0.00")
        assert result["2"].ineligible_reason == "安全一票否决"
        assert not result["2"].eligible
        assert result["1"].eligible
        assert result.total == Decimal("150.00")

    @pytest.mark.parametrize(
        ("quantum", "expected"),
        [
            (Decimal("0.01"), Decimal("1234.57")),
            ("1", Decimal(1235)),
            (100, Decimal(1200)),
            ("0.1", Decimal("1234.6")),
        ],
    )
    def test_quantum_is_any_power_of_ten(self, quantum: object, expected: Decimal) -> None:
        amount = bonuses({"1": "B"}, {"1": "1234.567"}, SCALE, quantum=quantum)["1"].amount
        assert amount == expected
        assert amount.as_tuple().exponent == expected.as_tuple().exponent  # 1200, not 1.2E+3

    def test_lines_are_sorted_and_looked_up_by_id(self) -> None:
        result = bonuses({"3": "B", "1": "A", "2": "C"}, {"1": 1, "2": 1, "3": 1}, SCALE)
        assert [line.employee_id for line in result] == ["1", "2", "3"]
        assert result["2"].grade == "C"
        assert "2" in result and "9" not in result
        assert len(result) == 3
        with pytest.raises(KeyError, match="'9'"):
            result["9"]

    def test_inputs_are_not_changed(self) -> None:
        grades, base = {"2": "A", "1": "B"}, {"1": 10, "2": 20}
        bonuses(grades, base, SCALE, ineligible={"1": "x"})
        assert grades == {"2": "A", "1": "B"} and base == {"1": 10, "2": 20}

    def test_records_and_text(self) -> None:
        result = bonuses({"1001": "A", "1002": "B"}, {"1001": 20000, "1002": 10000}, SCALE, ineligible={"1002": "违纪"})
        assert result.to_records() == [
            {
                "employee_id": "1001",
                "grade": "A",
                "base": Decimal(20000),
                "multiplier": Decimal("1.2"),
                "department_factor": None,
                "amount": Decimal("24000.00"),
                "ineligible_reason": None,
            },
            {
                "employee_id": "1002",
                "grade": "B",
                "base": Decimal(10000),
                "multiplier": Decimal("1.0"),
                "department_factor": None,
                "amount": Decimal("0.00"),
                "ineligible_reason": "违纪",
            },
        ]
        lines = result.to_text().splitlines()
        assert lines[0].split() == ["employee", "grade", "base", "multiplier", "factor", "amount", "note"]
        assert lines[1].split() == ["1001", "A", "20,000", "1.2", "-", "24,000.00"]
        assert lines[2].split() == ["1002", "B", "10,000", "1", "-", "0.00", "ineligible:", "违纪"]
        assert lines[3].split() == ["total", "24,000.00"]


class TestBonusErrors:
    def test_every_problem_is_reported_at_once(self) -> None:
        with pytest.raises(CalibrationError) as caught:
            bonuses({"1": "X", "2": "B", "3": "A"}, {"1": 10, "3": "lots"}, NO_MULTIPLIER)
        problems = caught.value.problems
        found = {(p.employee_id, p.message.split(" ")[0]) for p in problems if isinstance(p, CalibrationError)}
        assert found == {("1", "grade"), ("2", "grade"), ("2", "no"), ("3", "bad")}
        text = str(caught.value)
        assert "employee '1': grade 'X' is not in the scale" in text
        assert "employee '2': grade 'B' has no multiplier" in text
        assert "employee '2': no base amount" in text
        assert "employee '3': bad base amount" in text

    def test_a_single_problem_is_the_error_itself(self) -> None:
        with pytest.raises(CalibrationError, match="no base amount") as caught:
            bonuses({"1": "A", "2": "A"}, {"1": 10}, SCALE)
        assert caught.value.employee_id == "2"

    def test_department_without_a_factor(self) -> None:
        with pytest.raises(CalibrationError, match="department '后勤' has no factor") as caught:
            bonuses({"1": "A"}, {"1": 1}, SCALE, department_of={"1": "后勤"}, department_factor={"销售": 1})
        assert caught.value.employee_id == "1"

    def test_person_without_a_department_when_factors_are_given(self) -> None:
        with pytest.raises(CalibrationError, match="no department"):
            bonuses({"1": "A"}, {"1": 1}, SCALE, department_of={}, department_factor={"销售": 1})

    def test_factors_need_departments(self) -> None:
        with pytest.raises(CalibrationError, match="department_of"):
            bonuses({"1": "A"}, {"1": 1}, SCALE, department_factor={"销售": 1})

    def test_bad_factor_is_named_by_department(self) -> None:
        with pytest.raises(CalibrationError, match="department '销售'"):
            bonuses({"1": "A"}, {"1": 1}, SCALE, department_of={"1": "销售"}, department_factor={"销售": "-0.5"})

    def test_negative_base(self) -> None:
        with pytest.raises(CalibrationError, match="negative"):
            bonuses({"1": "A"}, {"1": -5}, SCALE)

    def test_ineligible_ids_must_be_graded(self) -> None:
        """A misspelt id in the veto list must not let the vetoed person through silently."""
        with pytest.raises(CalibrationError, match="1O01"):
            bonuses({"1001": "A"}, {"1001": 1}, SCALE, ineligible={"1O01": "veto"})

    @pytest.mark.parametrize("quantum", [Decimal("0.05"), "-0.01", 0, "cent", Decimal("0.02")])
    def test_quantum_must_be_a_power_of_ten(self, quantum: object) -> None:
        with pytest.raises(CalibrationError, match="quantum"):
            bonuses({"1": "A"}, {"1": 1}, SCALE, quantum=quantum)

    def test_unknown_rounding_mode(self) -> None:
        with pytest.raises(CalibrationError, match="rounding mode 'nearest'"):
            bonuses({"1": "A"}, {"1": 1}, SCALE, rounding="nearest")

    def test_errors_are_value_errors_too(self) -> None:
        with pytest.raises(ValueError):
            bonuses({"1": "Z"}, {"1": 1}, SCALE)


class TestPoolBonuses:
    def test_a_pool_of_100000_shared_to_the_cent(self) -> None:
        """Three equal raw amounts: 33,333.33… each; the odd cent goes to the smallest id."""
        result = pool_bonuses({"1": "B", "2": "B", "3": "B"}, dict.fromkeys("123", 10000), SCALE, "100000")
        assert result.amounts == {"1": Decimal("33333.34"), "2": Decimal("33333.33"), "3": Decimal("33333.33")}
        assert result.total == result.pool == Decimal("100000.00")

    def test_shares_follow_the_raw_amounts(self) -> None:
        """Raw 15,000 : 12,000 : 10,000 : 5,000 over a 84,000 pool is exactly double."""
        grades = {"1": "S", "2": "A", "3": "B", "4": "C"}
        result = pool_bonuses(grades, dict.fromkeys(grades, 10000), SCALE, 84000)
        assert result.amounts == {
            "1": Decimal("30000.00"),
            "2": Decimal("24000.00"),
            "3": Decimal("20000.00"),
            "4": Decimal("10000.00"),
        }

    def test_ineligible_people_take_no_share(self) -> None:
        grades = {"1": "B", "2": "B", "3": "B"}
        result = pool_bonuses(grades, dict.fromkeys(grades, 1), SCALE, 90, ineligible={"2": "veto"})
        assert result.amounts == {"1": Decimal("45.00"), "2": Decimal("0.00"), "3": Decimal("45.00")}
        assert result["2"].ineligible_reason == "veto"

    def test_zero_multiplier_gets_nothing(self) -> None:
        grades = {"1": "B", "2": "D", "3": "B"}
        result = pool_bonuses(grades, dict.fromkeys(grades, 1), SCALE, "0.03")
        assert result["2"].amount == Decimal("0.00")
        assert result.total == Decimal("0.03")

    def test_a_zero_pool_gives_zeros(self) -> None:
        result = pool_bonuses({"1": "D"}, {"1": 1}, SCALE, 0)
        assert result.amounts == {"1": Decimal("0.00")} and result.pool == Decimal("0.00")

    def test_whole_yuan_quantum(self) -> None:
        grades = {"1": "B", "2": "B", "3": "B"}
        result = pool_bonuses(grades, dict.fromkeys(grades, 1), SCALE, 100, quantum=1)
        assert result.amounts == {"1": Decimal(34), "2": Decimal(33), "3": Decimal(33)}

    def test_department_factors_count_in_the_proportion(self) -> None:
        grades = {"1": "B", "2": "B"}
        result = pool_bonuses(
            grades,
            dict.fromkeys(grades, 1),
            SCALE,
            300,
            department_of={"1": "x", "2": "y"},
            department_factor={"x": 2, "y": 1},
        )
        assert result.amounts == {"1": Decimal("200.00"), "2": Decimal("100.00")}

    def test_a_pool_that_is_not_whole_cents(self) -> None:
        with pytest.raises(CalibrationError, match=r"100000\.005 is not a whole number of 0\.01"):
            pool_bonuses({"1": "A"}, {"1": 1}, SCALE, "100000.005")

    def test_a_pool_that_is_not_whole_yuan(self) -> None:
        with pytest.raises(CalibrationError, match="whole number of 1"):
            pool_bonuses({"1": "A"}, {"1": 1}, SCALE, "10.50", quantum=1)

    @pytest.mark.parametrize("pool", ["-1", "much", None])
    def test_bad_pools(self, pool: object) -> None:
        with pytest.raises(CalibrationError, match="pool"):
            pool_bonuses({"1": "A"}, {"1": 1}, SCALE, pool)

    def test_all_raw_amounts_zero(self) -> None:
        with pytest.raises(CalibrationError, match="no proportion"):
            pool_bonuses({"1": "D", "2": "A"}, {"1": 1, "2": 1}, SCALE, 100, ineligible={"2": "veto"})

    def test_problems_with_people_are_reported(self) -> None:
        with pytest.raises(CalibrationError, match="no base amount"):
            pool_bonuses({"1": "A"}, {}, SCALE, 100)


# -- properties --------------------------------------------------------------------------------

GRADES = SCALE.names
bases = st.integers(0, 10**7).map(lambda cents: Decimal(cents).scaleb(-2))
people = st.dictionaries(
    st.integers(1000, 1200).map(str),
    st.tuples(st.sampled_from(GRADES), bases, st.sampled_from(["1", "0.8", "1.25"])),
    min_size=1,
    max_size=25,
)
pools = st.integers(0, 10**9).map(lambda cents: Decimal(cents).scaleb(-2))


def split(
    found: dict[str, tuple[str, Decimal, str]],
) -> tuple[dict[str, str], dict[str, Decimal], dict[str, str], dict[str, str]]:
    """grades, bases, department_of, department_factor (each person in a department named after their factor)."""
    grades = {e: g for e, (g, _, _) in found.items()}
    base = {e: b for e, (_, b, _) in found.items()}
    department_of = {e: f"d{f}" for e, (_, _, f) in found.items()}
    factors = {f"d{f}": f for f in ("1", "0.8", "1.25")}
    return grades, base, department_of, factors


def raw(result: BonusResult, employee_id: str) -> Fraction:
    line = result[employee_id]
    factor = line.department_factor if line.department_factor is not None else Decimal(1)
    return Fraction(line.base) * Fraction(line.multiplier) * Fraction(factor)


class TestPoolProperties:
    @settings(max_examples=200, deadline=None)
    @given(people, pools, st.data())
    def test_sums_exactly_to_the_pool(
        self, found: dict[str, tuple[str, Decimal, str]], pool: Decimal, data: st.DataObject
    ) -> None:
        grades, base, department_of, factors = split(found)
        vetoed = data.draw(st.sets(st.sampled_from(sorted(grades))))
        ineligible = dict.fromkeys(vetoed, "veto")
        try:
            result = pool_bonuses(
                grades, base, SCALE, pool, department_of=department_of, department_factor=factors, ineligible=ineligible
            )
        except CalibrationError as exc:  # only when there is nothing to follow
            assert "no proportion" in str(exc)
            assert pool > 0
            assert all(raw_amount == 0 for e, raw_amount in self._raws(found).items() if e not in vetoed)
            return
        assert result.total == pool
        assert sum(line.amount for line in result.lines) == pool
        assert all(result[e].amount == 0 for e in vetoed)

    @settings(max_examples=200, deadline=None)
    @given(people, pools)
    def test_each_amount_is_within_a_cent_of_its_exact_share(
        self, found: dict[str, tuple[str, Decimal, str]], pool: Decimal
    ) -> None:
        grades, base, department_of, factors = split(found)
        raws = self._raws(found)
        if not any(raws.values()):
            return
        result = pool_bonuses(grades, base, SCALE, pool, department_of=department_of, department_factor=factors)
        whole = sum(raws.values())
        for employee_id, amount in result.amounts.items():
            exact = Fraction(pool) * raws[employee_id] / whole
            assert abs(Fraction(amount) - exact) < Fraction(1, 100)

    @settings(max_examples=200, deadline=None)
    @given(people, pools)
    def test_a_larger_raw_amount_never_gets_less(
        self, found: dict[str, tuple[str, Decimal, str]], pool: Decimal
    ) -> None:
        """Larger raw amount → at least as much; equal raw amounts → at most one cent apart."""
        grades, base, department_of, factors = split(found)
        raws = self._raws(found)
        if not any(raws.values()):
            return
        result = pool_bonuses(grades, base, SCALE, pool, department_of=department_of, department_factor=factors)
        for a in grades:
            for b in grades:
                if raws[a] > raws[b]:
                    assert result[a].amount >= result[b].amount
                elif raws[a] == raws[b]:
                    assert abs(result[a].amount - result[b].amount) <= Decimal("0.01")

    @settings(max_examples=200, deadline=None)
    @given(bases.filter(bool), st.sampled_from(["1", "0.8", "1.25"]), people, pools)
    def test_a_better_grade_with_the_same_base_and_factor_never_gets_less(
        self, shared_base: Decimal, factor: str, others: dict[str, tuple[str, Decimal, str]], pool: Decimal
    ) -> None:
        """Two people alike but for the grade: the higher multiplier gets at least as much, whoever has the smaller id."""
        found = dict(others)
        found["0001"] = ("S", shared_base, factor)
        found["0002"] = ("A", shared_base, factor)
        found["9999"] = ("S", shared_base, factor)
        grades, base, department_of, factors = split(found)
        result = pool_bonuses(grades, base, SCALE, pool, department_of=department_of, department_factor=factors)
        assert result["0001"].amount >= result["0002"].amount
        assert result["9999"].amount >= result["0002"].amount

    @settings(max_examples=100, deadline=None)
    @given(people, pools, st.randoms(use_true_random=False))
    def test_input_order_does_not_matter(
        self, found: dict[str, tuple[str, Decimal, str]], pool: Decimal, rng: random.Random
    ) -> None:
        grades, base, department_of, factors = split(found)
        if not any(self._raws(found).values()):
            return
        order = list(grades)
        rng.shuffle(order)
        shuffled = {e: grades[e] for e in order}
        reversed_base = dict(reversed(list(base.items())))
        first = pool_bonuses(grades, base, SCALE, pool, department_of=department_of, department_factor=factors)
        second = pool_bonuses(
            shuffled, reversed_base, SCALE, pool, department_of=department_of, department_factor=factors
        )
        assert first == second
        assert first.to_text() == second.to_text()

    @staticmethod
    def _raws(found: dict[str, tuple[str, Decimal, str]]) -> dict[str, Fraction]:
        multipliers = {g.name: g.multiplier for g in SCALE.grades}
        return {e: Fraction(b) * Fraction(multipliers[g] or 0) * Fraction(Decimal(f)) for e, (g, b, f) in found.items()}


class TestBonusProperties:
    @settings(max_examples=200, deadline=None)
    @given(bases, st.sampled_from(GRADES), st.sampled_from(GRADES), st.sampled_from(["1", "0.8", "1.25"]))
    def test_a_better_grade_never_gets_less(self, shared_base: Decimal, g1: str, g2: str, factor: str) -> None:
        found = {"1": (g1, shared_base, factor), "2": (g2, shared_base, factor)}
        grades, base, department_of, factors = split(found)
        result = bonuses(grades, base, SCALE, department_of=department_of, department_factor=factors)
        better, worse = ("1", "2") if SCALE.rank(g1) <= SCALE.rank(g2) else ("2", "1")
        assert result[better].amount >= result[worse].amount

    @settings(max_examples=200, deadline=None)
    @given(people)
    def test_amount_is_the_rounded_product(self, found: dict[str, tuple[str, Decimal, str]]) -> None:
        grades, base, department_of, factors = split(found)
        result = bonuses(grades, base, SCALE, department_of=department_of, department_factor=factors)
        for employee_id in grades:
            exact = raw(result, employee_id)
            assert abs(Fraction(result[employee_id].amount) - exact) <= Fraction(1, 200)
        assert result.total == sum(line.amount for line in result.lines)

    @settings(max_examples=100, deadline=None)
    @given(people)
    def test_input_order_does_not_matter(self, found: dict[str, tuple[str, Decimal, str]]) -> None:
        grades, base, department_of, factors = split(found)
        reversed_grades = dict(reversed(list(grades.items())))
        assert bonuses(grades, base, SCALE, department_of=department_of, department_factor=factors) == bonuses(
            reversed_grades, base, SCALE, department_of=department_of, department_factor=factors
        )
