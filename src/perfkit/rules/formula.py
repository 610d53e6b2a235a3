"""Formulas: parse once, check, compile; evaluate many times.

>>> from perfkit.rules import Formula
>>> f = Formula.compile("clamp(collection_rate * 100, 0, 100)", names=["collection_rate"])
>>> f(collection_rate=0.853)
Decimal('85.300')

A :class:`Formula` holds the text, its checked tree (:mod:`perfkit.rules.ir`) and a compiled
callable generated from that tree, so evaluating a row never walks a syntax tree. The tree
is also interpreted step by step (:meth:`Formula.trace`) to explain a result; the two paths
give the same values, and the test suite holds them to it.
"""

from __future__ import annotations

import decimal
from collections.abc import Callable, Collection, Iterable, Mapping
from decimal import Decimal
from typing import Any, Literal, NoReturn

import attrs

from perfkit.errors import DataError, FormulaError
from perfkit.numbers import CONTEXT, to_decimal
from perfkit.rules import ir
from perfkit.rules._convert import Converter, segment
from perfkit.rules._parser import parse
from perfkit.rules.functions import FUNCTIONS, FunctionFailed
from perfkit.rules.intervals import EVERYTHING, Interval

__all__ = ["EvalFailure", "Formula", "Step"]

MAX_EXPONENT = 100
"""Largest exponent (in absolute value) accepted by ``**``."""

Value = Decimal | bool


