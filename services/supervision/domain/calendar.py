"""Working time on the Chinese calendar: the arithmetic behind every supervision clock. Pure.

Which days count comes from the maintained `chinesecalendar` library (import name
`chinese_calendar`): weekends are off, public holidays are off, and the weekend days
swapped into working days (调休) are working days. Nothing here knows a holiday itself.

Known years
-----------
The library ships the State Council's schedule year by year. chinesecalendar 1.11.0
knows 2004-2026 only. Operators declare a year the library does not know yet in the
calendar supplement (`calendar_supplement`, `deploy/config/calendar.yaml`, setting
`HUIYIN_SUPERVISION_CALENDAR`): its public holidays and its swapped working days, as
the State Council publishes them. A year is known if the library knows it or the
supplement declares it (the supplement wins, and may only agree with the library on a
year both know). A year neither knows is *provisional*: its working days follow the rule of
`provisional` (weekends and China's statutory holidays by rule, no swapped working day), so
supervision never stops for want of a calendar; `provisional_years` says which years of a
span were computed that way, so clocks using them are marked and recomputed once the year is
declared. Only a year the rule cannot compute either (before 1950, after 2100) raises
`CalendarOutOfRange` (a `ValueError` naming the date, the known years and what to do).

The time model
--------------
Working time is measured in *working days*, and every working day counts whole: all
24 local wall-clock hours of a working day count, no hour of a day off does. Read
`W(t)` as "working time elapsed up to instant t" (local time of the configured zone,
Asia/Shanghai by default); it rises during working days and stands still on days off.

- `add_working_time(start, span)` is the instant t with `W(t) = W(start) + span`.
  Where several instants qualify (a span ending exactly at midnight before days off),
  it is the latest one: 00:00 of the next working day. So a result always lies on a
  working day, and the function is monotonic in both `start` and `span`.
- `add_working_days(start, n)` is that with `span = n days`. From an instant on a
  working day it is the same local time n working days later (assigned Friday 10:00,
  1 working day → Monday 10:00). From an instant on a day off the clock starts at
  00:00 of the next working day (assigned Saturday 10:00, 1 working day → Tuesday
  00:00, i.e. all of Monday), so a clock never gets less time by starting later.
- `working_time_between(a, b)` is `W(b) - W(a)`; adding it back is exact.
- "50% of a 3-working-day clock" is the instant `add_working_time(start, 1.5 days)`:
  from Monday 10:00 that is Tuesday 22:00; from Friday 10:00 it is Monday 22:00.

Counting in wall-clock hours is exact in a zone without daylight saving time, such as
Asia/Shanghai. Results keep the `tzinfo` of the instant they were computed from.
"""

from __future__ import annotations

from collections.abc import Callable, Hashable
from datetime import date, datetime, time, timedelta
from functools import cache, lru_cache
from typing import Any, Protocol, TypeVar
from zoneinfo import ZoneInfo

import chinese_calendar

from services.supervision.domain.provisional import provisional_working_day

T = TypeVar("T")

__all__ = [
    "SHANGHAI",
    "WORKING_DAY",
    "CalendarOutOfRange",
    "Supplement",
    "WorkingCalendar",
    "is_working_day",
    "known_years",
    "next_working_day",
]

SHANGHAI = ZoneInfo("Asia/Shanghai")
WORKING_DAY = timedelta(days=1)


class CalendarOutOfRange(ValueError):
    """Neither the calendar library nor the supplement knows the year of `day` (and, from
    `WorkingCalendar`, the provisional rule cannot compute it either)."""

    def __init__(
        self, day: date, first_year: int, last_year: int, declared: tuple[int, ...] = ()
    ) -> None:
        self.day = day
        self.first_year = first_year
        self.last_year = last_year
        self.declared = declared
        supplement = ", ".join(map(str, declared)) if declared else "no year"
        super().__init__(
            f"{day.isoformat()} is outside the Chinese working-day calendar: the installed "
            f"chinesecalendar knows the years {first_year}-{last_year} only and the calendar "
            f"supplement declares {supplement}, and the provisional rule covers 1950-2100 only; "
            f"no working day is guessed. Add {day.year}'s "
            "public holidays and swapped working days (调休) to the calendar supplement "
            "(HUIYIN_SUPERVISION_CALENDAR, deploy/config/calendar.yaml), or install a "
            "chinesecalendar release that has this year's holiday schedule"
        )


