"""Fairness diagnostics: grade distributions by group and the four-fifths rule."""

from __future__ import annotations

from decimal import Decimal
from fractions import Fraction

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from perfkit.calibration.fairness import adverse_impact, grade_distribution
from perfkit.calibration.scale import Grade, GradeScale
from perfkit.errors import CalibrationError

SCALE = GradeScale(
    (
        Grade("S", Decimal(95)),
        Grade("A", Decimal(85)),
        Grade("B", Decimal(70)),
        Grade("C", Decimal(60)),
        Grade("D", None),
    )
)


def population(spec: dict[str, str]) -> tuple[dict[str, str], dict[str, str]]:
    """Grades and groups from ``{"group": "grades in order"}``; ids are group + position."""
    grades, groups = {}, {}
    for group, letters in spec.items():
        for n, letter in enumerate(letters):
            employee_id = f"{group}-{n:02d}"
            grades[employee_id] = letter
            groups[employee_id] = group
    return grades, groups


class TestGradeDistribution:
    def test_counts_and_exact_shares(self) -> None:
        grades, groups = population({"女": "SABBC", "男": "ABBBBD"})
        dist = grade_distribution(grades, groups, SCALE)
        assert dist.grades == ("S", "A", "B", "C", "D")
        assert [g.group for g in dist.groups] == sorted(["女", "男"])
        assert dist.count("女", "B") == 2
        assert dist.share("女", "B") == Fraction(2, 5)
        assert dist.share("男", "B") == Fraction(4, 6)
        assert dist.count("男", "S") == 0
        assert dist.overall.size == 11
        assert dist.overall.share("B") == Fraction(6, 11)

    def test_groups_may_name_people_who_are_not_graded(self) -> None:
        grades, groups = population({"east": "AB"})
        dist = grade_distribution(grades, {**groups, "someone-else": "west"}, SCALE)
        assert [g.group for g in dist.groups] == ["east"]

    def test_records(self) -> None:
        grades, groups = population({"east": "AAB"})
        records = grade_distribution(grades, groups, SCALE).to_records()
        assert len(records) == 5
        assert records[1] == {
            "group": "east",
            "grade": "A",
            "count": 2,
            "size": 3,
            "share": Fraction(2, 3),
            "percent": Decimal("66.67"),
        }

    def test_text_is_a_table_with_an_all_row(self) -> None:
        grades, groups = population({"研发": "SAB", "销售": "BBBC"})
        lines = grade_distribution(grades, groups, SCALE).to_text().splitlines()
        assert lines[0].split() == ["group", "n", "S", "A", "B", "C", "D"]
        assert lines[1].split()[:4] == ["研发", "3", "1", "(33.3%)"]
        assert lines[2].split()[:2] == ["销售", "4"]
        assert lines[3].split()[:2] == ["(all)", "7"]
        assert "3 (75.0%)" in lines[2]

    def test_people_without_a_group_are_named(self) -> None:
        with pytest.raises(CalibrationError, match="no group given for 2 graded people: 1, 3"):
            grade_distribution({"1": "A", "2": "B", "3": "C"}, {"2": "x"}, SCALE)

    def test_grades_outside_the_scale(self) -> None:
        with pytest.raises(CalibrationError, match="grade 'Z' is not in the scale") as caught:
            grade_distribution({"1": "Z"}, {"1": "x"}, SCALE)
        assert caught.value.employee_id == "1"

    def test_all_problems_at_once(self) -> None:
        with pytest.raises(CalibrationError) as caught:
            grade_distribution({"1": "Z", "2": "A"}, {"1": "x"}, SCALE)
        assert len(caught.value.problems) == 2

    def test_no_grades(self) -> None:
        with pytest.raises(CalibrationError, match="no grades"):
            grade_distribution({}, {}, SCALE)


