"""The working calendar: office hours, the State Council's holidays and 调休 make-up days."""

from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from shequ.lib.workcal import DEFAULT_HOURS, Calendar, is_workday, parse_hours

SH = ZoneInfo("Asia/Shanghai")
CAL = Calendar()


def at(year: int, month: int, day: int, hour: int = 0, minute: int = 0) -> dt.datetime:
    return dt.datetime(year, month, day, hour, minute, tzinfo=SH)


# --- parse_hours


def test_office_hours_are_read_as_spans() -> None:
    assert parse_hours("08:30-12:00, 13:30-17:30") == DEFAULT_HOURS
    assert parse_hours("09:00-17:00") == ((dt.time(9), dt.time(17)),)


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("", "no span given"),
        (" , ", "no span given"),
        ("8-12", "cannot read '8-12'"),
        ("08:30", "cannot read '08:30'"),
        ("08:30-12:00-13:00", "cannot read"),
        ("08:30-noon", "cannot read"),
        ("12:00-08:30", "empty or overlaps"),
        ("09:00-09:00", "empty or overlaps"),
        ("08:30-12:00,11:00-17:00", "empty or overlaps"),
        ("13:30-17:30,08:30-12:00", "empty or overlaps"),
        ("08:30+08:00-12:00", "without a time zone"),
        ("08:30-12:00+08:00", "without a time zone"),
    ],
)
def test_office_hours_that_make_no_sense_are_refused_with_a_reason(text: str, message: str) -> None:
    with pytest.raises(ValueError, match="office hours") as exc:
        parse_hours(text)
    assert message in str(exc.value)


# --- working days


def test_the_national_day_holiday_and_its_make_up_days_are_known() -> None:
    assert not is_workday(dt.date(2026, 10, 1))
    assert not is_workday(dt.date(2026, 10, 7))
    assert is_workday(dt.date(2026, 10, 10))  # a Saturday worked instead (调休)
    assert is_workday(dt.date(2026, 9, 20))  # a Sunday worked instead
    assert not is_workday(dt.date(2026, 10, 17))  # an ordinary Saturday


def test_a_year_not_announced_yet_works_monday_to_friday() -> None:
    assert is_workday(dt.date(2099, 1, 5))  # Monday
    assert not is_workday(dt.date(2099, 1, 3))  # Saturday


def test_extra_holidays_and_workdays_override_the_state_council() -> None:
    cal = Calendar(
        extra_holidays=frozenset({dt.date(2026, 10, 19)}),
        extra_workdays=frozenset({dt.date(2026, 10, 17)}),
    )
    assert not cal.workday(dt.date(2026, 10, 19))
    assert cal.workday(dt.date(2026, 10, 17))
    assert cal.add_hours(at(2026, 10, 16, 17, 0), 2) == at(2026, 10, 17, 10, 0)


# --- add_hours


def test_hours_within_a_morning() -> None:
    assert CAL.add_hours(at(2026, 10, 19, 9, 0), 2) == at(2026, 10, 19, 11, 0)


def test_the_lunch_break_does_not_count() -> None:
    assert CAL.add_hours(at(2026, 10, 19, 11, 0), 2) == at(2026, 10, 19, 14, 30)


def test_hours_run_over_the_weekend_to_monday() -> None:
    # Half an hour left on Friday, an hour and a half on Monday.
    assert CAL.add_hours(at(2026, 10, 16, 17, 0), 2) == at(2026, 10, 19, 10, 0)


def test_hours_skip_the_national_day_holiday() -> None:
    assert CAL.add_hours(at(2026, 9, 30, 17, 0), 2) == at(2026, 10, 8, 10, 0)


def test_hours_counted_on_a_make_up_saturday() -> None:
    assert CAL.add_hours(at(2026, 10, 9, 17, 0), 2) == at(2026, 10, 10, 10, 0)


def test_a_start_outside_office_hours_counts_from_the_next_opening() -> None:
    assert CAL.add_hours(at(2026, 10, 17, 3, 0), 1) == at(2026, 10, 19, 9, 30)  # Saturday night
    assert CAL.add_hours(at(2026, 10, 19, 12, 30), 1) == at(2026, 10, 19, 14, 30)  # lunch
    assert CAL.add_hours(at(2026, 10, 19, 18, 0), 0) == at(2026, 10, 20, 8, 30)


def test_times_in_another_zone_come_back_in_the_calendars_zone() -> None:
    start = dt.datetime(2026, 10, 19, 1, 0, tzinfo=dt.UTC)  # 09:00 in Shanghai
    result = CAL.add_hours(start, 1)
    assert result == at(2026, 10, 19, 10, 0) and result.tzinfo == SH


