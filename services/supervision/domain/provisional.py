"""Provisional working days: the rule for a year no calendar knows yet. Pure.

Until the State Council publishes a year's schedule and an operator declares it (see
`calendar_supplement`), supervision must not stop: a day of such a year is a working day
when it is a Monday to Friday that is not one of China's statutory holidays as the maintained
`holidays` package computes them by rule (`holidays.China(years=Y)`: New Year, the Spring
Festival, Qingming, Labour Day, the Dragon Boat Festival, Mid-Autumn, National Day, by the
lunar calendar and the statutory number of days). The swapped working days (调休) cannot be
known before the notice, so none is assumed. Clocks computed on such a year are marked
provisional and recomputed when the year is declared.
"""

from __future__ import annotations

from datetime import date
from functools import cache

from holidays.countries.china import China

__all__ = ["FIRST_RULE_YEAR", "LAST_RULE_YEAR", "provisional_holidays", "provisional_working_day"]

FIRST_RULE_YEAR: int = China.start_year
LAST_RULE_YEAR: int = China.end_year


@cache
def provisional_holidays(year: int) -> frozenset[date]:
    """China's statutory days off of `year` by rule (empty outside the rule's years)."""
    if not FIRST_RULE_YEAR <= year <= LAST_RULE_YEAR:
        return frozenset()
    return frozenset(China(years=year))  # type: ignore[no-untyped-call]


def provisional_working_day(day: date) -> bool | None:
    """Whether `day` is a working day by the provisional rule; None when the rule cannot
    compute its year."""
    if not FIRST_RULE_YEAR <= day.year <= LAST_RULE_YEAR:
        return None
    return day.weekday() < 5 and day not in provisional_holidays(day.year)
