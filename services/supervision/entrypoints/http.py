"""Supervision's HTTP side: read-only views of the clocks, and the one place where domain
errors become statuses (`register_errors`).

Nothing here changes a clock. A supervisor's decision on an extension request the rule
referred to them enters through intake, the front door that knows the principals
(`POST /issues/{id}/extension-decision` there, role supervisor or admin); it arrives here
as `ExtensionDecided` on the log, like every other change (`domain.extension_requests`).
"""

from typing import Annotated, Any

from fastapi import APIRouter, FastAPI, Query, Request
from fastapi.responses import JSONResponse

from services.contracts.regions import RegionCode
from services.contracts.vocabulary import ClockKind, Level
from services.supervision.domain.errors import UnknownIssue
from services.supervision.domain.issue_clocks import IssueClosedError
from services.supervision.handlers import MAX_ROWS, ClockViews

__all__ = ["build_router", "register_errors"]

STATUSES: dict[type[Exception], int] = {UnknownIssue: 404, IssueClosedError: 409}


def register_errors(app: FastAPI) -> None:
    """Map supervision's domain errors to HTTP statuses (the only place that does)."""

    async def handle(_: Request, error: Exception) -> JSONResponse:
        return JSONResponse({"detail": str(error)}, status_code=STATUSES[type(error)])

    for error in STATUSES:
        app.add_exception_handler(error, handle)


def build_router(views: ClockViews) -> APIRouter:
    router = APIRouter(tags=["clocks"])

    @router.get("/issues/{issue_id}/clocks")
    async def clocks(issue_id: str) -> list[dict[str, Any]]:
        """Every clock the issue has had, oldest first, with its steps."""
        return await views.clocks(issue_id)

    @router.get("/issues/{issue_id}/clock-history")
    async def clock_history(issue_id: str) -> dict[str, Any]:
        """The issue's clocks, extension requests and what happened to them, in order."""
        return await views.history(issue_id)

    @router.get("/clocks/open")
    async def open_list(
        office_id: str | None = None,
        region_code: RegionCode | None = None,
        level: Level | None = None,
        clock: ClockKind | None = None,
        limit: Annotated[int, Query(gt=0, le=MAX_ROWS)] = 500,
    ) -> dict[str, Any]:
        """Open clocks, earliest deadline first, by office, region and level (at most
        `limit` issues' clocks)."""
        return await views.open(
            office_id=office_id, region_code=region_code, level=level, clock=clock, limit=limit
        )

    @router.get("/clocks/overdue")
    async def overdue(
        office_id: str | None = None,
        region_code: RegionCode | None = None,
        level: Level | None = None,
        limit: Annotated[int, Query(gt=0, le=MAX_ROWS)] = MAX_ROWS,
    ) -> dict[str, Any]:
        """Open clocks past their deadline (longest overdue first), counted by office and flag."""
        return await views.overdue(
            office_id=office_id, region_code=region_code, level=level, limit=limit
        )

    return router
