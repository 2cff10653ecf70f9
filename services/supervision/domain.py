"""Supervision's rules: deadlines in working days on the Chinese calendar. Pure."""

from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

import chinese_calendar


class CalendarOutOfRange(ValueError):
    """The calendar library does not know the year: no deadline is guessed."""


def is_working_day(day: date) -> bool:
    try:
        return bool(chinese_calendar.is_workday(day))
    except NotImplementedError as unknown:
        raise CalendarOutOfRange(f"{day.isoformat()}: {unknown}") from unknown


def add_working_days(start: datetime, days: int, timezone: ZoneInfo) -> datetime:
    """The same local time of day, `days` working days after `start` (weekends, public
    holidays and swapped working days as the Chinese calendar has them)."""
    local = start.astimezone(timezone)
    day = local.date()
    remaining = days
    while remaining > 0:
        day += timedelta(days=1)
        if is_working_day(day):
            remaining -= 1
    return datetime.combine(day, local.timetz()).astimezone(start.tzinfo)
