"""Periods and calendars: labels, fiscal years, time zones, and time tiled without gaps."""

from __future__ import annotations

from datetime import date, datetime, timedelta, timezone
from itertools import pairwise
from typing import get_args
from zoneinfo import ZoneInfo

import pytest
from hypothesis import example, given, settings
from hypothesis import strategies as st

from perfkit.errors import DataError
from perfkit.periods import Calendar, Period, PeriodKind, parse_period

UTC = timezone.utc
SHANGHAI = ZoneInfo("Asia/Shanghai")
REGULAR: tuple[PeriodKind, ...] = ("month", "quarter", "half", "year")

# Zones with daylight saving time, odd offsets, and transitions at midnight (Havana,
# Santiago, Asuncion, Beirut), so period starts land in gaps and folds.
ZONES = [
    "UTC",
    "Asia/Shanghai",
    "Asia/Kolkata",
    "Asia/Kathmandu",
    "Australia/Lord_Howe",
    "Europe/London",
    "America/New_York",
    "America/Havana",
    "America/Santiago",
    "America/Asuncion",
    "Asia/Beirut",
    "Pacific/Chatham",
    "Pacific/Apia",
]

calendars = st.builds(Calendar, tz=st.sampled_from(ZONES), fiscal_year_start=st.integers(1, 12))
aware = st.datetimes(
    min_value=datetime(1902, 1, 1), max_value=datetime(2100, 12, 31), timezones=st.sampled_from(ZONES).map(ZoneInfo)
)


def at(text: str) -> datetime:
    """An aware datetime from ISO text with an offset."""
    value = datetime.fromisoformat(text)
    assert value.tzinfo is not None
    return value


class TestCalendar:
    def test_defaults_are_utc_and_the_calendar_year(self) -> None:
        calendar = Calendar()
        assert (calendar.tz, calendar.fiscal_year_start, calendar.fiscal) == ("UTC", 1, False)

    def test_an_unknown_zone_is_named(self) -> None:
        with pytest.raises(DataError, match="unknown time zone 'Asia/Shanghia'"):
            Calendar(tz="Asia/Shanghia")

    @pytest.mark.parametrize("month", [0, 13, True, "4"])
    def test_the_fiscal_start_is_a_month(self, month: object) -> None:
        with pytest.raises(DataError, match="fiscal_year_start"):
            Calendar(fiscal_year_start=month)  # type: ignore[arg-type]

    def test_to_date_uses_the_calendars_zone(self) -> None:
        """17:00 UTC on 31 March is already 1 April in Shanghai."""
        ts = at("2026-03-31T17:00:00+00:00")
        assert Calendar(tz="Asia/Shanghai").to_date(ts) == date(2026, 4, 1)
        assert Calendar().to_date(ts) == date(2026, 3, 31)

    def test_naive_timestamps_are_refused(self) -> None:
        with pytest.raises(DataError, match="no time zone"):
            Calendar().to_date(datetime(2026, 4, 1))
        with pytest.raises(DataError, match="no time zone"):
            Calendar().period_of(datetime(2026, 4, 1), "month")


