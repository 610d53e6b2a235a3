"""perfkit: an embeddable library and rules engine for employee performance management.

    >>> import perfkit as pk
    >>> scheme = pk.load_scheme(pk.example_path("sales-quarterly.yaml"))
    >>> result = pk.evaluate(scheme, [{"employee_id": "E001", "sales": 1_050_000,
    ...     "sales_target": 1_000_000, "csat": 4.5, "collection_rate": 0.92, "attitude": 4}])
    >>> card = result["E001"]
    >>> card.total, card.grade
    (Decimal('95.10'), 'S')
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from importlib import resources
from pathlib import Path
from typing import Any, Literal

from perfkit.calibration.distribution import allocate as calibrate
from perfkit.errors import (
    AuditError,
    CalibrationError,
    DataError,
    FormulaError,
    GoalGraphError,
    PerfkitError,
    SchemeError,
)
from perfkit.rules.engine import CompiledScheme, as_compiled
from perfkit.rules.explain import Explanation
from perfkit.rules.scorecard import Evaluation, ScoreCard
from perfkit.scheme import Scheme, load_scheme, validate_scheme

__version__ = "0.1.0"

__all__ = [
    "AuditError",
    "CalibrationError",
    "CompiledScheme",
    "DataError",
    "Evaluation",
    "Explanation",
    "FormulaError",
    "GoalGraphError",
    "PerfkitError",
    "Scheme",
    "SchemeError",
    "ScoreCard",
    "__version__",
    "calibrate",
    "evaluate",
    "example_path",
    "load_scheme",
    "validate_scheme",
]


def evaluate(
    scheme: Scheme | CompiledScheme | str | Path,
    rows: Iterable[Mapping[str, Any]] | Any,
    *,
    errors: Literal["raise", "collect"] = "raise",
    history: Sequence[Any] = (),
) -> Evaluation:
    """Score ``rows`` with ``scheme`` (a Scheme, a compiled one, or a scheme file's path).

    Compiling is cheap, but to score many batches compile once (``scheme.compile()``) and
    call :meth:`CompiledScheme.evaluate`. See that method for ``rows``, ``errors`` and
    ``history`` (earlier periods, for ``previous_total()``, ``avg_total(n)``, ``streak()``).
    """
    return as_compiled(scheme).evaluate(rows, errors=errors, history=history)


def example_path(name: str) -> Path:
    """The path of a bundled example file (``sales-quarterly.yaml``, ``sales-sample.csv``)."""
    path = Path(str(resources.files("perfkit") / "examples" / name))
    if not path.is_file():
        available = sorted(p.name for p in path.parent.iterdir() if p.is_file() and not p.name.startswith("_"))
        raise FileNotFoundError(f"no bundled example {name!r}; the examples are: {', '.join(available)}")
    return path