class TestAdverseImpact:
    def test_rates_ratios_and_flags(self) -> None:
        """Top grades S and A by default: 3 of 5 women (60%), 1 of 4 men (25%): ratio 5/12, flagged."""
        grades, groups = population({"women": "SAABC", "men": "ABCD"})
        impact = adverse_impact(grades, groups, SCALE)
        assert impact.top == ("S", "A")
        assert impact.group("women").rate == Fraction(3, 5)
        assert impact.group("men").rate == Fraction(1, 4)
        assert impact.group("men").impact_ratio == Fraction(5, 12)
        assert impact.group("women").impact_ratio == 1
        assert impact.flagged == ("men",)
        assert impact.reference == ("women",)
        assert impact.highest_rate == Fraction(3, 5)

    def test_exactly_four_fifths_is_not_flagged(self) -> None:
        """4/10 against 5/10 is a ratio of exactly 0.8: on the line, not below it."""
        grades, groups = population({"a": "AAAAABBBBB", "b": "AAAABBBBBB"})
        impact = adverse_impact(grades, groups, SCALE, top={"A"})
        assert impact.group("b").impact_ratio == Fraction(4, 5)
        assert impact.flagged == ()
        assert adverse_impact(grades, groups, SCALE, top={"A"}, threshold="0.81").flagged == ("b",)

    def test_top_may_be_any_grades_and_is_kept_in_scale_order(self) -> None:
        grades, groups = population({"a": "SBCD", "b": "BBCC"})
        impact = adverse_impact(grades, groups, SCALE, top=["C", "B"])
        assert impact.top == ("B", "C")
        assert impact.group("a").rate == Fraction(2, 4)
        assert impact.group("b").rate == 1
        assert adverse_impact(grades, groups, SCALE, top="S").top == ("S",)

    def test_no_one_selected_leaves_ratios_undefined(self) -> None:
        grades, groups = population({"a": "BC", "b": "D"})
        impact = adverse_impact(grades, groups, SCALE)
        assert impact.highest_rate == 0
        assert all(g.impact_ratio is None and not g.flagged for g in impact.groups)
        assert impact.reference == ()
        assert "no group has anyone in these grades" in impact.to_text()

    def test_records_and_text(self) -> None:
        grades, groups = population({"women": "SAABC", "men": "ABCD"})
        impact = adverse_impact(grades, groups, SCALE)
        assert impact.to_records()[0] == {
            "group": "men",
            "size": 4,
            "selected": 1,
            "rate": Fraction(1, 4),
            "impact_ratio": Fraction(5, 12),
            "flagged": True,
        }
        lines = impact.to_text().splitlines()
        assert lines[0] == "selected: grades S, A; flagged when the impact ratio is below 0.8"
        assert lines[2].split() == ["men", "4", "1", "25.0%", "0.416", "FLAGGED"]
        assert lines[3].split() == ["women", "5", "3", "60.0%", "1.000"]

    def test_a_ratio_just_below_the_threshold_does_not_print_as_the_threshold(self) -> None:
        """799/1000 would round to 0.80; it is shown truncated, 0.799, next to its flag."""
        grades = {f"a{n:04d}": "A" if n < 1000 else "B" for n in range(1000)}
        grades.update({f"b{n:04d}": "A" if n < 799 else "B" for n in range(1000)})
        groups = {e: e[0] for e in grades}
        text = adverse_impact(grades, groups, SCALE).to_text()
        assert text.splitlines()[-1].split()[-2:] == ["0.799", "FLAGGED"]

    @pytest.mark.parametrize("top", [{"X"}, set()])
    def test_bad_top(self, top: set[str]) -> None:
        grades, groups = population({"a": "AB"})
        with pytest.raises(CalibrationError, match="top"):
            adverse_impact(grades, groups, SCALE, top=top)

    @pytest.mark.parametrize("threshold", ["0", "1.2", "-0.8", "four-fifths"])
    def test_bad_threshold(self, threshold: str) -> None:
        grades, groups = population({"a": "AB"})
        with pytest.raises(CalibrationError, match="threshold"):
            adverse_impact(grades, groups, SCALE, threshold=threshold)

    def test_people_without_a_group_are_named(self) -> None:
        with pytest.raises(CalibrationError, match="1, 2"):
            adverse_impact({"1": "A", "2": "B"}, {}, SCALE)


populations = st.dictionaries(
    st.integers(0, 500).map(str),
    st.tuples(st.sampled_from(SCALE.names), st.sampled_from(["x", "y", "z", "某组"])),
    min_size=1,
    max_size=60,
)


class TestFairnessProperties:
    @settings(max_examples=200, deadline=None)
    @given(populations)
    def test_counts_add_up_and_shares_sum_to_one(self, found: dict[str, tuple[str, str]]) -> None:
        grades = {e: g for e, (g, _) in found.items()}
        groups = {e: label for e, (_, label) in found.items()}
        dist = grade_distribution(grades, groups, SCALE)
        assert sum(g.size for g in dist.groups) == len(grades) == dist.overall.size
        for group in dist.groups:
            assert sum(count for _, count in group.counts) == group.size
            assert sum(group.share(grade) for grade in SCALE.names) == 1
        for grade in SCALE.names:
            assert sum(g.count(grade) for g in dist.groups) == dist.overall.count(grade)

    @settings(max_examples=200, deadline=None)
    @given(populations, st.sets(st.sampled_from(SCALE.names), min_size=1))
    def test_ratios_are_at_most_one_and_flags_follow_the_threshold(
        self, found: dict[str, tuple[str, str]], top: set[str]
    ) -> None:
        grades = {e: g for e, (g, _) in found.items()}
        groups = {e: label for e, (_, label) in found.items()}
        impact = adverse_impact(grades, groups, SCALE, top=top)
        for group in impact.groups:
            assert group.rate == Fraction(sum(grades[e] in top for e in grades if groups[e] == group.group), group.size)
            if group.impact_ratio is not None:
                assert 0 <= group.impact_ratio <= 1
                assert group.flagged == (group.impact_ratio < Fraction(4, 5))
                assert (group.impact_ratio == 1) == (group.group in impact.reference)

    @settings(max_examples=100, deadline=None)
    @given(populations)
    def test_input_order_does_not_matter(self, found: dict[str, tuple[str, str]]) -> None:
        grades = {e: g for e, (g, _) in found.items()}
        groups = {e: label for e, (_, label) in found.items()}
        backwards = dict(reversed(list(grades.items())))
        assert grade_distribution(grades, groups, SCALE) == grade_distribution(backwards, groups, SCALE)
        assert adverse_impact(grades, groups, SCALE) == adverse_impact(backwards, groups, SCALE)
