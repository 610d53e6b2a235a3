"""perfkit._files.read_file: one way to read a user's file, whatever error the caller raises."""

from __future__ import annotations

from pathlib import Path

import pytest

from perfkit._files import read_file
from perfkit.errors import DataError


def fail(reason: str) -> DataError:
    return DataError(f"the file: {reason}")


class TestReadFile:
    def test_text_without_a_byte_order_mark(self, tmp_path: Path) -> None:
        path = tmp_path / "a.yaml"
        path.write_text("id: 销售", encoding="utf-8-sig")
        assert read_file(path, fail) == "id: 销售"

    @pytest.mark.parametrize(
        "setup, reason",
        [
            (lambda p: None, "file not found"),
            (lambda p: p.write_bytes(b"\xff\xfe\xfa"), "the file is not UTF-8 text"),
            (lambda p: p.mkdir(), "cannot read the file: Is a directory"),
        ],
        ids=["missing", "not text", "a directory"],
    )
    def test_each_failure_is_the_callers_error(self, tmp_path: Path, setup: object, reason: str) -> None:
        path = tmp_path / "a.yaml"
        setup(path)  # type: ignore[operator]
        with pytest.raises(DataError) as caught:
            read_file(path, fail)
        assert caught.value.message == f"the file: {reason}"

    def test_another_encoding(self, tmp_path: Path) -> None:
        path = tmp_path / "a.csv"
        path.write_bytes("姓名".encode("gbk"))
        assert read_file(path, fail, encoding="gbk") == "姓名"
        with pytest.raises(DataError, match="unknown encoding 'klingon'"):
            read_file(path, fail, encoding="klingon")
        path.write_bytes(b"\x81")
        with pytest.raises(DataError, match="the file is not gbk text"):
            read_file(path, fail, encoding="gbk")
