"""Python syntax tree → checked perfkit tree (:mod:`perfkit.rules.ir`).

Each construct is either converted to a perfkit node, with its kind (number or condition)
checked, or refused with a :class:`FormulaError` that points at it. Names must be declared;
functions must be in the library with the right arguments.
"""

from __future__ import annotations

import ast
import difflib
from collections.abc import Collection, Mapping
from decimal import Decimal, InvalidOperation
from typing import Literal, NoReturn

from perfkit.errors import FormulaError
from perfkit.numbers import CONTEXT
from perfkit.rules import ir
from perfkit.rules._parser import DISALLOWED_PREFIXES
from perfkit.rules.functions import FUNCTIONS, MAX_ROUND_PLACES
from perfkit.rules.history import HISTORY_FUNCTIONS, MAX_PERIODS, HistoryFunction

MAX_DEPTH = 50
"""Deepest nesting of operations accepted in one formula."""

_BINARY = {ast.Add: "+", ast.Sub: "-", ast.Mult: "*", ast.Div: "/", ast.Pow: "**"}
_UNSUPPORTED = {
    ast.Mod: "%",
    ast.FloorDiv: "//",
    ast.MatMult: "@",
    ast.LShift: "<<",
    ast.RShift: ">>",
    ast.BitOr: "|",
    ast.BitAnd: "&",
    ast.BitXor: "^",
}
_COMPARE = {ast.Lt: "<", ast.LtE: "<=", ast.Gt: ">", ast.GtE: ">=", ast.Eq: "==", ast.NotEq: "!="}
_UNARY = {ast.USub: "-", ast.UAdd: "+", ast.Not: "not"}
_REFUSED = {
    ast.Attribute: ("attribute access (a.b) is not allowed in a formula", None),
    ast.Subscript: ("indexing (a[b]) is not allowed in a formula", None),
    ast.Lambda: ("lambda is not allowed in a formula", None),
    ast.ListComp: ("comprehensions are not allowed in a formula", None),
    ast.SetComp: ("comprehensions are not allowed in a formula", None),
    ast.DictComp: ("comprehensions are not allowed in a formula", None),
    ast.GeneratorExp: ("comprehensions are not allowed in a formula", None),
    ast.NamedExpr: ("assignment is not allowed in a formula", "to compare two values, use '=='"),
    ast.List: ("lists are not allowed in a formula", None),
    ast.Dict: ("dictionaries are not allowed in a formula", None),
    ast.Set: ("sets are not allowed in a formula", None),
    ast.JoinedStr: ("text is not allowed in a formula", None),
    ast.Starred: ("unpacking (*a) is not allowed in a formula", None),
    ast.Await: ("await is not allowed in a formula", None),
    ast.Yield: ("yield is not allowed in a formula", None),
    ast.YieldFrom: ("yield is not allowed in a formula", None),
}


