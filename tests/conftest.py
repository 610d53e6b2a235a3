"""Shared test configuration.

The suite runs with ``--import-mode=importlib``, which does not put the test directory on
``sys.path``; the property tests import their shared strategies as ``strategies``, so the
directory is added here.
"""

from __future__ import annotations

import sys
from pathlib import Path

_TESTS = str(Path(__file__).resolve().parent)
if _TESTS not in sys.path:
    sys.path.insert(0, _TESTS)
