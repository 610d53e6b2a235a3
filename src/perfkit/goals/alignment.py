"""The alignment report: is every goal tied to the strategy, and do the numbers add up?

:func:`alignment` looks at a goal graph on a date and reports four things:

- **Connection.** A *strategic root* is a goal owned by the ``org`` with no parent (by
  either kind of edge). A goal is *connected* when a path of ``contributes`` or
  ``supports`` edges leads from it up to a strategic root. The report gives the share of
  *personal goals* (owned by ``person:``) that are connected.
- **Orphans.** Goals with no parent that are not strategic roots: a team or personal goal
  nobody linked to anything. (An org goal with no parent is a strategic root, never an
  orphan.)
- **Target gaps.** For each parent that sums its children's values toward its own target
  (``rollup: sum``), whether the targets of its counted children, in force on the date,
  add up to its own: ``short`` (below), ``over`` (above) or ``incomplete`` (some counted
  child has no target, so the sum would be a guess; goal files cannot say this today, as
  every child of a sum has a target, but graphs built by other means might).
- **Past end.** Goals whose period has ended by the date and that nobody closed or
  archived: an ``active`` goal shown as ``expired`` by the rollup, or a ``draft`` left
  behind.

**Which goals count.** Archived goals are treated as if they were not in the graph: they
are never roots, orphans, personal goals or gaps, and no path runs through them (a goal
whose only parent is archived is an orphan). Drafts count everywhere: alignment is
checked while goals are being set, and a draft not linked to the strategy is what a
planner wants to see. Closed goals count too.

Every list is sorted by goal id, so the report does not depend on the order of the file.
"""

from __future__ import annotations

import datetime
import decimal
from collections.abc import Iterable, Sequence
from decimal import Decimal
from typing import Any, Literal

import attrs

from perfkit._text import display_width
from perfkit.goals.graph import GoalGraph
from perfkit.goals.rollup import Rollup
from perfkit.numbers import CONTEXT, percent, plain_text

__all__ = ["AlignmentReport", "GapStatus", "PastEnd", "TargetGap", "alignment_report"]

GapStatus = Literal["short", "over", "incomplete"]
_ONE_MICROSECOND = datetime.timedelta(microseconds=1)


@attrs.frozen(kw_only=True)
class TargetGap:
    """A ``rollup: sum`` parent whose children's targets do not add up to its own.

    ``target`` is the parent's target in force on the date; ``children_total`` the sum of
    the targets in force of the children that count in its rollup (``children``), None
    when the comparison is ``incomplete``; ``difference`` is ``children_total − target``
    (negative when ``short``). ``missing`` lists the counted children without a target;
    ``left_out`` the children that do not count (drafts, archived goals, or goals with
    nothing to roll up), whose targets are not added. Child ids are sorted.
    """

    goal: str
    status: GapStatus
    target: Decimal
    children_total: Decimal | None
    difference: Decimal | None
    children: tuple[str, ...]
    missing: tuple[str, ...] = ()
    left_out: tuple[str, ...] = ()
    unit: str | None = None

    def to_dict(self) -> dict[str, Any]:
        return {
            "goal": self.goal,
            "status": self.status,
            "target": plain_text(self.target),
            "children_total": _text(self.children_total),
            "difference": _text(self.difference),
            "children": list(self.children),
            "missing": list(self.missing),
            "left_out": list(self.left_out),
            "unit": self.unit,
        }


@attrs.frozen(kw_only=True)
class PastEnd:
    """A goal whose period has ended and that is not closed or archived.

    ``last_day`` is the period's last day (in the graph's calendar); ``days_over`` how
    many days the date is past it; ``status`` is ``expired`` (an active goal) or ``draft``.
    """

    goal: str
    owner: str
    period: str
    last_day: datetime.date
    days_over: int
    status: Literal["expired", "draft"]

    def to_dict(self) -> dict[str, Any]:
        return {
            "goal": self.goal,
            "owner": self.owner,
            "period": self.period,
            "last_day": self.last_day.isoformat(),
            "days_over": self.days_over,
            "status": self.status,
        }


