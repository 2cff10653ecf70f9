"""The working-day calendar: the library's data against the official schedules, and the
known dates around the Spring Festival and National Day holidays of 2024-2026."""

from datetime import UTC, date, datetime, timedelta

import chinese_calendar
import pytest

from services.supervision.domain.calendar import (
    SHANGHAI,
    CalendarOutOfRange,
    WorkingCalendar,
    is_working_day,
    known_years,
    next_working_day,
)

CAL = WorkingCalendar()


def at(y: int, m: int, d: int, h: int = 10, minute: int = 0) -> datetime:
    return datetime(y, m, d, h, minute, tzinfo=SHANGHAI)


def days(first: date, last: date) -> set[date]:
    return {first + timedelta(n) for n in range((last - first).days + 1)}


# The State Council's schedules (国务院办公厅关于…部分节假日安排的通知) for 2024, 2025 and
# 2026: (holiday, days off, swapped working days 调休上班).
OFFICIAL = [
    ("2024 Spring Festival", days(date(2024, 2, 10), date(2024, 2, 17)),
     {date(2024, 2, 4), date(2024, 2, 18)}),
    ("2024 Mid-Autumn", days(date(2024, 9, 15), date(2024, 9, 17)), {date(2024, 9, 14)}),
    ("2024 National Day", days(date(2024, 10, 1), date(2024, 10, 7)),
     {date(2024, 9, 29), date(2024, 10, 12)}),
    ("2025 Spring Festival", days(date(2025, 1, 28), date(2025, 2, 4)),
     {date(2025, 1, 26), date(2025, 2, 8)}),
    ("2025 National Day and Mid-Autumn", days(date(2025, 10, 1), date(2025, 10, 8)),
     {date(2025, 9, 28), date(2025, 10, 11)}),
    ("2026 New Year", days(date(2026, 1, 1), date(2026, 1, 3)), {date(2026, 1, 4)}),
    ("2026 Spring Festival", days(date(2026, 2, 15), date(2026, 2, 23)),
     {date(2026, 2, 14), date(2026, 2, 28)}),
    ("2026 Mid-Autumn", days(date(2026, 9, 25), date(2026, 9, 27)), set()),
    ("2026 National Day", days(date(2026, 10, 1), date(2026, 10, 7)),
     {date(2026, 9, 20), date(2026, 10, 10)}),
]  # fmt: skip


ALL_SCHEDULED = set().union(*(off | swapped for _, off, swapped in OFFICIAL))


@pytest.mark.parametrize(("name", "off", "swapped"), OFFICIAL, ids=[o[0] for o in OFFICIAL])
def test_the_library_has_the_official_schedule(
    name: str, off: set[date], swapped: set[date]
) -> None:
    assert all(day in chinese_calendar.holidays for day in off), name
    assert not any(is_working_day(day) for day in off)
    assert all(day.weekday() >= 5 for day in swapped)  # each swap is a Saturday or Sunday
    assert all(day in chinese_calendar.workdays for day in swapped)
    assert all(is_working_day(day) for day in swapped)
    # Around the break, every other day is an ordinary weekday or weekend day.
    around = days(min(off | swapped) - timedelta(7), max(off | swapped) + timedelta(7))
    for day in around - ALL_SCHEDULED:
        assert is_working_day(day) == (day.weekday() < 5), day


