"""Supervision's HTTP side: read-only views of the clocks.

Nothing here changes a clock. A supervisor's decision on an extension request the rule
referred to them enters through intake, the front door that knows the principals
(`POST /issues/{id}/extension-decision` there, role supervisor or admin); it arrives here
as `ExtensionDecided` on the log, like every other change (`extension_requests`).
"""

from collections.abc import Callable
from typing import Annotated, Any

from fastapi import APIRouter, HTTPException, Query

from services.contracts.vocabulary import ClockKind, Level
from services.supervision.rules import Rules
from services.supervision.store import ClockStore
from services.supervision.timesource import Now
from services.supervision.views import clock_view, history_view, open_clocks, overdue_list

__all__ = ["build_router"]

MAX_ROWS = 5000


def build_router(store: ClockStore, rules: Callable[[], Rules], now: Now) -> APIRouter:
    """`rules` gives the rules in force (a calendar reload replaces them)."""
    router = APIRouter(tags=["clocks"])

    @router.get("/issues/{issue_id}/clocks")
    async def clocks(issue_id: str) -> list[dict[str, Any]]:
        """Every clock the issue has had, oldest first, with its steps."""
        loaded = await store.load(issue_id)
        if loaded is None:
            return []
        record, at, calendar = loaded[0], now(), rules().calendar
        return [clock_view(record, clock, calendar, at) for clock in record.clocks.clocks]

    @router.get("/issues/{issue_id}/clock-history")
    async def clock_history(issue_id: str) -> dict[str, Any]:
        """The issue's clocks, extension requests and what happened to them, in order."""
        loaded = await store.load(issue_id)
        if loaded is None:
            raise HTTPException(404, f"supervision knows no issue {issue_id}")
        return history_view(loaded[0], rules().calendar, now())

    @router.get("/clocks/open")
    async def open_list(
        office_id: str | None = None,
        region_code: str | None = None,
        level: Level | None = None,
        clock: ClockKind | None = None,
        limit: Annotated[int, Query(gt=0, le=MAX_ROWS)] = 500,
    ) -> dict[str, Any]:
        """Open clocks, earliest deadline first, by office, region and level (at most
        `limit` issues' clocks)."""
        match = _match(office_id, region_code, level)
        records = [r async for r in store.records(match, limit=limit)]
        at = now()
        rows = open_clocks(records, rules().calendar, at, kind=clock)
        return {"as_of": at, "count": len(rows), "clocks": rows[:limit]}

    @router.get("/clocks/overdue")
    async def overdue(
        office_id: str | None = None,
        region_code: str | None = None,
        level: Level | None = None,
        limit: Annotated[int, Query(gt=0, le=MAX_ROWS)] = MAX_ROWS,
    ) -> dict[str, Any]:
        """Open clocks past their deadline (longest overdue first), counted by office and flag."""
        at = now()
        match = _match(office_id, region_code, level) | {"deadline": {"$lte": at}}
        found = [r async for r in store.records(match, limit=limit)]
        return overdue_list(found, rules().calendar, at)

    return router


def _match(office_id: str | None, region_code: str | None, level: Level | None) -> dict[str, Any]:
    match: dict[str, Any] = {"open": True}
    if office_id is not None:
        match["office_id"] = office_id
    if region_code is not None:
        match["region_code"] = region_code
    if level is not None:
        match["level"] = level.value
    return match
