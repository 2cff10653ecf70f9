"""The calendar supplement: years the calendar library does not know yet, declared by operators.

chinesecalendar ships the State Council's holiday schedule (国务院办公厅关于部分节假日安排的
通知) year by year, usually some weeks after the notice is published in the autumn. Until a
release with next year's schedule is installed, operators declare the year here, from the
notice: its public holidays (the days off, 放假) and its swapped working days (the weekend
days worked instead, 调休上班). In a declared year a day is a working day when it is a
swapped working day, or a Monday to Friday that is not a holiday.

The file (`deploy/config/calendar.yaml`, setting `HUIYIN_SUPERVISION_CALENDAR`)::

    years:
      2027:
        note: 国办发明电〔2026〕N 号      # optional: where the schedule comes from
        holidays: [2027-01-01, 2027-02-06..2027-02-12]   # days off; `A..B` is a range
        workdays: [2027-02-20]                            # weekend days worked (调休)

It is checked when supervision starts, and every problem names the file, the year and the
date: a date outside its year, a date listed both as a holiday and as a working day, a
swapped working day that is not a Saturday or Sunday, and a year the library already knows
whose declaration disagrees with the library (a declaration that agrees is harmless, so the
file may stay after the library catches up).
"""

from __future__ import annotations

import calendar as gregorian
from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any

from services.supervision.domain.calendar import CalendarOutOfRange, is_working_day, known_years

__all__ = [
    "CalendarSupplement",
    "CalendarSupplementError",
    "DeclaredYear",
    "parse_supplement",
]

YEAR_KEYS = frozenset({"holidays", "workdays", "note"})
SHOWN_DISAGREEMENTS = 5


@dataclass(frozen=True)
class DeclaredYear:
    """One declared year: its days off besides weekends and its weekend days worked."""

    year: int
    holidays: frozenset[date]
    workdays: frozenset[date]

    def working_day(self, day: date) -> bool:
        if day in self.workdays:
            return True
        return day.weekday() < 5 and day not in self.holidays


@dataclass(frozen=True)
class CalendarSupplement:
    """The years declared next to the library (empty: the library's years only)."""

    declared: tuple[DeclaredYear, ...] = ()
    source: str = "<supplement>"

    @property
    def years(self) -> tuple[int, ...]:
        return tuple(sorted(d.year for d in self.declared))

    def working_day(self, day: date) -> bool | None:
        """Whether `day` is a working day; None when its year is not declared here."""
        for declared in self.declared:
            if declared.year == day.year:
                return declared.working_day(day)
        return None


class CalendarSupplementError(ValueError):
    """The supplement is invalid; `problems` pairs each place (year, date) with the reason."""

    def __init__(self, source: str, problems: list[tuple[str, str]]) -> None:
        self.source = source
        self.problems = tuple(problems)
        lines = "\n".join(f"  {where}: {reason}" for where, reason in self.problems)
        super().__init__(f"invalid calendar supplement {source}:\n{lines}")


def parse_supplement(data: object, source: str = "<supplement>") -> CalendarSupplement:
    """Check an already parsed document (None or a mapping with `years`)."""
    if data is None:
        return CalendarSupplement(source=source)
    if not isinstance(data, dict) or set(data) - {"years"}:
        extra = sorted(map(str, set(data) - {"years"})) if isinstance(data, dict) else []
        reason = f"unknown keys {extra}" if extra else "must be a mapping with `years`"
        raise CalendarSupplementError(source, [("(document)", f"{reason} (only `years`)")])
    years = data.get("years") or {}
    if not isinstance(years, dict):
        raise CalendarSupplementError(source, [("years", "must map each year to its schedule")])
    problems: list[tuple[str, str]] = []
    declared = []
    for key, schedule in years.items():
        year = _year(key, problems)
        if year is not None:
            found = _declared_year(year, schedule, problems)
            if found is not None:
                declared.append(found)
    if problems:
        raise CalendarSupplementError(source, problems)
    return CalendarSupplement(tuple(sorted(declared, key=lambda d: d.year)), source)


