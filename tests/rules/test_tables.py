"""Decision tables (perfkit.rules.tables) and their unary tests (perfkit.rules.unary).

The promises: a cell means exactly what it says, at its boundaries too and with no float
in sight; each hit policy picks what its documentation says; and the static check is
truthful both ways: an overlap's example matches both rows, a gap's example matches no row,
and a table whose rows partition its inputs is accepted.
"""

from __future__ import annotations

import re
from decimal import Decimal
from typing import Any, ClassVar

import pytest
from hypothesis import given
from hypothesis import strategies as st
from strategies import exact

from perfkit._files import read_text
from perfkit.errors import DataError, SchemeError
from perfkit.numbers import plain_text
from perfkit.rules import tables as tables_module
from perfkit.rules.coverage import Column, CoverageTooLarge, find_gap
from perfkit.rules.tables import CompiledTable, DecisionTable, compile_table
from perfkit.rules.unary import ANY, NumberTest, Range, TextTest, exact_between, is_number_text, parse_unary

D = Decimal
INF = Decimal("Infinity")


def table(check: bool = True, names: dict[str, str] | None = None, **fields: Any) -> CompiledTable:
    return compile_table(DecisionTable(**fields), path="rules[0].table", names=names, check=check)


def problems(**fields: Any) -> list[SchemeError]:
    with pytest.raises(SchemeError) as info:
        table(**fields)
    return [p for p in info.value.problems if isinstance(p, SchemeError)]


def one_problem(**fields: Any) -> SchemeError:
    found = problems(**fields)
    assert len(found) == 1, [str(p) for p in found]
    return found[0]


def shown(example: dict[str, Decimal | str]) -> str:
    """An example as the error messages write it."""
    return ", ".join(f"{k} = {plain_text(v) if isinstance(v, Decimal) else v}" for k, v in example.items())


class TestParseUnary:
    """Every spelling of a unary test, and the misspellings."""

    @pytest.mark.parametrize("cell", ["-", "", "  -  ", None])
    def test_dash_and_empty_mean_any(self, cell: str | None) -> None:
        assert parse_unary(cell) is ANY

    @pytest.mark.parametrize(
        ("cell", "expected"),
        [
            ("< 0.8", Range(-INF, D("0.8"), False, False)),
            ("<= 0.8", Range(-INF, D("0.8"), False, True)),
            ("> 1.2", Range(D("1.2"), INF, False, False)),
            (">=1.2", Range(D("1.2"), INF, True, False)),
            ("= 3", Range(D(3), D(3))),
            ("3", Range(D(3), D(3))),
            ("-5", Range(D(-5), D(-5))),
            ("< 80%", Range(-INF, D("0.80"), False, False)),
            ("[0.8..1.0]", Range(D("0.8"), D("1.0"), True, True)),
            ("[0.8..1.0)", Range(D("0.8"), D("1.0"), True, False)),
            ("(0.8..1.0]", Range(D("0.8"), D("1.0"), False, True)),
            ("(0.8..1.0)", Range(D("0.8"), D("1.0"), False, False)),
            ("]0.8..1.0[", Range(D("0.8"), D("1.0"), False, False)),
            ("0.8..1.0", Range(D("0.8"), D("1.0"), True, True)),
            ("[-1 .. 1e1]", Range(D(-1), D(10), True, True)),
        ],
    )
    def test_number_forms(self, cell: str, expected: Range) -> None:
        assert parse_unary(cell) == NumberTest.of(expected)

    def test_a_number_read_by_yaml_means_equal(self) -> None:
        assert parse_unary(D("0.8")) == NumberTest.of(Range(D("0.8"), D("0.8")))

    def test_several_number_tests_are_a_union(self) -> None:
        test = parse_unary("[0..1), [1..2]")
        assert test == NumberTest.of(Range(D(0), D(2)))

    @pytest.mark.parametrize("cell", ["S, A", "{S, A}", "{ S ,A }", "'S', \"A\""])
    def test_name_sets(self, cell: str) -> None:
        assert parse_unary(cell) == TextTest(frozenset({"S", "A"}))

    def test_single_name_and_quoted_names(self) -> None:
        assert parse_unary("B") == TextTest(frozenset({"B"}))
        assert parse_unary('"A+", 优秀') == TextTest(frozenset({"A+", "优秀"}))

    def test_not_of_numbers_is_the_complement(self) -> None:
        assert parse_unary("not(< 0.8)") == NumberTest.of(Range(D("0.8"), INF, True, False))
        assert parse_unary("not([1..2))") == NumberTest.of(
            Range(-INF, D(1), False, False), Range(D(2), INF, True, False)
        )

    def test_not_of_names(self) -> None:
        test = parse_unary("not(S, A)")
        assert test == TextTest(frozenset({"S", "A"}), negated=True)
        assert test.matches("B") and not test.matches("S")

    @pytest.mark.parametrize(
        ("cell", "complaint"),
        [
            ("<< 0.8", "is not a test"),
            ("< x", "is not a test"),
            ("[1..0]", "empty range"),
            ("(1..1)", "empty range"),
            ("[0.8..1.0", "is not a test"),
            ("S A", "is not a test"),
            ("0.8, B", "mixes number tests and names"),
            ("S,, A", "empty item"),
            ("not(-)", "not(...) takes"),
            ("not(not(S))", "not(...) takes"),
            ("{1, 2}", "braces hold names"),
            ("< NaN", "is not a test"),
            ("Infinity..1", "is not a test"),
        ],
    )
    def test_bad_cells_say_what_is_wrong(self, cell: str, complaint: str) -> None:
        with pytest.raises(ValueError, match=re.escape(complaint)):
            parse_unary(cell)

    def test_numbers_are_read_exactly(self) -> None:
        test = parse_unary("[0.1..0.30000000000000000000000000000000001]")
        assert isinstance(test, NumberTest)
        assert test.ranges[0].hi == D("0.30000000000000000000000000000000001")

    def test_is_number_text(self) -> None:
        assert is_number_text("1e3") and is_number_text(" -0.5 ") and is_number_text("85%")
        assert not is_number_text("1st") and not is_number_text("NaN") and not is_number_text("B")


