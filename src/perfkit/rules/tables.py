"""Decision tables: a rule written as rows of unary tests and outputs.

What a user writes (YAML)::

    inputs: [collection_rate, band_grade]
    outputs: [cap_grade]
    hit: unique                      # first | unique | priority | collect
    rows:                            # one cell per input, then one per output
      - ["< 0.8",      "S, A", B]
      - ["< 0.8",      "B, C, D", "-"]
      - [">= 0.8",     "-",    "-"]

Rows may also be mappings, ``{collection_rate: "< 0.8", band_grade: "S, A", cap_grade: B}``;
a column left out is ``-``. Input cells are unary tests (:mod:`perfkit.rules.unary`); output
cells are numbers (read exactly) or text, and ``-`` or an empty cell gives no output.
Rows are numbered from 0, as in the field path ``rows[3]``.

Hit policies:

* ``unique``: at most one row may match any input; overlapping rows are an error.
* ``first``: the first matching row, in the order written.
* ``priority``: among the matching rows, the one whose *first output* comes first in the
  ``priority`` list (highest priority first); rows with the same first output: the earlier row.
* ``collect``: every matching row, combined per output column by ``aggregate``: ``sum``,
  ``min``, ``max`` (numeric outputs), ``count`` (how many matching rows give an output),
  ``list`` (every output, in row order).

:func:`compile_table` checks a table when the scheme loads and reports every problem at
once: cell counts, bad tests, a number test in a text column (or the reverse), policy
options, overlaps under ``unique`` (naming both rows and an input that matches both), and
*gaps*: an input that no row matches. A gap is reported under every policy unless the table
declares ``default`` outputs, because an unmatched input would silently give nothing.

>>> table = DecisionTable(inputs=("total",), outputs=("bonus",), hit="first",
...                       rows=(("< 60", "0"), (">= 60", "1000")))
>>> compile_table(table, path="table").evaluate({"total": Decimal("60")}).outputs
{'bonus': Decimal('1000')}
"""

from __future__ import annotations

import difflib
from collections.abc import Mapping, Sequence
from decimal import Decimal
from typing import Annotated, Any, Literal

import attrs
from pydantic import BaseModel, BeforeValidator, ConfigDict, Field

from perfkit.errors import DataError, SchemeError
from perfkit.numbers import CONTEXT, plain_text, to_decimal
from perfkit.rules.coverage import (
    Column,
    CoverageTooLarge,
    Gap,
    Overlap,
    Value,
    find_gap,
    find_overlaps,
    format_example,
)
from perfkit.rules.unary import (
    ANY,
    NumberTest,
    Range,
    TextTest,
    UnaryTest,
    is_number_text,
    parse_unary,
)

__all__ = [
    "TEXT_INPUTS",
    "Column",
    "CompiledTable",
    "DecisionTable",
    "Gap",
    "Overlap",
    "TableResult",
    "TableRow",
    "compile_table",
]

_INF = Decimal("Infinity")

TEXT_INPUTS = frozenset({"grade", "band_grade"})
"""Input names that always hold text (grades), whatever their cells look like."""

HitPolicy = Literal["first", "unique", "priority", "collect"]
Aggregate = Literal["sum", "min", "max", "count", "list"]
OutputValue = Decimal | str
"""One output cell: a number (exact) or text."""
Output = Decimal | str | tuple[OutputValue, ...]
"""One output of a result: a cell's value, or (``aggregate: list``) every matching row's."""


def _cell(value: Any) -> Any:
    """A cell is text, a number (read exactly) or empty; ``{S, A}`` read by YAML as a mapping is a set."""
    if isinstance(value, bool):
        raise ValueError("true/false is not a cell value; quote it")  # noqa: TRY004 (pydantic wants ValueError)
    if isinstance(value, (int, float, Decimal)):
        return to_decimal(value)
    if isinstance(value, dict) and all(v is None for v in value.values()):
        value = list(value)
    if isinstance(value, list) and all(isinstance(v, (str, int, Decimal)) for v in value):
        return "{" + ", ".join(str(v) for v in value) + "}"
    if value is None or isinstance(value, str):
        return value
    raise ValueError(f"a cell is text or a number, got {type(value).__name__}")


