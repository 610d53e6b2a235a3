"""Formula text → Python syntax tree (perfkit.rules._parser), and its isolation of simpleeval."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

import perfkit
from perfkit.errors import FormulaError, PerfkitError
from perfkit.rules import Formula
from perfkit.rules._parser import DISALLOWED_PREFIXES, MAX_LENGTH, parse

SOURCE_ROOT = Path(perfkit.__file__).parent


def modules_importing(package: str) -> list[str]:
    """The modules under src/perfkit with an ``import package`` or ``from package import``."""
    found = []
    for path in sorted(SOURCE_ROOT.rglob("*.py")):
        tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
        for node in ast.walk(tree):
            if isinstance(node, ast.Import):
                hit = any(alias.name.split(".")[0] == package for alias in node.names)
            elif isinstance(node, ast.ImportFrom):
                hit = (node.module or "").split(".")[0] == package
            else:
                continue
            if hit:
                found.append(path.relative_to(SOURCE_ROOT).as_posix())
                break
    return found


class TestSimpleevalIsolation:
    """simpleeval is imported in one module and never leaks (STYLE 7)."""

    def test_scan_sees_the_whole_package(self) -> None:
        """Guard for the next test: the scan finds perfkit's modules and their imports."""
        assert "rules/formula.py" in modules_importing("attrs")

    def test_exactly_one_module_imports_simpleeval(self) -> None:
        assert modules_importing("simpleeval") == ["rules/_parser.py"]

    def test_errors_users_see_are_perfkit_types(self) -> None:
        for error in (FormulaError, PerfkitError):
            assert all(not cls.__module__.startswith("simpleeval") for cls in error.__mro__)

    def test_refused_prefixes_cover_every_dunder(self) -> None:
        assert "_" in DISALLOWED_PREFIXES


class TestParse:
    """parse(text) → (expression node, source actually parsed, columns added on line 1)."""

    def test_single_line_is_parsed_as_written(self) -> None:
        node, source, shift = parse("a + b")
        assert isinstance(node, ast.BinOp)
        assert (source, shift) == ("a + b", 0)

    def test_multi_line_formula_may_break_anywhere(self) -> None:
        """A newline outside brackets would end a Python statement; perfkit wraps the text."""
        node, source, shift = parse("a +\n  b")
        assert isinstance(node, ast.BinOp)
        assert shift == 1
        assert ast.get_source_segment(source, node.right) == "b"

    def test_trailing_newline_does_not_make_a_formula_multi_line(self) -> None:
        assert parse("a + b\n")[2] == 0

    @pytest.mark.parametrize(
        ("text", "segment"),
        [
            ("x + y", "x + y"),
            ("x +\n  y", "x +\n  y"),
            ("  x + y", "x + y"),
            ("\tx + y", "x + y"),
            ("\n\nx + y", "x + y"),
        ],
    )
    def test_positions_of_the_node_index_into_the_returned_source(self, text: str, segment: str) -> None:
        """Every later error position is computed from these; they must agree with the source."""
        node, source, _ = parse(text)
        assert ast.get_source_segment(source, node) == segment

    @pytest.mark.parametrize("text", ["", "   ", "\n\t\n"])
    def test_empty_text_is_refused(self, text: str) -> None:
        with pytest.raises(FormulaError, match="the formula is empty"):
            parse(text)

    @pytest.mark.parametrize("text", ["# just a note", "   # a note\n"])
    def test_a_comment_alone_is_an_empty_formula(self, text: str) -> None:
        with pytest.raises(FormulaError, match="empty"):
            parse(text)

    def test_longest_accepted_text(self) -> None:
        node, _, _ = parse("x" + " " * (MAX_LENGTH - 1))
        assert isinstance(node, ast.Name)

    def test_one_character_more_is_refused_without_copying_the_whole_text(self) -> None:
        with pytest.raises(FormulaError) as info:
            parse("x" * (MAX_LENGTH + 1))
        assert info.value.message == f"the formula is {MAX_LENGTH + 1} characters long; the limit is {MAX_LENGTH}"
        assert len(info.value.text) < 100

    def test_nul_character_is_refused_at_its_column(self) -> None:
        with pytest.raises(FormulaError) as info:
            parse("a +\x00 b")
        assert info.value.message == "the formula contains a NUL character"
        assert info.value.column == 4

    def test_several_expressions_are_refused(self) -> None:
        with pytest.raises(FormulaError) as info:
            parse("1; 2")
        assert info.value.message == "a formula is a single expression; this one has several"
        assert info.value.hint is not None

    @pytest.mark.parametrize(
        ("text", "column"),
        [("a = 1", 3), ("a += 1", 3), ("a: int = 1", 8)],
    )
    def test_assignment_statement_is_refused_at_its_operator(self, text: str, column: int) -> None:
        with pytest.raises(FormulaError) as info:
            parse(text)
        assert info.value.message == "assignment is not allowed in a formula"
        assert info.value.column == column
        assert "'=='" in (info.value.hint or "")

    @pytest.mark.parametrize(("text", "kind"), [("import os", "import"), ("del x", "delete"), ("pass", "pass")])
    def test_other_statements_are_refused(self, text: str, kind: str) -> None:
        with pytest.raises(FormulaError, match=f"found a {kind} statement"):
            parse(text)

    def test_syntax_error_points_just_past_an_unfinished_formula(self) -> None:
        with pytest.raises(FormulaError) as info:
            parse("1 +")
        assert info.value.message == "cannot read the formula: invalid syntax"
        assert (info.value.formula_line, info.value.column) == (1, 4)

    def test_unclosed_bracket_on_a_multi_line_formula_points_at_the_bracket(self) -> None:
        with pytest.raises(FormulaError) as info:
            parse("(x +\n y")
        assert info.value.message == "cannot read the formula: '(' was never closed"
        assert (info.value.formula_line, info.value.column) == (1, 1)

    def test_unfinished_multi_line_formula_points_past_its_last_line(self) -> None:
        """Like the single-line case: the error is at the end of the text, not at column 1."""
        with pytest.raises(FormulaError) as info:
            parse("x +\n  y ==")
        assert (info.value.formula_line, info.value.column) == (2, 7)

    def test_stray_closing_bracket_on_a_multi_line_formula_points_at_it(self) -> None:
        with pytest.raises(FormulaError) as info:
            parse("x)\n+ y")
        assert (info.value.formula_line, info.value.column) == (1, 2)

    @pytest.mark.parametrize("text", ["x) + (\ny", "x) * 2 + (\ny"])
    def test_unbalanced_brackets_cannot_hide_in_the_multi_line_wrapper(self, text: str) -> None:
        """The text is not an expression; the parentheses perfkit adds must not complete it."""
        with pytest.raises(FormulaError):
            Formula.compile(text, ["x", "y"])

    def test_too_deep_for_pythons_parser_is_a_formula_error(self) -> None:
        with pytest.raises(FormulaError):
            parse("(" * 300 + "x" + ")" * 300)
        # Python 3.11's parser refuses this; 3.10's reads it and perfkit's depth limit does
        with pytest.raises(FormulaError, match="nest"):
            Formula.compile("-" * 3000 + "x", ["x"])
