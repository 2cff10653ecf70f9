"""The one period arithmetic of reporting: a day, an ISO week or a calendar month of local
days, and when the scheduled bulletins fall due. Pure.

The reads' `period=day|week|month` with `on=<date>` is `Period.around(kind, on)`. A weekly
bulletin (周通报) covers an ISO week, Monday to Sunday; a monthly report (月报告) a
calendar month; both in local days of the configured timezone. A schedule names when each is
due (`mon 08:00`, `1 08:00`, local time); at that time the bulletin of the last whole period
before the due day is written.
"""

import re
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from typing import Literal
from zoneinfo import ZoneInfo

from services.contracts.days import EARLIEST, LATEST, OUT_OF_RANGE

PeriodKind = Literal["day", "week", "month"]

WEEKDAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")


@dataclass(frozen=True)
class Period:
    """A day, a whole ISO week or a calendar month of local days, `start` to `end` inclusive."""

    kind: PeriodKind
    start: date
    end: date

    @classmethod
    def around(cls, kind: PeriodKind, on: date) -> "Period":
        """The day, the ISO week (Monday to Sunday) or the calendar month holding `on`."""
        if kind == "day":
            return cls("day", on, on)
        if kind == "week":
            return cls.week_of(on)
        return cls.month_of(on.year, on.month)

    @classmethod
    def week_of(cls, day: date) -> "Period":
        monday = day - timedelta(days=day.weekday())
        return cls("week", monday, monday + timedelta(days=6))

    @classmethod
    def month_of(cls, year: int, month: int) -> "Period":
        first = date(year, month, 1)
        following = date(year + month // 12, month % 12 + 1, 1)
        return cls("month", first, following - timedelta(days=1))

    @property
    def label(self) -> str:
        """`2026-W47`, `2026-11` or `2026-11-18`: the same for the same period (file names)."""
        if self.kind == "day":
            return self.start.isoformat()
        if self.kind == "week":
            year, week, _ = self.start.isocalendar()
            return f"{year}-W{week:02d}"
        return f"{self.start.year}-{self.start.month:02d}"

    @property
    def title(self) -> str:
        span = f"（{self.start.isoformat()} 至 {self.end.isoformat()}）"
        if self.kind == "day":
            return f"{self.start.year}年{self.start.month}月{self.start.day}日"
        if self.kind == "week":
            year, week, _ = self.start.isocalendar()
            return f"{year}年第{week}周{span}"
        return f"{self.start.year}年{self.start.month}月{span}"

    @property
    def days(self) -> list[date]:
        return [self.start + timedelta(days=n) for n in range((self.end - self.start).days + 1)]

    def before(self) -> "Period":
        """The period of the same kind just before this one."""
        return Period.around(self.kind, self.start - timedelta(days=1))


def parse_month(text: str) -> Period:
    """`YYYY-MM` → that month; ValueError otherwise."""
    found = re.fullmatch(r"([0-9]{4})-([0-9]{2})", text.strip())
    if not found or not 1 <= int(found[2]) <= 12:
        raise ValueError("expected a month as YYYY-MM")
    if not EARLIEST.year <= int(found[1]) <= LATEST.year:
        raise ValueError(OUT_OF_RANGE)
    return Period.month_of(int(found[1]), int(found[2]))


@dataclass(frozen=True)
class Due:
    """When a kind of bulletin falls due: a weekday (week) or a day of the month, at a time."""

    kind: Literal["week", "month"]
    day: int  # ISO weekday 1–7 for a week; day of the month 1–28 for a month
    at: time

    @classmethod
    def parse(cls, kind: Literal["week", "month"], text: str) -> "Due":
        """`mon 08:00` for a week, `1 08:00` for a month (a day past 28 would skip months)."""
        found = re.fullmatch(r"\s*(\w+)\s+([0-9]{1,2}):([0-9]{2})\s*", text)
        if not found or int(found[2]) > 23 or int(found[3]) > 59:
            raise ValueError(f"expected '<day> HH:MM', got {text!r}")
        at = time(int(found[2]), int(found[3]))
        word = found[1].lower()
        if kind == "week":
            if word[:3] not in WEEKDAYS:
                raise ValueError(f"expected a weekday (mon … sun), got {found[1]!r}")
            return cls(kind, WEEKDAYS.index(word[:3]) + 1, at)
        if not re.fullmatch(r"[0-9]+", word) or not 1 <= int(word) <= 28:
            raise ValueError(f"expected a day of the month 1–28, got {found[1]!r}")
        return cls(kind, int(word), at)

    def falls_on(self, day: date) -> bool:
        return (day.isoweekday() if self.kind == "week" else day.day) == self.day

    def latest(self, now: datetime, timezone: ZoneInfo) -> datetime:
        """The last due time at or before `now` (aware, in `timezone`)."""
        local = now.astimezone(timezone)
        for back in range(32):
            day = local.date() - timedelta(days=back)
            due = datetime.combine(day, self.at, timezone)
            if self.falls_on(day) and due <= local:
                return due
        raise AssertionError("a due day falls within any 32 days")

    def next(self, now: datetime, timezone: ZoneInfo) -> datetime:
        """The first due time strictly after `now`."""
        local = now.astimezone(timezone)
        for ahead in range(33):
            day = local.date() + timedelta(days=ahead)
            due = datetime.combine(day, self.at, timezone)
            if self.falls_on(day) and due > local:
                return due
        raise AssertionError("a due day falls within any 32 days")

    def period(self, due: datetime, timezone: ZoneInfo) -> Period:
        """The last whole period that ended before the due day."""
        return Period.around(self.kind, due.astimezone(timezone).date()).before()