Cell = Annotated[str | Decimal | None, BeforeValidator(_cell)]
Name = Annotated[str, Field(pattern=r"^[^\W\d]\w*$", max_length=64)]
Row = tuple[Cell, ...] | dict[str, Cell]


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, str_strip_whitespace=True)


class DecisionTable(_Model):
    """A decision table as written in a scheme (see the module docs for the YAML shape)."""

    inputs: tuple[Name, ...] = Field(min_length=1)
    """The values the table reads: numbers (``collection_rate``, ``total``) or names (``band_grade``)."""
    outputs: tuple[Name, ...] = Field(min_length=1)
    hit: HitPolicy = "unique"
    aggregate: Aggregate | None = None
    """How ``collect`` combines the matching rows' outputs; required with collect, refused otherwise."""
    priority: tuple[Cell, ...] | None = None
    """For ``hit: priority``: values of the first output column, highest priority first."""
    rows: tuple[Row, ...] = Field(min_length=1)
    default: Row | None = None
    """Outputs when no row matches (one cell per output, or a mapping); no gap check then."""
    description: str | None = None


@attrs.frozen
class TableRow:
    """A compiled row: one test per input column, one value (None: no output) per output column."""

    tests: tuple[UnaryTest, ...]
    outputs: tuple[OutputValue | None, ...]


@attrs.frozen
class TableResult:
    """What a table gave for one input: the matching rows (0-based) and the outputs.

    ``outputs`` leaves out the columns with no output; it is empty when nothing matched and
    the table has no default (``used_default`` tells when the default applied).
    """

    matched: tuple[int, ...]
    outputs: dict[str, Output] = attrs.field(hash=False)
    used_default: bool = False


@attrs.frozen
class CompiledTable:
    """A checked decision table, cheap to evaluate many times."""

    columns: tuple[Column, ...]
    outputs: tuple[str, ...]
    hit: HitPolicy
    aggregate: Aggregate | None
    rows: tuple[TableRow, ...]
    default: tuple[OutputValue | None, ...] | None = None
    priority: tuple[OutputValue, ...] = ()

    def matching(self, values: Mapping[str, Any]) -> tuple[int, ...]:
        """The rows (0-based) whose every test holds for ``values``; raises DataError for bad values."""
        read = [self._read(column, values) for column in self.columns]
        return tuple(i for i, row in enumerate(self.rows) if all(t.matches(v) for t, v in zip(row.tests, read)))

    def evaluate(self, values: Mapping[str, Any]) -> TableResult:
        """Apply the table to one input: its values by input name (numbers as Decimal, names as str).

        Raises :class:`~perfkit.DataError` for a missing value, a value of the wrong kind,
        or one outside what the column can hold.
        """
        matched = self.matching(values)
        if not matched:
            if self.default is None:
                return TableResult(matched=(), outputs={})
            return TableResult(matched=(), outputs=_present(self.outputs, self.default), used_default=True)
        if self.hit == "collect":
            return TableResult(matched=matched, outputs=self._collect(matched))
        if self.hit == "unique" and len(matched) > 1:
            raise DataError(f"rows {matched[0]} and {matched[1]} both match a table whose hit policy is unique")
        if self.hit == "priority":
            rank = {value: n for n, value in enumerate(self.priority)}
            chosen = min(matched, key=lambda i: (rank[_first(self.rows[i])], i))
        else:
            chosen = matched[0]
        return TableResult(matched=matched, outputs=_present(self.outputs, self.rows[chosen].outputs))

    def overlaps(self) -> list[Overlap]:
        """Every pair of rows that some input matches both of (see :mod:`perfkit.rules.coverage`)."""
        return find_overlaps(self.columns, [row.tests for row in self.rows])

    def gap(self) -> Gap | None:
        """The first region of inputs that no row matches, with an example; None when there is none.

        Needs every text column's names; raises :class:`~perfkit.rules.coverage.CoverageTooLarge`
        when the table is too large to search (see :func:`~perfkit.rules.coverage.find_gap`).
        """
        return find_gap(self.columns, [row.tests for row in self.rows])

    def _read(self, column: Column, values: Mapping[str, Any]) -> Value:
        if column.name not in values:
            raise DataError(f"the table reads {column.name!r}, but it has no value", column=column.name)
        raw = values[column.name]
        if column.kind == "text" or (column.kind == "any" and isinstance(raw, str)):
            if not isinstance(raw, str):
                raise DataError(f"expected a name, got {raw!r}", column=column.name, value=raw)
            if column.names is not None and raw not in column.names:
                raise DataError(f"{raw!r} is not one of {', '.join(column.names)}", column=column.name, value=raw)
            return raw
        if isinstance(raw, str):
            raise DataError(f"expected a number, got {raw!r}", column=column.name, value=raw)
        try:
            number = to_decimal(raw)
        except ValueError as exc:
            raise DataError(str(exc), column=column.name, value=raw) from None
        if not column.span.contains(number):
            raise DataError(f"{plain_text(number)} is outside {column.span}", column=column.name, value=raw)
        return number

    def _collect(self, matched: tuple[int, ...]) -> dict[str, Output]:
        result: dict[str, Output] = {}
        for k, name in enumerate(self.outputs):
            given = [v for i in matched if (v := self.rows[i].outputs[k]) is not None]
            if self.aggregate == "list":
                result[name] = tuple(given)
            elif self.aggregate == "count":
                result[name] = Decimal(len(given))
            elif given:
                numbers = [v for v in given if isinstance(v, Decimal)]  # all of them (checked)
                if self.aggregate == "min":
                    result[name] = min(numbers)
                elif self.aggregate == "max":
                    result[name] = max(numbers)
                else:
                    total = Decimal(0)
                    for number in numbers:
                        total = CONTEXT.add(total, number)
                    result[name] = total
        return result