@attrs.frozen(kw_only=True)
class AlignmentReport:
    """What :func:`alignment` found; every tuple is sorted by goal id.

    ``personal`` holds the personal goals considered (not archived), ``connected`` those
    of them connected to a strategic root. ``balanced`` lists the ``rollup: sum`` parents
    whose children's targets add up exactly.
    """

    as_of: datetime.date | datetime.datetime | str
    strategic_roots: tuple[str, ...]
    personal: tuple[str, ...]
    connected: tuple[str, ...]
    orphans: tuple[str, ...]
    target_gaps: tuple[TargetGap, ...]
    balanced: tuple[str, ...]
    past_end: tuple[PastEnd, ...]
    titles: dict[str, str] = attrs.field(factory=dict, repr=False, eq=False)
    """Goal titles for :meth:`to_text`."""

    @property
    def share(self) -> Decimal | None:
        """Connected personal goals over all personal goals (``Decimal('0.75')``), or None
        when there is no personal goal."""
        if not self.personal:
            return None
        with decimal.localcontext(CONTEXT):
            return Decimal(len(self.connected)) / Decimal(len(self.personal))

    @property
    def unconnected(self) -> tuple[str, ...]:
        """Personal goals with no path to a strategic root."""
        connected = set(self.connected)
        return tuple(g for g in self.personal if g not in connected)

    @property
    def short(self) -> tuple[TargetGap, ...]:
        """Parents whose children's targets add up to less than their own."""
        return tuple(g for g in self.target_gaps if g.status == "short")

    @property
    def over(self) -> tuple[TargetGap, ...]:
        """Parents whose children's targets add up to more than their own."""
        return tuple(g for g in self.target_gaps if g.status == "over")

    @property
    def incomplete(self) -> tuple[TargetGap, ...]:
        """Parents with a counted child that has no target (nothing is guessed)."""
        return tuple(g for g in self.target_gaps if g.status == "incomplete")

    @property
    def ok(self) -> bool:
        """Every personal goal connected, no orphan, no gap, nothing past its end."""
        return not (self.unconnected or self.orphans or self.target_gaps or self.past_end)

    def to_dict(self) -> dict[str, Any]:
        """Plain data; numbers are strings holding the exact decimal."""
        as_of = self.as_of if isinstance(self.as_of, str) else self.as_of.isoformat()
        return {
            "as_of": as_of,
            "share": _text(self.share),
            "strategic_roots": list(self.strategic_roots),
            "personal": list(self.personal),
            "connected": list(self.connected),
            "unconnected": list(self.unconnected),
            "orphans": list(self.orphans),
            "target_gaps": [gap.to_dict() for gap in self.target_gaps],
            "balanced": list(self.balanced),
            "past_end": [item.to_dict() for item in self.past_end],
        }

    def to_text(self) -> str:
        """A readable report, one section per finding, columns aligned for wide characters."""
        as_of = self.as_of if isinstance(self.as_of, str) else self.as_of.isoformat()
        lines = [f"Alignment as of {as_of}"]
        share = percent(self.share)
        lines.append(
            f"Personal goals connected to a strategic root: {len(self.connected)} of {len(self.personal)} ({share})"
        )
        lines.append(f"Strategic roots: {', '.join(self.strategic_roots) or '(none)'}")
        lines += self._section("Personal goals not connected", [(g, self._title(g)) for g in self.unconnected])
        lines += self._section("Orphans (no parent, not a strategic root)", [(g, self._title(g)) for g in self.orphans])
        gaps = [
            (
                gap.goal,
                gap.status,
                plain_text(gap.target),
                _number(gap.children_total),
                _signed(gap.difference),
                _gap_note(gap),
            )
            for gap in self.target_gaps
        ]
        lines += self._section(
            "Target gaps (children's targets vs the parent's)",
            gaps,
            header=("goal", "status", "target", "children", "difference", ""),
            numeric={2, 3, 4},
        )
        past = [
            (item.goal, item.status, item.owner, item.last_day.isoformat(), f"{item.days_over}d", self._title(item.goal))
            for item in self.past_end
        ]
        lines += self._section(
            "Past their end (close or archive them)",
            past,
            header=("goal", "status", "owner", "ended", "over", "title"),
            numeric={4},
        )
        if self.ok:
            lines.append("All aligned.")
        return "\n".join(lines)

    def _title(self, goal_id: str) -> str:
        return self.titles.get(goal_id, "")

    @staticmethod
    def _section(
        title: str,
        rows: Sequence[tuple[str, ...]],
        *,
        header: tuple[str, ...] | None = None,
        numeric: Iterable[int] = (),
    ) -> list[str]:
        if not rows:
            return []
        table = [header, *rows] if header else rows
        right = set(numeric)
        widths = [max(display_width(r[i]) for r in table) for i in range(len(table[0]))]
        lines = ["", f"{title}: {len(rows)}"]
        for row in table:
            cells = [_pad(cell, widths[i], right=i in right) for i, cell in enumerate(row)]
            lines.append(("  " + "  ".join(cells)).rstrip())
        return lines


