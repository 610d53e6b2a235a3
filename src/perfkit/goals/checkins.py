"""Check-ins on a schedule: due dates, the report for a date, and the on-time rate.

**Due dates.** A goal's :class:`~perfkit.goals.CheckinSchedule` starts on ``start``
(default: the first day of the goal's period, in the graph's calendar). Check-ins are due
every ``every`` after it (``2 weeks``, ``14 days``; ``1 month`` keeps the start's day of
the month, clamped to the month's end: from Jan 31, Feb 28, Mar 31, Apr 30), up to and
including the period's last day. The start itself is not a due date.

**Windows.** Due date ``d[k]`` is met on time by a check-in whose local date falls in
``(d[k-1], d[k] + grace_days]`` (``d[0]`` is the start). Each check-in meets at most one
due date: the earliest one still open whose window holds it. So a check-in within the
grace days of a missed due date meets that one, and a check-in later than
``d[k] + grace_days`` counts for the next window, never for ``d[k]``. This matching meets
as many due dates as any assignment could, so adding a check-in never lowers the count,
and it depends on the check-ins' times only, not on their order in the file.

>>> from perfkit.goals import GoalGraph
>>> graph = GoalGraph.from_dict({"perfkit_goals": 1, "goals": [
...     {"id": "kr", "title": "Calls", "kind": "key_result", "owner": "person:1001",
...      "period": "2026-Q1", "target": 100, "checkin": {"every": "1 month"},
...      "checkins": [{"at": "2026-01-30", "value": 20}, {"at": "2026-03-05", "value": 50}]}]})
>>> [(d.due.isoformat(), d.on_time) for d in due_dates(graph, "kr")]
[('2026-02-01', True), ('2026-03-01', False)]
"""

from __future__ import annotations

import calendar as _calendar
import datetime
import decimal
from decimal import Decimal
from fractions import Fraction
from typing import Any, Literal

import attrs

from perfkit._text import display_width
from perfkit.errors import GoalGraphError
from perfkit.goals.graph import GoalGraph
from perfkit.goals.model import CheckIn, CheckinSchedule, Goal
from perfkit.numbers import CONTEXT
from perfkit.org import Roster

__all__ = [
    "CheckinEntry",
    "CheckinReport",
    "CheckinState",
    "DueDate",
    "OnTimeRate",
    "checkin_report",
    "due_dates",
    "on_time_rates",
    "on_time_rows",
]

CheckinState = Literal["overdue", "stale", "due_soon", "on_track"]
"""An entry's primary state; the first that applies, in this order."""

When = datetime.date | datetime.datetime | str

_LONGEST_MONTH = 31
"""Days a month counts for in the default stale threshold (so it never comes early)."""


@attrs.frozen(kw_only=True)
class DueDate:
    """One due date of a goal, its window ``(opens, closes]`` in local dates, and the
    check-in that met it on time (``met_by``, on local date ``checked_in``), if any."""

    goal: str
    due: datetime.date
    opens: datetime.date
    """The window starts the day after this (the previous due date, or the schedule start)."""
    closes: datetime.date
    """The last day that counts: ``due + grace_days``."""
    met_by: CheckIn | None = None
    checked_in: datetime.date | None = None

    @property
    def on_time(self) -> bool:
        return self.met_by is not None

    def to_dict(self) -> dict[str, Any]:
        """Plain data (dates as ISO text)."""
        return {
            "goal": self.goal,
            "due": self.due.isoformat(),
            "closes": self.closes.isoformat(),
            "on_time": self.on_time,
            "checked_in": None if self.checked_in is None else self.checked_in.isoformat(),
        }


@attrs.frozen(kw_only=True)
class CheckinEntry:
    """Where one scheduled goal stands on the report's date.

    The flags are independent (a goal can be overdue *and* stale, or overdue with its next
    due date coming up); ``state`` is the first that holds of overdue, stale, due soon,
    else ``on_track``. ``escalate_to`` is set only for overdue goals; ``escalate_reason``
    always says who that is, or why there is nobody.
    """

    goal: str
    title: str
    owner: str
    every: str
    state: CheckinState
    overdue: bool
    stale: bool
    due_soon: bool
    missed_due: datetime.date | None
    """Overdue: the latest due date whose grace has passed, not met and not caught up since."""
    days_overdue: int | None
    """Overdue: days from ``missed_due`` to the report's date."""
    next_due: datetime.date | None
    """The earliest due date not met whose grace has not passed (None: none left)."""
    days_to_due: int | None
    """Days from the report's date to ``next_due`` (negative within its grace days)."""
    last_checkin: datetime.date | None
    quiet_days: int
    """Days without a check-in since the schedule start, as counted for staleness."""
    escalate_to: str | None
    escalate_reason: str

    def to_dict(self) -> dict[str, Any]:
        """Every field; dates stay ``datetime.date`` (see :meth:`CheckinReport.to_dict` for text)."""
        return attrs.asdict(self)


