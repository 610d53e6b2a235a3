"""Fairness diagnostics: how grades fall across groups, and the four-fifths rule.

``groups`` maps employee id → a label of whatever attribute the caller wants to look at
(gender, age band, department, location); perfkit does not decide which attributes matter,
and it keeps no such data itself. Counts are integers and shares exact fractions.

>>> from perfkit.calibration import Grade, GradeScale
>>> scale = GradeScale((Grade("A", Decimal(85)), Grade("B", Decimal(70)), Grade("C", None)))
>>> grades = {"1": "A", "2": "B", "3": "B", "4": "A", "5": "C", "6": "B"}
>>> site = {"1": "east", "2": "east", "3": "east", "4": "west", "5": "west", "6": "west"}
>>> grade_distribution(grades, site, scale).share("east", "B")
Fraction(2, 3)
>>> impact = adverse_impact(grades, site, scale, top={"A"})
>>> impact.group("east").rate, impact.flagged
(Fraction(1, 3), ())
"""

from __future__ import annotations

from collections.abc import Collection, Mapping, Sequence
from decimal import Decimal
from fractions import Fraction
from typing import Any

import attrs

from perfkit._text import display_width
from perfkit.calibration.scale import GradeScale
from perfkit.errors import CalibrationError, one_error
from perfkit.numbers import shift, to_decimal

__all__ = ["AdverseImpact", "Distribution", "GroupGrades", "GroupImpact", "adverse_impact", "grade_distribution"]

ALL = "(all)"
"""The label of the row for everyone together in :meth:`Distribution.to_text`."""


@attrs.frozen(kw_only=True)
class GroupGrades:
    """How many people of one group got each grade (``counts`` in scale order, best first)."""

    group: str
    size: int
    counts: tuple[tuple[str, int], ...]

    def count(self, grade: str) -> int:
        for name, count in self.counts:
            if name == grade:
                return count
        raise KeyError(f"no grade {grade!r}; the grades are {', '.join(n for n, _ in self.counts)}")

    def share(self, grade: str) -> Fraction:
        """The exact share of the group with ``grade``."""
        return Fraction(self.count(grade), self.size)


@attrs.frozen(kw_only=True)
class Distribution:
    """Grade counts and shares per group (sorted by label), and for everyone (``overall``)."""

    grades: tuple[str, ...]
    """The scale's grades, best first."""
    groups: tuple[GroupGrades, ...]
    overall: GroupGrades

    def group(self, label: str) -> GroupGrades:
        for group in self.groups:
            if group.group == label:
                return group
        raise KeyError(f"no group {label!r}; the groups are {', '.join(g.group for g in self.groups)}")

    def count(self, group: str, grade: str) -> int:
        return self.group(group).count(grade)

    def share(self, group: str, grade: str) -> Fraction:
        return self.group(group).share(grade)

    def to_records(self) -> list[dict[str, Any]]:
        """One dict per group and grade: group, grade, count, size, exact ``share`` (a Fraction).

        ``percent`` is the share × 100 rounded half-up to 2 places, for display only.
        """
        return [
            {
                "group": group.group,
                "grade": grade,
                "count": count,
                "size": group.size,
                "share": Fraction(count, group.size),
                "percent": _percent(Fraction(count, group.size), 2),
            }
            for group in self.groups
            for grade, count in group.counts
        ]

    def to_text(self) -> str:
        """A table: a row per group (and ``(all)``), a column per grade, ``count (percent)``."""
        header = ("group", "n", *self.grades)
        rows = [
            (g.group, str(g.size), *(f"{c} ({_percent(Fraction(c, g.size), 1)}%)" for _, c in g.counts))
            for g in (*self.groups, self.overall)
        ]
        return _table(header, rows, first_left=1)


