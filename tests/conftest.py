"""Shared test configuration.

The suite runs with ``--import-mode=importlib``, which does not put the test directory on
``sys.path``; the property tests import their shared strategies as ``strategies``, so the
directory is added here.
"""

from __future__ import annotations

import sys
import warnings
from pathlib import Path

_TESTS = str(Path(__file__).resolve().parent)
if _TESTS not in sys.path:
    sys.path.insert(0, _TESTS)

# When a hypothesis test fails, hypothesis's pytest plugin imports its patch writer, which
# imports libcst, which triggers a DeprecationWarning (mypy_extensions.TypedDict) inside a
# pytest hook; with warnings as errors that turns every hypothesis failure into an
# INTERNALERROR that hides the falsifying example. Import it once here, quietly.
with warnings.catch_warnings():
    warnings.simplefilter("ignore", DeprecationWarning)
    try:
        import hypothesis.extra._patching  # noqa: F401
    except ImportError:  # pragma: no cover - libcst not installed: nothing to pre-import
        pass