def _first(row: TableRow) -> OutputValue:
    value = row.outputs[0]
    assert value is not None, "under priority every row gives a first output (checked)"
    return value


def _present(names: tuple[str, ...], values: tuple[OutputValue | None, ...]) -> dict[str, Output]:
    return {name: value for name, value in zip(names, values) if value is not None}


# -- compiling ---------------------------------------------------------------------------------


def compile_table(
    table: DecisionTable,
    *,
    path: str,
    names: Mapping[str, Sequence[str]] | None = None,
    spans: Mapping[str, tuple[Decimal | None, Decimal | None]] | None = None,
    check: bool = True,
) -> CompiledTable:
    """Check ``table`` and compile it; raises one SchemeError listing every problem.

    ``path`` is the table's field path in the scheme (``rules[2].table``); each problem's
    path points inside it (``rules[2].table.rows[3][1]``). ``names`` gives the names a text
    column can hold (the grades, for ``band_grade``), in order; ``spans`` the closed range
    ``(min, max)`` of a number column (an input's declared bounds; None for no bound).

    The overlap check (``unique`` only) and the gap check (every policy, unless the table
    declares ``default``) run when ``check`` is true; gaps are searched only when every text
    column's names are known. Their examples are inputs: an overlap's matches both rows, a
    gap's matches no row (see :meth:`CompiledTable.overlaps` and :meth:`CompiledTable.gap`).
    """
    from perfkit.scheme import (
        combine,  # imported here so that the scheme module may import this one
    )

    problems = _Problems(path)
    width = len(table.inputs)
    seen = [*table.inputs, *table.outputs]
    for name in sorted({n for n in seen if seen.count(n) > 1}):
        problems.add(f"the column name {name!r} is used twice", "inputs" if table.inputs.count(name) > 1 else "outputs")
    cells: list[list[str | Decimal | None]] = []
    tests: list[list[UnaryTest | None]] = []
    for n, row in enumerate(table.rows):
        cells.append(problems.row_cells(table, row, n))
        tests.append([problems.test(n, k, name, cell) for k, (name, cell) in enumerate(zip(table.inputs, cells[-1]))])
    columns = tuple(_column(problems, name, k, tests, names or {}, spans or {}) for k, name in enumerate(table.inputs))
    outputs = [tuple(_output(cell) for cell in row[width:]) for row in cells]
    default = None if table.default is None else tuple(_output(cell) for cell in problems.default_cells(table))
    priority = problems.policy(table, outputs)
    if problems.items:
        raise combine(problems.items)
    compiled = CompiledTable(
        columns=columns,
        outputs=table.outputs,
        hit=table.hit,
        aggregate=table.aggregate,
        rows=tuple(TableRow(tests=tuple(t for t in row if t is not None), outputs=o) for row, o in zip(tests, outputs)),
        default=default,
        priority=priority,
    )
    if check:
        _check(compiled, problems)
        if problems.items:
            raise combine(problems.items)
    return compiled


