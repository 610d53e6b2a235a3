"""Periods and calendars: months, quarters, halves, years, fiscal years and custom ranges.

A :class:`Calendar` says which time zone days start in and which month a fiscal year starts
in; a :class:`Period` is a half-open span of time ``[start, end)`` in that calendar. Every
aware timestamp falls in exactly one period of each kind, and consecutive periods tile time
(``p.end == p.next().start``).

Labels:

=========  =========================  =====================================================
kind       calendar year (start Jan)  fiscal year starting in another month (e.g. April)
=========  =========================  =====================================================
month      ``2026-05``                ``2026-05`` (months are months)
quarter    ``2026-Q2``                ``FY2027-Q1`` (the first quarter of fiscal year 2027)
half       ``2026-H1``                ``FY2027-H1``
year       ``2026`` (``FY2026``)      ``FY2027``
custom     ``2026-04-01..2026-06-30`` (dates, both days included) or an ISO 8601 interval
           ``2026-04-01T09:00+08:00/2026-04-02T09:00+08:00`` (end excluded)
=========  =========================  =====================================================

**Fiscal year labels name the calendar year the fiscal year ends in**: with the fiscal year
starting in April, FY2027 runs from 1 April 2026 to 31 March 2027 (the convention of the US
federal government and of most companies with a non-calendar fiscal year).

>>> calendar = Calendar(tz="Asia/Shanghai", fiscal_year_start=4)
>>> q = calendar.period("FY2027-Q1")
>>> q.start.isoformat(), q.end.isoformat()
('2026-04-01T00:00:00+08:00', '2026-07-01T00:00:00+08:00')
>>> calendar.period_of(datetime(2026, 3, 31, 17, 0, tzinfo=timezone.utc), "year").label
'FY2027'
>>> str(parse_period("2026-Q2").previous())
'2026-Q1'
"""

from __future__ import annotations

import functools
import re
from collections.abc import Iterator
from datetime import date, datetime, time, timedelta, timezone
from typing import Literal, get_args
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import attrs

from perfkit._time import parse_datetime
from perfkit.errors import DataError

__all__ = ["Calendar", "Period", "PeriodKind", "parse_period", "require_aware"]

PeriodKind = Literal["month", "quarter", "half", "year", "custom"]
"""The kinds of period; ``custom`` is any range, the others tile time."""

_REGULAR: dict[str, int] = {"month": 1, "quarter": 3, "half": 6, "year": 12}
"""Months per period of each regular kind."""

_YEARLY = re.compile(r"^(?P<fy>FY)?(?P<year>\d{4})(?:-(?P<part>[QH])(?P<index>\d))?$")
_MONTH = re.compile(r"^(?P<year>\d{4})-(?P<month>\d{2})$")
_DATES = re.compile(r"^(?P<first>\d{4}-\d{2}-\d{2})\s*\.\.\s*(?P<last>\d{4}-\d{2}-\d{2})$")
_UTC = timezone.utc
_MONTH_NAMES = (
    "January", "February", "March", "April", "May", "June",
    "July", "August", "September", "October", "November", "December",
)  # fmt: skip


def _period_error(message: str, label: object) -> DataError:
    return DataError(message, column="period", value=label)


def _zone(tz: str) -> ZoneInfo:
    return _cached_zone(tz)


@functools.lru_cache(maxsize=256)
def _cached_zone(tz: str) -> ZoneInfo:
    try:
        return ZoneInfo(tz)
    except (ZoneInfoNotFoundError, ValueError, TypeError):
        raise DataError(
            f"unknown time zone {tz!r}; use an IANA name such as 'UTC' or 'Asia/Shanghai'", column="tz", value=tz
        ) from None


def _check_tz(instance: Calendar, attribute: attrs.Attribute[str], value: str) -> None:
    if not isinstance(value, str):
        raise DataError(f"a calendar's tz is an IANA zone name, got {value!r}", column="tz", value=value)
    _zone(value)


def _check_fiscal_start(instance: Calendar, attribute: attrs.Attribute[int], value: int) -> None:
    if isinstance(value, bool) or not isinstance(value, int) or not 1 <= value <= 12:
        raise DataError(
            f"fiscal_year_start is the month the fiscal year starts in (1-12), got {value!r}",
            column="fiscal_year_start",
            value=value,
        )


