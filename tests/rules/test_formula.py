"""The formula language (perfkit.rules.formula): checking, errors, the sandbox, exact numbers,
explanations and the compiled callable."""

from __future__ import annotations

import decimal
import re
import time
from decimal import Decimal

import pytest

from perfkit.errors import DataError, FormulaError, SchemeError
from perfkit.numbers import CONTEXT
from perfkit.rules import Formula
from perfkit.rules.formula import MAX_EXPONENT, EvalFailure, Step

NAMES = ["x", "y", "a", "b", "csat", "collection_rate"]


def refused(text: str, names: list[str] = NAMES, **options: object) -> FormulaError:
    """The FormulaError that checking ``text`` raises (anything else fails the test)."""
    with pytest.raises(FormulaError) as info:
        Formula.compile(text, names, **options)  # type: ignore[arg-type]
    return info.value


class TestFormula:
    """Formula.compile and calling the result."""

    def test_compile_then_call(self) -> None:
        formula = Formula.compile("clamp(collection_rate * 100, 0, 100)", NAMES)
        assert formula(collection_rate=0.853) == Decimal("85.3")

    def test_names_are_the_declared_names_used_in_order_of_first_use(self) -> None:
        assert Formula.compile("b + a * b", NAMES).names == ("b", "a")

    def test_repr_can_be_pasted_back(self) -> None:
        formula = Formula.compile("b + a * b", NAMES, path="kpis[0].score")
        assert repr(formula) == "Formula.compile('b + a * b', names=['b', 'a'], kind='number')"
        again = eval(repr(formula), {"Formula": Formula})  # noqa: S307
        assert (again.text, again.names, again.kind) == (formula.text, formula.names, formula.kind)

    def test_values_can_be_a_mapping_keywords_or_both(self) -> None:
        formula = Formula.compile("a - b", NAMES)
        assert formula({"a": 5, "b": 2}) == 3
        assert formula(a=5, b=2) == 3
        assert formula({"a": 5, "b": 100}, b=2) == 3

    def test_values_not_used_by_the_formula_are_ignored(self) -> None:
        assert Formula.compile("a", NAMES)(a=1, b="not a number") == 1

    def test_missing_value_is_a_data_error_naming_the_input(self) -> None:
        with pytest.raises(DataError) as info:
            Formula.compile("a + b", NAMES, path="kpis[0].score")(a=1)
        assert info.value.message == "no value for 'b'"
        assert info.value.column == "b"
        assert info.value.path == "kpis[0].score"

    def test_condition_formula_gives_a_bool(self) -> None:
        formula = Formula.compile("x > 1 and not y == 2", NAMES, kind="condition")
        assert formula(x=2, y=3) is True
        assert formula(x=2, y=2) is False

    def test_surrounding_white_space_is_not_part_of_the_formula(self) -> None:
        formula = Formula.compile("\n  a + 1  \n", NAMES)
        assert formula.text == "a + 1"
        assert formula(a=1) == 2

    def test_text_that_is_not_a_string_is_a_formula_error(self) -> None:
        error = refused(42, path="kpis[0].score")  # type: ignore[arg-type]
        assert error.message == "a formula is text, got int"


class TestFormulaErrorReport:
    """A FormulaError carries what is needed to fix the formula, as text and as data."""

    TEXT = "clamp(colection_rate * 100, 0, 100)"

    def error(self) -> FormulaError:
        return refused(self.TEXT, path="kpis[2].score")

    def test_is_a_scheme_error_and_a_value_error(self) -> None:
        error = self.error()
        assert isinstance(error, SchemeError)
        assert isinstance(error, ValueError)

    def test_carries_text_path_line_and_columns(self) -> None:
        error = self.error()
        assert error.text == self.TEXT
        assert error.path == "kpis[2].score"
        assert (error.formula_line, error.column, error.end_column) == (1, 7, 21)

    def test_message_reads_as_a_whole(self) -> None:
        assert str(self.error()) == (
            "kpis[2].score: unknown input 'colection_rate'; did you mean 'collection_rate'?\n"
            "    clamp(colection_rate * 100, 0, 100)\n"
            "          ^^^^^^^^^^^^^^\n"
            "    (line 1, column 7)"
        )

    def test_as_data(self) -> None:
        assert self.error().to_dict() == {
            "type": "FormulaError",
            "message": "unknown input 'colection_rate'",
            "path": "kpis[2].score",
            "text": self.TEXT,
            "formula_line": 1,
            "column": 7,
            "end_column": 21,
            "suggestion": "collection_rate",
        }

    def test_hint_is_printed_on_its_own_line(self) -> None:
        error = refused("a = 1")
        assert str(error).splitlines()[-1] == "hint: to compare two values, use '==' (a == 1)"

    def test_no_colour_codes(self) -> None:
        assert "\x1b" not in str(self.error())