class Supplement(Protocol):
    """Years declared next to the library (see `calendar_supplement.CalendarSupplement`)."""

    @property
    def years(self) -> tuple[int, ...]: ...

    def working_day(self, day: date) -> bool | None:
        """Whether `day` is a working day, or None when the supplement does not declare its
        year."""
        ...


@cache
def known_years() -> tuple[int, int]:
    """The first and last year whose holidays and swapped working days the library knows."""
    years = [day.year for day in chinese_calendar.holidays]
    return min(years), max(years)


@lru_cache(maxsize=16_384)
def is_working_day(day: date) -> bool:
    """Whether people work on `day` in China (swapped weekend working days included), by the
    library alone (`WorkingCalendar.is_working_day` also reads the supplement)."""
    if isinstance(day, datetime):
        day = day.date()
    first, last = known_years()
    if not first <= day.year <= last:
        raise CalendarOutOfRange(day, first, last)
    try:
        return bool(chinese_calendar.is_workday(day))
    except NotImplementedError as unknown:  # the library's own range check, as a backstop
        raise CalendarOutOfRange(day, first, last) from unknown


def next_working_day(day: date) -> date:
    """The first working day strictly after `day`."""
    day += timedelta(days=1)
    while not is_working_day(day):
        day += timedelta(days=1)
    return day


