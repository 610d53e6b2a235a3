"""The 9-box grid: performance (from grades) × potential, as data and as a text table.

Performance comes from the calibrated grade: a grade maps to a level ``high``, ``medium`` or
``low``, either through ``performance_levels`` or by splitting a :class:`GradeScale` into
three parts (:func:`default_performance_levels`). Potential is assessed apart and given per
person as ``high``/``medium``/``low`` (or 高/中/低).

>>> from perfkit.calibration import Grade, GradeScale
>>> scale = GradeScale(tuple(Grade(name, None) for name in "SABCD"))
>>> box = nine_box({"1": "S", "2": "B", "3": "D"}, {"1": "高", "2": "medium", "3": "high"}, scale=scale)
>>> box.cell("high", "high").employee_ids, box.cell("high", "high").label
(('1',), 'Future leader')
>>> box.placement("3").label
'Rough diamond'
"""

from __future__ import annotations

from collections.abc import Mapping
from types import MappingProxyType
from typing import Any, Literal

import attrs

from perfkit._text import display_width
from perfkit.calibration.scale import GradeScale
from perfkit.errors import CalibrationError, one_error

__all__ = [
    "CHINESE_LABELS",
    "DEFAULT_LABELS",
    "LEVELS",
    "BoxCell",
    "Labels",
    "Level",
    "NineBox",
    "default_performance_levels",
    "nine_box",
]

Level = Literal["high", "medium", "low"]
LEVELS: tuple[Level, ...] = ("high", "medium", "low")
Labels = Mapping[tuple[Level, Level], str] | Mapping[tuple[str, str], str]
"""Box names keyed (performance level, potential level); levels may be spelt 高/中/低."""

_SPELLINGS: dict[str, Level] = {
    "high": "high",
    "medium": "medium",
    "low": "low",
    "高": "high",
    "中": "medium",
    "低": "low",
}

DEFAULT_LABELS: Mapping[tuple[Level, Level], str] = MappingProxyType(
    {
        ("high", "high"): "Future leader",
        ("medium", "high"): "High potential",
        ("low", "high"): "Rough diamond",
        ("high", "medium"): "High performer",
        ("medium", "medium"): "Core player",
        ("low", "medium"): "Inconsistent player",
        ("high", "low"): "Trusted professional",
        ("medium", "low"): "Effective contributor",
        ("low", "low"): "Needs attention",
    }
)
"""Box names keyed (performance level, potential level)."""

CHINESE_LABELS: Mapping[tuple[Level, Level], str] = MappingProxyType(
    {
        ("high", "high"): "明日之星",
        ("medium", "high"): "潜力之星",
        ("low", "high"): "待琢璞玉",
        ("high", "medium"): "业绩骨干",
        ("medium", "medium"): "中坚力量",
        ("low", "medium"): "表现不稳",
        ("high", "low"): "专业能手",
        ("medium", "low"): "稳定贡献者",
        ("low", "low"): "需要关注",
    }
)
"""The same boxes named in Chinese; pass as ``labels=CHINESE_LABELS``."""


@attrs.frozen(kw_only=True)
class BoxCell:
    """One box: its performance and potential levels, its name, and who is in it (sorted)."""

    performance: Level
    potential: Level
    label: str
    employee_ids: tuple[str, ...]

    @property
    def count(self) -> int:
        return len(self.employee_ids)

    def to_dict(self) -> dict[str, Any]:
        return {
            "performance": self.performance,
            "potential": self.potential,
            "label": self.label,
            "count": self.count,
            "employee_ids": list(self.employee_ids),
        }