class TestCaret:
    """The caret line sits under the part of the formula to fix."""

    def test_under_a_name(self) -> None:
        assert refused("clamp(colection_rate * 100, 0, 100)").caret() == (
            "    clamp(colection_rate * 100, 0, 100)\n"
            "          ^^^^^^^^^^^^^^"
        )

    def test_just_past_an_unfinished_formula(self) -> None:
        assert refused("1 +").caret() == "    1 +\n       ^"

    def test_under_a_sub_expression(self) -> None:
        assert refused("x > 1 + (y > 2)").caret() == (
            "    x > 1 + (y > 2)\n"
            "             ^^^^^"
        )

    def test_multi_line_formula_shows_the_line_with_the_problem(self) -> None:
        error = refused("x +\n  colection_rate")
        assert (error.formula_line, error.column, error.end_column) == (2, 3, 17)
        assert error.caret() == (
            "      colection_rate\n"
            "      ^^^^^^^^^^^^^^"
        )

    def test_multi_line_formula_third_line(self) -> None:
        error = refused("x\n+ y\n+ z")
        assert (error.formula_line, error.column) == (3, 3)
        assert error.caret() == "    + z\n      ^"

    def test_columns_count_characters_not_bytes(self) -> None:
        """Chinese characters are 3 bytes in UTF-8; columns still count them as one."""
        error = refused("销售额 + colection_rate", names=["销售额", "collection_rate"])
        assert (error.column, error.end_column) == (7, 21)
        assert error.suggestion == "collection_rate"

    def test_syntax_error_columns_count_characters_not_bytes(self) -> None:
        error = refused("max(销售额, y) +", names=["销售额", "y"])
        assert error.column == 14

    def test_caret_lines_up_under_wide_characters(self) -> None:
        """Chinese characters take two cells in a terminal or notebook; the caret must still be
        under the misspelt name (as Python's own tracebacks do it)."""
        error = refused("销售额 + colection_rate", names=["销售额", "collection_rate"])
        assert error.caret() == (
            "    销售额 + colection_rate\n"
            "             ^^^^^^^^^^^^^^"
        )

    @pytest.mark.parametrize("text", ["  x + z", "\tx + z", "\nx + z", "\n\n  x + z\n  "])
    def test_surrounding_white_space_is_dropped_and_the_caret_still_fits(self, text: str) -> None:
        """The error carries the stripped text; its position and caret refer to that text."""
        error = refused(text)
        assert error.message == "unknown input 'z'"
        assert error.text == "x + z"
        assert (error.formula_line, error.column) == (1, 5)
        assert error.caret() == "    x + z\n        ^"

    def test_surrounding_white_space_and_a_syntax_error(self) -> None:
        error = refused("\n  x +  \n")
        assert (error.text, error.column) == ("x +", 4)
        assert error.caret() == "    x +\n       ^"


class TestDidYouMean:
    """Misspelt inputs and functions come with the closest known name."""

    def test_unknown_input(self) -> None:
        error = refused("colection_rate * 100")
        assert error.message == "unknown input 'colection_rate'"
        assert error.suggestion == "collection_rate"

    def test_unknown_input_without_a_close_match_lists_the_names(self) -> None:
        error = refused("revenue * 2", names=["a", "b"])
        assert error.suggestion is None
        assert error.hint == "the names this formula can use are: a, b"

    @pytest.mark.parametrize(("text", "suggestion"), [("mni(x, 1)", "min"), ("clmap(x, 0, 1)", "clamp")])
    def test_unknown_function(self, text: str, suggestion: str) -> None:
        error = refused(text)
        assert error.message == f"unknown function {text.split('(')[0]!r}"
        assert error.suggestion == suggestion
        assert (error.column, error.end_column) == (1, len(text.split("(")[0]) + 1)

    def test_unknown_function_without_a_close_match_lists_the_functions(self) -> None:
        assert refused("open('x')").hint == (
            "the functions are: abs, clamp, max, min, piecewise, ratio, round, steps"
        )

    def test_lower_case_true(self) -> None:
        assert refused("x > 1 or true", kind="condition").suggestion == "True"

    def test_function_named_without_a_call(self) -> None:
        error = refused("clamp + 1")
        assert error.message == "clamp is a function; call it with arguments: clamp(x, lo, hi)"