@attrs.frozen(kw_only=True)
class GroupImpact:
    """One group under the four-fifths rule.

    ``rate`` is the share of the group in the top grades; ``impact_ratio`` is ``rate`` over
    the highest group's rate (None when no group has anyone in the top grades); ``flagged``
    says the ratio is below the threshold.
    """

    group: str
    size: int
    selected: int
    rate: Fraction
    impact_ratio: Fraction | None
    flagged: bool


@attrs.frozen(kw_only=True)
class AdverseImpact:
    """The four-fifths check of every group (sorted by label) against the best-placed group."""

    top: tuple[str, ...]
    """The grades that count as selected, best first."""
    threshold: Decimal
    groups: tuple[GroupImpact, ...]
    highest_rate: Fraction
    reference: tuple[str, ...]
    """The groups with the highest rate (the ratio's denominator)."""

    @property
    def flagged(self) -> tuple[str, ...]:
        """Labels of the groups whose impact ratio is below the threshold."""
        return tuple(g.group for g in self.groups if g.flagged)

    def group(self, label: str) -> GroupImpact:
        for group in self.groups:
            if group.group == label:
                return group
        raise KeyError(f"no group {label!r}; the groups are {', '.join(g.group for g in self.groups)}")

    def to_records(self) -> list[dict[str, Any]]:
        """One dict per group: the :class:`GroupImpact` fields (rates and ratios exact)."""
        return [attrs.asdict(group) for group in self.groups]

    def to_text(self) -> str:
        """A table per group; impact ratios are shown truncated to 3 places, so a flagged one never shows as 0.800."""
        top = ", ".join(self.top)
        lines = [f"selected: grades {top}; flagged when the impact ratio is below {self.threshold}"]
        rows = [
            (
                g.group,
                str(g.size),
                str(g.selected),
                f"{_percent(g.rate, 1)}%",
                "-" if g.impact_ratio is None else str(shift(_percent(g.impact_ratio, 1, down=True), -2)),
                "FLAGGED" if g.flagged else "",
            )
            for g in self.groups
        ]
        lines.append(_table(("group", "n", "selected", "rate", "impact ratio", ""), rows, first_left=1))
        if self.highest_rate == 0:
            lines.append("no group has anyone in these grades, so there is no ratio to compare")
        return "\n".join(lines)


def grade_distribution(grades: Mapping[str, str], groups: Mapping[str, str], scale: GradeScale) -> Distribution:
    """Counts and exact shares of each grade within each group.

    ``grades`` maps employee id → grade; ``groups`` maps employee id → group label (it may
    hold other people too). Everyone graded must have a group and a grade in the scale,
    else :class:`~perfkit.errors.CalibrationError` names them.
    """
    members = _members(grades, groups, scale)
    return Distribution(
        grades=scale.names,
        groups=tuple(_group_grades(label, [grades[e] for e in ids], scale) for label, ids in members.items()),
        overall=_group_grades(ALL, list(grades.values()), scale),
    )


def adverse_impact(
    grades: Mapping[str, str],
    groups: Mapping[str, str],
    scale: GradeScale,
    *,
    top: Collection[str] | None = None,
    threshold: object = Decimal("0.8"),
) -> AdverseImpact:
    """The four-fifths (80%) rule over the groups of ``groups``.

    A group's selection rate is the share of its people graded in ``top`` (by default the
    best grade of the scale and the one after it). Its impact ratio is its rate divided by
    the highest rate of any group, exactly; a ratio below ``threshold`` is flagged.

    The four-fifths rule is a rule of thumb for spotting a difference worth a look, not a
    test of statistical significance. In small groups one person moves the rate a lot: in a
    group of 4 each person is 25 points of rate, so a flag (or its absence) there says
    little; look at the counts, and at several periods, before concluding anything. A flag
    is a reason to review how grades were given, not proof of unfair treatment.
    """
    chosen = _top(top, scale)
    limit = _threshold(threshold)
    members = _members(grades, groups, scale)
    selected = {label: sum(grades[e] in chosen for e in ids) for label, ids in members.items()}
    rates = {label: Fraction(selected[label], len(ids)) for label, ids in members.items()}
    highest = max(rates.values(), default=Fraction(0))
    impacts = []
    for label, ids in members.items():
        ratio = rates[label] / highest if highest else None
        impacts.append(
            GroupImpact(
                group=label,
                size=len(ids),
                selected=selected[label],
                rate=rates[label],
                impact_ratio=ratio,
                flagged=ratio is not None and ratio < limit,
            )
        )
    return AdverseImpact(
        top=chosen,
        threshold=limit,
        groups=tuple(impacts),
        highest_rate=highest,
        reference=tuple(label for label, rate in rates.items() if highest and rate == highest),
    )