class TestMatching:
    """Open and closed ends decide boundary values exactly."""

    def test_boundary_between_below_and_a_half_open_range(self) -> None:
        below, band = parse_unary("< 0.8"), parse_unary("[0.8..1.0)")
        assert not below.matches(D("0.8")) and band.matches(D("0.8"))
        assert below.matches(D("0.7999999999999999999999999999999999"))
        assert band.matches(D("0.9999999999999999999999999999999999")) and not band.matches(D("1.0"))

    def test_equal_values_written_differently_match(self) -> None:
        assert parse_unary("= 0.80").matches(D("0.8"))
        assert parse_unary("<= 80%").matches(D("0.8000"))

    def test_a_number_test_never_matches_a_name_and_the_reverse(self) -> None:
        assert not parse_unary(">= 0").matches("A")
        assert not parse_unary("S, A").matches(D(1))

    def test_no_float_rounding_at_a_tenths_boundary(self) -> None:
        """0.1 + 0.2 is 0.3 in decimals: it lies in [0.3..0.6) and not below 0.3."""
        total = D("0.1") + D("0.2")
        assert parse_unary("[0.3..0.6)").matches(total)
        assert not parse_unary("< 0.3").matches(total)

    def test_exact_between_is_strictly_inside(self) -> None:
        lo, hi = D("0.1"), D("0.1000000000000000000000000000000000000001")
        middle = exact_between(lo, hi)
        assert lo < middle < hi
        assert exact_between(-INF, INF) == 0
        assert exact_between(D("1E+40"), INF) == D("10000000000000000000000000000000000000001")


class TestDeclaration:
    """The pydantic declaration: shapes of rows and cells."""

    def test_numbers_in_cells_become_decimals(self) -> None:
        declared = DecisionTable(inputs=("total",), outputs=("bonus",), rows=((0.1, 5), ("-", "x")))
        assert declared.rows[0] == (D("0.1"), D(5))

    def test_yaml_flow_mapping_cell_is_a_set_of_names(self) -> None:
        """Unquoted ``{S, A}`` in YAML is a mapping of names to nothing: it still means the names."""
        declared = DecisionTable(inputs=("band_grade",), outputs=("cap",), rows=(({"S": None, "A": None}, "B"),))
        assert declared.rows[0] == ("{S, A}", "B")

    def test_booleans_are_refused(self) -> None:
        with pytest.raises(ValueError, match="true/false"):
            DecisionTable(inputs=("x",), outputs=("y",), rows=((True, 1),))

    def test_unknown_fields_are_refused(self) -> None:
        with pytest.raises(ValueError, match="Extra inputs"):
            DecisionTable(inputs=("x",), outputs=("y",), rows=(("-", 1),), hitpolicy="first")