@attrs.frozen(kw_only=True)
class CheckinReport:
    """Every active goal with a check-in schedule, as of a date, sorted by goal id.

    See :func:`checkin_report`.
    """

    as_of: datetime.date
    entries: tuple[CheckinEntry, ...]

    @property
    def overdue(self) -> tuple[CheckinEntry, ...]:
        return tuple(e for e in self.entries if e.overdue)

    @property
    def stale(self) -> tuple[CheckinEntry, ...]:
        return tuple(e for e in self.entries if e.stale)

    @property
    def due_soon(self) -> tuple[CheckinEntry, ...]:
        return tuple(e for e in self.entries if e.due_soon)

    @property
    def on_track(self) -> tuple[CheckinEntry, ...]:
        return tuple(e for e in self.entries if e.state == "on_track")

    def __getitem__(self, goal_id: str) -> CheckinEntry:
        for entry in self.entries:
            if entry.goal == goal_id:
                return entry
        raise GoalGraphError("the goal is not in the check-in report (no schedule, or not active)", goals=(goal_id,))

    def __len__(self) -> int:
        return len(self.entries)

    def by_escalation(self) -> dict[str | None, tuple[CheckinEntry, ...]]:
        """The overdue goals grouped by whom to escalate to (employee id; None last: nobody)."""
        groups: dict[str | None, list[CheckinEntry]] = {}
        for entry in self.overdue:
            groups.setdefault(entry.escalate_to, []).append(entry)
        keys = sorted(groups, key=lambda k: (k is None, k or ""))
        return {k: tuple(groups[k]) for k in keys}

    def to_rows(self) -> list[dict[str, Any]]:
        """One dict per goal (:meth:`CheckinEntry.to_dict`), for a DataFrame."""
        return [e.to_dict() for e in self.entries]

    def to_dict(self) -> dict[str, Any]:
        """The report as plain data, dates as ISO text."""
        entries = [
            {k: v.isoformat() if isinstance(v, datetime.date) else v for k, v in e.to_dict().items()}
            for e in self.entries
        ]
        return {"as_of": self.as_of.isoformat(), "counts": self._counts(), "entries": entries}

    def _counts(self) -> dict[str, int]:
        return {
            "overdue": len(self.overdue),
            "stale": len(self.stale),
            "due_soon": len(self.due_soon),
            "on_track": len(self.on_track),
        }

    def to_text(self) -> str:
        """A table for people: goal, title, owner, state, what is due, whom to escalate to."""
        head = ("goal", "title", "owner", "state", "detail", "escalate to")
        rows = [head, *(_text_row(e) for e in self.entries)]
        widths = [max(display_width(r[i]) for r in rows) for i in range(len(head))]
        lines = ["  ".join(c + " " * (w - display_width(c)) for c, w in zip(r, widths)).rstrip() for r in rows]
        counts = ", ".join(f"{n} {k.replace('_', ' ')}" for k, n in self._counts().items())
        return "\n".join([f"check-ins as of {self.as_of.isoformat()}: {counts}", *lines])

    def __str__(self) -> str:
        return self.to_text()


@attrs.frozen(kw_only=True)
class OnTimeRate:
    """One person's on-time check-ins: of ``due`` due dates, ``on_time`` were met.

    ``rate`` is ``on_time / due`` in :data:`perfkit.numbers.CONTEXT` (exact whenever the
    fraction has a finite decimal; :attr:`fraction` is always exact), None when nothing was
    due. ``details`` lists each due date counted, by goal id then date.
    """

    employee: str
    due: int
    on_time: int
    rate: Decimal | None
    details: tuple[DueDate, ...]

    @property
    def fraction(self) -> Fraction | None:
        return None if self.due == 0 else Fraction(self.on_time, self.due)

    @property
    def missed(self) -> tuple[DueDate, ...]:
        return tuple(d for d in self.details if not d.on_time)

    def to_dict(self) -> dict[str, Any]:
        return {
            "employee": self.employee,
            "due": self.due,
            "on_time": self.on_time,
            "rate": self.rate,
            "details": [d.to_dict() for d in self.details],
        }


