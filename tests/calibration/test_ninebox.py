"""The 9-box grid: performance levels from grades, potential, boxes as data and as text."""

from __future__ import annotations

from decimal import Decimal

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from perfkit._text import display_width
from perfkit.calibration.ninebox import CHINESE_LABELS, DEFAULT_LABELS, LEVELS, default_performance_levels, nine_box
from perfkit.calibration.scale import Grade, GradeScale
from perfkit.errors import CalibrationError


def scale_of(names: str) -> GradeScale:
    return GradeScale(
        tuple(Grade(name, None if i == len(names) - 1 else Decimal(90 - 10 * i)) for i, name in enumerate(names))
    )


SCALE = scale_of("SABCD")


class TestDefaultPerformanceLevels:
    @pytest.mark.parametrize(
        ("names", "high", "medium", "low"),
        [
            ("ABC", "A", "B", "C"),
            ("ABCD", "A", "BC", "D"),
            ("SABCD", "SA", "B", "CD"),
            ("SABCDE", "SA", "BC", "DE"),
            ("SABCDEF", "SA", "BCD", "EF"),
            ("SABCDEFG", "SAB", "CD", "EFG"),
            ("AB", "A", "", "B"),
            ("A", "", "A", ""),
        ],
    )
    def test_the_documented_split(self, names: str, high: str, medium: str, low: str) -> None:
        levels = default_performance_levels(scale_of(names))
        assert "".join(g for g, level in levels.items() if level == "high") == high
        assert "".join(g for g, level in levels.items() if level == "medium") == medium
        assert "".join(g for g, level in levels.items() if level == "low") == low

    @given(st.integers(1, 40))
    def test_contiguous_best_to_worst_and_nearly_equal(self, n: int) -> None:
        names = [f"G{i:02d}" for i in range(n)]
        levels = default_performance_levels(GradeScale(tuple(Grade(name, None) for name in names)))
        order = [levels[name] for name in names]
        assert order == sorted(order, key=LEVELS.index)  # high… then medium… then low…
        sizes = [order.count(level) for level in LEVELS]
        assert max(sizes) - min(sizes) <= 1
        assert sizes[0] == sizes[2]  # symmetric


class TestNineBox:
    def test_people_land_in_their_boxes(self) -> None:
        box = nine_box(
            {"1": "S", "2": "A", "3": "B", "4": "D", "5": "C"},
            {"1": "high", "2": "High ", "3": "中", "4": "高", "5": "低"},
            scale=SCALE,
        )
        assert box.cell("high", "high").employee_ids == ("1", "2")
        assert box.cell("high", "high").label == "Future leader"
        assert box.cell("medium", "medium").employee_ids == ("3",)
        assert box.cell("low", "high").employee_ids == ("4",)
        assert box["low", "low"].employee_ids == ("5",)
        assert box.cell("高", "高") == box.cell("high", "high")
        assert box.placement("4").label == "Rough diamond"
        assert sum(cell.count for cell in box.cells) == 5

    def test_cells_are_in_grid_order(self) -> None:
        box = nine_box({}, {}, scale=SCALE)
        assert [(c.potential, c.performance) for c in box.cells] == [
            (pot, perf) for pot in ("high", "medium", "low") for perf in ("low", "medium", "high")
        ]
        assert all(c.count == 0 for c in box.cells)

    def test_explicit_performance_levels(self) -> None:
        box = nine_box(
            {"1": "优秀", "2": "良好", "3": "合格"},
            dict.fromkeys("123", "medium"),
            performance_levels={"优秀": "高", "良好": "medium", "合格": "low"},
        )
        assert box.placement("1").performance == "high"
        assert box.placement("2").performance == "medium"
        assert box.placement("3").performance == "low"
        assert box.performance_levels == (("优秀", "high"), ("良好", "medium"), ("合格", "low"))

    def test_chinese_labels(self) -> None:
        box = nine_box({"1": "S"}, {"1": "高"}, scale=SCALE, labels=CHINESE_LABELS)
        assert box.placement("1").label == "明日之星"
        assert {c.label for c in box.cells} == set(CHINESE_LABELS.values())

    def test_labels_left_out_keep_their_default(self) -> None:
        box = nine_box({"1": "S"}, {"1": "low"}, scale=SCALE, labels={("高", "低"): "老黄牛"})
        assert box.placement("1").label == "老黄牛"
        assert box.cell("low", "low").label == DEFAULT_LABELS[("low", "low")]

    def test_to_dict(self) -> None:
        data = nine_box({"2": "S", "1": "S"}, {"1": "high", "2": "high"}, scale=SCALE).to_dict()
        assert data["performance_levels"] == {"S": "high", "A": "high", "B": "medium", "C": "low", "D": "low"}
        assert len(data["cells"]) == 9
        assert data["cells"][2] == {
            "performance": "high",
            "potential": "high",
            "label": "Future leader",
            "count": 2,
            "employee_ids": ["1", "2"],
        }

    def test_inputs_are_not_changed(self) -> None:
        performance, potential = {"2": "S", "1": "B"}, {"1": "高", "2": "low"}
        nine_box(performance, potential, scale=SCALE)
        assert performance == {"2": "S", "1": "B"} and potential == {"1": "高", "2": "low"}


