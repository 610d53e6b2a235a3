"""Rows in and results out: mappings, pandas DataFrames, CSV / JSON / JSONL files."""

from perfkit.io.rows import read_rows, to_row_list

__all__ = ["read_rows", "to_row_list"]
