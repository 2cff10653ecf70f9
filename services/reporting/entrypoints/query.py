"""The scope of a read as HTTP query parameters: `start`/`end` (report days, inclusive) or
`period=day|week|month` with `on=<date>`, `office_id`, `region_code`, `category`, `state`.
A bad one is a ScopeError naming the field (a 422, see errors.py)."""

from datetime import date
from enum import StrEnum
from typing import Annotated

from fastapi import Depends, Query

from services.contracts.days import Day
from services.contracts.vocabulary import IssueState
from services.reporting.domain.period import Period
from services.reporting.domain.scope import Scope, ScopeError, checked_region


class PeriodKind(StrEnum):
    DAY = "day"
    WEEK = "week"
    MONTH = "month"


REGION_DESCRIPTION = "a region code at any level: 6 (city, county), 9, 12 or 15 digits"


def period(
    start: Annotated[Day | None, Query(description="first report day (inclusive)")] = None,
    end: Annotated[Day | None, Query(description="last report day (inclusive)")] = None,
    period: Annotated[
        PeriodKind | None, Query(description="day, week or month around `on`")
    ] = None,
    on: Annotated[Day | None, Query(description="a day inside the period")] = None,
) -> tuple[date | None, date | None]:
    if period is not None or on is not None:
        if period is None:
            raise ScopeError("period", "`on` needs `period` (day, week or month)")
        if on is None:
            raise ScopeError("on", "`period` needs `on`, a day inside the period")
        if start is not None or end is not None:
            raise ScopeError("period", "give either `period` and `on`, or `start` and `end`")
        around = Period.around(period.value, on)
        return around.start, around.end
    if start is not None and end is not None and start > end:
        raise ScopeError("end", f"end {end} is before start {start}")
    return start, end


def region(
    region_code: Annotated[str | None, Query(min_length=1, description=REGION_DESCRIPTION)] = None,
) -> str | None:
    return checked_region("region_code", region_code)


def scope(
    days: Annotated[tuple[date | None, date | None], Depends(period)],
    region_code: Annotated[str | None, Depends(region)],
    office_id: Annotated[
        str | None, Query(min_length=1, description="the current lead office")
    ] = None,
    category: Annotated[str | None, Query(min_length=1)] = None,
) -> Scope:
    return Scope(days[0], days[1], office_id, region_code, category)


def scope_with_state(
    base: Annotated[Scope, Depends(scope)],
    state: Annotated[IssueState | None, Query(description="the issue's current state")] = None,
) -> Scope:
    return Scope(**{**base.__dict__, "state": state.value if state else None})