def _check(table: CompiledTable, problems: _Problems) -> None:
    if table.hit == "unique":
        for overlap in table.overlaps():
            example = format_example(overlap.example)
            problems.add(
                f"rows {overlap.first} and {overlap.second} can both match, for example {example}; "
                "under hit: unique make their tests exclusive (or use hit: first)",
                f"rows[{overlap.second}]",
            )
    searchable = all(c.kind != "text" or c.names is not None for c in table.columns)
    if table.default is None and searchable:
        try:
            gap = table.gap()
        except CoverageTooLarge:
            message = "the table is too large to check for inputs that no row matches; declare default outputs"
            problems.add(message, "rows")
            return
        if gap is not None:
            problems.add(
                f"no row matches {' and '.join(gap.where)}, for example {format_example(gap.example)}; "
                "add a row for it or declare default outputs",
                "rows",
            )


def _output(cell: str | Decimal | None) -> OutputValue | None:
    """An output cell's value: a number (exact), text, or None for ``-`` and empty cells."""
    if cell is None or cell in ("", "-"):
        return None
    if isinstance(cell, str) and is_number_text(cell):
        return to_decimal(cell)
    return cell


def _column(
    problems: _Problems,
    name: str,
    k: int,
    tests: list[list[UnaryTest | None]],
    names: Mapping[str, Sequence[str]],
    spans: Mapping[str, tuple[Decimal | None, Decimal | None]],
) -> Column:
    """The column's kind (from what is known of ``name``, else from its first test), checking every cell."""
    cells = [(n, row[k]) for n, row in enumerate(tests)]
    kind: Literal["number", "text", "any"]
    if name in names or name in TEXT_INPUTS:
        kind = "text"
    elif name in spans:
        kind = "number"
    else:
        first = next((t for _, t in cells if t is not None and t is not ANY), None)
        kind = "text" if isinstance(first, TextTest) else "number" if isinstance(first, NumberTest) else "any"
    known = tuple(names[name]) if name in names else None
    for n, test in cells:
        if kind == "text" and isinstance(test, NumberTest):
            problems.add(f"row {n}: {name!r} holds names, but {str(test)!r} tests a number", f"rows[{n}][{k}]")
        elif kind == "number" and isinstance(test, TextTest):
            problems.add(f"row {n}: {name!r} holds numbers, but {str(test)!r} tests names", f"rows[{n}][{k}]")
        elif known is not None and isinstance(test, TextTest):
            for value in sorted(test.names - set(known)):
                hint = _suggest(value, known)
                problems.add(f"row {n}: {value!r} is not one of {', '.join(known)}{hint}", f"rows[{n}][{k}]")
            tests[n][k] = test.within(known)
    if kind == "number" and name in spans:
        lo, hi = spans[name]
        span = Range(-_INF if lo is None else lo, _INF if hi is None else hi, lo is not None, hi is not None)
        return Column(name=name, kind=kind, span=span)
    return Column(name=name, kind=kind, names=known)