# -- the schedule of one goal ------------------------------------------------------------------


@attrs.frozen(kw_only=True)
class _Plan:
    goal: Goal
    schedule: CheckinSchedule
    start: datetime.date
    last_day: datetime.date
    dues: tuple[datetime.date, ...]
    stale_after: int


def _plan(graph: GoalGraph, goal: Goal) -> _Plan:
    schedule = goal.checkin
    assert schedule is not None  # the graph refuses schedules on rolled-up goals and starts outside the period
    period = graph.period(goal.id)
    cal = graph.calendar
    first_day = cal.to_date(period.start)
    last_day = cal.to_date(period.end - datetime.timedelta(microseconds=1))
    start = schedule.start or first_day
    count, unit = schedule.every
    dues: list[datetime.date] = []
    k = 1
    while True:
        due = start + datetime.timedelta(days=count * k) if unit == "days" else _add_months(start, count * k)
        if due > last_day:
            break
        dues.append(due)
        k += 1
    per_step = count if unit == "days" else count * _LONGEST_MONTH
    stale_after = schedule.stale_after_days if schedule.stale_after_days is not None else 2 * per_step
    return _Plan(
        goal=goal, schedule=schedule, start=start, last_day=last_day, dues=tuple(dues), stale_after=stale_after
    )


def _add_months(day: datetime.date, months: int) -> datetime.date:
    year, month = divmod(day.month - 1 + months, 12)
    year += day.year
    last = _calendar.monthrange(year, month + 1)[1]
    return datetime.date(year, month + 1, min(day.day, last))


def _checkins(graph: GoalGraph, goal: Goal, cutoff: datetime.datetime | None) -> list[tuple[datetime.date, CheckIn]]:
    """The goal's check-ins before ``cutoff`` with their local dates, in an order that
    depends on their contents only (time, then value, note, author)."""
    found = []
    for checkin in goal.checkins:
        instant = graph.instant(checkin.at)
        if cutoff is not None and instant >= cutoff:
            continue
        key = (instant, checkin.value, str(checkin.value), checkin.note or "", checkin.by or "")
        found.append((key, graph.calendar.to_date(instant), checkin))
    found.sort(key=lambda item: item[0])
    return [(day, checkin) for _, day, checkin in found]


def _match(plan: _Plan, checkins: list[tuple[datetime.date, CheckIn]]) -> list[DueDate]:
    """Each due date with the check-in that met it: each check-in, in time order, meets the
    earliest due date still open whose window holds it (a maximum matching)."""
    grace = datetime.timedelta(days=plan.schedule.grace_days)
    dues = plan.dues
    opens = (plan.start, *dues[:-1])
    met: list[tuple[datetime.date, CheckIn] | None] = [None] * len(dues)
    p = 0
    for day, checkin in checkins:
        while p < len(dues) and (met[p] is not None or dues[p] + grace < day):
            p += 1
        if p == len(dues):
            break
        if opens[p] < day:
            met[p] = (day, checkin)
    found = []
    for k, due in enumerate(dues):
        hit = met[k]
        found.append(
            DueDate(
                goal=plan.goal.id,
                due=due,
                opens=opens[k],
                closes=due + grace,
                met_by=None if hit is None else hit[1],
                checked_in=None if hit is None else hit[0],
            )
        )
    return found


def _local_date(graph: GoalGraph, value: When) -> datetime.date:
    return graph.calendar.to_date(graph.instant(value))


def due_dates(graph: GoalGraph, goal_id: str, *, as_of: When | None = None) -> tuple[DueDate, ...]:
    """Every due date of the goal's schedule, each with the check-in that met it on time
    (counting the check-ins up to ``as_of``, all of them when None); ``()`` without a schedule.

    Raises :class:`~perfkit.errors.GoalGraphError` for an unknown goal.
    """
    goal = graph[goal_id]
    if goal.checkin is None:
        return ()
    cutoff = None if as_of is None else graph.cutoff(as_of)
    plan = _plan(graph, goal)
    return tuple(_match(plan, _checkins(graph, goal, cutoff)))


# -- the report for a date ---------------------------------------------------------------------