class WorkingCalendar:
    """Working-time arithmetic in one time zone (see the module's time model), on the
    library's years and those `supplement` declares."""

    __slots__ = ("_assumed", "_days", "_declared", "_memo", "_sums", "_supplement", "_timezone")

    def __init__(
        self,
        timezone: ZoneInfo | str = SHANGHAI,
        supplement: Supplement | None = None,
        *,
        assume_provisional: frozenset[int] = frozenset(),
    ) -> None:
        self._timezone = ZoneInfo(timezone) if isinstance(timezone, str) else timezone
        self._supplement = supplement
        self._assumed = frozenset(assume_provisional)
        self._declared = frozenset(supplement.years) if supplement is not None else frozenset()
        self._days: dict[date, bool] = {}
        """Memo of `is_working_day` (the calendar never changes)."""
        self._sums: dict[tuple[datetime, timedelta], datetime] = {}
        """Memo of `add_working_time`: a clock's steps are computed again and again."""
        self._memo: dict[Hashable, Any] = {}
        """Memo of what callers compute on this calendar (`remembered`)."""

    def assuming_provisional(self, years: frozenset[int]) -> WorkingCalendar:
        """This calendar as it was before `years` were declared: those years provisional
        (to recompute the schedule a clock ran on before a declaration)."""
        return WorkingCalendar(self._timezone, self._supplement, assume_provisional=years)

    def is_provisional_year(self, year: int) -> bool:
        """Whether `year`'s working days come from the provisional rule (neither the library
        nor the supplement knows it)."""
        if year in self._assumed:
            return True
        if year in self._declared:
            return False
        first, last = known_years()
        return not first <= year <= last

    def provisional_years(self, start: datetime, end: datetime) -> tuple[int, ...]:
        """The provisional years among those of the local dates from `start` to `end`."""
        first, last = self._local(start).year, self._local(end).year
        lo, hi = min(first, last), max(first, last)
        return tuple(year for year in range(lo, hi + 1) if self.is_provisional_year(year))

    @property
    def timezone(self) -> ZoneInfo:
        return self._timezone

    @property
    def supplement(self) -> Supplement | None:
        return self._supplement

    def __repr__(self) -> str:
        return f"WorkingCalendar({self._timezone.key!r}, supplement={self._supplement!r})"

    def __eq__(self, other: object) -> bool:
        return (
            isinstance(other, WorkingCalendar)
            and other._timezone == self._timezone
            and other._supplement == self._supplement
            and other._assumed == self._assumed
        )

    def __hash__(self) -> int:
        return hash((self._timezone, self._supplement, self._assumed))

    def remembered(self, key: Hashable, compute: Callable[[], T]) -> T:
        """`compute()`, remembered under `key` for this calendar (which never changes): for
        a pure function of `key` and the calendar, such as a clock's steps."""
        if key in self._memo:
            found: T = self._memo[key]
            return found
        if len(self._memo) >= _MEMO:
            self._memo.clear()
        value = self._memo[key] = compute()
        return value

    def is_working_day(self, day: date) -> bool:
        """Whether people work on `day`: the supplement's word for a year it declares, else
        the library's, else the provisional rule's; `CalendarOutOfRange` when none can tell."""
        if isinstance(day, datetime):
            day = day.date()
        known = self._days.get(day)
        if known is None:
            known = self._days[day] = self._is_working_day(day)
        return known

    def _is_working_day(self, day: date) -> bool:
        if self.is_provisional_year(day.year):
            provisional = provisional_working_day(day)
            if provisional is not None:
                return provisional
            first, last = known_years()
            declared = self._supplement.years if self._supplement is not None else ()
            raise CalendarOutOfRange(day, first, last, declared)
        if self._supplement is not None:
            found = self._supplement.working_day(day)
            if found is not None:
                return found
        return is_working_day(day)

    def next_working_day(self, day: date) -> date:
        """The first working day strictly after `day`."""
        day += timedelta(days=1)
        while not self.is_working_day(day):
            day += timedelta(days=1)
        return day

    def is_working_instant(self, instant: datetime) -> bool:
        """Whether `instant` falls on a working day in this calendar's zone."""
        return self.is_working_day(self._local(instant).date())

    def add_working_days(self, start: datetime, days: int) -> datetime:
        """`days` working days after `start`: the same local time on a working-day start."""
        if days < 0:
            raise ValueError(f"working days must not be negative, got {days}")
        return self.add_working_time(start, days * WORKING_DAY)

    def add_working_time(self, start: datetime, span: timedelta) -> datetime:
        """The latest instant with exactly `span` of working time after `start`."""
        if span < timedelta(0):
            raise ValueError(f"working time must not be negative, got {span}")
        key = (start, span)
        found = self._sums.get(key)
        if found is None:
            if len(self._sums) >= _MEMO:
                self._sums.clear()
            found = self._sums[key] = self._add_working_time(start, span)
        return found.astimezone(start.tzinfo)

    def _add_working_time(self, start: datetime, span: timedelta) -> datetime:
        local = self._local(start)
        day = local.date()
        if self.is_working_day(day):
            remaining = span + _since_midnight(local)
        else:
            remaining = span
            day = self.next_working_day(day)
        while remaining >= WORKING_DAY:
            remaining -= WORKING_DAY
            day = self.next_working_day(day)
        result = datetime.combine(day, time(), tzinfo=self._timezone) + remaining
        return result.astimezone(start.tzinfo)

    def working_time_between(self, start: datetime, end: datetime) -> timedelta:
        """The working time from `start` to `end` (negative when `end` is earlier)."""
        if end < start:
            return -self.working_time_between(end, start)
        first, last = self._local(start), self._local(end)
        total = -self._worked_today(first) + self._worked_today(last)
        day = first.date()
        while day < last.date():
            if self.is_working_day(day):
                total += WORKING_DAY
            day += timedelta(days=1)
        return total

    def _worked_today(self, local: datetime) -> timedelta:
        return _since_midnight(local) if self.is_working_day(local.date()) else timedelta(0)

    def _local(self, instant: datetime) -> datetime:
        if instant.tzinfo is None or instant.utcoffset() is None:
            raise ValueError(f"an aware datetime is required, got the naive {instant.isoformat()}")
        return instant.astimezone(self._timezone)


_MEMO = 100_000


def _since_midnight(local: datetime) -> timedelta:
    return local.replace(tzinfo=None) - datetime.combine(local.date(), time())
