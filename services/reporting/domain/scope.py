"""A scope (office, region at any level, category, state) and a period (report days), as
query parameters and as a filter on the issue facts. Days are local days (the service's
time zone); `period=day|week|month` with `on=<date>` is the day, the ISO week (Monday to
Sunday) or the calendar month around `on`; otherwise `start`..`end`, both inclusive."""

import calendar
import re
from dataclasses import dataclass
from datetime import date, timedelta
from enum import StrEnum
from typing import Annotated, Any

from fastapi import Depends, HTTPException, Query

from services.contracts.regions import stem
from services.contracts.vocabulary import IssueState


class PeriodKind(StrEnum):
    DAY = "day"
    WEEK = "week"
    MONTH = "month"


def invalid(field: str, reason: str) -> HTTPException:
    """A 422 shaped like FastAPI's own: which query field, and why."""
    detail = [{"loc": ["query", field], "msg": reason, "type": "value_error"}]
    return HTTPException(status_code=422, detail=detail)


def period_days(kind: PeriodKind, on: date) -> tuple[date, date]:
    match kind:
        case PeriodKind.DAY:
            return on, on
        case PeriodKind.WEEK:
            monday = on - timedelta(days=on.weekday())
            return monday, monday + timedelta(days=6)
        case PeriodKind.MONTH:
            last = calendar.monthrange(on.year, on.month)[1]
            return on.replace(day=1), on.replace(day=last)


def in_region(region_code: str) -> list[dict[str, Any]]:
    """An issue lies in a region (any level) when the code is on its region path (routing
    puts the path from the city down on IssueTriaged); an issue never triaged (answered at
    intake, 直办) has no path, and lies in the regions whose administrative division code
    (GB/T 2260) its own code falls under: 411901002001 in 411901 and in 411900 — as the
    bulletins count it."""
    untriaged = {
        "tier": {"$exists": False},
        "region_code": {"$regex": f"^{re.escape(stem(region_code))}"},
    }
    return [{"region_path": region_code}, untriaged]


@dataclass(frozen=True)
class Scope:
    start: date | None = None
    end: date | None = None
    office_id: str | None = None
    region_code: str | None = None
    category: str | None = None
    state: str | None = None

    def query(self) -> dict[str, Any]:
        """The filter on view fields: reported in the period, in the scope."""
        query: dict[str, Any] = {"reported_day": {"$ne": None}}
        if self.start or self.end:
            query["reported_day"] = {
                **({"$gte": self.start.isoformat()} if self.start else {}),
                **({"$lte": self.end.isoformat()} if self.end else {}),
            }
        if self.office_id is not None:
            query["office_id"] = self.office_id
        if self.region_code is not None:
            query["$or"] = in_region(self.region_code)
        if self.category is not None:
            query["category"] = self.category
        if self.state is not None:
            query["state"] = self.state
        return query

    def described(self) -> dict[str, Any]:
        return {
            "start": self.start,
            "end": self.end,
            "office_id": self.office_id,
            "region_code": self.region_code,
            "category": self.category,
        } | ({"state": self.state} if self.state is not None else {})


def period(
    start: Annotated[date | None, Query(description="first report day (inclusive)")] = None,
    end: Annotated[date | None, Query(description="last report day (inclusive)")] = None,
    period: Annotated[
        PeriodKind | None, Query(description="day, week or month around `on`")
    ] = None,
    on: Annotated[date | None, Query(description="a day inside the period")] = None,
) -> tuple[date | None, date | None]:
    if period is not None or on is not None:
        if period is None:
            raise invalid("period", "`on` needs `period` (day, week or month)")
        if on is None:
            raise invalid("on", "`period` needs `on`, a day inside the period")
        if start is not None or end is not None:
            raise invalid("period", "give either `period` and `on`, or `start` and `end`")
        return period_days(period, on)
    if start is not None and end is not None and start > end:
        raise invalid("end", f"end {end} is before start {start}")
    return start, end


def scope(
    start: Annotated[date | None, Query(description="first report day (inclusive)")] = None,
    end: Annotated[date | None, Query(description="last report day (inclusive)")] = None,
    period_: Annotated[
        PeriodKind | None, Query(alias="period", description="day, week or month")
    ] = None,
    on: Annotated[date | None, Query(description="a day inside the period")] = None,
    office_id: Annotated[
        str | None, Query(min_length=1, description="the current lead office")
    ] = None,
    region_code: Annotated[
        str | None, Query(min_length=1, description="a region at any level")
    ] = None,
    category: Annotated[str | None, Query(min_length=1)] = None,
) -> Scope:
    first, last = period(start, end, period_, on)
    return Scope(first, last, office_id, region_code, category)


def scope_with_state(
    base: Annotated[Scope, Depends(scope)],
    state: Annotated[IssueState | None, Query(description="the issue's current state")] = None,
) -> Scope:
    return Scope(**{**base.__dict__, "state": state.value if state else None})