def checkin_report(graph: GoalGraph, as_of: When, *, roster: Roster | None = None) -> CheckinReport:
    """Which goals are overdue, stale or due soon on ``as_of`` (a date, an aware time or
    ISO text; a date includes its whole day), and whom to escalate overdue goals to.

    Every goal with a schedule whose declared status is ``active`` is listed (also when its
    period has ended: a last missed due date stays overdue until a check-in comes or the
    goal is closed); draft, closed and archived goals are not. Only check-ins made by
    ``as_of`` count. Per goal, on the local date ``A`` of ``as_of``:

    * **overdue**: the latest due date ``d`` with ``d + grace_days < A`` was not met on time,
      and no check-in came after ``d + grace_days`` (a late check-in clears the flag; the
      miss still counts in :func:`on_time_rates`);
    * **due soon**: the earliest due date not met whose grace has not passed is at most
      ``due_soon_days`` away (or already past, within its grace days);
    * **stale**: more than ``stale_after_days`` (default: twice the cadence, a month counting
      31 days) without a check-in since the schedule start, counted up to ``A`` or the
      period's last day, whichever is earlier.

    Escalation (``roster``, default: the graph's roster): a ``person:`` owner's manager, a
    ``team:`` owner's unit head (the nearest unit up the chain that names one); nobody for
    the ``org`` or without a roster.
    """
    today = _local_date(graph, as_of)
    cutoff = graph.cutoff(as_of)
    roster = roster if roster is not None else graph.roster
    entries: list[CheckinEntry] = []
    for goal in graph.goals:
        if goal.checkin is None or goal.status != "active":
            continue
        entries.append(_entry(_plan(graph, goal), _checkins(graph, goal, cutoff), today, roster))
    entries.sort(key=lambda e: e.goal)
    return CheckinReport(as_of=today, entries=tuple(entries))


def _entry(
    plan: _Plan, checkins: list[tuple[datetime.date, CheckIn]], today: datetime.date, roster: Roster | None
) -> CheckinEntry:
    goal = plan.goal
    dues = _match(plan, checkins)
    passed = [d for d in dues if d.closes < today]
    missed = passed[-1] if passed and not passed[-1].on_time else None
    if missed is not None and any(day > missed.closes for day, _ in checkins):
        missed = None  # caught up late
    upcoming = next((d for d in dues if d.closes >= today and not d.on_time), None)
    due_soon = upcoming is not None and (upcoming.due - today).days <= plan.schedule.due_soon_days
    last = checkins[-1][0] if checkins else None
    reference = max(plan.start, last) if last is not None else plan.start
    quiet = max(0, (min(today, plan.last_day) - reference).days)
    stale = quiet > plan.stale_after
    overdue = missed is not None
    state: CheckinState = "overdue" if overdue else "stale" if stale else "due_soon" if due_soon else "on_track"
    escalate_to, reason = _escalation(goal, roster) if overdue else (None, "not overdue")
    every = _cadence(*plan.schedule.every)
    return CheckinEntry(
        goal=goal.id,
        title=goal.title,
        owner=str(goal.owner),
        every=every,
        state=state,
        overdue=overdue,
        stale=stale,
        due_soon=due_soon,
        missed_due=None if missed is None else missed.due,
        days_overdue=None if missed is None else (today - missed.due).days,
        next_due=None if upcoming is None else upcoming.due,
        days_to_due=None if upcoming is None else (upcoming.due - today).days,
        last_checkin=last,
        quiet_days=quiet,
        escalate_to=escalate_to,
        escalate_reason=reason,
    )


def _cadence(count: int, unit: str) -> str:
    """``(14, "days")`` → ``"2 weeks"``, ``(1, "months")`` → ``"1 month"``."""
    if unit == "days" and count % 7 == 0:
        count, unit = count // 7, "weeks"
    return f"{count} {unit[:-1] if count == 1 else unit}"


def _escalation(goal: Goal, roster: Roster | None) -> tuple[str | None, str]:
    owner = goal.owner
    if owner.kind == "org":
        return None, "the organisation owns the goal"
    if roster is None:
        return None, "no roster given"
    ident = owner.id or ""
    if owner.kind == "person":
        if ident not in roster:
            return None, f"owner {ident} is not in the roster"
        manager = roster.manager_of(ident)
        if manager is None:
            return None, f"owner {ident} has no manager in the roster"
        return manager.id, f"manager of {ident}"
    if ident not in {u.id for u in roster.units}:
        return None, f"unit {ident} is not in the roster"
    for unit in roster.unit_chain(ident):
        head = roster.unit(unit).head
        if head is not None:
            above = "" if unit == ident else f" (above {ident})"
            return head, f"head of unit {unit}{above}"
    return None, f"no head for unit {ident} or any unit above it"