@attrs.frozen(kw_only=True)
class NineBox:
    """The nine boxes, ordered as the grid is read: potential high → low, performance low → high.

    ``performance_levels`` is the grade → level mapping that was used (in the order given, or
    the scale's order).
    """

    cells: tuple[BoxCell, ...]
    performance_levels: tuple[tuple[str, Level], ...]

    def cell(self, performance: str, potential: str) -> BoxCell:
        """The box at (performance, potential); levels may be spelt 高/中/低."""
        wanted = (_key_level(performance, "performance"), _key_level(potential, "potential"))
        return next(c for c in self.cells if (c.performance, c.potential) == wanted)

    def __getitem__(self, key: tuple[str, str]) -> BoxCell:
        return self.cell(*key)

    def placement(self, employee_id: str) -> BoxCell:
        """The box a person is in."""
        for cell in self.cells:
            if employee_id in cell.employee_ids:
                return cell
        raise KeyError(f"employee {employee_id!r} is not in the 9-box")

    def to_dict(self) -> dict[str, Any]:
        """``performance_levels`` (grade → level) and ``cells`` (a list, in grid order)."""
        return {
            "performance_levels": dict(self.performance_levels),
            "cells": [cell.to_dict() for cell in self.cells],
        }

    def to_text(self, *, max_ids: int = 5) -> str:
        """The 3×3 grid: rows potential high → low, columns performance low → high.

        Each box shows its name, its head count and up to ``max_ids`` ids (then ``+N more``).
        """
        if max_ids < 0:
            raise CalibrationError(f"max_ids is how many ids a box shows, at least 0; got {max_ids}")
        corner = "potential \\ performance"
        columns: tuple[Level, ...] = ("low", "medium", "high")
        grid = []
        for potential in LEVELS:
            cells = [self.cell(performance, potential) for performance in columns]
            grid.append(([potential, ""], [[f"{c.label} ({c.count})", _ids(c.employee_ids, max_ids)] for c in cells]))
        head_width = max(display_width(text) for text in (corner, *LEVELS))
        widths = [
            max([display_width(level), *(display_width(line) for _, boxes in grid for line in boxes[i])])
            for i, level in enumerate(columns)
        ]
        rule = "-" * head_width + "".join("-+-" + "-" * w for w in widths)
        out = [_row([corner], [[c] for c in columns], head_width, widths)[0], rule]
        for head, boxes in grid:
            out.extend(_row(head, boxes, head_width, widths))
            out.append(rule)
        return "\n".join(out[:-1])

    def __str__(self) -> str:
        return self.to_text()


def default_performance_levels(scale: GradeScale) -> dict[str, Level]:
    """Split the scale's grades, best → worst, into three contiguous groups of nearly equal size.

    With ``n`` grades, ``q, r = divmod(n, 3)``: each group has ``q`` grades; one left over
    (``r == 1``) goes to ``medium``, two (``r == 2``) go one each to ``high`` and ``low``. So
    S A B C D gives high = S A, medium = B, low = C D; A B C D gives high = A,
    medium = B C, low = D.

    >>> from perfkit.calibration.scale import Grade
    >>> default_performance_levels(GradeScale(tuple(Grade(name, None) for name in "SABCD")))
    {'S': 'high', 'A': 'high', 'B': 'medium', 'C': 'low', 'D': 'low'}
    >>> default_performance_levels(GradeScale(tuple(Grade(name, None) for name in "ABCD")))
    {'A': 'high', 'B': 'medium', 'C': 'medium', 'D': 'low'}
    """
    q, r = divmod(len(scale.grades), 3)
    sizes = {"high": q + (r == 2), "medium": q + (r == 1), "low": q + (r == 2)}
    levels: dict[str, Level] = {}
    names = iter(scale.names)
    for level in LEVELS:
        for _ in range(sizes[level]):
            levels[next(names)] = level
    return levels


