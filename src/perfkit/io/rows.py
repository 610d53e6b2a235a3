"""Turning what a caller passes (mappings, DataFrames, files) into a list of row mappings."""

from __future__ import annotations

import csv
import json
from collections.abc import Iterable, Mapping
from decimal import Decimal
from pathlib import Path
from typing import Any

from perfkit._files import read_file
from perfkit.errors import DataError

__all__ = ["is_empty", "read_rows", "to_row_list"]

Row = Mapping[str, Any]


def is_empty(value: Any) -> bool:
    """Whether a cell is empty: None, or text that is only whitespace (DataFrame blanks
    are None by the time rows are read)."""
    return value is None or (isinstance(value, str) and not value.strip())


def to_row_list(data: Any) -> list[Row]:
    """Rows from an iterable of mappings, a pandas DataFrame or a polars DataFrame.

    In a DataFrame, pandas' and polars' markers for a missing cell (NaN, None, NA, NaT)
    become ``None``, so an empty cell is treated as missing (an input's ``default``
    applies, or the row is reported). In plain mappings a float NaN is bad data.
    """
    module = type(data).__module__.split(".")[0]
    if module == "pandas" and hasattr(data, "to_dict"):
        return _from_pandas(data)
    if module == "polars" and hasattr(data, "to_dicts"):
        return list(data.to_dicts())
    if isinstance(data, (Mapping, str, bytes)):
        raise DataError(
            f"rows must be an iterable of mappings (or a DataFrame), not a {type(data).__name__}"
        )
    if not isinstance(data, Iterable):
        raise DataError(f"rows must be an iterable of mappings (or a DataFrame), not a {type(data).__name__}")
    rows = list(data)
    for index, row in enumerate(rows):
        if not isinstance(row, Mapping):
            raise DataError(f"each row must be a mapping of column to value, got a {type(row).__name__}", row=index)
    return rows


def _from_pandas(frame: Any) -> list[Row]:
    import pandas as pd

    records = frame.to_dict("records")
    rows: list[Row] = []
    for record in records:
        rows.append({str(k): (None if _is_scalar_missing(pd, v) else v) for k, v in record.items()})
    return rows


def _is_scalar_missing(pd: Any, value: Any) -> bool:
    try:
        return bool(pd.isna(value))
    except (TypeError, ValueError):
        return False


def read_rows(path: str | Path) -> list[Row]:
    """Read rows from a ``.csv``, ``.json`` (a list of objects) or ``.jsonl`` file.

    CSV cells stay text and are read as numbers when scored; JSON numbers are read as
    exact decimals. Errors name the file and line.
    """
    source = str(path)
    suffix = Path(path).suffix.lower()
    text = read_file(path, lambda reason: DataError(f"{source}: {reason}"))
    if suffix == ".csv":
        return _read_csv(text, source)
    if suffix == ".jsonl":
        return _read_jsonl(text, source)
    if suffix == ".json":
        return _read_json(text, source)
    raise DataError(f"{source}: unknown data format {suffix!r}; use .csv, .json or .jsonl")


def _read_csv(text: str, source: str) -> list[Row]:
    reader = csv.DictReader(text.splitlines())
    if not reader.fieldnames:
        raise DataError(f"{source}: the CSV file has no header row")
    rows: list[Row] = []
    for row in reader:
        if None in row:
            raise DataError(f"{source}, line {reader.line_num}: more cells than header columns")
        rows.append({k: (None if v is None or v.strip() == "" else v) for k, v in row.items()})
    return rows


def _read_json(text: str, source: str) -> list[Row]:
    try:
        data = json.loads(text, parse_float=Decimal)
    except json.JSONDecodeError as exc:
        raise DataError(f"{source}, line {exc.lineno}: not valid JSON: {exc.msg}") from None
    if isinstance(data, Mapping) and isinstance(data.get("rows"), list):
        data = data["rows"]
    if not isinstance(data, list) or not all(isinstance(r, Mapping) for r in data):
        raise DataError(f"{source}: a JSON data file holds a list of objects, one per employee")
    return data


def _read_jsonl(text: str, source: str) -> list[Row]:
    rows = []
    for number, line in enumerate(text.splitlines(), 1):
        if not line.strip():
            continue
        try:
            row = json.loads(line, parse_float=Decimal)
        except json.JSONDecodeError as exc:
            raise DataError(f"{source}, line {number}: not valid JSON: {exc.msg}") from None
        if not isinstance(row, Mapping):
            raise DataError(f"{source}, line {number}: each line holds one JSON object")
        rows.append(row)
    return rows