class TestLabels:
    @pytest.mark.parametrize(
        ("label", "kind", "start", "end"),
        [
            ("2026-05", "month", date(2026, 5, 1), date(2026, 6, 1)),
            ("2026-Q2", "quarter", date(2026, 4, 1), date(2026, 7, 1)),
            ("2026-Q4", "quarter", date(2026, 10, 1), date(2027, 1, 1)),
            ("2026-H2", "half", date(2026, 7, 1), date(2027, 1, 1)),
            ("2026", "year", date(2026, 1, 1), date(2027, 1, 1)),
            ("2026-04-01..2026-06-30", "custom", date(2026, 4, 1), date(2026, 7, 1)),
        ],
    )
    def test_calendar_year_labels(self, label: str, kind: str, start: date, end: date) -> None:
        period = Calendar(tz="Asia/Shanghai").period(label)
        assert (period.kind, period.label, str(period)) == (kind, label, label)
        assert period.start == datetime.combine(start, datetime.min.time(), tzinfo=SHANGHAI)
        assert period.end == datetime.combine(end, datetime.min.time(), tzinfo=SHANGHAI)
        assert period.start.utcoffset() == timedelta(hours=8)

    def test_fiscal_years_are_named_by_the_year_they_end_in(self) -> None:
        """With the year starting in April, FY2027 runs from 1 April 2026 to 31 March 2027."""
        calendar = Calendar(fiscal_year_start=4)
        year = calendar.period("FY2027")
        assert (year.start.date(), year.end.date(), year.kind) == (date(2026, 4, 1), date(2027, 4, 1), "year")
        assert calendar.period("FY2027-Q1").end.date() == date(2026, 7, 1)
        assert calendar.period("FY2027-Q4").start.date() == date(2027, 1, 1)
        assert calendar.period("FY2027-H2").start.date() == date(2026, 10, 1)
        assert calendar.period_of(at("2027-03-31T23:59:59+00:00"), "year").label == "FY2027"
        assert calendar.period_of(at("2027-04-01T00:00:00+00:00"), "year").label == "FY2028"

    def test_a_fiscal_year_starting_in_july(self) -> None:
        calendar = Calendar(fiscal_year_start=7)
        assert calendar.period_of(at("2025-07-01T00:00:00+00:00"), "quarter").label == "FY2026-Q1"
        assert calendar.period_of(at("2026-06-30T12:00:00+00:00"), "half").label == "FY2026-H2"

    def test_fy_in_a_january_calendar_is_the_calendar_year(self) -> None:
        calendar = Calendar()
        assert calendar.period("FY2026") == calendar.period("2026")
        assert calendar.period("fy2026-q2").label == "2026-Q2"

    def test_calendar_year_labels_in_a_fiscal_calendar_are_refused_with_a_hint(self) -> None:
        calendar = Calendar(fiscal_year_start=4)
        with pytest.raises(DataError, match="'2026-Q2' is ambiguous; that span is FY2027-Q1"):
            calendar.period("2026-Q2")
        with pytest.raises(DataError, match="write FY2026 or FY2027"):
            calendar.period("2026")

    def test_months_are_months_in_any_calendar(self) -> None:
        assert Calendar(fiscal_year_start=10).period("2026-05").label == "2026-05"

    def test_an_iso_interval_is_a_custom_range_with_the_end_excluded(self) -> None:
        period = parse_period("2026-04-01T09:00:00+08:00/2026-04-02T09:00:00+08:00")
        assert period.kind == "custom"
        assert period.contains(at("2026-04-01T01:00:00+00:00"))
        assert not period.contains(at("2026-04-02T01:00:00+00:00"))

    @pytest.mark.parametrize(
        ("label", "message"),
        [
            ("2026-13", "no month 13"),
            ("2026-Q5", "Q1 to Q4"),
            ("2026-H3", "H1 to H2"),
            ("Q2 2026", "cannot read the period 'Q2 2026'"),
            ("2026-06-30..2026-04-01", "ends before it starts"),
            ("2026-02-30..2026-03-01", "2026-02-30 is not a date"),
            ("2026-04-01T09:00/2026-04-02T09:00", "needs a UTC offset"),
        ],
    )
    def test_bad_labels_say_what_is_wrong(self, label: str, message: str) -> None:
        with pytest.raises(DataError, match=message) as raised:
            parse_period(label)
        assert raised.value.column == "period"

    @given(calendars, aware, st.sampled_from(REGULAR))
    def test_a_label_names_its_period(self, calendar: Calendar, ts: datetime, kind: PeriodKind) -> None:
        period = calendar.period_of(ts, kind)
        assert calendar.period(period.label) == period


class TestPeriodOf:
    def test_the_start_is_included_and_the_end_is_not(self) -> None:
        q2 = parse_period("2026-Q2")
        assert q2.contains(q2.start)
        assert not q2.contains(q2.end)
        assert not q2.contains(q2.start - timedelta(microseconds=1))
        assert q2.contains(q2.end - timedelta(microseconds=1))

    def test_a_timestamp_in_another_zone_is_converted_first(self) -> None:
        """A deal closed at 01:00 on 1 April in Shanghai is a Q2 deal for a Shanghai calendar."""
        closed = at("2026-04-01T01:00:00+08:00")
        assert Calendar(tz="Asia/Shanghai").period_of(closed, "quarter").label == "2026-Q2"
        assert Calendar(tz="UTC").period_of(closed, "quarter").label == "2026-Q1"
        assert parse_period("2026-Q1").contains(closed)
        assert closed not in parse_period("2026-Q2")

    def test_custom_is_not_a_kind_to_bucket_by(self) -> None:
        with pytest.raises(DataError, match="unknown period kind 'custom'"):
            Calendar().period_of(at("2026-04-01T00:00:00+00:00"), "custom")

    def test_a_day_starting_at_a_gap_starts_when_the_clock_jumps(self) -> None:
        """Santiago moved clocks from 00:00 to 01:00 on 2022-09-11; a September period starting
        on the 1st is unaffected, and a custom range from the 11th starts at the jump."""
        calendar = Calendar(tz="America/Santiago")
        day = calendar.custom(date(2022, 9, 11), date(2022, 9, 11))
        assert day.start_utc == datetime(2022, 9, 11, 4, 0, tzinfo=UTC)
        assert day.end_utc - day.start_utc == timedelta(hours=23)