class TestAssignment:
    """'=' is always a mistake for '=='; the hint says so."""

    @pytest.mark.parametrize(
        ("text", "column"),
        [("a = 1", 3), ("x > 1 and y = 2", 13), ("(y := 1) > 0", 2)],
    )
    def test_is_a_formula_error_with_a_hint(self, text: str, column: int) -> None:
        error = refused(text, kind="condition")
        assert "assignment is not allowed" in error.message
        assert "'=='" in (error.hint or "")
        assert error.column == column


class TestKinds:
    """Numbers and conditions (true/false) do not mix."""

    @pytest.mark.parametrize(
        ("text", "message", "column"),
        [
            ("x and y", "'and' combines conditions, but 'x' is a number", 1),
            ("x > 1 or y", "'or' combines conditions, but 'y' is a number", 10),
            ("not x", "'not' applies to a condition, but 'x' is a number", 5),
            ("a if x else b", "the test after 'if' must be a condition, but 'x' is a number", 6),
        ],
    )
    def test_number_where_a_condition_is_needed(self, text: str, message: str, column: int) -> None:
        error = refused(text, kind="condition")
        assert error.message == message
        assert error.column == column
        assert (error.hint or "").startswith("compare it, for example:")

    @pytest.mark.parametrize(
        ("text", "message"),
        [
            ("x > 1 + (y > 2)", "'+' works on numbers, but 'y > 2' is a condition"),
            ("min(x > 1, 2)", "argument 1 of min() must be a number, but 'x > 1' is a condition"),
            ("-(x > 1)", "'-' applies to a number, but 'x > 1' is a condition"),
            ("(x > 1) < 2", "comparisons compare numbers, but 'x > 1' is a condition"),
        ],
    )
    def test_condition_where_a_number_is_needed(self, text: str, message: str) -> None:
        assert refused(text, kind="condition").message == message

    def test_formula_must_give_the_kind_asked_for(self) -> None:
        assert refused("x > 1").message == "this formula must give a number"
        error = refused("x", kind="condition")
        assert error.message == "this formula must give a condition (true or false)"
        assert error.hint is not None

    def test_branches_of_if_else_must_agree(self) -> None:
        assert refused("x if x > 1 else x > 2").message == "both branches of 'a if test else b' must be numbers"


class TestRefused:
    """Names that exist but may not be used here give the caller's reason."""

    def test_reason_is_the_message(self) -> None:
        error = refused(
            "total * 2",
            names=["total"],
            refused={"total": "a KPI score cannot read the total it contributes to"},
            path="kpis[0].score",
        )
        assert error.message == "a KPI score cannot read the total it contributes to"
        assert (error.column, error.end_column, error.path) == (1, 6, "kpis[0].score")

    def test_refusal_applies_to_undeclared_names_too(self) -> None:
        assert refused("later + 1", names=["x"], refused={"later": "not computed yet"}).message == "not computed yet"

    def test_other_names_are_unaffected(self) -> None:
        assert Formula.compile("x + 1", ["x", "total"], refused={"total": "no"})(x=1) == 2


def check_fails_fast(text: str, kind: str = "number", names: list[str] = NAMES) -> FormulaError:
    """Checking ``text`` raises FormulaError (nothing else) within a second."""
    start = time.perf_counter()
    with pytest.raises(FormulaError) as info:
        Formula.compile(text, names, kind=kind)  # type: ignore[arg-type]
    assert time.perf_counter() - start < 1.0
    return info.value