class Converter:
    """Converts one parsed formula; holds what error messages need."""

    def __init__(
        self,
        text: str,
        source: str,
        shift: int,
        names: Collection[str],
        path: str | None,
        refused: Mapping[str, str] | None = None,
    ) -> None:
        self.refused = refused or {}
        self.text = text
        self.source_lines = source.splitlines() or [""]
        self.shift = shift
        self.names = names
        self.path = path

    # -- positions and errors -------------------------------------------------------

    def span(self, node: ast.AST) -> ir.Span:
        line = getattr(node, "lineno", 1)
        end_line = getattr(node, "end_lineno", None) or line
        column = self._chars(line, getattr(node, "col_offset", 0))
        end_column = self._chars(end_line, getattr(node, "end_col_offset", None) or 0)
        if line == 1:
            column -= self.shift
        if end_line == 1:
            end_column -= self.shift
        return ir.Span(line, max(column, 0) + 1, end_line, max(end_column, 0) + 1)

    def _chars(self, line: int, byte_offset: int) -> int:
        if not 1 <= line <= len(self.source_lines):
            return byte_offset
        encoded = self.source_lines[line - 1].encode("utf-8")
        return len(encoded[:byte_offset].decode("utf-8", errors="ignore"))

    def fail(
        self,
        message: str,
        at: ast.AST | ir.Span,
        *,
        hint: str | None = None,
        suggestion: str | None = None,
    ) -> NoReturn:
        span = at if isinstance(at, ir.Span) else self.span(at)
        end = span.end_column if span.end_line == span.line else None
        raise FormulaError(
            message,
            text=self.text,
            formula_line=span.line,
            column=span.column,
            end_column=end,
            hint=hint,
            suggestion=suggestion,
            path=self.path,
        )

    def segment(self, span: ir.Span) -> str:
        return segment(self.text, span)

    # -- conversion -----------------------------------------------------------------

    def convert(self, node: ast.expr, depth: int = 0) -> ir.Node:
        if depth > MAX_DEPTH:
            self.fail(f"the formula nests more than {MAX_DEPTH} levels deep", node)
        refused = _REFUSED.get(type(node))
        if refused is not None:
            self.fail(refused[0], node, hint=refused[1])
        method = getattr(self, f"_convert_{type(node).__name__}", None)
        if method is None:
            self.fail(f"{type(node).__name__} is not allowed in a formula", node)
        result: ir.Node = method(node, depth + 1)
        return result

    def _convert_Constant(self, node: ast.Constant, depth: int) -> ir.Node:
        span = self.span(node)
        if isinstance(node.value, bool):
            return ir.Const(node.value, span, "condition")
        if isinstance(node.value, (int, float)):
            written = self.segment(span).replace("_", "")
            try:
                value = Decimal(written)
            except InvalidOperation:
                value = Decimal(repr(node.value))
            if not value.is_finite() or (value and abs(value.adjusted()) > CONTEXT.Emax):
                self.fail("the number is too large (or too small) for perfkit", node)
            return ir.Const(value, span, "number")
        if isinstance(node.value, str):
            self.fail("text is not allowed in a formula; inputs and results are numbers", node)
        if isinstance(node.value, complex):
            self.fail("complex numbers are not allowed in a formula", node)
        self.fail(f"{node.value!r} is not allowed in a formula", node)

    def _convert_Name(self, node: ast.Name, depth: int) -> ir.Node:
        name = node.id
        if name.startswith(DISALLOWED_PREFIXES):
            self.fail(f"names starting with {name[0]!r} are not allowed", node)
        if name in self.refused:
            self.fail(self.refused[name], node)
        if name in self.names:
            return ir.Name(name, self.span(node))
        if name in FUNCTIONS:
            self.fail(f"{name} is a function; call it with arguments: {FUNCTIONS[name].signature}", node)
        if name in ("true", "false", "TRUE", "FALSE"):
            self.fail(f"unknown input {name!r}", node, suggestion=name.capitalize())
        close = difflib.get_close_matches(name, list(self.names), n=1, cutoff=0.6)
        hint = None
        if not close:
            known = ", ".join(sorted(self.names)) or "none"
            hint = f"the names this formula can use are: {known}"
        self.fail(f"unknown input {name!r}", node, suggestion=close[0] if close else None, hint=hint)

    def _convert_UnaryOp(self, node: ast.UnaryOp, depth: int) -> ir.Node:
        op = _UNARY.get(type(node.op))
        if op is None:
            self.fail("the operator ~ is not allowed in a formula", node)
        operand = self.convert(node.operand, depth)
        expected = "condition" if op == "not" else "number"
        self.expect(operand, expected, f"'{op}' applies to a {expected}")
        return ir.Unary(op, operand, self.span(node), expected)  # type: ignore[arg-type]

    def _convert_BinOp(self, node: ast.BinOp, depth: int) -> ir.Node:
        op = _BINARY.get(type(node.op))
        if op is None:
            symbol = _UNSUPPORTED.get(type(node.op), type(node.op).__name__)
            self.fail(
                f"the operator {symbol} is not supported in a formula",
                node,
                hint="use + - * / ** and the library's functions (round, min, max, ...)",
            )
        left = self.convert(node.left, depth)
        right = self.convert(node.right, depth)
        for side in (left, right):
            self.expect(side, "number", f"'{op}' works on numbers")
        return ir.Binary(op, left, right, self.span(node))  # type: ignore[arg-type]

    def _convert_Compare(self, node: ast.Compare, depth: int) -> ir.Node:
        ops = []
        for op in node.ops:
            symbol = _COMPARE.get(type(op))
            if symbol is None:
                self.fail(
                    "only the comparisons < <= > >= == != are supported",
                    node,
                )
            ops.append(symbol)
        operands = tuple(self.convert(n, depth) for n in (node.left, *node.comparators))
        for operand in operands:
            self.expect(operand, "number", "comparisons compare numbers")
        return ir.Compare(tuple(ops), operands, self.span(node))

    def _convert_BoolOp(self, node: ast.BoolOp, depth: int) -> ir.Node:
        op: Literal["and", "or"] = "and" if isinstance(node.op, ast.And) else "or"
        operands = tuple(self.convert(n, depth) for n in node.values)
        for operand in operands:
            self.expect(operand, "condition", f"'{op}' combines conditions")
        return ir.BoolOp(op, operands, self.span(node))

    def _convert_IfExp(self, node: ast.IfExp, depth: int) -> ir.Node:
        test = self.convert(node.test, depth)
        self.expect(test, "condition", "the test after 'if' must be a condition")
        then = self.convert(node.body, depth)
        other = self.convert(node.orelse, depth)
        if then.kind != other.kind or then.kind == "pair":
            self.fail("both branches of 'a if test else b' must be numbers", node)
        return ir.IfElse(test, then, other, self.span(node), then.kind)

    def _convert_Tuple(self, node: ast.Tuple, depth: int) -> ir.Node:
        self.fail("an (x, y) pair is only allowed as a point of piecewise() or steps()", node)

    def _convert_Call(self, node: ast.Call, depth: int) -> ir.Node:
        if not isinstance(node.func, ast.Name):
            self.fail("only the library's functions can be called", node.func)
        name = node.func.id
        if name in HISTORY_FUNCTIONS:
            return self._history(node, HISTORY_FUNCTIONS[name])
        function = FUNCTIONS.get(name)
        if function is None:
            close = difflib.get_close_matches(name, [*FUNCTIONS, *HISTORY_FUNCTIONS], n=1, cutoff=0.6)
            self.fail(
                f"unknown function {name!r}",
                node.func,
                suggestion=close[0] if close else None,
                hint=None if close else "the functions are: " + ", ".join(sorted(FUNCTIONS)),
            )
        usage = f"usage: {function.signature}"
        count = len(node.args)
        if count < function.min_args or (function.max_args is not None and count > function.max_args):
            self.fail(f"{name}() got {count} argument{'s' if count != 1 else ''}", node, hint=usage)
        args: list[ir.Node] = []
        for index, arg in enumerate(node.args):
            if function.pairs_from is not None and index >= function.pairs_from:
                args.append(self._pair(arg, name, depth, usage))
                continue
            converted = self.convert(arg, depth)
            self.expect(converted, "number", f"argument {index + 1} of {name}() must be a number")
            if index in function.literal_int_args:
                self._literal_places(converted, name)
            args.append(converted)
        keywords: list[tuple[str, ir.Node]] = []
        for keyword in node.keywords:
            if keyword.arg is None or keyword.arg not in function.keywords:
                label = "**" if keyword.arg is None else f"{keyword.arg}="
                self.fail(f"{name}() takes no argument {label}", keyword, hint=usage)
            value = self.convert(keyword.value, depth)
            self.expect(value, "number", f"{keyword.arg}= of {name}() must be a number")
            keywords.append((keyword.arg, value))
        if function.pairs_from is not None:
            self._increasing(name, args[function.pairs_from :])
        given = {k for k, _ in keywords}
        for required in function.required_keywords:
            if required not in given:
                self.fail(f"{name}() needs {required}=...", node, hint=usage)
        return ir.Call(name, tuple(args), tuple(keywords), self.span(node))

    def _history(self, node: ast.Call, function: HistoryFunction) -> ir.Node:
        usage = f"usage: {function.signature}"
        wanted = 0 if function.argument == "none" else 1
        if node.keywords or len(node.args) != wanted:
            self.fail(f"{function.name}() takes {wanted or 'no'} argument{'s' if wanted != 1 else ''}", node, hint=usage)
        argument: int | str | None = None
        if function.argument == "count":
            arg = node.args[0]
            value = arg.value if isinstance(arg, ast.Constant) else None
            if not (isinstance(value, int) and not isinstance(value, bool) and 1 <= value <= MAX_PERIODS):
                self.fail(f"the n of {function.name}() is a whole number from 1 to {MAX_PERIODS} written in the formula", arg)
            argument = value
        elif function.argument == "grade":
            arg = node.args[0]
            if not (isinstance(arg, ast.Constant) and isinstance(arg.value, str) and arg.value):
                self.fail(f"the grade of {function.name}() is written in quotes: {function.signature}", arg)
            argument = arg.value
        return ir.History(function.name, argument, self.span(node))

    def _pair(self, node: ast.expr, name: str, depth: int, usage: str) -> ir.Pair:
        if not isinstance(node, ast.Tuple) or len(node.elts) != 2:
            self.fail(f"each point of {name}() is a pair (x, y)", node, hint=usage)
        first, second = (self.convert(n, depth) for n in node.elts)
        for part in (first, second):
            self.expect(part, "number", f"the points of {name}() hold numbers")
        return ir.Pair(first, second, self.span(node))

    def _increasing(self, name: str, points: list[ir.Node]) -> None:
        """Written-out x values of piecewise()/steps() must rise; check them now."""
        previous: ir.Const | None = None
        for point in points:
            assert isinstance(point, ir.Pair)
            x = point.first
            if not isinstance(x, ir.Const):
                previous = None
                continue
            if previous is not None and not previous.value < x.value:
                self.fail(
                    f"the x values of {name}() must be strictly increasing, but {self.segment(previous.span)} "
                    f"is followed by {self.segment(x.span)}",
                    x.span,
                )
            previous = x

    def _literal_places(self, node: ir.Node, name: str) -> None:
        if not (
            isinstance(node, ir.Const)
            and isinstance(node.value, Decimal)
            and node.value == node.value.to_integral_value()
            and 0 <= node.value <= MAX_ROUND_PLACES
        ):
            self.fail(
                f"the places of {name}() must be a whole number from 0 to {MAX_ROUND_PLACES} written in the formula",
                node.span,
            )

    def expect(self, node: ir.Node, kind: str, why: str) -> None:
        if node.kind == kind:
            return
        found = {"number": "a number", "condition": "a condition", "pair": "a pair"}[node.kind]
        hint = None
        if kind == "condition" and node.kind == "number":
            hint = f"compare it, for example: {self.segment(node.span)} > 0"
        self.fail(f"{why}, but {self.segment(node.span)!r} is {found}", node.span, hint=hint)


def segment(text: str, span: ir.Span) -> str:
    """The part of ``text`` a span covers."""
    lines = text.splitlines() or [""]
    if span.line == span.end_line:
        return lines[span.line - 1][span.column - 1 : span.end_column - 1]
    parts = [lines[span.line - 1][span.column - 1 :]]
    parts.extend(lines[span.line : span.end_line - 1])
    parts.append(lines[span.end_line - 1][: span.end_column - 1])
    return " ".join(p.strip() for p in parts)