def _year(key: object, problems: list[tuple[str, str]]) -> int | None:
    year = key if isinstance(key, int) else int(str(key)) if str(key).isdigit() else None
    if year is None or not 1900 <= year <= 2200:
        problems.append((f"years.{key}", "a year is a number from 1900 to 2200"))
        return None
    return year


def _declared_year(
    year: int, schedule: object, problems: list[tuple[str, str]]
) -> DeclaredYear | None:
    if not isinstance(schedule, dict) or set(schedule) - YEAR_KEYS:
        extra = sorted(map(str, set(schedule) - YEAR_KEYS)) if isinstance(schedule, dict) else []
        why = f"unknown keys {extra}" if extra else "must be a mapping"
        problems.append((str(year), f"{why} (holidays, workdays, note)"))
        return None
    before = len(problems)
    holidays = _days(year, "holidays", schedule.get("holidays"), problems)
    workdays = _days(year, "workdays", schedule.get("workdays"), problems)
    for day in sorted(holidays & workdays):
        problems.append(
            (f"{year} {day}", "listed both as a holiday (day off) and as a swapped working day")
        )
    for day in sorted(workdays):
        if day.weekday() < 5:
            name = gregorian.day_name[day.weekday()]
            problems.append(
                (f"{year} {day}", f"a swapped working day is a Saturday or Sunday, not a {name}")
            )
    if len(problems) > before:
        return None
    declared = DeclaredYear(year, frozenset(holidays), frozenset(workdays))
    _agrees_with_the_library(declared, problems)
    return declared


def _days(year: int, field: str, listed: object, problems: list[tuple[str, str]]) -> set[date]:
    if listed is None:
        return set()
    if not isinstance(listed, list):
        problems.append((f"{year} {field}", "must be a list of dates (YYYY-MM-DD or A..B)"))
        return set()
    days: set[date] = set()
    for item in listed:
        try:
            found = _dates(item)
        except ValueError as bad:
            problems.append((f"{year} {field} {item!r}", str(bad)))
            continue
        for day in found:
            if day.year != year:
                problems.append((f"{year} {day}", f"is outside its year ({field} of {year})"))
        days |= {day for day in found if day.year == year}
    return days


def _dates(item: Any) -> list[date]:
    """The dates of one entry: a date, or a range `A..B` (both included)."""
    if isinstance(item, date):
        return [item]
    text = str(item).strip()
    first, dots, last = text.partition("..")
    try:
        start = date.fromisoformat(first.strip())
        end = date.fromisoformat(last.strip()) if dots else start
    except ValueError:
        raise ValueError(
            "not a date: write YYYY-MM-DD, or a range YYYY-MM-DD..YYYY-MM-DD"
        ) from None
    if end < start:
        raise ValueError("a range must not end before it starts")
    return [start + timedelta(days=n) for n in range((end - start).days + 1)]


def _agrees_with_the_library(declared: DeclaredYear, problems: list[tuple[str, str]]) -> None:
    """A year the library knows may be declared, but only as the library has it."""
    first, last = known_years()
    if not first <= declared.year <= last:
        return
    day, differ = date(declared.year, 1, 1), []
    while day.year == declared.year:
        try:
            library = is_working_day(day)
        except CalendarOutOfRange:
            return  # the library's data stops inside the year: nothing to compare with
        if declared.working_day(day) != library:
            differ.append((day, library))
        day += timedelta(days=1)
    for day, library in differ[:SHOWN_DISAGREEMENTS]:
        says = "a working day" if library else "a day off"
        problems.append(
            (
                f"{declared.year} {day}",
                f"the installed chinesecalendar knows {declared.year} and says {day} is {says}; "
                "the supplement disagrees (remove the year, or correct it)",
            )
        )
    if len(differ) > SHOWN_DISAGREEMENTS:
        more = len(differ) - SHOWN_DISAGREEMENTS
        problems.append((str(declared.year), f"and {more} more day(s) disagree with the library"))