class TestCompileProblems:
    """Every problem is reported at once, with a path into the table."""

    def test_wrong_number_of_cells(self) -> None:
        problem = one_problem(inputs=["x", "y"], outputs=["z"], hit="first", rows=[["-", "-", 1], ["-", "-", 1, 2]])
        assert problem.message == "row 1 has 4 cells; the table has 2 inputs and 1 output"
        assert problem.path == "rules[0].table.rows[1]"

    def test_bad_cell_names_row_and_column(self) -> None:
        problem = one_problem(inputs=["x", "y"], outputs=["z"], hit="first", rows=[["-", "-", 1], ["-", "<< 2", 1]])
        assert problem.path == "rules[0].table.rows[1][1]"
        assert problem.message.startswith("row 1, column 'y': '<< 2' is not a test")

    def test_all_problems_are_collected(self) -> None:
        found = problems(inputs=["x"], outputs=["z"], hit="first", rows=[["<< 2", 1], ["-", 1, 2], ["(", 1]])
        assert [p.path for p in found] == [
            "rules[0].table.rows[0][0]",
            "rules[0].table.rows[1]",
            "rules[0].table.rows[2][0]",
        ]

    def test_name_test_in_a_number_column(self) -> None:
        problem = one_problem(inputs=["rate"], outputs=["z"], hit="first", rows=[["< 0.8", 1], ["B", 2], ["-", 3]])
        assert problem.message == "row 1: 'rate' holds numbers, but 'B' tests names"

    def test_number_test_in_a_grade_column(self) -> None:
        problem = one_problem(inputs=["band_grade"], outputs=["z"], hit="first", rows=[["< 3", 1], ["-", 2]])
        assert problem.message == "row 0: 'band_grade' holds names, but '< 3' tests a number"

    def test_unknown_grade_with_a_suggestion(self) -> None:
        problem = one_problem(
            inputs=["band_grade"], outputs=["z"], names={"band_grade": ["S", "A", "B"]}, rows=[["S, A", 1], ["b", 2]]
        )
        assert problem.message == "row 1: 'b' is not one of S, A, B; did you mean 'B'?"

    def test_aggregate_without_collect(self) -> None:
        problem = one_problem(inputs=["x"], outputs=["z"], hit="first", aggregate="sum", rows=[["-", 1]])
        assert problem.path == "rules[0].table.aggregate"
        assert "collect only" in problem.message

    def test_collect_without_aggregate(self) -> None:
        assert "needs an aggregate" in one_problem(inputs=["x"], outputs=["z"], hit="collect", rows=[["-", 1]]).message

    def test_sum_of_text_outputs(self) -> None:
        problem = one_problem(inputs=["x"], outputs=["z"], hit="collect", aggregate="sum", rows=[["-", "B"]])
        assert problem.message == "aggregate: sum needs numbers, but row 0 gives 'B' for 'z'"

    def test_priority_problems(self) -> None:
        assert (
            "needs a priority list" in one_problem(inputs=["x"], outputs=["z"], hit="priority", rows=[["-", 1]]).message
        )
        problem = one_problem(inputs=["x"], outputs=["z"], hit="priority", priority=["C"], rows=[["-", "B"]])
        assert problem.message == "row 0 gives 'B' for 'z', which the priority list does not rank"
        assert (
            "priority only"
            in one_problem(inputs=["x"], outputs=["z"], hit="first", priority=["C"], rows=[["-", 1]]).message
        )

    def test_unknown_column_in_a_mapping_row(self) -> None:
        problem = one_problem(inputs=["rate"], outputs=["cap"], hit="first", rows=[{"rate": "-", "cpa": "B"}])
        assert problem.message == "'cpa' is not a column of this table; did you mean 'cap'?"
        assert problem.path == "rules[0].table.rows[0].cpa"

    def test_column_named_twice(self) -> None:
        assert "used twice" in one_problem(inputs=["x", "x"], outputs=["z"], hit="first", rows=[["-", "-", 1]]).message

    def test_default_with_the_wrong_number_of_cells(self) -> None:
        problem = one_problem(inputs=["x"], outputs=["z"], rows=[["< 0", 1]], default=[1, 2])
        assert problem.message == "default has 2 cells; the table has 1 output"