SANDBOX = [
    pytest.param("x.real", id="attribute"),
    pytest.param("x.__class__", id="dunder-attribute"),
    pytest.param("x.__class__.__bases__[0].__subclasses__()", id="subclasses-escape"),
    pytest.param("__import__('os')", id="dunder-import"),
    pytest.param("__import__('os').system('true')", id="dunder-import-call"),
    pytest.param("_secret", id="underscore-name"),
    pytest.param("__builtins__", id="dunder-name"),
    pytest.param("x[0]", id="subscript"),
    pytest.param("lambda: 1", id="lambda"),
    pytest.param("(lambda: 1)()", id="lambda-call"),
    pytest.param("[i for i in x]", id="list-comprehension"),
    pytest.param("min(i for i in x)", id="generator"),
    pytest.param("{i: i for i in x}", id="dict-comprehension"),
    pytest.param("(y := 1)", id="walrus"),
    pytest.param("'text'", id="string"),
    pytest.param("b'bytes'", id="bytes"),
    pytest.param("f'{x}'", id="f-string"),
    pytest.param("[1, 2]", id="list"),
    pytest.param("{1: 2}", id="dict"),
    pytest.param("{1, 2}", id="set"),
    pytest.param("(1, 2)", id="tuple"),
    pytest.param("None", id="none"),
    pytest.param("1j", id="complex"),
    pytest.param("x % 2", id="modulo"),
    pytest.param("x // 2", id="floor-division"),
    pytest.param("x @ y", id="matmul"),
    pytest.param("x << 1", id="shift"),
    pytest.param("~x", id="invert"),
    pytest.param("x is y", id="is"),
    pytest.param("x in y", id="in"),
    pytest.param("open('x')", id="open"),
    pytest.param("exec('1')", id="exec"),
    pytest.param("eval('1')", id="eval"),
    pytest.param("getattr(x, 'y')", id="getattr"),
    pytest.param("globals()", id="globals"),
    pytest.param("x(1)", id="calling-an-input"),
    pytest.param("min(x, 1)(2)", id="calling-a-result"),
    pytest.param("min(*x, 1)", id="starred-arg"),
    pytest.param("abs(*x)", id="starred-only-arg"),
    pytest.param("ratio(x, y, **b)", id="double-starred-arg"),
    pytest.param("1; 2", id="several-expressions"),
    pytest.param("import os", id="import-statement"),
    pytest.param("await x", id="await"),
    pytest.param("yield x", id="yield"),
    pytest.param("", id="empty"),
    pytest.param("   \n  ", id="whitespace"),
    pytest.param("# only a comment", id="comment-only"),
    pytest.param("x" * 4001, id="over-long"),
    pytest.param("x + " * 1000 + "x", id="over-long-expression"),
    pytest.param("(" * 300, id="deep-parentheses-unclosed"),
    pytest.param("(" * 300 + "x" + ")" * 300, id="deep-parentheses"),
    pytest.param("-" * 3000 + "x", id="deep-unary"),
    pytest.param("not " * 900 + "x", id="deep-not"),
    pytest.param("min(" * 60 + "x" + ", 1)" * 60, id="deep-min"),
    pytest.param("x" + "+x" * 1900, id="long-chain"),
    pytest.param("x**" * 1000 + "x", id="power-tower"),
    pytest.param("x\x00", id="nul"),
    pytest.param("\x00", id="nul-only"),
    pytest.param("9**9**9", id="huge-exponent"),
    pytest.param("10 ** 100 ** 2", id="large-exponent"),
    pytest.param("((10 ** 100) ** 100) ** 100", id="overflow"),
    pytest.param("1/0", id="literal-division-by-zero"),
    pytest.param("a = 1", id="assignment"),
    pytest.param("x +\n  y ==", id="unfinished-multi-line"),
    pytest.param("\ufeffx", id="byte-order-mark"),
]