def _members(grades: Mapping[str, str], groups: Mapping[str, str], scale: GradeScale) -> dict[str, list[str]]:
    """Group label → sorted employee ids, labels sorted; bad grades and missing groups raised together."""
    if not grades:
        raise CalibrationError("no grades given: there is no one to compare")
    problems = [
        CalibrationError(f"grade {grade!r} is not in the scale ({', '.join(scale.names)})", employee_id=e, grade=grade)
        for e, grade in sorted(grades.items())
        if grade not in scale
    ]
    missing = sorted(e for e in grades if e not in groups)
    if missing:
        problems.append(CalibrationError(f"no group given for {len(missing)} graded people: {', '.join(missing)}"))
    if problems:
        raise one_error(problems, f"{len(problems)} problems with the fairness inputs", CalibrationError)
    members: dict[str, list[str]] = {}
    for employee_id in sorted(grades):
        members.setdefault(groups[employee_id], []).append(employee_id)
    return {label: members[label] for label in sorted(members)}


def _group_grades(label: str, grades: list[str], scale: GradeScale) -> GroupGrades:
    return GroupGrades(group=label, size=len(grades), counts=tuple((name, grades.count(name)) for name in scale.names))


def _top(top: Collection[str] | None, scale: GradeScale) -> tuple[str, ...]:
    if top is None:
        return scale.names[:2]
    if isinstance(top, str):
        top = (top,)
    unknown = sorted(name for name in top if name not in scale)
    if unknown:
        raise CalibrationError(
            f"top names grades that are not in the scale: {', '.join(unknown)} (the grades are {', '.join(scale.names)})",
            grade=unknown[0],
        )
    if not top:
        raise CalibrationError("top is empty: name the grades that count as selected")
    return tuple(name for name in scale.names if name in top)


def _threshold(threshold: object) -> Decimal:
    try:
        value = to_decimal(threshold)
    except ValueError as exc:
        raise CalibrationError(f"bad threshold: {exc}") from None
    if not 0 < value <= 1:
        raise CalibrationError(f"the threshold is a ratio above 0 and at most 1 (0.8 for four-fifths), got {value}")
    return value


def _percent(share: Fraction, places: int, *, down: bool = False) -> Decimal:
    """``share`` × 100 rounded half-up (or ``down``) to ``places`` places, exactly (shares are not negative)."""
    scaled = share * 100 * 10**places
    if down:
        units = scaled.numerator // scaled.denominator
    else:
        units = (2 * scaled.numerator + scaled.denominator) // (2 * scaled.denominator)
    return shift(Decimal(units), -places)


def _table(header: Sequence[str], rows: Sequence[Sequence[str]], *, first_left: int) -> str:
    """Columns aligned by display width; the first ``first_left`` columns left-aligned, the rest right."""
    widths = [max(display_width(row[i]) for row in (header, *rows)) for i in range(len(header))]
    out = []
    for row in (header, *rows):
        cells = []
        for i, cell in enumerate(row):
            fill = " " * (widths[i] - display_width(cell))
            cells.append(cell + fill if i < first_left else fill + cell)
        out.append("  ".join(cells).rstrip())
    return "\n".join(out)