def alignment_report(graph: GoalGraph, *, as_of: datetime.date | datetime.datetime | str) -> AlignmentReport:
    """The alignment report of ``graph`` on ``as_of`` (a date includes its whole day).

    >>> graph = GoalGraph.from_dict({"perfkit_goals": 1, "goals": [
    ...     {"id": "grow", "title": "Grow", "owner": "org", "period": "2026"},
    ...     {"id": "kr1", "title": "Revenue", "kind": "key_result", "owner": "person:1001",
    ...      "period": "2026", "target": 100, "contributes_to": ["grow"]},
    ...     {"id": "kr2", "title": "Side project", "kind": "key_result", "owner": "person:1002",
    ...      "period": "2026", "target": 5}]})
    >>> report = alignment_report(graph, as_of="2026-06-30")
    >>> report.share, report.unconnected, report.orphans
    (Decimal('0.5'), ('kr2',), ('kr2',))
    """
    rollup = graph.rollup(as_of)
    nxg = graph.nx
    live = {g.id for g in graph.goals if g.status != "archived"}

    def parents(goal_id: str) -> list[str]:
        return [p for p in nxg.successors(goal_id) if p in live]

    roots: list[str] = []
    orphans: list[str] = []
    for goal in graph.goals:
        if goal.id in live and not parents(goal.id):
            (roots if goal.owner.kind == "org" else orphans).append(goal.id)

    connected: set[str] = set(roots)
    frontier = list(roots)
    while frontier:
        below = [c for g in frontier for c in nxg.predecessors(g) if c in live and c not in connected]
        connected.update(below)
        frontier = below

    personal = sorted(g.id for g in graph.goals if g.id in live and g.owner.kind == "person")

    gaps: list[TargetGap] = []
    balanced: list[str] = []
    for goal in graph.goals:
        if goal.id not in live or goal.mode != "children" or goal.rollup != "sum":
            continue
        kids = graph.children(goal.id)
        target = rollup[goal.id].target
        if not kids or target is None:
            continue
        gap = _gap(goal.id, target, kids, rollup, goal.unit)
        if gap is None:
            balanced.append(goal.id)
        else:
            gaps.append(gap)

    past = _past_end(graph, as_of, live)
    return AlignmentReport(
        as_of=as_of,
        strategic_roots=tuple(sorted(roots)),
        personal=tuple(personal),
        connected=tuple(g for g in personal if g in connected),
        orphans=tuple(sorted(orphans)),
        target_gaps=tuple(sorted(gaps, key=lambda g: g.goal)),
        balanced=tuple(sorted(balanced)),
        past_end=tuple(sorted(past, key=lambda p: p.goal)),
        titles={g.id: g.title for g in graph.goals},
    )


def _gap(goal_id: str, target: Decimal, kids: tuple[str, ...], rollup: Rollup, unit: str | None) -> TargetGap | None:
    counted = tuple(sorted(c for c in kids if rollup[c].counted))
    left_out = tuple(sorted(c for c in kids if c not in counted))
    missing = tuple(c for c in counted if rollup[c].target is None)  # not from goal files (see above)
    if missing:
        return TargetGap(
            goal=goal_id, status="incomplete", target=target, children_total=None, difference=None,
            children=counted, missing=missing, left_out=left_out, unit=unit,
        )
    targets = [t for t in (rollup[c].target for c in counted) if t is not None]
    with decimal.localcontext(CONTEXT):
        total = sum(targets, Decimal(0))
        difference = total - target
    if difference == 0:
        return None
    return TargetGap(
        goal=goal_id, status="short" if difference < 0 else "over", target=target, children_total=total,
        difference=difference, children=counted, left_out=left_out, unit=unit,
    )


def _past_end(graph: GoalGraph, as_of: datetime.date | datetime.datetime | str, live: set[str]) -> list[PastEnd]:
    cutoff = graph.cutoff(as_of)
    found = []
    for goal in graph.goals:
        if goal.id not in live or goal.status not in ("active", "draft"):
            continue
        period = graph.period(goal.id)
        if cutoff <= period.end:
            continue
        zone = period.end.tzinfo
        last_day = (period.end - _ONE_MICROSECOND).astimezone(zone).date()
        day = (cutoff - _ONE_MICROSECOND).astimezone(zone).date()
        found.append(
            PastEnd(
                goal=goal.id,
                owner=str(goal.owner),
                period=goal.period,
                last_day=last_day,
                days_over=(day - last_day).days,
                status="expired" if goal.status == "active" else "draft",
            )
        )
    return found


def _text(value: Decimal | None) -> str | None:
    return None if value is None else plain_text(value)


def _number(value: Decimal | None) -> str:
    return "-" if value is None else plain_text(value)


def _signed(value: Decimal | None) -> str:
    if value is None:
        return "-"
    return ("+" if value > 0 else "") + plain_text(value)


def _gap_note(gap: TargetGap) -> str:
    notes = []
    if gap.missing:
        notes.append(f"no target: {', '.join(gap.missing)}")
    if gap.left_out:
        notes.append(f"not counted: {', '.join(gap.left_out)}")
    return "; ".join(notes)


def _pad(cell: str, width: int, *, right: bool) -> str:
    gap = " " * (width - display_width(cell))
    return gap + cell if right else cell + gap