class TestSandbox:
    """A formula is data, not code: everything outside the language is a FormulaError,
    raised promptly; nothing of Python's parser, simpleeval or the evaluator escapes."""

    @pytest.mark.parametrize("text", SANDBOX)
    def test_refused_when_checked(self, text: str) -> None:
        error = check_fails_fast(text)
        assert error.message
        assert error.text == text.strip() or error.text.endswith("...")

    @pytest.mark.parametrize(
        ("text", "values", "message"),
        [
            ("x ** y", {"x": 2, "y": 1000}, "the exponent 1000 is too large (the limit is 100)"),
            ("2 ** x", {"x": 101}, "the exponent 101 is too large"),
            ("x ** y", {"x": 2, "y": 10**9}, "the exponent 1000000000 is too large"),
            ("x ** 100", {"x": "1e10000"}, "the result is too large"),
            ("x ** 0.5", {"x": -1}, "cannot compute 'x ** 0.5'"),
            ("round(x, 10)", {"x": "1e40"}, "cannot compute 'round(x, 10)'"),
            ("a / b", {"a": 1, "b": 0}, "division by zero"),
        ],
    )
    def test_failures_on_values_are_data_errors(self, text: str, values: dict[str, object], message: str) -> None:
        formula = Formula.compile(text, NAMES)
        start = time.perf_counter()
        with pytest.raises(DataError, match=re.escape(message)):
            formula(values)
        assert time.perf_counter() - start < 1.0

    @pytest.mark.parametrize(
        "operator", ["%", "//", "@", "<<", ">>", "|", "&", "^"]
    )
    def test_unsupported_operator_is_named(self, operator: str) -> None:
        error = check_fails_fast(f"x {operator} y")
        assert error.message == f"the operator {operator} is not supported in a formula"

    def test_limits_are_not_reached_by_ordinary_formulas(self) -> None:
        """Wide formulas (many operands, many points) are fine; only depth and length are limited."""
        wide = " and ".join(["x > 1"] * 300)
        assert Formula.compile(wide, NAMES, kind="condition")(x=2) is True
        many = "min(" + ", ".join(["x"] * 500) + ", 3)"
        assert Formula.compile(many, NAMES)(x=5) == 3
        nested = "min(" * 40 + "x" + ", 1)" * 40
        assert Formula.compile(nested, NAMES)(x=5) == 1

    def test_names_of_the_generated_code_are_ordinary_inputs(self) -> None:
        """The compiled code has its own helpers; inputs with the same names do not reach them."""
        formula = Formula.compile("C + F + P + V + min(C, F)", ["C", "F", "P", "V"])
        assert formula(C=1, F=2, P=3, V=4) == 11


class TestDivisionByZero:
    """Plain a / b with b = 0 is a data error that suggests ratio()."""

    def test_data_error_names_the_divisor_and_suggests_ratio(self) -> None:
        formula = Formula.compile("(a + 1) / (b - 1)", NAMES, path="kpis[3].score")
        with pytest.raises(DataError) as info:
            formula(a=1, b=1)
        error = info.value
        assert error.message == (
            "division by zero: b - 1 is 0; "
            "use ratio(a, b, default=...) to say what the result is when the divisor is 0"
        )
        assert error.formula == "(a + 1) / (b - 1)"
        assert error.path == "kpis[3].score"

    def test_data_error_names_the_failing_part_of_a_larger_formula(self) -> None:
        with pytest.raises(DataError, match=r"division by zero: b is 0 \(in 'a / b'\); use ratio\("):
            Formula.compile("min(a / b, 100) * 2", NAMES)(a=1, b=0)

    def test_written_zero_is_a_formula_error_at_check_time(self) -> None:
        error = refused("x + 1/0", path="kpis[0].score")
        assert error.message == "division by zero"
        assert (error.column, error.end_column) == (5, 8)
        assert "ratio(" in (error.hint or "")

    def test_divisor_that_is_zero_once_computed_is_caught_at_check_time(self) -> None:
        assert refused("x + 1/(1-1)").message == "division by zero: 1-1 is 0"

    def test_ratio_gives_its_default(self) -> None:
        assert Formula.compile("ratio(a, 0, default=7)", NAMES)(a=1) == 7

    def test_interpreter_reports_the_failing_node(self) -> None:
        formula = Formula.compile("min(a / b, 100)", NAMES)
        with pytest.raises(EvalFailure) as info, decimal.localcontext(CONTEXT):
            formula.interpret({"a": Decimal(1), "b": Decimal(0)})
        assert formula.segment(info.value.node) == "a / b"


class TestPower:
    """x ** y: exponents are limited; results are always finite numbers."""

    def test_exponent_limit(self) -> None:
        formula = Formula.compile("x ** y", NAMES)
        assert formula(x=2, y=MAX_EXPONENT) == 2**MAX_EXPONENT
        assert formula(x=2, y=-MAX_EXPONENT) == CONTEXT.power(2, -MAX_EXPONENT)
        with pytest.raises(DataError, match="too large"):
            formula(x=1, y=MAX_EXPONENT + 1)

    def test_fractional_exponent(self) -> None:
        assert Formula.compile("x ** 0.5", NAMES)(x=16) == 4

    def test_zero_to_a_negative_power_is_a_data_error(self) -> None:
        """0 ** -1 is a division by zero; it must not come back as Decimal('Infinity')."""
        with pytest.raises(DataError):
            Formula.compile("x ** y", NAMES)(x=0, y=-1)

    def test_written_zero_to_a_negative_power_is_a_formula_error(self) -> None:
        refused("0 ** -1")