KNOWN = [
    # 2024 Spring Festival: Feb 10-17 off; Sun Feb 4 and Sun Feb 18 worked.
    (at(2024, 2, 2), 1, at(2024, 2, 4)),  # Friday → the swapped Sunday
    (at(2024, 2, 8), 1, at(2024, 2, 9)),  # Thursday → Friday (New Year's Eve is worked)
    (at(2024, 2, 8), 2, at(2024, 2, 18)),  # … then 8 days off → the swapped Sunday
    (at(2024, 2, 9), 3, at(2024, 2, 20)),  # Sun 18, Mon 19, Tue 20
    # 2024 Mid-Autumn and National Day: Sep 15-17 and Oct 1-7 off; Sep 14, 29, Oct 12 worked.
    (at(2024, 9, 13), 1, at(2024, 9, 14)),
    (at(2024, 9, 14), 1, at(2024, 9, 18)),
    (at(2024, 9, 27), 1, at(2024, 9, 29)),
    (at(2024, 9, 30), 1, at(2024, 10, 8)),
    (at(2024, 9, 30), 3, at(2024, 10, 10)),
    (at(2024, 10, 11), 1, at(2024, 10, 12)),  # Friday → the swapped Saturday
    # 2025 Spring Festival: Jan 28 - Feb 4 off; Sun Jan 26 and Sat Feb 8 worked.
    (at(2025, 1, 24), 1, at(2025, 1, 26)),
    (at(2025, 1, 27), 1, at(2025, 2, 5)),
    (at(2025, 1, 27), 4, at(2025, 2, 8)),  # Wed 5, Thu 6, Fri 7, Sat 8
    (at(2025, 1, 27), 7, at(2025, 2, 12)),  # the complex clock across the festival
    # 2025 National Day and Mid-Autumn: Oct 1-8 off; Sun Sep 28 and Sat Oct 11 worked.
    (at(2025, 9, 26), 1, at(2025, 9, 28)),
    (at(2025, 9, 30), 1, at(2025, 10, 9)),
    (at(2025, 9, 30), 3, at(2025, 10, 11)),
    (at(2025, 9, 26), 10, at(2025, 10, 16)),  # the structural clock across the break
    # 2026 New Year: Jan 1-3 off; Sun Jan 4 worked.
    (at(2025, 12, 31), 1, at(2026, 1, 4)),
    # 2026 Spring Festival: Feb 15-23 off; Sat Feb 14 and Sat Feb 28 worked.
    (at(2026, 2, 13), 1, at(2026, 2, 14)),
    (at(2026, 2, 13), 2, at(2026, 2, 24)),
    (at(2026, 2, 14), 3, at(2026, 2, 26)),
    (at(2026, 2, 27), 1, at(2026, 2, 28)),
    # 2026 Mid-Autumn and National Day: Sep 25-27 and Oct 1-7 off; Sep 20, Oct 10 worked.
    (at(2026, 9, 18), 1, at(2026, 9, 20)),
    (at(2026, 9, 24), 1, at(2026, 9, 28)),
    (at(2026, 9, 30), 1, at(2026, 10, 8)),
    (at(2026, 10, 9), 1, at(2026, 10, 10)),
    (at(2026, 9, 29), 3, at(2026, 10, 9)),  # the general clock across the break
    # Plain weeks.
    (at(2026, 11, 20), 1, at(2026, 11, 23)),
    (at(2026, 11, 23), 3, at(2026, 11, 26)),
]


@pytest.mark.parametrize(
    ("start", "n", "due"), KNOWN, ids=[f"{s:%Y-%m-%d}+{n}" for s, n, _ in KNOWN]
)
def test_known_dates(start: datetime, n: int, due: datetime) -> None:
    assert CAL.add_working_days(start, n) == due
    assert CAL.working_time_between(start, due) == timedelta(days=n)


def test_a_clock_started_on_a_day_off_starts_at_the_next_working_day() -> None:
    # Saturday 10:00 + 1 working day = all of Monday: due when Tuesday begins.
    assert CAL.add_working_days(at(2026, 11, 21), 1) == at(2026, 11, 24, 0)
    # …as does a start at any hour of that weekend: a later start never gets less time.
    assert CAL.add_working_days(at(2026, 11, 22, 23, 59), 1) == at(2026, 11, 24, 0)
    # In the Spring Festival break, the clock starts on the first working day after it.
    assert CAL.add_working_days(at(2026, 2, 16), 1) == at(2026, 2, 25, 0)


def test_fractions_of_a_clock_are_placed_in_working_time() -> None:
    half_of_three = timedelta(days=1.5)
    assert CAL.add_working_time(at(2026, 11, 23), half_of_three) == at(2026, 11, 24, 22)
    assert CAL.add_working_time(at(2026, 11, 20), half_of_three) == at(2026, 11, 23, 22)
    # Across the National Day break: Sep 30 10:00 + 1.5 working days = Oct 8, 22:00.
    assert CAL.add_working_time(at(2026, 9, 30), half_of_three) == at(2026, 10, 8, 22)
    assert CAL.working_time_between(at(2026, 9, 30), at(2026, 10, 8, 22)) == half_of_three


