"""Supervision's HTTP side: read-only views of the clocks, and a supervisor's extension decision.

The decision endpoint publishes `ExtensionDecided` (id derived from the request, so a
retried call publishes the same event once) and answers once Kafka acknowledged it; the
clock moves when the event comes back through the log, like every other change.
"""

from typing import Annotated, Any

from fastapi import APIRouter, HTTPException, Query
from pydantic import BaseModel, ConfigDict, Field

from services.contracts.vocabulary import ClockKind, Level
from services.runtime.broker import EventPublisher
from services.supervision.notices import extension_decided
from services.supervision.rules import Rules
from services.supervision.store import ClockStore
from services.supervision.timesource import Now
from services.supervision.views import clock_view, history_view, open_clocks, overdue_list

__all__ = ["ExtensionDecisionIn", "build_router"]

MAX_ROWS = 5000


class ExtensionDecisionIn(BaseModel):
    """A supervisor's decision on an extension request the rule left to them."""

    model_config = ConfigDict(extra="forbid")

    granted: bool
    working_days: int | None = Field(
        default=None, gt=0, description="working days granted; default: what was asked"
    )
    decided_by: str = Field(min_length=1, description="the supervisor deciding")
    reason: str = Field(min_length=1)
    request_id: str | None = Field(
        default=None, description="the ExtensionRequested event id; default: the latest waiting"
    )


def build_router(store: ClockStore, publisher: EventPublisher, rules: Rules, now: Now) -> APIRouter:
    router = APIRouter(tags=["clocks"])
    calendar = rules.calendar

    @router.get("/issues/{issue_id}/clocks")
    async def clocks(issue_id: str) -> list[dict[str, Any]]:
        """Every clock the issue has had, oldest first, with its steps."""
        loaded = await store.load(issue_id)
        if loaded is None:
            return []
        record, at = loaded[0], now()
        return [clock_view(record, clock, calendar, at) for clock in record.clocks.clocks]

    @router.get("/issues/{issue_id}/clock-history")
    async def clock_history(issue_id: str) -> dict[str, Any]:
        """The issue's clocks, extension requests and what happened to them, in order."""
        loaded = await store.load(issue_id)
        if loaded is None:
            raise HTTPException(404, f"supervision knows no issue {issue_id}")
        return history_view(loaded[0], calendar, now())

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
        rows = open_clocks(records, calendar, at, kind=clock)
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
        return overdue_list([r async for r in store.records(match, limit=limit)], calendar, at)

    @router.post("/issues/{issue_id}/extension-decision", status_code=202)
    async def decide(issue_id: str, decision: ExtensionDecisionIn) -> dict[str, Any]:
        """Decide an extension request the rule referred to a supervisor (延期审批)."""
        loaded = await store.load(issue_id)
        if loaded is None:
            raise HTTPException(404, f"supervision knows no issue {issue_id}")
        record = loaded[0]
        request = record.awaiting(decision.request_id)
        if request is None:
            raise HTTPException(409, "no extension request of this issue awaits a supervisor")
        days = decision.working_days or request.working_days
        event = extension_decided(
            issue_id=issue_id,
            request_id=request.request_id,
            granted=decision.granted,
            working_days=days,
            decided_by=decision.decided_by,
            reason=decision.reason,
            at=now(),
            correlation_id=record.correlation_id,
        )
        await publisher.publish(event)
        return {
            "event_id": str(event.event_id),
            "request_id": request.request_id,
            "granted": event.payload.granted,
            "working_days": event.payload.working_days,
        }

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