class TestTiling:
    @settings(max_examples=300)
    @given(calendars, aware)
    # A local time inside a daylight-saving gap, given in the calendar's own zone: 00:00 on
    # 1 Oct 2000 does not exist in Asunción (clocks went to 01:00); fold=1 reads it as 23:00
    # on 30 Sep, -04:00, so it belongs to September (it once was put in October).
    @example(Calendar(tz="America/Asuncion"), datetime(2000, 10, 1, 0, 0, fold=1, tzinfo=ZoneInfo("America/Asuncion")))
    def test_exactly_one_period_of_each_kind_contains_a_timestamp(self, calendar: Calendar, ts: datetime) -> None:
        for kind in REGULAR:
            around = calendar.periods(kind, ts - timedelta(days=400), ts + timedelta(days=400))
            containing = [p for p in around if p.contains(ts)]
            assert containing == [calendar.period_of(ts, kind)]

    @settings(max_examples=300)
    @given(calendars, aware, st.sampled_from(REGULAR))
    def test_consecutive_periods_meet(self, calendar: Calendar, ts: datetime, kind: PeriodKind) -> None:
        period = calendar.period_of(ts, kind)
        assert period.previous().end == period.start
        assert period.end == period.next().start
        assert period.previous().next() == period
        assert period.start_utc <= ts.astimezone(UTC) < period.end_utc

    @given(calendars, aware)
    def test_smaller_periods_nest_in_larger_ones(self, calendar: Calendar, ts: datetime) -> None:
        sizes = [calendar.period_of(ts, kind) for kind in REGULAR]
        for inner, outer in pairwise(sizes):
            assert outer.start_utc <= inner.start_utc < inner.end_utc <= outer.end_utc

    def test_a_quarters_months(self) -> None:
        quarter = Calendar(fiscal_year_start=4).period("FY2027-Q3")
        assert [str(p) for p in quarter.subperiods("month")] == ["2026-10", "2026-11", "2026-12"]

    def test_periods_between_dates(self) -> None:
        months = Calendar().periods("month", date(2026, 1, 1), date(2026, 4, 1))
        assert [p.label for p in months] == ["2026-01", "2026-02", "2026-03"]
        assert Calendar().periods("month", date(2026, 4, 1), date(2026, 4, 1)) == ()

    def test_a_custom_range_steps_by_its_own_length(self) -> None:
        sprint = parse_period("2026-04-01..2026-04-14")
        assert (sprint.previous().label, sprint.next().label) == ("2026-03-18..2026-03-31", "2026-04-15..2026-04-28")
        assert len(list(sprint.days())) == 14

    def test_the_kinds_are_the_documented_ones(self) -> None:
        assert get_args(PeriodKind) == ("month", "quarter", "half", "year", "custom")


class TestPeriod:
    def test_a_period_that_ends_before_it_starts_is_refused(self) -> None:
        start = at("2026-04-01T00:00:00+00:00")
        with pytest.raises(DataError, match="ends before it starts"):
            Period(start=start, end=start, label="x", kind="custom")

    def test_naive_bounds_are_refused(self) -> None:
        with pytest.raises(DataError, match="no time zone"):
            Period(start=datetime(2026, 4, 1), end=datetime(2026, 5, 1), label="x", kind="custom")

    def test_to_dict(self) -> None:
        assert Calendar(tz="Asia/Shanghai").period("2026-05").to_dict() == {
            "label": "2026-05",
            "kind": "month",
            "start": "2026-05-01T00:00:00+08:00",
            "end": "2026-06-01T00:00:00+08:00",
            "tz": "Asia/Shanghai",
        }
