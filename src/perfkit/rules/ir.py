"""perfkit's own checked formula tree.

A formula is parsed into Python's syntax tree and then converted, node by node and
checked, into these frozen nodes. Everything after parsing (the interpreter that explains,
the compiler that makes the fast callable, the range analysis, a future columnar backend)
works on this tree only.

Every node has a :class:`Span` (1-based line and column, end exclusive, in characters) and a
``kind``: ``"number"`` or ``"condition"``.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Literal, Union

import attrs

__all__ = [
    "Binary",
    "BoolOp",
    "Call",
    "Compare",
    "Const",
    "History",
    "IfElse",
    "Kind",
    "Name",
    "Node",
    "Pair",
    "Span",
    "Unary",
]

Kind = Literal["number", "condition", "pair"]


@attrs.frozen
class Span:
    line: int
    column: int
    end_line: int
    end_column: int


@attrs.frozen
class Const:
    value: Decimal | bool
    span: Span
    kind: Kind


@attrs.frozen
class Name:
    name: str
    span: Span
    kind: Kind = "number"


@attrs.frozen
class Unary:
    op: Literal["-", "+", "not"]
    operand: Node
    span: Span
    kind: Kind


@attrs.frozen
class Binary:
    op: Literal["+", "-", "*", "/", "**"]
    left: Node
    right: Node
    span: Span
    kind: Kind = "number"


@attrs.frozen
class Compare:
    """A comparison chain: ``operands[0] ops[0] operands[1] ops[1] operands[2] ...``."""

    ops: tuple[str, ...]
    operands: tuple[Node, ...]
    span: Span
    kind: Kind = "condition"


@attrs.frozen
class BoolOp:
    op: Literal["and", "or"]
    operands: tuple[Node, ...]
    span: Span
    kind: Kind = "condition"


@attrs.frozen
class IfElse:
    test: Node
    then: Node
    other: Node
    span: Span
    kind: Kind


@attrs.frozen
class Pair:
    """An ``(x, y)`` point, allowed only as an argument of piecewise() and steps()."""

    first: Node
    second: Node
    span: Span
    kind: Kind = "pair"


@attrs.frozen
class History:
    """A call of a history function (``avg_total(3)``): a value computed per person from
    earlier periods before the row is evaluated, read under the name :attr:`key`."""

    func: str
    argument: int | str | None
    span: Span
    kind: Kind = "number"

    @property
    def key(self) -> str:
        if self.argument is None:
            return f"{self.func}()"
        if isinstance(self.argument, str):
            return f'{self.func}("{self.argument}")'
        return f"{self.func}({self.argument})"


@attrs.frozen
class Call:
    func: str
    args: tuple[Node, ...]
    keywords: tuple[tuple[str, Node], ...]
    span: Span
    kind: Kind = "number"


Node = Union[Const, Name, Unary, Binary, Compare, BoolOp, IfElse, Pair, Call, History]


def children(node: Node) -> tuple[Node, ...]:
    """The direct sub-nodes of ``node``, in evaluation order."""
    if isinstance(node, Unary):
        return (node.operand,)
    if isinstance(node, Binary):
        return (node.left, node.right)
    if isinstance(node, (Compare, BoolOp)):
        return node.operands
    if isinstance(node, IfElse):
        return (node.test, node.then, node.other)
    if isinstance(node, Pair):
        return (node.first, node.second)
    if isinstance(node, Call):
        return node.args + tuple(value for _, value in node.keywords)
    return ()
