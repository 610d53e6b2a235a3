"""Formula text → Python syntax tree, using simpleeval's parser and safety rules.

This is the only module that imports simpleeval. It returns plain :mod:`ast` nodes and
raises :class:`~perfkit.errors.FormulaError`; nothing of simpleeval leaks out.
"""

from __future__ import annotations

import ast
import io
import tokenize
import warnings

import simpleeval

from perfkit.errors import FormulaError

__all__ = ["DISALLOWED_PREFIXES", "MAX_LENGTH", "parse"]

MAX_LENGTH = 4000
"""Longest formula accepted, in characters."""

DISALLOWED_PREFIXES: tuple[str, ...] = tuple(simpleeval.DISALLOW_PREFIXES)
"""Name prefixes simpleeval refuses (``_`` covers every dunder); perfkit refuses them too."""


def parse(text: str) -> tuple[ast.expr, str, int]:
    """Parse ``text`` as one expression.

    Surrounding white space is ignored (positions refer to the stripped text).
    Returns the expression node, the source actually parsed, and the number of characters
    added in front of it on its first line (multi-line formulas are wrapped in parentheses so
    they can break anywhere). Raises :class:`FormulaError` for empty, over-long or
    unparsable text, for assignments and for several expressions.
    """
    text = text.strip()
    if not text:
        raise FormulaError("the formula is empty", text=text)
    if len(text) > MAX_LENGTH:
        raise FormulaError(
            f"the formula is {len(text)} characters long; the limit is {MAX_LENGTH}",
            text=text[:80] + "...",
        )
    if "\x00" in text:
        column = text.index("\x00") + 1
        raise FormulaError("the formula contains a NUL character", text=text, column=column)
    multiline = "\n" in text
    if multiline:
        _check_closing_brackets(text)
    source = f"({text}\n)" if multiline else text
    shift = 1 if multiline else 0
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", simpleeval.MultipleExpressions)
            node = simpleeval.SimpleEval.parse(source)
    except simpleeval.MultipleExpressions:
        raise FormulaError(
            "a formula is a single expression; this one has several",
            text=text,
            hint="join the parts with an operator, or split them into separate formulas",
        ) from None
    except SyntaxError as exc:
        raise _syntax_error(exc, text, shift) from None
    except simpleeval.InvalidExpression:  # nothing but comments
        raise FormulaError("the formula is empty", text=text) from None
    except (RecursionError, MemoryError, ValueError):
        raise FormulaError(
            "the formula is too deeply nested to read", text=text
        ) from None
    if isinstance(node, (ast.Assign, ast.AugAssign, ast.AnnAssign)):
        line, column = _assignment_position(text) or (1, 1)
        raise FormulaError(
            "assignment is not allowed in a formula",
            text=text,
            formula_line=line,
            column=column,
            hint="to compare two values, use '==' (a == 1)",
        )
    if not isinstance(node, ast.Expr):
        raise FormulaError(
            f"a formula is an expression; found a {type(node).__name__.lower()} statement",
            text=text,
            formula_line=node.lineno,
            column=node.col_offset + 1,
        )
    return node.value, source, shift


def _check_closing_brackets(text: str) -> None:
    """A closing bracket with no opening one (the wrapper must not pair it up)."""
    depth = 0
    for number, line in enumerate(text.splitlines(), 1):
        for column, char in enumerate(line, 1):
            if char == "#":
                break
            if char in "([{":
                depth += 1
            elif char in ")]}":
                depth -= 1
                if depth < 0:
                    raise FormulaError(
                        f"cannot read the formula: unmatched {char!r}",
                        text=text,
                        formula_line=number,
                        column=column,
                    )


def _syntax_error(exc: SyntaxError, text: str, shift: int) -> FormulaError:
    line = exc.lineno or 1
    column = exc.offset or 1
    if line == 1:
        column -= shift
    lines = text.splitlines() or [""]
    if line > len(lines):  # past the text: the wrapper's closing bracket; point at the end
        line, column = len(lines), len(lines[-1]) + 1
    line = max(1, min(line, len(lines)))
    column = max(1, min(column, len(lines[line - 1]) + 1))
    message = (exc.msg or "invalid syntax").rstrip(".")
    hint = None
    assignment = _assignment_position(text)
    if assignment or "Maybe you meant '=='" in message:
        message = "assignment is not allowed in a formula"
        hint = "to compare two values, use '==' (a == 1)"
        line, column = assignment or (line, column)
    return FormulaError(
        f"cannot read the formula: {message}",
        text=text,
        formula_line=line,
        column=column,
        hint=hint,
    )


def _tokens(text: str) -> list[tokenize.TokenInfo]:
    try:
        return list(tokenize.generate_tokens(io.StringIO(text).readline))
    except (tokenize.TokenError, SyntaxError):
        return []


def _assignment_position(text: str) -> tuple[int, int] | None:
    """Where the first assignment operator outside brackets stands, if any."""
    depth = 0
    for token in _tokens(text):
        if token.type != tokenize.OP:
            continue
        if token.string in "([{":
            depth += 1
        elif token.string in ")]}":
            depth -= 1
        elif depth == 0 and token.string in ("=", "+=", "-=", "*=", "/=", ":="):
            return token.start[0], token.start[1] + 1
    return None