def nine_box(
    performance: Mapping[str, str],
    potential: Mapping[str, str],
    *,
    scale: GradeScale | None = None,
    performance_levels: Mapping[str, str] | None = None,
    labels: Labels | None = None,
) -> NineBox:
    """Place everyone in the 9-box.

    ``performance`` maps employee id → grade; pass ``scale=`` (its grades are split by
    :func:`default_performance_levels`) or ``performance_levels=`` (grade → ``high``,
    ``medium`` or ``low``), one of the two. ``potential`` maps employee id → ``high``,
    ``medium`` or ``low`` (or 高/中/低). ``labels`` renames boxes, keyed (performance,
    potential); boxes it leaves out keep :data:`DEFAULT_LABELS`.

    Raises :class:`~perfkit.errors.CalibrationError` listing the people in only one of the
    two mappings, and naming each grade or potential that cannot be read.
    """
    levels = _performance_levels(scale, performance_levels)
    names = _labels(labels)
    problems: list[CalibrationError] = []
    for side, have, other in (("performance", performance, potential), ("potential", potential, performance)):
        only = sorted(set(have) - set(other))
        if only:
            problems.append(
                CalibrationError(f"{len(only)} people have a {side} but no {_other(side)}: {', '.join(only)}")
            )
    placed: dict[tuple[Level, Level], list[str]] = {key: [] for key in DEFAULT_LABELS}
    for employee_id in sorted(set(performance) & set(potential)):
        grade, assessed = performance[employee_id], potential[employee_id]
        level = levels.get(grade)
        if level is None:
            known = ", ".join(levels)
            problems.append(
                CalibrationError(
                    f"grade {grade!r} has no performance level (the grades are {known})",
                    employee_id=employee_id,
                    grade=grade,
                )
            )
        chance = _SPELLINGS.get(assessed.strip().lower()) if isinstance(assessed, str) else None
        if chance is None:
            problems.append(
                CalibrationError(
                    f"potential {assessed!r} is not high, medium or low (高, 中, 低)", employee_id=employee_id
                )
            )
        if level is not None and chance is not None:
            placed[(level, chance)].append(employee_id)
    if problems:
        raise one_error(problems, f"{len(problems)} problems with the 9-box inputs", CalibrationError)
    cells = tuple(
        BoxCell(performance=perf, potential=pot, label=names[(perf, pot)], employee_ids=tuple(placed[(perf, pot)]))
        for pot in LEVELS
        for perf in ("low", "medium", "high")
    )
    return NineBox(cells=cells, performance_levels=tuple(levels.items()))


def _performance_levels(scale: GradeScale | None, given: Mapping[str, str] | None) -> dict[str, Level]:
    if (scale is None) == (given is None):
        raise CalibrationError(
            "pass scale= (its grades are split into high, medium and low) or performance_levels= "
            "(grade → high/medium/low), one of the two"
        )
    if given is None:
        assert scale is not None
        return default_performance_levels(scale)
    levels: dict[str, Level] = {}
    bad = []
    for grade, text in given.items():
        level = _SPELLINGS.get(text.strip().lower()) if isinstance(text, str) else None
        if level is None:
            bad.append(
                CalibrationError(
                    f"performance level {text!r} of grade {grade!r} is not high, medium or low", grade=grade
                )
            )
        else:
            levels[grade] = level
    if len(bad) == 1:
        raise bad[0]
    if bad:
        raise CalibrationError("; ".join(p.message for p in bad), problems=tuple(bad))
    return levels


def _labels(labels: Labels | None) -> dict[tuple[Level, Level], str]:
    names = dict(DEFAULT_LABELS)
    for key, label in (labels or {}).items():
        if not (isinstance(key, tuple) and len(key) == 2):
            raise CalibrationError(f"a box label is keyed (performance, potential), like ('high', 'high'); got {key!r}")
        names[(_key_level(key[0], "performance"), _key_level(key[1], "potential"))] = str(label)
    return names


def _key_level(text: str, what: str) -> Level:
    level = _SPELLINGS.get(text.strip().lower()) if isinstance(text, str) else None
    if level is None:
        raise CalibrationError(f"{what} level {text!r} is not high, medium or low (高, 中, 低)")
    return level


def _other(side: str) -> str:
    return "potential" if side == "performance" else "performance grade"


def _ids(ids: tuple[str, ...], limit: int) -> str:
    if len(ids) <= limit:
        return ", ".join(ids)
    return ", ".join([*ids[:limit], f"+{len(ids) - limit} more"])


def _row(head: list[str], boxes: list[list[str]], head_width: int, widths: list[int]) -> list[str]:
    """The text lines of one grid row: the row head, then each box's lines, padded by display width."""
    height = max(len(head), *(len(box) for box in boxes))
    lines = []
    for n in range(height):
        parts = [_pad(head[n] if n < len(head) else "", head_width)]
        parts += [_pad(box[n] if n < len(box) else "", width) for box, width in zip(boxes, widths)]
        lines.append(" | ".join(parts).rstrip())
    return lines


def _pad(text: str, width: int) -> str:
    return text + " " * (width - display_width(text))