def test_a_span_ending_at_midnight_before_days_off_ends_on_the_next_working_day() -> None:
    # Friday 00:00 + 1 working day is the end of Friday = Monday 00:00, never Saturday.
    assert CAL.add_working_days(at(2026, 11, 20, 0), 1) == at(2026, 11, 23, 0)


def test_working_time_stands_still_on_days_off() -> None:
    assert CAL.working_time_between(at(2026, 11, 21, 8), at(2026, 11, 22, 20)) == timedelta(0)
    assert CAL.working_time_between(at(2026, 11, 20, 20), at(2026, 11, 23, 4)) == timedelta(hours=8)
    assert CAL.working_time_between(at(2026, 11, 23, 4), at(2026, 11, 20, 20)) == -timedelta(
        hours=8
    )


def test_the_result_keeps_the_callers_timezone() -> None:
    start = datetime(2026, 11, 20, 2, 0, tzinfo=UTC)  # 10:00 in Shanghai, Friday
    due = CAL.add_working_days(start, 1)
    assert due == datetime(2026, 11, 23, 2, 0, tzinfo=UTC)
    assert due.tzinfo is UTC


def test_days_are_those_of_the_calendars_zone() -> None:
    friday_late_utc = datetime(2026, 11, 20, 17, 0, tzinfo=UTC)  # Saturday 01:00 in Shanghai
    assert not CAL.is_working_instant(friday_late_utc)
    assert WorkingCalendar("UTC").is_working_instant(friday_late_utc)


def test_naive_datetimes_and_negative_spans_are_rejected() -> None:
    with pytest.raises(ValueError, match="aware"):
        CAL.add_working_days(datetime(2026, 11, 23, 10), 1)
    with pytest.raises(ValueError, match="negative"):
        CAL.add_working_days(at(2026, 11, 23), -1)
    with pytest.raises(ValueError, match="negative"):
        CAL.add_working_time(at(2026, 11, 23), timedelta(hours=-1))


def test_the_known_years_are_the_librarys() -> None:
    first, last = known_years()
    assert (first, last) == (2004, 2026)  # chinesecalendar 1.11.0; update with the library
    assert next_working_day(date(2026, 12, 30)) == date(2026, 12, 31)


@pytest.mark.parametrize("day", [date(2003, 12, 31), date(2027, 1, 4), date(2099, 3, 2)])
def test_a_year_the_library_does_not_know_is_an_explicit_error(day: date) -> None:
    with pytest.raises(CalendarOutOfRange) as raised:
        is_working_day(day)
    assert raised.value.day == day
    assert (raised.value.first_year, raised.value.last_year) == (2004, 2026)
    assert day.isoformat() in str(raised.value)
    assert "2004-2026" in str(raised.value)
    assert isinstance(raised.value, ValueError)


def test_a_deadline_crossing_into_an_unknown_year_runs_on_the_provisional_rule() -> None:
    # 2027 is known to no calendar: weekends and statutory holidays by rule (1 January off).
    assert CAL.is_provisional_year(2027) and not CAL.is_provisional_year(2026)
    assert CAL.add_working_days(at(2026, 12, 31), 1) == at(2027, 1, 4)
    assert CAL.working_time_between(at(2026, 12, 30), at(2027, 1, 1)) == timedelta(hours=38)
    assert CAL.provisional_years(at(2026, 12, 30), at(2027, 1, 4)) == (2027,)
    assert CAL.provisional_years(at(2026, 12, 1), at(2026, 12, 31)) == ()
    # The Spring Festival by rule (6-10 February 2027) is off; no swapped working day.
    assert not any(CAL.is_working_day(date(2027, 2, d)) for d in range(5, 11))
    assert not CAL.is_working_day(date(2027, 2, 20))  # a Saturday stays off
    # The last working day the library knows is still reachable.
    assert CAL.add_working_days(at(2026, 12, 30), 1) == at(2026, 12, 31)
    # Only a year the rule cannot compute either raises.
    with pytest.raises(CalendarOutOfRange, match="2101-01-01"):
        CAL.add_working_days(at(2100, 12, 31), 1)