class TestNumbers:
    """Exact decimals throughout: literals as written, inputs as their authors wrote them."""

    def test_literals_are_read_as_written(self) -> None:
        assert Formula.compile("0.1 + 0.2 == 0.3", [], kind="condition")() is True
        assert Formula.compile("0.1 * 3", [])() == Decimal("0.3")

    def test_underscores_in_literals(self) -> None:
        assert Formula.compile("1_000 + x", NAMES)(x=1) == 1001

    def test_exponent_literals(self) -> None:
        assert Formula.compile("1e3 + 2.5E-1", [])() == Decimal("1000.25")

    def test_results_are_decimals(self) -> None:
        formula = Formula.compile("x / 4 + 1", NAMES)
        assert type(formula(x=1)) is Decimal
        assert formula(x=1) == Decimal("1.25")

    @pytest.mark.parametrize(
        ("text", "values", "expected"),
        [
            ("a + b", {"a": 0.1, "b": 0.2}, "0.3"),
            ("a * 3", {"a": 1.1}, "3.3"),
            ("a * 1", {"a": 1 / 3}, "0.3333333333333333"),
            ("a * 100", {"a": 0.853}, "85.3"),
        ],
    )
    def test_float_inputs_are_read_as_their_shortest_repr(
        self, text: str, values: dict[str, float], expected: str
    ) -> None:
        assert Formula.compile(text, NAMES)(values) == Decimal(expected)

    def test_decimal_and_text_inputs(self) -> None:
        formula = Formula.compile("a * 2", NAMES)
        assert formula(a=Decimal("1.05")) == Decimal("2.10")
        assert formula(a="85%") == Decimal("1.70")

    @pytest.mark.parametrize(
        "value",
        [float("nan"), float("inf"), float("-inf"), Decimal("NaN"), Decimal("Infinity"), True, False, "abc", None],
        ids=repr,
    )
    def test_non_numbers_are_data_errors_naming_the_input(self, value: object) -> None:
        with pytest.raises(DataError) as info:
            Formula.compile("a + 1", NAMES, path="kpis[0].score")(a=value)
        assert info.value.column == "a"
        assert info.value.path == "kpis[0].score"

    def test_callers_precision_does_not_change_results(self, caller_context: decimal.Context) -> None:
        caller_context.prec = 3
        assert Formula.compile("a / b", NAMES)(a=1, b=3) == Decimal("0." + "3" * 34)
        assert Formula.compile("a * b", NAMES)(a=1.23456, b=1) == Decimal("1.23456")
        assert decimal.getcontext().prec == 3

    def test_callers_rounding_does_not_change_results(self, caller_context: decimal.Context) -> None:
        caller_context.rounding = decimal.ROUND_DOWN
        assert Formula.compile("a / b", NAMES)(a=2, b=3) == Decimal("0." + "6" * 33 + "7")

    def test_callers_traps_do_not_hide_failures(self, caller_context: decimal.Context) -> None:
        caller_context.traps[decimal.DivisionByZero] = False
        caller_context.traps[decimal.InvalidOperation] = False
        with pytest.raises(DataError, match="division by zero"):
            Formula.compile("a / b", NAMES)(a=1, b=0)