class _Problems:
    """The problems found so far, each with its path inside the table."""

    def __init__(self, path: str) -> None:
        self.path = path
        self.items: list[SchemeError] = []

    def add(self, message: str, where: str) -> None:
        self.items.append(SchemeError(message, path=f"{self.path}.{where}"))

    def test(self, n: int, k: int, name: str, cell: str | Decimal | None) -> UnaryTest | None:
        try:
            return parse_unary(cell)
        except ValueError as exc:
            self.add(f"row {n}, column {name!r}: {exc}", f"rows[{n}][{k}]")
            return None

    def row_cells(self, table: DecisionTable, row: Row, n: int) -> list[str | Decimal | None]:
        width = len(table.inputs) + len(table.outputs)
        if isinstance(row, dict):
            return self._from_mapping(row, f"rows[{n}]", (*table.inputs, *table.outputs))
        if len(row) != width:
            self.add(
                f"row {n} has {len(row)} cells; the table has {_count(len(table.inputs), 'input')} "
                f"and {_count(len(table.outputs), 'output')}",
                f"rows[{n}]",
            )
            return [None] * width
        return list(row)

    def default_cells(self, table: DecisionTable) -> list[str | Decimal | None]:
        default = table.default
        if isinstance(default, dict):
            return self._from_mapping(default, "default", table.outputs)
        assert default is not None
        if len(default) != len(table.outputs):
            has = _count(len(table.outputs), "output")
            self.add(f"default has {len(default)} cells; the table has {has}", "default")
            return [None] * len(table.outputs)
        return list(default)

    def _from_mapping(
        self, row: dict[str, str | Decimal | None], where: str, known: tuple[str, ...]
    ) -> list[str | Decimal | None]:
        for key in row:
            if key not in known:
                hint = _suggest(key, known) or f" (its columns: {', '.join(known)})"
                self.add(f"{key!r} is not a column of this table{hint}", f"{where}.{key}")
        return [row.get(name) for name in known]

    def policy(self, table: DecisionTable, outputs: list[tuple[OutputValue | None, ...]]) -> tuple[OutputValue, ...]:
        """Check the hit policy's options; the priority order (for hit: priority)."""
        if table.aggregate is not None and table.hit != "collect":
            self.add(f"aggregate applies to hit: collect only (this table is hit: {table.hit})", "aggregate")
        if table.hit == "collect" and table.aggregate is None:
            self.add("hit: collect needs an aggregate: sum, min, max, count or list", "aggregate")
        if table.aggregate in ("sum", "min", "max"):
            for n, row in enumerate(outputs):
                for k, value in enumerate(row):
                    if isinstance(value, str):
                        self.add(
                            f"aggregate: {table.aggregate} needs numbers, but row {n} gives {value!r} "
                            f"for {table.outputs[k]!r}",
                            f"rows[{n}][{len(table.inputs) + k}]",
                        )
        if table.priority is not None and table.hit != "priority":
            self.add(f"priority applies to hit: priority only (this table is hit: {table.hit})", "priority")
        if table.hit != "priority":
            return ()
        listed = tuple(v for v in (_output(c) for c in table.priority or ()) if v is not None)
        if not listed:
            self.add(f"hit: priority needs a priority list: values of {table.outputs[0]!r}, highest first", "priority")
        elif len(set(listed)) != len(listed):
            self.add("the priority list names a value twice", "priority")
        for n, row in enumerate(outputs):
            if listed and row[0] not in listed:
                shown = "no output" if row[0] is None else repr(row[0])
                self.add(
                    f"row {n} gives {shown} for {table.outputs[0]!r}, which the priority list does not rank",
                    f"rows[{n}][{len(table.inputs)}]",
                )
        return listed


def _suggest(value: str, known: Sequence[str]) -> str:
    close = [n for n in known if n.casefold() == value.casefold()] or difflib.get_close_matches(value, known, n=1)
    return f"; did you mean {close[0]!r}?" if close else ""


def _count(n: int, word: str) -> str:
    return f"{n} {word}" + ("" if n == 1 else "s")
