from datetime import UTC, date, datetime
from zoneinfo import ZoneInfo

import pytest

from services.supervision.domain import CalendarOutOfRange, add_working_days, is_working_day

SHANGHAI = ZoneInfo("Asia/Shanghai")


def at(y: int, m: int, d: int, h: int = 10) -> datetime:
    return datetime(y, m, d, h, tzinfo=SHANGHAI)


@pytest.mark.parametrize(
    ("start", "days", "due"),
    [
        (at(2026, 11, 20), 1, at(2026, 11, 23)),  # Friday → Monday
        (at(2026, 11, 23), 3, at(2026, 11, 26)),  # plain weekdays
        (at(2026, 9, 30), 1, at(2026, 10, 8)),  # across the National Day break (Oct 1-7)
        (at(2026, 2, 13), 2, at(2026, 2, 24)),  # Sat Feb 14 is swapped in, then Spring Festival
    ],
)
def test_known_dates(start: datetime, days: int, due: datetime) -> None:
    assert add_working_days(start, days, SHANGHAI) == due


def test_a_swapped_weekend_day_is_a_working_day() -> None:
    assert is_working_day(date(2026, 10, 10))  # Saturday, worked for the National Day break


def test_the_deadline_keeps_the_callers_timezone() -> None:
    start = datetime(2026, 11, 20, 2, 0, tzinfo=UTC)  # 10:00 in Shanghai, Friday
    assert add_working_days(start, 1, SHANGHAI) == datetime(2026, 11, 23, 2, 0, tzinfo=UTC)


def test_a_year_the_calendar_does_not_know_is_an_explicit_error() -> None:
    with pytest.raises(CalendarOutOfRange, match="2099"):
        add_working_days(at(2099, 3, 2), 1, SHANGHAI)