class TestTrace:
    """Formula.trace gives the value and every intermediate result, in evaluation order."""

    TEXT = "clamp((csat - 1) / 4 * 100, 0, 100) + max(a, 1)"

    def test_steps_are_sub_expressions_and_end_with_the_whole_formula(self) -> None:
        value, steps = Formula.compile(self.TEXT, NAMES).trace({"csat": Decimal(3), "a": Decimal(0)})
        assert value == Decimal(51)
        assert [s.text for s in steps] == [
            "csat - 1",
            "(csat - 1) / 4",
            "(csat - 1) / 4 * 100",
            "clamp((csat - 1) / 4 * 100, 0, 100)",
            "max(a, 1)",
            self.TEXT,
        ]
        assert all(isinstance(s, Step) and s.text in self.TEXT for s in steps)
        assert steps[-1] == Step(self.TEXT, value)
        assert steps[2].value == 50

    def test_trace_agrees_with_calling(self) -> None:
        formula = Formula.compile(self.TEXT, NAMES)
        for csat in ("1", "2.5", "5", "7"):
            values = {"csat": Decimal(csat), "a": Decimal("1.5")}
            value, steps = formula.trace(values)
            assert value == formula(values) == steps[-1].value

    def test_condition_trace(self) -> None:
        text = "x > 1 and y < 2 or not x == 3"
        value, steps = Formula.compile(text, NAMES, kind="condition").trace({"x": Decimal(3), "y": Decimal(1)})
        assert value is True
        assert [s.text for s in steps][:3] == ["x > 1", "y < 2", "x > 1 and y < 2"]
        assert steps[-1] == Step(text, True)

    def test_trace_is_exact_whatever_the_callers_context(self, caller_context: decimal.Context) -> None:
        caller_context.prec = 2
        value, _ = Formula.compile("a / b", NAMES).trace({"a": Decimal(1), "b": Decimal(3)})
        assert value == Decimal("0." + "3" * 34)


class RecordingDict(dict):  # type: ignore[type-arg]
    """A plain dict that remembers which keys were read."""

    def __init__(self, *args: object, **kwargs: object) -> None:
        super().__init__(*args, **kwargs)
        self.read: list[str] = []

    def __getitem__(self, key: str) -> Decimal:
        self.read.append(key)
        return super().__getitem__(key)  # type: ignore[no-any-return]


class TestCompiledCallable:
    """Formula.fast: the generated callable, built from perfkit's own tree, not the text."""

    def test_works_on_a_plain_dict_of_decimals(self) -> None:
        formula = Formula.compile("clamp(a * 100, 0, 100) + steps(b, (1, 5), default=0)", NAMES)
        with decimal.localcontext(CONTEXT):
            assert formula.fast({"a": Decimal("0.853"), "b": Decimal(2)}) == Decimal("90.3")

    def test_inputs_are_only_reached_by_key(self) -> None:
        env = RecordingDict(a=Decimal(2), b=Decimal(3), x=Decimal(99))
        with decimal.localcontext(CONTEXT):
            assert Formula.compile("a * b + a", NAMES).fast(env) == 8
        assert sorted(env.read) == ["a", "a", "b"]

    def test_missing_key_raises_key_error(self) -> None:
        with pytest.raises(KeyError, match="b"), decimal.localcontext(CONTEXT):
            Formula.compile("a + b", NAMES).fast({"a": Decimal(1)})

    @pytest.mark.parametrize(
        ("text", "env"),
        [
            ("a / b", {"a": Decimal(1), "b": Decimal(0)}),
            ("a ** b", {"a": Decimal(2), "b": Decimal(1000)}),
            ("clamp(a, 1, b)", {"a": Decimal(2), "b": Decimal(0)}),
        ],
    )
    def test_failure_raises_arithmetic_error(self, text: str, env: dict[str, Decimal]) -> None:
        with pytest.raises(ArithmeticError), decimal.localcontext(CONTEXT):
            Formula.compile(text, NAMES).fast(env)

    def test_agrees_with_the_interpreter(self) -> None:
        formula = Formula.compile("piecewise(x, (0, 0), (1, 100)) if y > 0 else round(x * 3, 1)", NAMES)
        for x in ("-1", "0.25", "0.3333", "2"):
            for y in ("-1", "1"):
                env = {"x": Decimal(x), "y": Decimal(y)}
                with decimal.localcontext(CONTEXT):
                    assert formula.fast(env) == formula.interpret(env)

    def test_generated_code_holds_no_formula_text_and_no_builtins(self) -> None:
        """White-box: the lambda reads only V (the inputs), C (constants), F and G (functions,
        G for curves checked at compile time) and P (power)."""
        text = "a + 100 * min(b, 2) + piecewise(a, (0, 0), (1, 1)) + piecewise(a, (b, 0), (1, 1))"
        code_function = Formula.compile(text, NAMES)._call
        code = code_function.__code__
        assert code.co_varnames == ("V",)
        assert set(code.co_names) <= {"C", "F", "G", "P"}
        assert text not in code.co_consts
        assert code_function.__globals__["__builtins__"] == {}