class TestUniqueOverlap:
    """Under unique, two rows that can both match are an error naming both and an input."""

    def test_overlap_names_both_rows_and_an_example_matching_both(self) -> None:
        rows = [
            ["< 0.8", "S, A", "B"],
            ["< 0.8", "B", "-"],
            ["[0.8..1.0)", "-", "-"],
            ["[0.95..1.0)", "A, B", "-"],
            [">= 1.0", "-", "-"],
        ]
        fields: dict[str, Any] = {"inputs": ["rate", "band_grade"], "outputs": ["cap"], "rows": rows}
        problem = one_problem(**fields, names={"band_grade": ["S", "A", "B"]})
        assert problem.path == "rules[0].table.rows[3]"
        assert problem.message.startswith("rows 2 and 3 can both match, for example rate = 0.95, band_grade = A;")
        compiled = table(check=False, names={"band_grade": ["S", "A", "B"]}, **fields)
        [overlap] = compiled.overlaps()
        assert compiled.matching(overlap.example) == (2, 3)

    def test_touching_ranges_do_not_overlap(self) -> None:
        compiled = table(inputs=["rate"], outputs=["cap"], rows=[["< 0.8", "B"], ["[0.8..1.0)", "-"], [">= 1.0", "-"]])
        assert compiled.overlaps() == []

    def test_closed_ends_meeting_overlap_at_that_point(self) -> None:
        problem = one_problem(inputs=["rate"], outputs=["cap"], rows=[["<= 0.8", "B"], [">= 0.8", "-"]])
        assert "for example rate = 0.8;" in problem.message

    def test_every_overlapping_pair_is_reported(self) -> None:
        found = problems(inputs=["x"], outputs=["z"], rows=[["-", 1], ["< 0", 2], [">= 0", 3]])
        assert [p.message[:16] for p in found] == ["rows 0 and 1 can", "rows 0 and 2 can"]

    def test_first_allows_overlaps(self) -> None:
        compiled = table(inputs=["x"], outputs=["z"], hit="first", rows=[["< 0", 1], ["-", 2]])
        assert compiled.evaluate({"x": D(-1)}).outputs == {"z": D(1)}


class TestGaps:
    """An input no row matches is reported with an example, unless the table has a default."""

    def test_gap_at_an_open_boundary(self) -> None:
        rows = [["< 0.8", "B"], ["(0.8..1.0)", "-"], [">= 1.0", "-"]]
        fields: dict[str, Any] = {"inputs": ["rate"], "outputs": ["cap"], "rows": rows}
        problem = one_problem(**fields)
        assert problem.path == "rules[0].table.rows"
        assert problem.message == (
            "no row matches rate = 0.8, for example rate = 0.8; add a row for it or declare default outputs"
        )
        gap = table(check=False, **fields).gap()
        assert gap is not None and table(check=False, **fields).matching(gap.example) == ()

    def test_gap_between_two_rows_names_the_open_interval(self) -> None:
        problem = one_problem(inputs=["total"], outputs=["bonus"], hit="first", rows=[["< 60", 0], ["> 70", 1]])
        assert problem.message.startswith("no row matches total in [60..70], for example total = 60;")

    def test_gap_above_every_row(self) -> None:
        problem = one_problem(inputs=["total"], outputs=["bonus"], hit="collect", aggregate="sum", rows=[["<= 100", 0]])
        assert problem.message.startswith("no row matches total > 100, for example total = 101;")

    def test_two_columns_name_the_uncovered_region(self) -> None:
        fields: dict[str, Any] = {
            "inputs": ["rate", "band_grade"],
            "outputs": ["cap"],
            "names": {"band_grade": ["S", "A", "B"]},
            "rows": [["< 0.8", "S, A", "B"], ["< 0.8", "A", "-"], [">= 0.8", "-", "-"]],
            "hit": "first",
        }
        problem = one_problem(**fields)
        assert problem.message.startswith(
            "no row matches rate < 0.8 and band_grade = B, for example rate = 0, band_grade = B;"
        )
        compiled = table(check=False, **fields)
        gap = compiled.gap()
        assert gap is not None and compiled.matching(gap.example) == ()
        assert compiled.evaluate(gap.example).outputs == {}

    def test_a_column_that_does_not_matter_is_not_named(self) -> None:
        problem = one_problem(inputs=["x", "y"], outputs=["z"], rows=[["-", "< 0", 1], ["-", "> 0", 2]])
        assert problem.message.startswith("no row matches y = 0, for example x = 0, y = 0;")

    def test_default_silences_the_gap_and_applies(self) -> None:
        compiled = table(inputs=["total"], outputs=["bonus", "note"], rows=[["< 60", 0, "-"]], default=[100, "ok"])
        result = compiled.evaluate({"total": D(75)})
        assert result.matched == () and result.used_default
        assert result.outputs == {"bonus": D(100), "note": "ok"}

    def test_declared_spans_limit_the_search(self) -> None:
        declared = DecisionTable(inputs=["rate"], outputs=["cap"], rows=[["[0..0.8)", "B"], ["[0.8..1]", "-"]])
        compiled = compile_table(declared, path="t", spans={"rate": (D(0), D(1))})
        assert compiled.gap() is None
        with pytest.raises(SchemeError, match="no row matches rate < 0, for example rate = -1"):
            compile_table(declared, path="t")
        with pytest.raises(DataError, match=r"1.5 is outside \[0..1\]"):
            compiled.evaluate({"rate": D("1.5")})

    def test_text_column_without_known_names_is_not_searched(self) -> None:
        compiled = table(inputs=["band_grade"], outputs=["cap"], rows=[["S", "B"]])
        assert compiled.evaluate({"band_grade": "A"}).outputs == {}

    def test_every_name_of_a_text_column_is_tried(self) -> None:
        problem = one_problem(
            inputs=["band_grade"], outputs=["cap"], names={"band_grade": ["S", "A", "B"]}, rows=[["not(A)", "x"]]
        )
        assert problem.message.startswith("no row matches band_grade = A, for example band_grade = A;")


