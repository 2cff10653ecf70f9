"""Properties of the working-day arithmetic, over every year the library knows."""

from datetime import date, datetime, time, timedelta

import chinese_calendar
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from services.supervision.domain.calendar import (
    SHANGHAI,
    CalendarOutOfRange,
    WorkingCalendar,
    is_working_day,
    next_working_day,
)
from services.supervision.domain.provisional import provisional_holidays
from tests.fixtures.calendars import fixture_supplement

CAL = WorkingCalendar()
FIRST, LAST = datetime(2004, 1, 1), datetime(2026, 9, 30, 23, 59, 59)  # + 50 working days fit

starts = st.datetimes(min_value=FIRST, max_value=LAST, timezones=st.just(SHANGHAI))
counts = st.integers(min_value=0, max_value=40)
spans = st.timedeltas(min_value=timedelta(0), max_value=timedelta(days=25))

SWAPPED_WEEKEND_DAYS = sorted(
    day for day in chinese_calendar.workdays if day.weekday() >= 5 and day.year >= 2004
)


def local(instant: datetime) -> datetime:
    return instant.astimezone(SHANGHAI)


@given(starts, counts)
def test_a_deadline_never_lands_on_a_day_off(start: datetime, n: int) -> None:
    assert is_working_day(local(CAL.add_working_days(start, n)).date())


@given(starts, spans)
def test_no_span_of_working_time_ends_on_a_day_off(start: datetime, span: timedelta) -> None:
    assert CAL.is_working_instant(CAL.add_working_time(start, span))


@given(starts, counts)
def test_agrees_with_the_librarys_own_count_of_working_days(start: datetime, n: int) -> None:
    due = local(CAL.add_working_days(start, n))
    assert due.date() == chinese_calendar.find_workday(n, start.date())
    on_working_day = is_working_day(start.date())
    assert due.timetz() == (start.timetz() if on_working_day else time(tzinfo=SHANGHAI))
    if on_working_day:
        between = chinese_calendar.get_workdays(start.date() + timedelta(1), due.date())
        assert len(between) == n


@given(starts, counts, counts)
def test_monotonic_in_the_number_of_days(start: datetime, a: int, b: int) -> None:
    if a < b:
        assert CAL.add_working_days(start, a) < CAL.add_working_days(start, b)


@given(starts, st.timedeltas(min_value=timedelta(0), max_value=timedelta(days=12)), counts)
def test_monotonic_in_the_start(start: datetime, later_by: timedelta, n: int) -> None:
    assert CAL.add_working_days(start, n) <= CAL.add_working_days(start + later_by, n)


@given(starts, spans, spans)
def test_adding_in_two_parts_is_adding_once(start: datetime, a: timedelta, b: timedelta) -> None:
    assert CAL.add_working_time(CAL.add_working_time(start, a), b) == CAL.add_working_time(
        start, a + b
    )


@given(starts, spans)
def test_the_working_time_between_is_what_was_added(start: datetime, span: timedelta) -> None:
    assert CAL.working_time_between(start, CAL.add_working_time(start, span)) == span


@given(starts, counts)
def test_a_weekend_deadline_is_always_a_swapped_working_day(start: datetime, n: int) -> None:
    due = local(CAL.add_working_days(start, n)).date()
    if due.weekday() >= 5:
        assert due in chinese_calendar.workdays


@given(st.sampled_from(SWAPPED_WEEKEND_DAYS), st.times())
def test_swapped_weekend_working_days_count(day: date, clock_time: time) -> None:
    assert is_working_day(day)
    before = day - timedelta(1)
    while not is_working_day(before):
        before -= timedelta(1)
    assert next_working_day(before) == day
    start = datetime.combine(before, clock_time, tzinfo=SHANGHAI)
    assert CAL.add_working_days(start, 1) == datetime.combine(day, clock_time, tzinfo=SHANGHAI)


@given(
    st.one_of(
        st.dates(min_value=date(1950, 1, 1), max_value=date(2003, 12, 31)),
        st.dates(min_value=date(2027, 1, 1), max_value=date(2100, 12, 20)),
    )
)
@settings(max_examples=50)
def test_every_unknown_year_the_rule_computes_is_provisional_never_an_error(day: date) -> None:
    start = datetime.combine(day, time(10), tzinfo=SHANGHAI)
    assert CAL.is_provisional_year(day.year)
    due = CAL.add_working_days(start, 1)
    assert CAL.is_working_day(local(due).date()) and local(due).date().weekday() < 5
    off = provisional_holidays(day.year)
    assert CAL.is_working_day(day) == (day.weekday() < 5 and day not in off)
    assert CAL.working_time_between(start, due) == timedelta(days=1) or not CAL.is_working_day(day)
    assert day.year in CAL.provisional_years(start, due)
    with pytest.raises(CalendarOutOfRange):
        is_working_day(day)  # the library alone still knows nothing of it


@given(
    st.one_of(
        st.dates(min_value=date(1900, 1, 1), max_value=date(1949, 12, 31)),
        st.dates(min_value=date(2101, 1, 1), max_value=date(2200, 12, 31)),
    )
)
@settings(max_examples=50)
def test_every_year_beyond_the_rule_raises_the_explicit_error(day: date) -> None:
    start = datetime.combine(day, time(10), tzinfo=SHANGHAI)
    for compute in (
        lambda: is_working_day(day),
        lambda: CAL.add_working_days(start, 1),
        lambda: CAL.working_time_between(start, start + timedelta(hours=1)),
    ):
        try:
            compute()
        except CalendarOutOfRange as error:
            assert day.isoformat() in str(error)
            assert "2004-2026" in str(error)
        else:
            raise AssertionError(f"{day} computed without the calendar's data")


# The same arithmetic on the years the test supplement declares (2027, 2028: weekends and
# Jan 1 off, a test fixture), across the new year the library stops at.
SUPPLEMENTED = WorkingCalendar(supplement=fixture_supplement())
supplemented_starts = st.datetimes(
    min_value=datetime(2026, 6, 1), max_value=datetime(2028, 9, 30), timezones=st.just(SHANGHAI)
)


@given(supplemented_starts, counts)
def test_a_supplemented_deadline_never_lands_on_a_day_off(start: datetime, n: int) -> None:
    due = local(SUPPLEMENTED.add_working_days(start, n)).date()
    assert SUPPLEMENTED.is_working_day(due)
    if due.year >= 2027:
        assert due.weekday() < 5 and (due.month, due.day) != (1, 1)


@given(supplemented_starts, spans, spans)
def test_supplemented_working_time_adds_up(start: datetime, a: timedelta, b: timedelta) -> None:
    once = SUPPLEMENTED.add_working_time(start, a + b)
    assert SUPPLEMENTED.add_working_time(SUPPLEMENTED.add_working_time(start, a), b) == once
    assert SUPPLEMENTED.working_time_between(start, once) == a + b


@given(supplemented_starts, counts, counts)
def test_supplemented_deadlines_are_monotonic(start: datetime, a: int, b: int) -> None:
    if a < b:
        assert SUPPLEMENTED.add_working_days(start, a) < SUPPLEMENTED.add_working_days(start, b)