class TestNineBoxText:
    def test_rows_are_potential_high_to_low_and_columns_performance_low_to_high(self) -> None:
        box = nine_box({"1": "D", "2": "S", "3": "B"}, {"1": "high", "2": "low", "3": "medium"}, scale=SCALE)
        lines = box.to_text().splitlines()
        assert [part.strip() for part in lines[0].split("|")] == ["potential \\ performance", "low", "medium", "high"]
        high_row, medium_row, low_row = lines[2], lines[5], lines[8]
        assert [part.strip() for part in high_row.split("|")][:2] == ["high", "Rough diamond (1)"]
        assert [part.strip() for part in lines[3].split("|")][1] == "1"
        assert [part.strip() for part in medium_row.split("|")][2] == "Core player (1)"
        assert [part.strip() for part in low_row.split("|")][3] == "Trusted professional (1)"
        assert [part.strip() for part in lines[9].split("|")][3] == "2"

    def test_long_lists_are_cut_with_a_count_of_the_rest(self) -> None:
        ids = [f"{n:04d}" for n in range(8)]
        box = nine_box(dict.fromkeys(ids, "S"), dict.fromkeys(ids, "high"), scale=SCALE)
        text = box.to_text(max_ids=3)
        assert "0000, 0001, 0002, +5 more" in text
        assert "0003" not in text
        assert "+" not in box.to_text(max_ids=8).replace("-+-", "")

    def test_chinese_text_lines_up(self) -> None:
        """Separators sit at the same display column on every line, whatever the labels' width."""
        box = nine_box(
            {"1": "S", "2": "B", "3": "D"}, {"1": "高", "2": "中", "3": "低"}, scale=SCALE, labels=CHINESE_LABELS
        )
        lines = [line for line in box.to_text().splitlines() if "|" in line]
        positions = {tuple(display_width(line[:i]) for i, ch in enumerate(line) if ch == "|") for line in lines}
        assert len(positions) == 1
        rules = [line for line in box.to_text().splitlines() if "+" in line]
        columns = positions.pop()
        for rule in rules:
            assert tuple(i for i, ch in enumerate(rule) if ch == "+") == columns

    def test_negative_max_ids(self) -> None:
        with pytest.raises(CalibrationError, match="max_ids"):
            nine_box({}, {}, scale=SCALE).to_text(max_ids=-1)


class TestNineBoxErrors:
    def test_people_in_only_one_mapping_are_listed(self) -> None:
        with pytest.raises(CalibrationError) as caught:
            nine_box({"1": "S", "2": "S", "3": "A"}, {"2": "high", "9": "low"}, scale=SCALE)
        text = str(caught.value)
        assert "2 people have a performance but no potential: 1, 3" in text
        assert "1 people have a potential but no performance grade: 9" in text

    def test_bad_potential(self) -> None:
        with pytest.raises(CalibrationError, match="potential 'very high'") as caught:
            nine_box({"1": "S"}, {"1": "very high"}, scale=SCALE)
        assert caught.value.employee_id == "1"

    def test_grade_without_a_level(self) -> None:
        with pytest.raises(CalibrationError, match="grade 'X' has no performance level") as caught:
            nine_box({"7": "X"}, {"7": "low"}, scale=SCALE)
        assert caught.value.employee_id == "7"

    def test_bad_performance_level(self) -> None:
        with pytest.raises(CalibrationError, match="performance level 'top' of grade 'A'"):
            nine_box({}, {}, performance_levels={"A": "top"})

    @pytest.mark.parametrize("both", [True, False])
    def test_scale_or_performance_levels_one_of_the_two(self, both: bool) -> None:
        with pytest.raises(CalibrationError, match="one of the two"):
            if both:
                nine_box({}, {}, scale=SCALE, performance_levels={"S": "high"})
            else:
                nine_box({}, {})

    @pytest.mark.parametrize("key", [("high", "top"), ("high",), "high/high"])
    def test_bad_label_keys(self, key: object) -> None:
        with pytest.raises(CalibrationError, match="level|keyed"):
            nine_box({}, {}, scale=SCALE, labels={key: "x"})  # type: ignore[arg-type]


placements = st.dictionaries(
    st.integers(0, 300).map(str),
    st.tuples(st.sampled_from(SCALE.names), st.sampled_from(["high", "medium", "low", "高", "中", "低"])),
    max_size=40,
)


class TestNineBoxProperties:
    @settings(max_examples=200, deadline=None)
    @given(placements)
    def test_everyone_is_in_exactly_one_box_matching_their_levels(self, found: dict[str, tuple[str, str]]) -> None:
        performance = {e: g for e, (g, _) in found.items()}
        potential = {e: p for e, (_, p) in found.items()}
        box = nine_box(performance, potential, scale=SCALE)
        levels = default_performance_levels(SCALE)
        plain = {"高": "high", "中": "medium", "低": "low"}
        placed = [e for cell in box.cells for e in cell.employee_ids]
        assert sorted(placed) == sorted(found)
        for employee_id, (grade, assessed) in found.items():
            cell = box.placement(employee_id)
            assert cell.performance == levels[grade]
            assert cell.potential == plain.get(assessed, assessed)
        for cell in box.cells:
            assert list(cell.employee_ids) == sorted(cell.employee_ids)

    @settings(max_examples=100, deadline=None)
    @given(placements)
    def test_input_order_does_not_matter(self, found: dict[str, tuple[str, str]]) -> None:
        performance = {e: g for e, (g, _) in found.items()}
        potential = {e: p for e, (_, p) in found.items()}
        backwards = dict(reversed(list(potential.items())))
        assert nine_box(performance, potential, scale=SCALE) == nine_box(performance, backwards, scale=SCALE)