class TestHitPolicies:
    """What each hit policy returns."""

    GRADES: ClassVar[dict[str, list[str]]] = {"band_grade": ["S", "A", "B", "C"]}

    def test_unique_returns_the_matching_row(self) -> None:
        compiled = table(inputs=["rate"], outputs=["cap"], rows=[["< 0.8", "B"], [">= 0.8", "-"]])
        assert compiled.evaluate({"rate": D("0.79")}).outputs == {"cap": "B"}
        below = compiled.evaluate({"rate": D("0.8")})
        assert below.matched == (1,) and below.outputs == {}

    def test_first_returns_the_first_matching_row(self) -> None:
        compiled = table(
            inputs=["total"], outputs=["grade"], hit="first", rows=[[">= 95", "S"], [">= 85", "A"], ["-", "B"]]
        )
        result = compiled.evaluate({"total": D(96)})
        assert result.matched == (0, 1, 2) and result.outputs == {"grade": "S"}
        assert compiled.evaluate({"total": D("84.99")}).outputs == {"grade": "B"}

    def test_priority_picks_the_highest_ranked_first_output(self) -> None:
        compiled = table(
            inputs=["rate", "incidents"],
            outputs=["cap", "why"],
            hit="priority",
            priority=["C", "B"],
            rows=[["< 0.8", "-", "B", "collection"], ["-", "> 2", "C", "incidents"], ["-", "-", "B", "tie"]],
        )
        assert compiled.evaluate({"rate": D("0.5"), "incidents": D(3)}).outputs == {"cap": "C", "why": "incidents"}
        # equal priority: the earlier row
        assert compiled.evaluate({"rate": D("0.5"), "incidents": D(0)}).outputs == {"cap": "B", "why": "collection"}

    def test_priority_of_numbers(self) -> None:
        compiled = table(
            inputs=["x"], outputs=["m"], hit="priority", priority=["0.5", 1], rows=[["-", "1.0"], ["> 0", 0.50]]
        )
        assert compiled.evaluate({"x": D(1)}).outputs == {"m": D("0.50")}

    COLLECT_ROWS: ClassVar[list[list[str]]] = [
        ["> 0", "0.1", "a"],
        ["< 0", "5", "b"],
        [">= 1", "0.2", "c"],
        ["<= 0", "-", "-"],
    ]

    @pytest.mark.parametrize(
        ("aggregate", "expected"),
        [("sum", D("0.3")), ("min", D("0.1")), ("max", D("0.2"))],
    )
    def test_collect_numeric_aggregates(self, aggregate: str, expected: Decimal) -> None:
        rows = [row[:2] for row in self.COLLECT_ROWS]
        compiled = table(inputs=["x"], outputs=["points"], hit="collect", aggregate=aggregate, rows=rows)
        result = compiled.evaluate({"x": D(2)})
        assert result.matched == (0, 2) and result.outputs == {"points": expected}

    def test_collect_count_counts_the_matching_rows_that_give_an_output(self) -> None:
        compiled = table(
            inputs=["x"], outputs=["points", "tag"], hit="collect", aggregate="count", rows=self.COLLECT_ROWS
        )
        assert compiled.evaluate({"x": D(2)}).outputs == {"points": D(2), "tag": D(2)}
        assert compiled.evaluate({"x": D(-1)}).outputs == {"points": D(1), "tag": D(1)}
        assert compiled.evaluate({"x": D(0)}).outputs == {"points": D(0), "tag": D(0)}

    def test_collect_list_keeps_every_output_in_row_order(self) -> None:
        compiled = table(
            inputs=["x"], outputs=["points", "tag"], hit="collect", aggregate="list", rows=self.COLLECT_ROWS
        )
        assert compiled.evaluate({"x": D(2)}).outputs == {"points": (D("0.1"), D("0.2")), "tag": ("a", "c")}

    def test_collect_sum_with_only_empty_outputs_gives_no_output(self) -> None:
        compiled = table(inputs=["x"], outputs=["p"], hit="collect", aggregate="sum", rows=[["> 0", 1], ["<= 0", "-"]])
        result = compiled.evaluate({"x": D(0)})
        assert result.matched == (1,) and result.outputs == {}

    def test_collect_sum_is_exact(self) -> None:
        compiled = table(inputs=["x"], outputs=["p"], hit="collect", aggregate="sum", rows=[["-", 0.1], ["-", 0.2]])
        assert compiled.evaluate({"x": D(0)}).outputs == {"p": D("0.3")}

    def test_no_match_and_no_default_gives_no_outputs(self) -> None:
        compiled = table(check=False, inputs=["x"], outputs=["p"], hit="collect", aggregate="count", rows=[["> 0", 1]])
        assert compiled.evaluate({"x": D(0)}) == compiled.evaluate({"x": D(-5)})
        assert compiled.evaluate({"x": D(0)}).outputs == {} and compiled.evaluate({"x": D(0)}).matched == ()

    def test_unique_violated_at_run_time_raises(self) -> None:
        compiled = table(check=False, inputs=["x"], outputs=["p"], rows=[["-", 1], ["> 0", 2]])
        with pytest.raises(DataError, match="rows 0 and 1 both match"):
            compiled.evaluate({"x": D(1)})

    def test_mapping_rows(self) -> None:
        compiled = table(
            inputs=["rate", "band_grade"],
            outputs=["cap"],
            names=self.GRADES,
            rows=[
                {"rate": "< 0.8", "band_grade": "S, A", "cap": "B"},
                {"rate": "< 0.8", "band_grade": "B, C"},
                {"rate": ">= 0.8"},
            ],
        )
        assert compiled.evaluate({"rate": D("0.5"), "band_grade": "S"}).outputs == {"cap": "B"}
        assert compiled.evaluate({"rate": D("0.9"), "band_grade": "S"}).matched == (2,)