class EvalFailure(Exception):
    """A formula failed on some values; ``node`` is the part that failed."""

    def __init__(self, message: str, node: ir.Node, hint: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.node = node
        self.hint = hint


def power(base: Decimal, exponent: Decimal) -> Decimal:
    if abs(exponent) > MAX_EXPONENT:
        raise FunctionFailed(f"the exponent {exponent} is too large (the limit is {MAX_EXPONENT})")
    if base == 0 and exponent < 0:
        raise FunctionFailed(f"0 cannot be raised to a negative power ({exponent})")
    return base**exponent


@attrs.frozen
class Step:
    """One evaluated part of a formula: its text and the value it gave."""

    text: str
    value: Value


@attrs.frozen(repr=False)
class Formula:
    """A checked, compiled formula. Build one with :meth:`Formula.compile`."""

    text: str
    tree: ir.Node
    kind: Literal["number", "condition"]
    names: tuple[str, ...]
    """The declared names the formula reads, in order of first use."""
    path: str | None
    history: tuple[ir.History, ...]
    """The history calls (``avg_total(3)``) the formula reads, each once."""
    _call: Callable[[Mapping[str, Decimal]], Value] = attrs.field(eq=False, alias="call")

    @classmethod
    def compile(
        cls,
        text: str,
        names: Collection[str],
        *,
        kind: Literal["number", "condition"] = "number",
        path: str | None = None,
        refused: Mapping[str, str] | None = None,
    ) -> Formula:
        """Parse, check and compile ``text``.

        ``names`` are the names the formula may read (the scheme's inputs, KPI ids, ...).
        ``kind`` says what it must produce: a ``"number"`` (a score) or a ``"condition"``
        (a rule's ``when``). ``path`` is its place in the scheme, used in messages.
        ``refused`` maps names that must not be used here to the reason why.
        Raises :class:`~perfkit.errors.FormulaError`.
        """
        if not isinstance(text, str):
            raise FormulaError(f"a formula is text, got {type(text).__name__}", text=str(text), path=path)
        text = text.strip()
        node, source, shift = _parse_at(text, path)
        converter = Converter(text, source, shift, names, path, refused)
        tree = converter.convert(node)
        if tree.kind != kind:
            wanted = "a number" if kind == "number" else "a condition (true or false)"
            hint = "compare it, for example: ... > 0" if kind == "condition" else None
            converter.fail(f"this formula must give {wanted}", tree.span, hint=hint)
        _check_constants(tree, text, path)
        used = tuple(dict.fromkeys(n.name for n in _walk(tree) if isinstance(n, ir.Name)))
        history = tuple({n.key: n for n in _walk(tree) if isinstance(n, ir.History)}.values())
        return cls(text=text, tree=tree, kind=kind, names=used, path=path, history=history, call=_generate(tree))

    def __repr__(self) -> str:
        return f"Formula.compile({self.text!r}, names={list(self.names)!r}, kind={self.kind!r})"

    def __call__(self, values: Mapping[str, object] | None = None, /, **more: object) -> Value:
        """Evaluate on ``values`` (a mapping, keyword arguments, or both).

        Values are read with :func:`perfkit.numbers.to_decimal`. A failure raises
        :class:`~perfkit.errors.DataError` naming the part of the formula that failed.
        """
        env = self._environment({**(values or {}), **more})
        with decimal.localcontext(CONTEXT):
            try:
                return self._call(env)
            except ArithmeticError:
                pass
            try:
                return self.interpret(env)
            except EvalFailure as failure:
                raise self.data_error(failure) from None

    def _environment(self, values: Mapping[str, object]) -> dict[str, Decimal]:
        env: dict[str, Decimal] = {}
        for name in (*self.names, *(h.key for h in self.history)):
            if name not in values:
                raise DataError(f"no value for {name!r}", column=name, path=self.path, formula=self.text)
            try:
                env[name] = to_decimal(values[name])
            except ValueError as exc:
                raise DataError(str(exc), column=name, value=values[name], path=self.path) from None
        return env

    def fast(self, env: Mapping[str, Decimal]) -> Value:
        """Evaluate the compiled callable on decimals; the caller sets :data:`CONTEXT`.

        Raises ``ArithmeticError`` on failure; use :meth:`interpret` to locate it.
        """
        return self._call(env)

    def interpret(self, env: Mapping[str, Decimal], steps: list[Step] | None = None) -> Value:
        """Evaluate by walking the tree (the reference path); record steps if asked.

        Raises :class:`EvalFailure` naming the node that failed.
        """
        value: Value = _Interpreter(self.text, env, steps).run(self.tree)
        return value

    def trace(self, values: Mapping[str, Decimal]) -> tuple[Value, tuple[Step, ...]]:
        """The value and every intermediate result, in evaluation order."""
        steps: list[Step] = []
        with decimal.localcontext(CONTEXT):
            value = self.interpret(values, steps)
        return value, tuple(steps)

    def bounds(self, ranges: Mapping[str, Interval]) -> Interval:
        """An interval that contains every value the formula can give, given input ranges."""
        with decimal.localcontext(CONTEXT):
            return _bounds(self.tree, ranges)

    def segment(self, node: ir.Node) -> str:
        """The text of one node of the tree."""
        return segment(self.text, node.span)

    def data_error(self, failure: EvalFailure, **where: Any) -> DataError:
        part = self.segment(failure.node)
        message = failure.message
        if part != self.text.strip():
            message = f"{message} (in {part!r})"
        if failure.hint:
            message += f"; {failure.hint}"
        return DataError(message, path=self.path, formula=self.text, **where)


def _parse_at(text: str, path: str | None) -> Any:
    try:
        return parse(text)
    except FormulaError as exc:
        exc.path = path
        raise


def _walk(node: ir.Node) -> Iterable[ir.Node]:
    yield node
    for child in ir.children(node):
        yield from _walk(child)


# -- constant checking -------------------------------------------------------------------


def _is_constant(node: ir.Node) -> bool:
    return not any(isinstance(n, (ir.Name, ir.History)) for n in _walk(node))


def _check_constants(tree: ir.Node, text: str, path: str | None) -> None:
    """Evaluate every largest name-free part now, so `1/0` or `9**9**9` fail at check time.

    Also refuses an operation that would fail on every row: `x / 0`, `x ** 200`.
    """
    if not isinstance(tree, (ir.Const, ir.Pair)) and _is_constant(tree):
        _constant_value(tree, text, path)
        return
    if isinstance(tree, ir.Binary) and tree.op in ("/", "**") and _is_constant(tree.right):
        right = _constant_value(tree.right, text, path)
        if tree.op == "/" and right == 0:
            _fail_at(tree, "division by zero: the divisor is always 0", text, path)
        if tree.op == "**" and abs(right) > MAX_EXPONENT:
            _fail_at(tree, f"the exponent {right} is too large (the limit is {MAX_EXPONENT})", text, path)
    for child in ir.children(tree):
        _check_constants(child, text, path)


def _constant_value(node: ir.Node, text: str, path: str | None) -> Any:
    try:
        with decimal.localcontext(CONTEXT):
            return _Interpreter(text, {}, None).run(node)
    except EvalFailure as failure:
        _fail_at(failure.node, failure.message, text, path, failure.hint)


def _fail_at(node: ir.Node, message: str, text: str, path: str | None, hint: str | None = None) -> NoReturn:
    span = node.span
    raise FormulaError(
        message,
        text=text,
        formula_line=span.line,
        column=span.column,
        end_column=span.end_column if span.end_line == span.line else None,
        hint=hint,
        path=path,
    )


# -- the interpreter (reference path, explanations) ---------------------------------------


class _Interpreter:
    def __init__(self, text: str, env: Mapping[str, Decimal], steps: list[Step] | None) -> None:
        self.text = text
        self.env = env
        self.steps = steps

    def run(self, node: ir.Node) -> Any:
        value = self._eval(node)
        if self.steps is not None and not isinstance(node, (ir.Const, ir.Name, ir.Pair)):
            self.steps.append(Step(segment(self.text, node.span), value))
        return value

    def _eval(self, node: ir.Node) -> Any:
        if isinstance(node, ir.Const):
            return node.value
        if isinstance(node, ir.Name):
            return self.env[node.name]
        if isinstance(node, ir.History):
            return self.env[node.key]
        if isinstance(node, ir.Unary):
            operand = self.run(node.operand)
            if node.op == "not":
                return not operand
            return self._arith(node, lambda: -operand if node.op == "-" else +operand)
        if isinstance(node, ir.Binary):
            left, right = self.run(node.left), self.run(node.right)
            return self._arith(node, lambda: _BINARY_OPS[node.op](left, right), right)
        if isinstance(node, ir.Compare):
            left = self.run(node.operands[0])
            for op, operand in zip(node.ops, node.operands[1:]):
                right = self.run(operand)
                if not _COMPARE_OPS[op](left, right):
                    return False
                left = right
            return True
        if isinstance(node, ir.BoolOp):
            for operand in node.operands:
                value = self.run(operand)
                if (node.op == "and") != bool(value):
                    return value
            return value
        if isinstance(node, ir.IfElse):
            return self.run(node.then) if self.run(node.test) else self.run(node.other)
        if isinstance(node, ir.Pair):
            return (self.run(node.first), self.run(node.second))
        if isinstance(node, ir.Call):
            args = [self.run(a) for a in node.args]
            keywords = {k: self.run(v) for k, v in node.keywords}
            return self._arith(node, lambda: FUNCTIONS[node.func].impl(*args, **keywords))
        raise AssertionError(node)  # pragma: no cover - the converter makes no other node

    def _arith(self, node: ir.Node, compute: Callable[[], Any], divisor: Any = None) -> Any:
        try:
            return compute()
        except FunctionFailed as exc:
            raise EvalFailure(str(exc), node) from None
        except (decimal.DivisionByZero, decimal.DivisionUndefined):
            raise EvalFailure(*_division_message(node, self.text)) from None
        except decimal.Overflow:
            raise EvalFailure("the result is too large", node) from None
        except ArithmeticError:
            if isinstance(node, ir.Binary) and node.op == "/" and divisor == 0:
                raise EvalFailure(*_division_message(node, self.text)) from None
            raise EvalFailure(f"cannot compute {segment(self.text, node.span)!r}", node) from None


def _division_message(node: ir.Node, text: str) -> tuple[str, ir.Node, str]:
    message = "division by zero"
    if isinstance(node, ir.Binary) and not isinstance(node.right, ir.Const):
        message += f": {segment(text, node.right.span)} is 0"
    return (
        message,
        node,
        "use ratio(a, b, default=...) to say what the result is when the divisor is 0",
    )


_BINARY_OPS: dict[str, Callable[[Decimal, Decimal], Decimal]] = {
    "+": lambda a, b: a + b,
    "-": lambda a, b: a - b,
    "*": lambda a, b: a * b,
    "/": lambda a, b: a / b,
    "**": power,
}
_COMPARE_OPS: dict[str, Callable[[Decimal, Decimal], bool]] = {
    "<": lambda a, b: a < b,
    "<=": lambda a, b: a <= b,
    ">": lambda a, b: a > b,
    ">=": lambda a, b: a >= b,
    "==": lambda a, b: a == b,
    "!=": lambda a, b: a != b,
}


# -- the compiler (fast path) ---------------------------------------------------------------


def _generate(tree: ir.Node) -> Callable[[Mapping[str, Decimal]], Value]:
    """Turn the checked tree into one Python lambda over a mapping of decimals.

    The generated source is built only from perfkit's own nodes: names become ``V['name']``
    lookups, constants ``C[i]``, functions ``F['name'](...)``; nothing of the formula text is
    pasted into it.
    """
    constants: list[Value] = []

    def gen(node: ir.Node) -> str:
        if isinstance(node, ir.Const):
            constants.append(node.value)
            return f"C[{len(constants) - 1}]"
        if isinstance(node, ir.Name):
            return f"V[{node.name!r}]"
        if isinstance(node, ir.History):
            return f"V[{node.key!r}]"
        if isinstance(node, ir.Unary):
            return f"({node.op} {gen(node.operand)})"
        if isinstance(node, ir.Binary):
            if node.op == "**":
                return f"P({gen(node.left)}, {gen(node.right)})"
            return f"({gen(node.left)} {node.op} {gen(node.right)})"
        if isinstance(node, ir.Compare):
            parts = [gen(node.operands[0])]
            for op, operand in zip(node.ops, node.operands[1:]):
                parts.extend((op, gen(operand)))
            return f"({' '.join(parts)})"
        if isinstance(node, ir.BoolOp):
            return "(" + f" {node.op} ".join(gen(o) for o in node.operands) + ")"
        if isinstance(node, ir.IfElse):
            return f"({gen(node.then)} if {gen(node.test)} else {gen(node.other)})"
        if isinstance(node, ir.Pair):
            return f"({gen(node.first)}, {gen(node.second)})"
        if isinstance(node, ir.Call):
            args = [gen(a) for a in node.args] + [f"{k}={gen(v)}" for k, v in node.keywords]
            function = FUNCTIONS[node.func]
            checked = function.impl_checked is not None and all(
                isinstance(a.first, ir.Const) for a in node.args if isinstance(a, ir.Pair)
            )
            table = "G" if checked else "F"
            return f"{table}[{node.func!r}]({', '.join(args)})"
        raise AssertionError(node)  # pragma: no cover

    body = gen(tree)
    namespace = {
        "C": tuple(constants),
        "F": {name: function.impl for name, function in FUNCTIONS.items()},
        "G": {name: function.impl_checked for name, function in FUNCTIONS.items() if function.impl_checked},
        "P": power,
        "__builtins__": {},
    }
    code = compile(f"lambda V: {body}", "<perfkit formula>", "eval")
    function: Callable[[Mapping[str, Decimal]], Value] = eval(code, namespace)  # noqa: S307
    return function


# -- range analysis -------------------------------------------------------------------------


def _bounds(node: ir.Node, ranges: Mapping[str, Interval]) -> Interval:
    if isinstance(node, ir.Const):
        return Interval.point(node.value) if isinstance(node.value, Decimal) else EVERYTHING
    if isinstance(node, ir.Name):
        return ranges.get(node.name, EVERYTHING)
    if isinstance(node, ir.History):
        return Interval.of(Decimal(0), None) if node.func == "streak" else ranges.get(node.key, EVERYTHING)
    if isinstance(node, ir.Unary):
        inner = _bounds(node.operand, ranges)
        return -inner if node.op == "-" else inner
    if isinstance(node, ir.Binary):
        left, right = _bounds(node.left, ranges), _bounds(node.right, ranges)
        if node.op == "+":
            return left + right
        if node.op == "-":
            return left - right
        if node.op == "*":
            return left * right
        if node.op == "/":
            return left / right
        return EVERYTHING
    if isinstance(node, ir.IfElse):
        return _bounds(node.then, ranges).hull(_bounds(node.other, ranges))
    if isinstance(node, ir.Call):
        args: list[Any] = [
            (_bounds(a.first, ranges), _bounds(a.second, ranges)) if isinstance(a, ir.Pair) else _bounds(a, ranges)
            for a in node.args
        ]
        keywords = {k: _bounds(v, ranges) for k, v in node.keywords}
        try:
            return FUNCTIONS[node.func].bounds(args, keywords)
        except ArithmeticError:
            return EVERYTHING
    return EVERYTHING
