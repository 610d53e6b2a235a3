"""Hypothesis strategies for calibration pools: people with scores and limits, and policies.

Tests import this module as ``calibration.strategies`` (``tests/`` is on ``sys.path``, see
``tests/conftest.py``). Everything is plain data the way a user writes it: row mappings for
:func:`perfkit.evaluate` and policy mappings for
:func:`perfkit.calibration.distribution.allocate`.

The scheme behind the rows (:data:`SCHEME_TEXT`) has five grades, ``S A B C D``, a KPI ``k``
that scores the input ``x`` (so a person's total is ``x``), a zero-weight KPI ``q`` scoring
``y`` (a tie key that does not move the total), and three limit rules:

- ``late > 3`` caps the grade at B (``late-cap``);
- ``mentor == 1`` floors it at B (``mentor-floor``);
- ``breach == 1`` vetoes it to D (``breach``).

>>> allowed_grades({"late": 5}), allowed_grades({"mentor": 1}), allowed_grades({"late": 5, "mentor": 1})
(('B', 'C', 'D'), ('S', 'A', 'B'), ('B',))
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from decimal import Decimal
from typing import Any

from hypothesis import strategies as st

import perfkit as pk
from perfkit.calibration.scale import Grade, GradeScale

__all__ = [
    "DEPARTMENTS",
    "GRADES",
    "LIMITS",
    "SCALE",
    "SCHEME",
    "SCHEME_TEXT",
    "TEAMS",
    "allowed_grades",
    "evaluate",
    "hybrid_policies",
    "people",
    "percents",
    "relative_policies",
]

SCHEME_TEXT = """
perfkit: 1
id: calibration-properties
name: 校准性质测试
inputs:
  x:      {min: 0, max: 100}
  y:      {min: 0, max: 100, default: 0}
  late:   {unit: count, min: 0, default: 0}
  mentor: {min: 0, max: 1, default: 0}
  breach: {min: 0, max: 1, default: 0}
kpis:
  - {id: k, name: 业绩, weight: 100%, score: x}
  - {id: q, name: 质量, weight: 0%, score: y}
rules:
  - {id: late-cap, when: late > 3, then: {cap_grade: B}, reason: 迟到超过3次最高B级}
  - {id: mentor-floor, when: mentor == 1, then: {floor_grade: B}, reason: 带教新人不低于B级}
  - {id: breach, when: breach == 1, then: {veto: {grade: D}}, reason: 数据泄露一票否决}
grades:
  - {grade: S, min_score: 90}
  - {grade: A, min_score: 80}
  - {grade: B, min_score: 60}
  - {grade: C, min_score: 40}
  - {grade: D}