class TestOutputsAndInputs:
    """Output cells keep what was written; inputs are checked at run time."""

    def test_output_cells(self) -> None:
        compiled = table(inputs=["x"], outputs=["a", "b", "c", "d"], hit="first", rows=[["-", "85%", "1st", 7, "-"]])
        assert compiled.evaluate({"x": D(0)}).outputs == {"a": D("0.85"), "b": "1st", "c": D(7)}

    def test_text_inputs(self) -> None:
        compiled = table(
            inputs=["band_grade"], outputs=["m"], names={"band_grade": ["S", "A"]}, rows=[["S", 2], ["not(S)", 1]]
        )
        assert compiled.evaluate({"band_grade": "A"}).outputs == {"m": D(1)}
        with pytest.raises(DataError, match="'Q' is not one of S, A"):
            compiled.evaluate({"band_grade": "Q"})
        with pytest.raises(DataError, match="expected a name"):
            compiled.evaluate({"band_grade": D(1)})

    def test_number_inputs(self) -> None:
        compiled = table(inputs=["x"], outputs=["m"], rows=[["< 0", 1], [">= 0", 2]])
        assert compiled.evaluate({"x": 0.1}).outputs == {"m": D(2)}  # a float is read as written
        with pytest.raises(DataError, match="expected a number"):
            compiled.evaluate({"x": "0.1"})
        with pytest.raises(DataError, match="has no value") as info:
            compiled.evaluate({})
        assert info.value.column == "x"

    def test_exactness_at_a_sum_of_tenths(self) -> None:
        compiled = table(
            inputs=["x"], outputs=["band"], rows=[["< 0.3", "low"], ["[0.3..0.6)", "mid"], [">= 0.6", "high"]]
        )
        assert compiled.evaluate({"x": D("0.1") + D("0.2")}).outputs == {"band": "mid"}
        assert compiled.evaluate({"x": D("0.3")}).outputs == {"band": "mid"}
        assert compiled.evaluate({"x": D("0.5999999999999999999999999999999999")}).outputs == {"band": "mid"}


