"""Earlier periods' results, read by formulas: ``previous_total()``, ``avg_total(n)``, ``streak("A")``.

An evaluation can be given the results of earlier periods for the same people
(``evaluate(rows, history=[q1, q2, q3])``, oldest first). Formulas read them through three
functions, each evaluated per person before the row is scored:

``previous_total()``
    The total of the most recent earlier period.
``avg_total(n)``
    The average total of the last ``n`` earlier periods (``n`` written in the formula).
``streak("A")``
    How many of the most recent earlier periods in a row have a final grade of ``A`` or
    better (in this scheme's grade order). A period the person is missing from ends it.

A period the person is missing from is handled by the scheme's ``history.missing`` policy:
``fail`` (a data error naming the employee), ``skip`` (``previous_total`` looks further
back and ``avg_total`` averages the periods that are there), or ``value`` (the missing
period counts as the stated ``history.value``).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from decimal import Decimal
from typing import Any, Literal

import attrs

from perfkit.calibration.scale import GradeScale
from perfkit.errors import DataError
from perfkit.numbers import to_decimal

__all__ = ["HISTORY_FUNCTIONS", "HistoryFunction", "Past", "PastResult", "history_value", "read_history"]

MAX_PERIODS = 120


@attrs.frozen
class HistoryFunction:
    """A function of the formula language that reads earlier periods."""

    name: str
    signature: str
    summary: str
    argument: Literal["none", "count", "grade"]


HISTORY_FUNCTIONS: Mapping[str, HistoryFunction] = {
    f.name: f
    for f in (
        HistoryFunction("previous_total", "previous_total()", "The total of the most recent earlier period.", "none"),
        HistoryFunction(
            "avg_total",
            "avg_total(n)",
            f"The average total of the last n earlier periods (n from 1 to {MAX_PERIODS}, written in the formula).",
            "count",
        ),
        HistoryFunction(
            "streak",
            'streak("A")',
            "How many of the most recent earlier periods in a row have a final grade of A or better.",
            "grade",
        ),
    )
}


@attrs.frozen
class PastResult:
    """One person's result in an earlier period: what history functions read."""

    total: Decimal
    grade: str


Past = Sequence[PastResult | None]
"""One person's earlier periods, oldest first; None where the person is missing."""


def read_history(periods: Iterable[Any]) -> tuple[dict[str, PastResult], ...]:
    """Earlier periods (oldest first) as {employee_id: PastResult} per period.

    Each period is an :class:`~perfkit.Evaluation` or an iterable of records with
    ``employee_id``, ``total`` and ``grade`` (the JSON that ``perfkit score --format json``
    writes, for example).
    """
    result = []
    for number, period in enumerate(periods):
        cards: dict[str, PastResult] = {}
        items = getattr(period, "cards", period)
        for item in items:
            record = item.to_dict() if hasattr(item, "to_dict") else item
            if not isinstance(record, Mapping):
                raise DataError(f"history period {number}: each result is a mapping with employee_id, total and grade")
            try:
                employee_id = str(record["employee_id"]).strip()
                cards[employee_id] = PastResult(to_decimal(record["total"]), str(record["grade"]))
            except KeyError as exc:
                raise DataError(f"history period {number}: a result has no {exc.args[0]!r}") from None
            except ValueError as exc:
                raise DataError(f"history period {number}: {exc}", employee_id=str(record.get("employee_id"))) from None
        result.append(cards)
    return tuple(result)


def history_value(
    function: str,
    argument: int | str | None,
    past: Past,
    *,
    scale: GradeScale,
    missing: str,
    fill: Decimal | None,
    employee_id: str,
) -> Decimal:
    """The value of one history call for one person."""
    if function == "streak":
        assert isinstance(argument, str)
        limit = scale.rank(argument)
        count = 0
        for result in reversed(past):
            if result is None:
                break
            if result.grade not in scale:
                raise DataError(
                    f"an earlier period has grade {result.grade!r}, which this scheme does not have",
                    employee_id=employee_id,
                )
            if scale.rank(result.grade) > limit:
                break
            count += 1
        return Decimal(count)
    wanted = 1 if function == "previous_total" else int(argument or 1)
    recent = list(past)[-wanted:] if missing != "skip" else [r for r in past if r is not None][-wanted:]
    if len(recent) < wanted and missing != "value":
        if missing == "fail" or not recent:
            raise DataError(
                f"{_call(function, argument)} needs {wanted} earlier period{'s' if wanted > 1 else ''}, "
                f"but {len(recent)} {'is' if len(recent) == 1 else 'are'} given",
                employee_id=employee_id,
            )
    totals: list[Decimal] = []
    for result in recent:
        if result is not None:
            totals.append(result.total)
        elif missing == "value" and fill is not None:
            totals.append(fill)
        else:
            raise DataError(f"{_call(function, argument)}: the person is missing from an earlier period", employee_id=employee_id)
    if missing == "value" and fill is not None:
        totals = [fill] * (wanted - len(totals)) + totals
    if function == "previous_total":
        return totals[-1]
    return sum(totals, Decimal(0)) / len(totals)


def _call(function: str, argument: int | str | None) -> str:
    if argument is None:
        return f"{function}()"
    return f"{function}({argument!r})" if isinstance(argument, str) else f"{function}({argument})"