def _text_row(entry: CheckinEntry) -> tuple[str, ...]:
    state = entry.state.replace("_", " ")
    if entry.overdue and entry.stale:
        state += " + stale"
    if entry.overdue:
        detail = f"due {entry.missed_due}, {entry.days_overdue} days ago"
    elif entry.due_soon and not entry.stale:
        days = entry.days_to_due or 0
        when = "today" if days == 0 else f"in {days} days" if days > 0 else f"{-days} days ago, in grace"
        detail = f"due {entry.next_due} ({when})"
    elif entry.stale:
        detail = f"no check-in for {entry.quiet_days} days"
    else:
        detail = f"next due {entry.next_due}" if entry.next_due else "nothing left due"
    escalate = entry.escalate_to or ("-" if not entry.overdue else f"- ({entry.escalate_reason})")
    return (entry.goal, entry.title, entry.owner, state, detail, escalate)


# -- the on-time rate --------------------------------------------------------------------------


def on_time_rates(graph: GoalGraph, *, as_of: When, since: When | None = None) -> dict[str, OnTimeRate]:
    """Each person's on-time check-in rate, by employee id (sorted).

    Over the goals a person owns (``person:<id>``) that have a schedule and are ``active``
    or ``closed``, a due date ``d`` counts once its grace has passed on ``as_of``
    (``d + grace_days`` before its local date) and, with ``since``, when ``d`` is on or
    after ``since``'s local date. A closed goal's due dates count up to its last check-in
    (its final value), none after. Only check-ins made by ``as_of`` count. Everyone who owns
    such a goal is listed; ``rate`` is None when nothing of theirs was due.
    """
    today = _local_date(graph, as_of)
    cutoff = graph.cutoff(as_of)
    first = None if since is None else _local_date(graph, since)
    found: dict[str, list[DueDate]] = {}
    for goal in graph.goals:
        if goal.checkin is None or goal.owner.kind != "person" or goal.status not in ("active", "closed"):
            continue
        plan = _plan(graph, goal)
        checkins = _checkins(graph, goal, cutoff)
        final = (checkins[-1][0] if checkins else plan.start) if goal.status == "closed" else None
        counted = [
            d
            for d in _match(plan, checkins)
            if d.closes < today and (final is None or d.due <= final) and (first is None or d.due >= first)
        ]
        found.setdefault(goal.owner.id or "", []).extend(counted)
    rates = {}
    for employee in sorted(found):
        details = tuple(sorted(found[employee], key=lambda d: (d.goal, d.due)))
        on_time = sum(1 for d in details if d.on_time)
        rate = None
        if details:
            with decimal.localcontext(CONTEXT):
                rate = Decimal(on_time) / Decimal(len(details))
        rates[employee] = OnTimeRate(employee=employee, due=len(details), on_time=on_time, rate=rate, details=details)
    return rates


def on_time_rows(
    graph: GoalGraph, *, as_of: When, since: When | None = None, column: str = "checkin_rate"
) -> list[dict[str, Any]]:
    """Scheme input rows: ``{"employee_id": ..., column: rate}`` per person, sorted by id.

    A person with nothing due gets ``None``: the scheme input's ``default`` applies, and
    without one the engine reports the input as missing (no value is not zero).

    >>> from perfkit.goals import GoalGraph
    >>> graph = GoalGraph.from_dict({"perfkit_goals": 1, "goals": [
    ...     {"id": "kr", "title": "Calls", "kind": "key_result", "owner": "person:1001",
    ...      "period": "2026-Q1", "target": 100, "checkin": {"every": "1 month"},
    ...      "checkins": [{"at": "2026-01-30", "value": 20}]}]})
    >>> on_time_rows(graph, as_of="2026-03-31")
    [{'employee_id': '1001', 'checkin_rate': Decimal('0.5')}]
    """
    rates = on_time_rates(graph, as_of=as_of, since=since)
    return [{"employee_id": employee, column: rate.rate} for employee, rate in rates.items()]
