"""Reading what a caller hands an adapter: a file, text, bytes or data already parsed.

JSON numbers are read as exact decimals (``parse_float=Decimal``); ``NaN`` and
``Infinity`` are refused. CSV cells are text, a blank cell is ``None``. A ``str`` payload is
the export's *text*: to read a file, pass a :class:`pathlib.Path`.
"""

from __future__ import annotations

import csv
import io
import json
import os
from collections.abc import Mapping
from decimal import Decimal
from typing import Any, NoReturn

import attrs

from perfkit._files import read_file
from perfkit.errors import DataError
from perfkit.io.rows import to_row_list

__all__ = ["CsvTable", "RawRecord", "read_csv", "read_json", "read_text"]


@attrs.frozen
class RawRecord:
    """One record of a payload before mapping, and where it was found."""

    data: Mapping[str, Any]
    where: str
    """``issues[3]`` in JSON, ``line 5`` in CSV."""
    row: int | None = None
    """0-based data row of a CSV record."""


@attrs.frozen
class CsvTable:
    """The rows of a CSV export and its header."""

    records: tuple[RawRecord, ...]
    columns: tuple[str, ...]
    problems: tuple[DataError, ...] = ()


def read_text(payload: Any, encoding: str) -> tuple[str, str | None] | None:
    """``(text, file name)`` for a path, text or bytes payload; ``None`` for parsed data."""
    if isinstance(payload, os.PathLike):
        return read_file(payload, lambda reason: DataError(f"{payload}: {reason}"), encoding=encoding), str(payload)
    if isinstance(payload, bytes):
        try:
            return payload.decode(encoding), None
        except (UnicodeDecodeError, LookupError) as exc:
            raise DataError(f"cannot decode the payload as {encoding} ({exc})") from None
    if isinstance(payload, str):
        return payload, None
    return None


def read_json(payload: Any, *, adapter: str, encoding: str = "utf-8-sig") -> tuple[Any, str | None]:
    """Parsed JSON (numbers as Decimal) and the file name, if the payload was a file."""
    read = read_text(payload, encoding)
    if read is None:
        return payload, None
    text, origin = read
    try:
        return json.loads(text, parse_float=Decimal, parse_constant=_refuse_constant), origin
    except json.JSONDecodeError as exc:
        where = f"{origin}, line {exc.lineno}" if origin else f"line {exc.lineno}"
        hint = "" if origin or text.lstrip()[:1] in ("{", "[") else "; to read a file, pass a pathlib.Path"
        raise DataError(
            f"{where}: the {adapter} payload is not valid JSON: {exc.msg}, column {exc.colno}{hint}"
        ) from None
    except _Constant as exc:
        raise DataError(f"the {adapter} payload holds {exc.args[0]}, which is not a number perfkit can use") from None


class _Constant(ValueError):
    pass


def _refuse_constant(name: str) -> NoReturn:
    raise _Constant(name)


def read_csv(
    payload: Any, *, adapter: str, delimiter: str = ",", encoding: str = "utf-8-sig"
) -> tuple[CsvTable, str | None]:
    """The rows of a CSV file, text or bytes, or of rows already read (mappings, a DataFrame)."""
    read = read_text(payload, encoding)
    if read is None:
        try:
            rows = to_row_list(payload)
        except DataError as exc:
            raise DataError(f"the {adapter} payload: {exc}") from None
        columns: dict[str, None] = {}
        for row in rows:
            columns.update(dict.fromkeys(str(k) for k in row))
        records = tuple(
            RawRecord({str(k): _cell(v) for k, v in row.items()}, f"row {n}", row=n) for n, row in enumerate(rows)
        )
        return CsvTable(records, tuple(columns)), None
    text, origin = read
    return _parse_csv(text, delimiter, adapter, origin), origin


def _parse_csv(text: str, delimiter: str, adapter: str, origin: str | None) -> CsvTable:
    name = origin or f"the {adapter} CSV"
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter, strict=True)
    try:
        header = next(reader, None)
        if header is None or not any(cell.strip() for cell in header):
            raise DataError(f"{name}: the CSV has no header row")
        columns = tuple(cell.strip() for cell in header)
        _check_header(columns, name)
        records: list[RawRecord] = []
        problems: list[DataError] = []
        end = reader.line_num
        for cells in reader:
            start, end = end + 1, reader.line_num
            if not cells:
                continue
            row = len(records) + len(problems)
            if len(cells) != len(columns):
                problems.append(
                    DataError(
                        f"{name}, line {start}: {len(cells)} cells, but the header has {len(columns)} columns", row=row
                    )
                )
                continue
            data = {column: _cell(cell) for column, cell in zip(columns, cells)}
            records.append(RawRecord(data, f"line {start}", row=row))
    except csv.Error as exc:
        raise DataError(f"{name}, line {reader.line_num}: not valid CSV ({exc})") from None
    return CsvTable(tuple(records), columns, tuple(problems))


def _check_header(columns: tuple[str, ...], name: str) -> None:
    blank = [n for n, c in enumerate(columns, 1) if not c]
    if blank:
        raise DataError(f"{name}: header column {blank[0]} has no name")
    seen: set[str] = set()
    for column in columns:
        if column in seen:
            raise DataError(f"{name}: the header has the column {column!r} twice")
        seen.add(column)


def _cell(value: Any) -> Any:
    if isinstance(value, str) and not value.strip():
        return None
    return value
