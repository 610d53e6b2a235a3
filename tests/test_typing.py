"""Typing is part of the API: the package type-checks under ``mypy --strict``."""

from __future__ import annotations

from pathlib import Path

from mypy import api

ROOT = Path(__file__).resolve().parent.parent


def test_package_passes_mypy_strict(tmp_path: Path) -> None:
    stdout, stderr, status = api.run(
        ["--config-file", str(ROOT / "pyproject.toml"), "--cache-dir", str(tmp_path), str(ROOT / "src" / "perfkit")]
    )
    assert status == 0, stdout + stderr
    assert "Success: no issues found" in stdout