"""

SCHEME = pk.Scheme.from_yaml(SCHEME_TEXT)
GRADES = ("S", "A", "B", "C", "D")
SCALE = GradeScale(
    (
        Grade("S", Decimal(90)),
        Grade("A", Decimal(80)),
        Grade("B", Decimal(60)),
        Grade("C", Decimal(40)),
        Grade("D", None),
    )
)
DEPARTMENTS = ("研发", "销售")
TEAMS = ("t1", "t2", "t3")
LIMITS = ("cap", "floor", "veto")
"""The limits :func:`people` may give: ``late`` (cap B), ``mentor`` (floor B), ``breach`` (veto D)."""


def evaluate(rows: Sequence[Mapping[str, Any]]) -> pk.Evaluation:
    """Score rows with :data:`SCHEME`."""
    return pk.evaluate(SCHEME, list(rows))


def allowed_grades(row: Mapping[str, Any]) -> tuple[str, ...]:
    """The grades a row's limits leave, best first, worked out from the row alone.

    The test oracle for the limits: a cap or veto bounds the best grade, a floor the worst,
    and a cap below a floor wins (as it does in the scheme's rules).
    """
    best, worst = 0, len(GRADES) - 1
    if row.get("late", 0) > 3:
        best = max(best, GRADES.index("B"))
    if row.get("breach", 0) == 1:
        best = max(best, GRADES.index("D"))
    if row.get("mentor", 0) == 1:
        worst = min(worst, GRADES.index("B"))
    if worst < best:
        return (GRADES[best],)
    return GRADES[best : worst + 1]


@st.composite
def people(
    draw: st.DrawFn,
    *,
    min_size: int = 1,
    max_size: int = 16,
    limits: Sequence[str] = (),
    distinct: bool = False,
    departments: Sequence[str] = DEPARTMENTS,
    teams: Sequence[str] = TEAMS,
) -> list[dict[str, Any]]:
    """Rows of people: ids unrelated to scores, totals ``x`` (distinct or not), some limits.

    ``limits`` names which of :data:`LIMITS` may be given (each to about one person in five).
    Without ``distinct``, scores come from a small range so that equal totals are common.
    """
    n = draw(st.integers(min_size, max_size))
    if distinct:
        scores = draw(st.lists(st.integers(0, 100), min_size=n, max_size=n, unique=True))
    else:
        low = draw(st.integers(0, 90))
        scores = draw(st.lists(st.integers(low, min(100, low + draw(st.integers(3, 40)))), min_size=n, max_size=n))
    numbers = draw(st.permutations(range(1, n + 1)))
    rows = []
    for number, score in zip(numbers, scores):
        row: dict[str, Any] = {
            "employee_id": f"E{number:03d}",
            "x": score,
            "y": draw(st.integers(0, 100)),
            "late": 0,
            "mentor": 0,
            "breach": 0,
            "department": draw(st.sampled_from(departments)),
            "team": draw(st.sampled_from(teams)),
        }
        for limit, column, value in (("cap", "late", 5), ("floor", "mentor", 1), ("veto", "breach", 1)):
            if limit in limits and draw(st.integers(0, 4)) == 0:
                row[column] = value
        rows.append(row)
    return rows


@st.composite
def percents(draw: st.DrawFn, grades: Sequence[str] = GRADES) -> dict[str, str]:
    """Whole-percent target shares for ``grades`` that add up to exactly 100%."""
    cuts = sorted(draw(st.lists(st.integers(0, 100), min_size=len(grades) - 1, max_size=len(grades) - 1)))
    edges = [0, *cuts, 100]
    return {grade: f"{edges[i + 1] - edges[i]}%" for i, grade in enumerate(grades)}


@st.composite
def relative_policies(
    draw: st.DrawFn,
    *,
    group_by: str | None | st.SearchStrategy[str | None] = "department",
    nested: str | None = None,
    ties: str | st.SearchStrategy[str] = "escalate",
) -> dict[str, Any]:
    """A ``relative`` policy: a target share for every grade, any apportionment method."""
    policy: dict[str, Any] = {
        "mode": "relative",
        "distribution": draw(percents()),
        "apportionment": draw(st.sampled_from(["largest_remainder", "sainte_lague", "dhondt"])),
        "ties": ties if isinstance(ties, str) else draw(ties),
    }
    chosen = group_by if group_by is None or isinstance(group_by, str) else draw(group_by)
    if chosen is not None:
        policy["group_by"] = chosen
    if nested is not None:
        policy["nested"] = nested
    return policy


@st.composite
def hybrid_policies(
    draw: st.DrawFn,
    *,
    group_by: str | None = "department",
    nested: str | None = None,
    ties: str | st.SearchStrategy[str] = "escalate",
) -> dict[str, Any]:
    """A ``hybrid`` policy: per grade nothing, a small target or a range, maybe a group range.

    Not every policy drawn passes :func:`perfkit.calibration.policy.compile_policy` (the
    minimums may need more than a whole pool); tests filter those out.
    """
    distribution: dict[str, Any] = {}
    targets = 0
    for grade in GRADES:
        kind = draw(st.sampled_from(["none", "none", "target", "range", "max", "min"]))
        if kind == "target" and targets < 2:
            distribution[grade] = f"{draw(st.integers(0, 30))}%"
            targets += 1
        elif kind == "range":
            low = draw(st.integers(0, 30))
            distribution[grade] = {"min": f"{low}%", "max": f"{draw(st.integers(low, 100))}%"}
        elif kind == "max":
            distribution[grade] = {"max": f"{draw(st.integers(5, 100))}%"}
        elif kind == "min":
            distribution[grade] = {"min": f"{draw(st.integers(0, 30))}%"}
    group = draw(st.sampled_from([None, "S+A", "C+D"]))
    if group is not None:
        distribution[group] = {"max": f"{draw(st.integers(10, 80))}%"}
    if not distribution:
        distribution["S"] = {"max": f"{draw(st.integers(0, 40))}%"}
    policy: dict[str, Any] = {
        "mode": "hybrid",
        "distribution": distribution,
        "ties": ties if isinstance(ties, str) else draw(ties),
    }
    if group_by is not None:
        policy["group_by"] = group_by
    if nested is not None:
        policy["nested"] = nested
    return policy