class TestYaml:
    """The table shape users write, read the way schemes are read (numbers as decimals)."""

    TEXT = """
inputs: [collection_rate, band_grade]
outputs: [cap_grade, note]
hit: unique
rows:
  - ["< 0.8", "S, A", B, capped]
  - ["< 0.8", "B, C, D", "-", "-"]
  - {collection_rate: ">= 0.8"}
"""

    def test_a_table_written_in_yaml(self) -> None:
        data, _ = read_text(self.TEXT, fmt="yaml")
        compiled = compile_table(DecisionTable(**data), path="rules[0].table", names={"band_grade": list("SABCD")})
        assert compiled.evaluate({"collection_rate": D("0.79"), "band_grade": "A"}).outputs == {
            "cap_grade": "B",
            "note": "capped",
        }
        assert compiled.evaluate({"collection_rate": D("0.8"), "band_grade": "S"}).matched == (2,)

    def test_a_grade_missing_from_the_yaml_table_is_a_gap(self) -> None:
        data, _ = read_text(self.TEXT.replace('"B, C, D"', '"B, C"'), fmt="yaml")
        with pytest.raises(SchemeError, match="no row matches collection_rate < 0.8 and band_grade = D"):
            compile_table(DecisionTable(**data), path="rules[0].table", names={"band_grade": list("SABCD")})


class TestCoverage:
    """The search behind the gap and overlap checks."""

    def test_consecutive_uncovered_names_are_named_together(self) -> None:
        problem = one_problem(
            inputs=["band_grade"], outputs=["m"], names={"band_grade": list("SABCD")}, rows=[["S, A, D", 1]]
        )
        assert problem.message.startswith("no row matches band_grade in {B, C}, for example band_grade = B;")

    def test_overlap_of_negated_names_without_known_names_gives_a_fresh_name(self) -> None:
        problem = one_problem(inputs=["band_grade"], outputs=["m"], rows=[["not(S)", 1], ["not(A)", 2]])
        assert "for example band_grade = other;" in problem.message

    def test_a_search_over_budget_gives_up(self) -> None:
        columns = [Column(name="x", kind="number"), Column(name="y", kind="number")]
        rows = [[parse_unary(f"[{i}..{i + 1})"), parse_unary(f"[{i}..{i + 1})")] for i in range(20)]
        with pytest.raises(CoverageTooLarge):
            find_gap(columns, rows, budget=10)
        assert find_gap(columns, rows) is not None

    def test_a_table_too_large_to_search_asks_for_a_default(self, monkeypatch: pytest.MonkeyPatch) -> None:
        def too_large(*args: object) -> None:
            raise CoverageTooLarge

        monkeypatch.setattr(tables_module, "find_gap", too_large)
        problem = one_problem(inputs=["x"], outputs=["m"], rows=[["< 0", 1], [">= 0", 2]])
        assert problem.message.startswith("the table is too large to check")

    def test_a_catch_all_row_covers_a_large_grid_quickly(self) -> None:
        cells = [f"[{i}..{i + 1})" for i in range(30)]
        rows = [[a, b, c, "-"] for a in cells[:6] for b in cells[:6] for c in cells[:6]] + [["-", "-", "-", "rest"]]
        compiled = table(inputs=["x", "y", "z"], outputs=["m"], hit="first", rows=rows)
        assert compiled.evaluate({"x": D(-1), "y": D(0), "z": D(0)}).outputs == {"m": "rest"}


# -- properties ----------------------------------------------------------------------------------


@st.composite
def partitions(draw: st.DrawFn, min_cuts: int = 1) -> tuple[list[Decimal], list[str]]:
    """Sorted cut points and the cells of rows that split the number line at them.

    Each cut belongs to the row below it or the row above it, drawn at random.
    """
    units = draw(st.lists(st.integers(-10_000, 10_000), min_size=min_cuts, max_size=6, unique=True))
    places = draw(st.integers(0, 4))
    cuts = [exact(u, places) for u in sorted(units)]
    closed_above = draw(st.lists(st.booleans(), min_size=len(cuts), max_size=len(cuts)))
    cells = [f"{'<=' if not closed_above[0] else '<'} {cuts[0]}"]
    for k in range(1, len(cuts)):
        opening = "[" if closed_above[k - 1] else "("
        closing = ")" if closed_above[k] else "]"
        cells.append(f"{opening}{cuts[k - 1]}..{cuts[k]}{closing}")
    cells.append(f"{'>=' if closed_above[-1] else '>'} {cuts[-1]}")
    return cuts, cells