def test_a_naive_time_is_read_in_the_calendars_zone() -> None:
    assert CAL.add_hours(dt.datetime(2026, 10, 19, 9, 0), 1) == at(2026, 10, 19, 10, 0)


def test_negative_hours_are_refused() -> None:
    with pytest.raises(ValueError, match="negative"):
        CAL.add_hours(at(2026, 10, 19, 9, 0), -1)


def test_a_calendar_without_working_days_gives_up_instead_of_looping_forever() -> None:
    days = frozenset(dt.date(2026, 10, 19) + dt.timedelta(days=i) for i in range(3700))
    with pytest.raises(ValueError, match="ten years"):
        Calendar(extra_holidays=days).add_hours(at(2026, 10, 19, 9, 0), 1)


# --- add_days


def test_working_days_do_not_count_the_day_it_arrives() -> None:
    # Monday → the end of Tuesday for one day, Friday's end for four.
    assert CAL.add_days(at(2026, 10, 19, 9, 0), 1) == at(2026, 10, 20, 17, 30)
    assert CAL.add_days(at(2026, 10, 19, 9, 0), 4) == at(2026, 10, 23, 17, 30)


def test_working_days_skip_the_holiday_and_count_the_make_up_saturday() -> None:
    # 30 September: 1–7 October are holidays; 8, 9 and Saturday the 10th are working days.
    assert CAL.add_days(at(2026, 9, 30, 10, 0), 1) == at(2026, 10, 8, 17, 30)
    assert CAL.add_days(at(2026, 9, 30, 10, 0), 3) == at(2026, 10, 10, 17, 30)
    assert CAL.add_days(at(2026, 9, 30, 10, 0), 4) == at(2026, 10, 12, 17, 30)


def test_zero_days_is_the_end_of_the_day_or_of_the_next_working_day() -> None:
    assert CAL.add_days(at(2026, 10, 19, 9, 0), 0) == at(2026, 10, 19, 17, 30)
    assert CAL.add_days(at(2026, 10, 3, 9, 0), 0) == at(2026, 10, 8, 17, 30)


# --- working_seconds


def test_working_seconds_between_two_moments() -> None:
    assert CAL.working_seconds(at(2026, 10, 19, 9, 0), at(2026, 10, 19, 10, 0)) == 3600
    assert CAL.working_seconds(at(2026, 10, 19, 11, 0), at(2026, 10, 19, 14, 0)) == 3600 + 1800
    assert CAL.working_seconds(at(2026, 10, 16, 17, 0), at(2026, 10, 19, 10, 0)) == 7200
    assert CAL.working_seconds(at(2026, 9, 30, 17, 0), at(2026, 10, 8, 8, 30)) == 1800


def test_working_seconds_are_zero_when_the_end_is_not_after_the_start() -> None:
    assert CAL.working_seconds(at(2026, 10, 19, 10, 0), at(2026, 10, 19, 10, 0)) == 0
    assert CAL.working_seconds(at(2026, 10, 19, 10, 0), at(2026, 10, 19, 9, 0)) == 0


def test_a_full_day_counts_its_office_hours() -> None:
    assert CAL.seconds_per_day == 7.5 * 3600
    assert (
        CAL.working_seconds(at(2026, 10, 19, 0, 0), at(2026, 10, 20, 0, 0)) == CAL.seconds_per_day
    )


starts = st.datetimes(
    min_value=dt.datetime(2025, 1, 1), max_value=dt.datetime(2026, 12, 31), timezones=st.just(SH)
)


@settings(max_examples=300, deadline=None)
@given(start=starts, minutes=st.integers(min_value=0, max_value=60 * 200))
def test_adding_hours_then_counting_them_gives_the_same_hours(
    start: dt.datetime, minutes: int
) -> None:
    hours = minutes / 60
    end = CAL.add_hours(start, hours)
    assert end >= start
    assert CAL.working_seconds(start, end) == minutes * 60


@settings(max_examples=200, deadline=None)
@given(start=starts, days=st.integers(min_value=1, max_value=60))
def test_adding_days_lands_at_closing_time_of_a_working_day(start: dt.datetime, days: int) -> None:
    end = CAL.add_days(start, days)
    assert CAL.workday(end.date()) and end.timetz().replace(tzinfo=None) == DEFAULT_HOURS[-1][1]
    # Exactly `days` working days lie after the start day, up to and including the end day.
    counted = sum(
        CAL.workday(start.date() + dt.timedelta(days=i))
        for i in range(1, (end.date() - start.date()).days + 1)
    )
    assert counted == days
