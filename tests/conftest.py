"""Shared test configuration.

The suite runs with ``--import-mode=importlib``, which does not put the test directory on
``sys.path``; the property tests import their shared strategies as ``strategies``, so the
directory is added here.
"""

from __future__ import annotations

import decimal
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

_TESTS = str(Path(__file__).resolve().parent)
if _TESTS not in sys.path:
    sys.path.insert(0, _TESTS)


@pytest.fixture
def caller_context() -> Iterator[decimal.Context]:
    """The caller's own decimal context, restored after the test whatever it does to it."""
    saved = decimal.getcontext().copy()
    try:
        yield decimal.getcontext()
    finally:
        decimal.setcontext(saved)