def probes(cuts: list[Decimal]) -> st.SearchStrategy[Decimal]:
    """Inputs that matter: the cuts, values next to them, and anything at all."""
    near = st.sampled_from(cuts).flatmap(lambda c: st.sampled_from([c, c - D("0.00001"), c + D("0.00001")]))
    return st.one_of(near, st.decimals(allow_nan=False, allow_infinity=False, places=6))


class TestPartitionProperties:
    """Tables whose rows partition the inputs pass the check and match exactly once."""

    @given(partitions(), st.data())
    def test_a_partition_has_no_gap_or_overlap_and_matches_once(
        self, partition: tuple[list[Decimal], list[str]], data: st.DataObject
    ) -> None:
        cuts, cells = partition
        compiled = table(inputs=["x"], outputs=["row"], rows=[[cell, str(n)] for n, cell in enumerate(cells)])
        assert compiled.gap() is None and compiled.overlaps() == []
        value = data.draw(probes(cuts))
        assert len(compiled.matching({"x": value})) == 1

    @given(partitions(), partitions(), st.data())
    def test_a_grid_of_two_partitions_matches_once(
        self, first: tuple[list[Decimal], list[str]], second: tuple[list[Decimal], list[str]], data: st.DataObject
    ) -> None:
        rows = [[a, b, "-"] for a in first[1] for b in second[1]]
        compiled = table(inputs=["x", "y"], outputs=["out"], rows=rows)
        point = {"x": data.draw(probes(first[0])), "y": data.draw(probes(second[0]))}
        assert len(compiled.matching(point)) == 1

    @given(partitions(), st.data())
    def test_removing_a_row_leaves_a_gap_whose_example_matches_nothing(
        self, partition: tuple[list[Decimal], list[str]], data: st.DataObject
    ) -> None:
        _, cells = partition
        dropped = data.draw(st.integers(0, len(cells) - 1))
        rows = [[cell, "-"] for n, cell in enumerate(cells) if n != dropped]
        with pytest.raises(SchemeError, match="no row matches") as info:
            table(inputs=["x"], outputs=["out"], rows=rows)
        gap = table(check=False, inputs=["x"], outputs=["out"], rows=rows).gap()
        assert gap is not None
        assert f"for example {shown(gap.example)};" in str(info.value)
        assert table(check=False, inputs=["x"], outputs=["out"], rows=rows).matching(gap.example) == ()
        # and the example lies in the dropped row's own range
        assert parse_unary(cells[dropped]).matches(gap.example["x"])

    @given(partitions(), partitions(), st.data())
    def test_removing_a_grid_cell_leaves_a_gap_inside_it(
        self, first: tuple[list[Decimal], list[str]], second: tuple[list[Decimal], list[str]], data: st.DataObject
    ) -> None:
        rows = [[a, b, "-"] for a in first[1] for b in second[1]]
        dropped = rows.pop(data.draw(st.integers(0, len(rows) - 1)))
        compiled = table(check=False, inputs=["x", "y"], outputs=["out"], rows=rows)
        gap = compiled.gap()
        assert gap is not None and compiled.matching(gap.example) == ()
        assert parse_unary(dropped[0]).matches(gap.example["x"]) and parse_unary(dropped[1]).matches(gap.example["y"])

    @given(partitions(), partitions())
    def test_overlap_examples_match_both_rows(
        self, first: tuple[list[Decimal], list[str]], second: tuple[list[Decimal], list[str]]
    ) -> None:
        """Two partitions of one column, stacked: every overlap's example matches both rows."""
        rows = [[cell, "-"] for cell in first[1] + second[1]]
        compiled = table(check=False, inputs=["x"], outputs=["out"], rows=rows)
        overlaps = compiled.overlaps()
        assert {o.first for o in overlaps} == set(range(len(first[1])))  # each row meets a row of the other
        for overlap in overlaps:
            matched = compiled.matching(overlap.example)
            assert overlap.first in matched and overlap.second in matched