def require_aware(ts: object, what: str = "timestamp") -> datetime:
    """``ts`` if it is a datetime with a time zone; :class:`DataError` otherwise."""
    if not isinstance(ts, datetime):
        raise DataError(f"{what} must be a datetime with a time zone, got {ts!r}", column=what, value=ts)
    if ts.tzinfo is None or ts.utcoffset() is None:
        raise DataError(
            f"{what} {ts.isoformat()} has no time zone; give an aware datetime "
            "(e.g. datetime(..., tzinfo=ZoneInfo('Asia/Shanghai')))",
            column=what,
            value=ts,
        )
    return ts


@attrs.frozen
class Calendar:
    """Where days start (``tz``, an IANA zone name) and the month fiscal years start in.

    ``fiscal_year_start=1`` (the default) is the calendar year; any other month makes
    quarters, halves and years fiscal, labelled ``FY<year it ends in>``.
    """

    tz: str = attrs.field(default="UTC", validator=_check_tz)
    fiscal_year_start: int = attrs.field(default=1, validator=_check_fiscal_start)

    @property
    def zone(self) -> ZoneInfo:
        """The time zone as a :class:`zoneinfo.ZoneInfo`."""
        return _zone(self.tz)

    @property
    def fiscal(self) -> bool:
        """True when the year does not start in January."""
        return self.fiscal_year_start != 1

    # -- converting -----------------------------------------------------------------------

    def to_local(self, ts: datetime) -> datetime:
        """The aware timestamp in this calendar's time zone; naive timestamps are refused."""
        return require_aware(ts).astimezone(_UTC).astimezone(self.zone)  # via UTC: a gap or fold time in this zone resolves

    def to_date(self, ts: datetime) -> date:
        """The calendar day (in this calendar's time zone) the aware timestamp falls on."""
        return self.to_local(ts).date()

    def start_of(self, day: date) -> datetime:
        """The first instant of the day in this calendar's time zone."""
        if isinstance(day, datetime):
            raise DataError(f"start_of takes a date, got the datetime {day!r}", column="date", value=day)
        return datetime.combine(day, time(0), tzinfo=self.zone)

    # -- finding periods ------------------------------------------------------------------

    def period(self, label: str) -> Period:
        """The period a label names (see the module docstring for the forms)."""
        if not isinstance(label, str):
            raise _period_error(f"a period label is text such as '2026-Q2', got {label!r}", label)
        text = label.strip()
        if "/" in text:
            return self._interval(text, label)
        dates = _DATES.match(text)
        if dates:
            first, last = (self._iso_date(dates[name], label) for name in ("first", "last"))
            return self.custom(first, last)
        month = _MONTH.match(text)
        if month:
            number = int(month["month"])
            if not 1 <= number <= 12:
                raise _period_error(f"period {label!r}: there is no month {number:02d}", label)
            return self._regular("month", int(month["year"]) * 12 + number - 1)
        yearly = _YEARLY.match(text.upper())
        if yearly is None:
            raise _period_error(
                f"cannot read the period {label!r}; write e.g. 2026-05, 2026-Q2, 2026-H1, 2026, FY2026, "
                "FY2026-Q1 or 2026-04-01..2026-06-30",
                label,
            )
        return self._yearly(yearly, label)

    def period_of(self, ts: datetime, kind: PeriodKind) -> Period:
        """The one period of ``kind`` (month, quarter, half or year) that contains ``ts``."""
        months = self._months(kind)
        local = self.to_local(ts)
        absolute = local.year * 12 + local.month - 1
        offset = (absolute - (self.fiscal_year_start - 1)) % months
        return self._regular(kind, absolute - offset)

    def periods(self, kind: PeriodKind, start: datetime | date, end: datetime | date) -> tuple[Period, ...]:
        """The periods of ``kind`` that overlap ``[start, end)``, in order.

        ``start`` and ``end`` are aware datetimes or dates (a date stands for its first
        instant in this calendar), so ``periods("month", q.start, q.end)`` are a quarter's
        months and ``periods("month", date(2026, 1, 1), date(2026, 4, 1))`` is January to March.
        """
        first, stop = self._instant(start, "start"), self._instant(end, "end")
        if stop <= first:
            return ()
        found = []
        current = self.period_of(first, kind)
        while current.start_utc < stop:
            found.append(current)
            current = current.next()
        return tuple(found)

    def custom(self, start: datetime | date, end: datetime | date, *, label: str | None = None) -> Period:
        """A custom range.

        From dates, both days are included: ``custom(date(2026, 4, 1), date(2026, 6, 30))``
        is labelled ``2026-04-01..2026-06-30`` and ends at the start of 1 July. From aware
        datetimes, ``end`` is excluded, and the label is an ISO 8601 interval.
        """
        if isinstance(start, datetime) or isinstance(end, datetime):
            begin, finish = require_aware(start, "start"), require_aware(end, "end")
            text = label or f"{begin.isoformat()}/{finish.isoformat()}"
        else:
            if not isinstance(start, date) or not isinstance(end, date):
                raise _period_error(f"a custom range takes two dates or two datetimes, got {start!r}, {end!r}", label)
            text = label or f"{start.isoformat()}..{end.isoformat()}"
            begin, finish = self.start_of(start), self.start_of(end + timedelta(days=1))
        if finish.astimezone(_UTC) <= begin.astimezone(_UTC):
            raise _period_error(f"the range {text!r} ends before it starts", text)
        return Period(start=begin, end=finish, label=text, kind="custom", calendar=self)

    # -- helpers --------------------------------------------------------------------------

    def _months(self, kind: str) -> int:
        try:
            return _REGULAR[kind]
        except KeyError:
            raise _period_error(f"unknown period kind {kind!r}; use month, quarter, half or year", kind) from None

    def _regular(self, kind: PeriodKind, absolute: int) -> Period:
        return _regular_period(self, kind, absolute)

    def _yearly(self, match: re.Match[str], label: str) -> Period:
        year, part, index = int(match["year"]), match["part"], match["index"]
        if self.fiscal and not match["fy"]:
            raise _period_error(self._fiscal_hint(label, year, part, index), label)
        first_month = year * 12 + self.fiscal_year_start - 1 - (12 if self.fiscal else 0)
        if part is None:
            return self._regular("year", first_month)
        kind: PeriodKind = "quarter" if part == "Q" else "half"
        number, parts = int(index), (4 if part == "Q" else 2)
        if not 1 <= number <= parts:
            raise _period_error(f"period {label!r}: a year has {part}1 to {part}{parts}", label)
        return self._regular(kind, first_month + (number - 1) * _REGULAR[kind])

    def _fiscal_hint(self, label: str, year: int, part: str | None, index: str | None) -> str:
        month = _MONTH_NAMES[self.fiscal_year_start - 1]
        lead = f"this calendar's fiscal year starts in {month}, so {label!r} is ambiguous"
        if part is None:
            return f"{lead}; write FY{year} or FY{year + 1}, or a range such as {year}-01-01..{year}-12-31"
        months = 3 if part == "Q" else 6
        first = year * 12 + (int(index or 1) - 1) * months
        aligned = (first - (self.fiscal_year_start - 1)) % months == 0
        start = date(first // 12, first % 12 + 1, 1)
        stop = date((first + months) // 12, (first + months) % 12 + 1, 1) - timedelta(days=1)
        kind: PeriodKind = "quarter" if part == "Q" else "half"
        if aligned and 1 <= int(index or 1) <= (4 if part == "Q" else 2):
            same = _regular_period(self, kind, first)
            return f"{lead}; that span is {same.label}, or write the range {start}..{stop}"
        return f"{lead}; write a fiscal label (FY{year}-{part}1) or the range {start}..{stop}"

    def _interval(self, text: str, label: str) -> Period:
        first, _, last = text.partition("/")
        try:
            begin, finish = parse_datetime(first), parse_datetime(last)
        except ValueError:
            raise _period_error(f"cannot read the interval {label!r}; write START/END in ISO 8601", label) from None
        if begin.tzinfo is None or finish.tzinfo is None:
            raise _period_error(f"the interval {label!r} needs a UTC offset on both ends (e.g. +08:00)", label)
        return self.custom(begin, finish, label=text)

    @staticmethod
    def _iso_date(text: str, label: str) -> date:
        try:
            return date.fromisoformat(text)
        except ValueError:
            raise _period_error(f"period {label!r}: {text} is not a date", label) from None

    def _instant(self, value: datetime | date, what: str) -> datetime:
        if isinstance(value, datetime):
            return require_aware(value, what).astimezone(_UTC)
        if isinstance(value, date):
            return self.start_of(value).astimezone(_UTC)
        raise _period_error(f"{what} must be a date or an aware datetime, got {value!r}", value)


@functools.lru_cache(maxsize=4096)
def _regular_period(calendar: Calendar, kind: PeriodKind, absolute: int) -> Period:
    """The period of ``kind`` starting in month number ``absolute`` (year * 12 + month - 1)."""
    months = _REGULAR[kind]
    year, month = divmod(absolute, 12)
    end_year, end_month = divmod(absolute + months, 12)
    if not 1 <= year or end_year > 9999:
        raise _period_error(f"a {kind} starting in year {year} is out of range (years 1-9998)", kind)
    zone = calendar.zone
    start = datetime(year, month + 1, 1, tzinfo=zone)
    end = datetime(end_year, end_month + 1, 1, tzinfo=zone)
    if kind == "month":
        label = f"{year:04d}-{month + 1:02d}"
    else:
        offset = (absolute - (calendar.fiscal_year_start - 1)) % 12
        named = (absolute - offset) // 12 + (1 if calendar.fiscal else 0)
        prefix = f"FY{named:04d}" if calendar.fiscal else f"{named:04d}"
        suffix = {"quarter": f"-Q{offset // 3 + 1}", "half": f"-H{offset // 6 + 1}", "year": ""}[kind]
        label = prefix + suffix
    return Period(start=start, end=end, label=label, kind=kind, calendar=calendar)


@attrs.frozen(kw_only=True)
class Period:
    """A span of time ``[start, end)``: a month, quarter, half, year or custom range.

    ``start`` and ``end`` are aware datetimes in the calendar's time zone; a timestamp in
    another zone is compared as the same instant. Build periods through a
    :class:`Calendar` (or :func:`parse_period`) rather than directly.
    """

    start: datetime
    end: datetime
    label: str
    kind: PeriodKind
    calendar: Calendar = attrs.field(factory=Calendar)

    def __attrs_post_init__(self) -> None:
        require_aware(self.start, "start")
        require_aware(self.end, "end")
        if self.kind not in get_args(PeriodKind):
            raise _period_error(f"unknown period kind {self.kind!r}", self.label)
        if self.end_utc <= self.start_utc:
            raise _period_error(f"period {self.label!r} ends before it starts", self.label)

    def __str__(self) -> str:
        return self.label

    @property
    def start_utc(self) -> datetime:
        return self.start.astimezone(_UTC)

    @property
    def end_utc(self) -> datetime:
        return self.end.astimezone(_UTC)

    def contains(self, ts: datetime) -> bool:
        """Whether the aware timestamp falls in ``[start, end)``; naive timestamps are refused."""
        instant = require_aware(ts).astimezone(_UTC)
        return self.start_utc <= instant < self.end_utc

    def __contains__(self, ts: object) -> bool:
        return self.contains(require_aware(ts))

    def previous(self) -> Period:
        """The period of the same kind just before this one (a custom range: as long, ending here)."""
        if self.kind == "custom":
            return self._shifted(-1)
        return _regular_period(self.calendar, self.kind, self._first_month() - _REGULAR[self.kind])

    def next(self) -> Period:
        """The period of the same kind just after this one (a custom range: as long, starting here)."""
        if self.kind == "custom":
            return self._shifted(1)
        return _regular_period(self.calendar, self.kind, self._first_month() + _REGULAR[self.kind])

    def subperiods(self, kind: PeriodKind) -> tuple[Period, ...]:
        """The periods of ``kind`` that overlap this one (``q.subperiods("month")``: its months)."""
        return self.calendar.periods(kind, self.start, self.end)

    def days(self) -> Iterator[date]:
        """The calendar days the period covers, in its calendar's time zone."""
        day = self.calendar.to_date(self.start)
        while self.calendar.start_of(day).astimezone(_UTC) < self.end_utc:
            yield day
            day += timedelta(days=1)

    def to_dict(self) -> dict[str, str]:
        """The period as plain data (label, kind, ISO start and end, time zone)."""
        return {
            "label": self.label,
            "kind": self.kind,
            "start": self.start.isoformat(),
            "end": self.end.isoformat(),
            "tz": self.calendar.tz,
        }

    def _first_month(self) -> int:
        local = self.start.astimezone(self.calendar.zone)
        return local.year * 12 + local.month - 1

    def _shifted(self, direction: int) -> Period:
        local_start = self.start.astimezone(self.calendar.zone)
        local_end = self.end.astimezone(self.calendar.zone)
        midnight = time(0)
        if local_start.time() == midnight and local_end.time() == midnight:
            days = (local_end.date() - local_start.date()).days
            first = local_start.date() + timedelta(days=days * direction)
            return self.calendar.custom(first, first + timedelta(days=days - 1))
        length = self.end_utc - self.start_utc
        begin = self.start_utc + length * direction
        return self.calendar.custom(
            begin.astimezone(self.calendar.zone), (begin + length).astimezone(self.calendar.zone)
        )


def parse_period(label: str, calendar: Calendar | None = None) -> Period:
    """The period a label names, in ``calendar`` (default: UTC, years starting in January)."""
    return (calendar or Calendar()).period(label)
