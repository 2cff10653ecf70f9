"""A scope of the reads (report days, office, region at any level, category, state) as a filter
on the issue facts, and the one region rule on a fact's view. Pure: the HTTP query parameters
that make a scope are parsed in `entrypoints/query.py`.

Days are local days (the service's time zone), both ends inclusive. A bad part of a scope is
a `ScopeError` naming the field; the HTTP edge answers it with a 422.
"""

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta, tzinfo
from typing import Any

from services.contracts.regions import CODE_RULE, level_of, lies_in, stem


class ScopeError(ValueError):
    """A scope the reads cannot take: which field, and why."""

    def __init__(self, field: str, reason: str) -> None:
        super().__init__(f"{field}: {reason}")
        self.field = field
        self.reason = reason


def checked_region(field: str, region_code: str | None) -> str | None:
    """`region_code` when it is a region code of a level the README names (ASCII digits of
    6, 9, 12 or 15), else a ScopeError naming `field`."""
    if region_code is not None and level_of(region_code) is None:
        raise ScopeError(field, CODE_RULE)
    return region_code


def containment(view: Mapping[str, Any]) -> tuple[Sequence[str], str | None]:
    """What `contracts.regions.lies_in` needs of a fact's view: the region path routing put on
    IssueTriaged (empty when it gave none or never triaged the issue), and the issue's code.
    The view's `region_path` falls back to the code alone; `by_path` says it came from routing."""
    path: Sequence[str] = (view.get("region_path") or ()) if view.get("by_path") else ()
    return path, view.get("region_code")


def lies_in_region(view: Mapping[str, Any], region_code: str | None) -> bool:
    """Whether the issue of this view lies in the region (None: every region): the one rule."""
    path, code = containment(view)
    return lies_in(path, code, region_code)


def in_region(region_code: str) -> list[dict[str, Any]]:
    """`lies_in` as a filter on view fields (the parts of an `$or`): on the path routing gave,
    else by the administrative division code (GB/T 2260: 411901002001 lies in 411901 and in
    411900). Unit tests check the two agree on sample facts."""
    by_path = {"by_path": True, "region_path": region_code}
    by_code = {
        "by_path": {"$ne": True},
        "region_code": {"$regex": f"^{re.escape(stem(region_code))}"},
    }
    return [by_path, by_code]


def _midnight(day: date, timezone: tzinfo) -> datetime:
    """The instant a local day starts."""
    return datetime.combine(day, time(), timezone)


def months_between(start: date, end: date) -> list[str]:
    """The months (YYYY-MM) from `start`'s to `end`'s."""
    out, year, month = [], start.year, start.month
    while (year, month) <= (end.year, end.month):
        out.append(f"{year:04d}-{month:02d}")
        year, month = (year + 1, 1) if month == 12 else (year, month + 1)
    return out


@dataclass(frozen=True)
class Scope:
    start: date | None = None
    end: date | None = None
    office_id: str | None = None
    region_code: str | None = None
    category: str | None = None
    state: str | None = None

    def __post_init__(self) -> None:
        checked_region("region_code", self.region_code)
        if self.start is not None and self.end is not None and self.start > self.end:
            raise ScopeError("end", f"end {self.end} is before start {self.start}")

    def query(self, timezone: tzinfo | None = None) -> dict[str, Any]:
        """The filter on view fields: reported in the period, in the scope. Given the service's
        time zone, the period is also a range of report instants (the index that orders a
        list reads only the period's rows)."""
        query: dict[str, Any] = {"reported_day": {"$ne": None}}
        if self.start or self.end:
            query["reported_day"] = {
                **({"$gte": self.start.isoformat()} if self.start else {}),
                **({"$lte": self.end.isoformat()} if self.end else {}),
            }
        if timezone is not None and (self.start or self.end):
            query["reported_at"] = {
                **({"$gte": _midnight(self.start, timezone)} if self.start else {}),
                **({"$lt": _midnight(self.end + timedelta(days=1), timezone)} if self.end else {}),
            }
        if self.start and self.end:  # an equality an index answers: the period's months
            query["reported_month"] = {"$in": months_between(self.start, self.end)}
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
