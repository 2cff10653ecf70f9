"""The three lists and the backlog cases over HTTP, a page at a time, as JSON or as CSV
(`format=csv`, streamed page after page from the cursor to the end).

A page holds at most `page_size` rows (default 100, at most 1000) in (report time, issue id)
order; `next` is an opaque cursor for the page after (null on the last page). A list's own
condition is part of the query (`lists.*_QUERY`), so a page is never short by rows filtered
out afterwards.
"""

import base64
import binascii
import json
from collections.abc import AsyncIterator, Callable, Sequence
from datetime import UTC, datetime, timedelta
from enum import StrEnum
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query
from fastapi.responses import StreamingResponse

from services.contracts.days import checked_day
from services.reporting.adapters.store import ReportingStore
from services.reporting.domain import lists
from services.reporting.domain.scope import Scope, ScopeError
from services.reporting.entrypoints.query import scope_with_state
from services.runtime.mongo import Document

DEFAULT_PAGE, MAX_PAGE = 100, 1000
Cursor = tuple[datetime, str] | None


class Format(StrEnum):
    JSON = "json"
    CSV = "csv"


def encode_cursor(row: dict[str, Any]) -> str:
    at = row.get("reported_at")
    raw = json.dumps([at.isoformat() if isinstance(at, datetime) else None, row["issue_id"]])
    return base64.urlsafe_b64encode(raw.encode()).decode().rstrip("=")


def decode_cursor(
    cursor: Annotated[str | None, Query(description="`next` of the page before")] = None,
) -> Cursor:
    if cursor is None:
        return None
    try:
        at, issue = json.loads(base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)))
        return checked_day(datetime.fromisoformat(at)), str(issue)
    except (ValueError, TypeError, binascii.Error) as error:
        raise ScopeError("cursor", "not a cursor this service gave") from error


PageSize = Annotated[int, Query(ge=1, le=MAX_PAGE, description="rows per page")]


def build_lists_router(
    store: ReportingStore,
    backlog_min_age_days: float,
    now: Callable[[], datetime] = lambda: datetime.now(UTC),
) -> APIRouter:
    router = APIRouter(prefix="/lists", tags=["lists"])
    zone = store.rules.timezone  # a period is a range of report instants too

    async def answer(
        name: str,
        where: Scope,
        query: Document,
        to_rows: Callable[[list[Document]], Any],
        columns: Sequence[str],
        fmt: Format,
        after: Cursor,
        size: int,
        **extra: Any,
    ) -> Any:
        if fmt is Format.CSV:
            return StreamingResponse(
                _csv(store, query, after, to_rows, columns),
                media_type="text/csv; charset=utf-8",
                headers={"Content-Disposition": f'attachment; filename="{name}.csv"'},
            )
        facts = await store.page(query, after, size)
        rows = await to_rows(facts)
        following = encode_cursor(facts[-1]) if len(facts) == size else None
        return {
            "list": name,
            **where.described(),
            **extra,
            "count": len(rows),
            "page_size": size,
            "next": following,
            "rows": rows,
        }

    async def problem_rows(facts: list[Document]) -> list[dict[str, Any]]:
        merged = await store.merged_counts(f["issue_id"] for f in facts)
        return lists.problems(facts, merged)

    async def task_rows(facts: list[Document]) -> list[dict[str, Any]]:
        return lists.tasks(facts)

    async def result_rows(facts: list[Document]) -> list[dict[str, Any]]:
        return lists.results(facts)

    @router.get("/problems", summary="问题清单: distinct problems, with merged reports")
    async def problems(
        where: Annotated[Scope, Depends(scope_with_state)],
        after: Annotated[Cursor, Depends(decode_cursor)],
        page_size: PageSize = DEFAULT_PAGE,
        format: Format = Format.JSON,
    ) -> Any:
        query = where.query(zone) | lists.PROBLEM_QUERY
        columns = lists.PROBLEM_COLUMNS
        return await answer(
            "problems", where, query, problem_rows, columns, format, after, page_size
        )

    @router.get("/tasks", summary="任务清单: problems dispatched to offices")
    async def tasks(
        where: Annotated[Scope, Depends(scope_with_state)],
        after: Annotated[Cursor, Depends(decode_cursor)],
        page_size: PageSize = DEFAULT_PAGE,
        format: Format = Format.JSON,
    ) -> Any:
        query = where.query(zone) | lists.TASK_QUERY
        return await answer(
            "tasks", where, query, task_rows, lists.TASK_COLUMNS, format, after, page_size
        )

    @router.get("/results", summary="效果清单: resolved problems, their result and visit")
    async def results(
        where: Annotated[Scope, Depends(scope_with_state)],
        after: Annotated[Cursor, Depends(decode_cursor)],
        page_size: PageSize = DEFAULT_PAGE,
        format: Format = Format.JSON,
    ) -> Any:
        query = where.query(zone) | lists.RESULT_QUERY
        columns = lists.RESULT_COLUMNS
        return await answer("results", where, query, result_rows, columns, format, after, page_size)

    @router.get("/backlog", summary="积案: problems unsolved for at least min_age_days")
    async def backlog(
        where: Annotated[Scope, Depends(scope_with_state)],
        after: Annotated[Cursor, Depends(decode_cursor)],
        min_age_days: Annotated[float | None, Query(ge=0)] = None,
        page_size: PageSize = DEFAULT_PAGE,
        format: Format = Format.JSON,
    ) -> Any:
        at, age = now(), backlog_min_age_days if min_age_days is None else min_age_days
        oldest = datetime.min.replace(tzinfo=UTC)
        cutoff = at - timedelta(days=age) if age < 700_000 else oldest
        scoped = where.query(zone)
        query = scoped | lists.backlog_query(cutoff, scoped.get("reported_at"))

        async def rows(facts: list[Document]) -> list[dict[str, Any]]:
            return lists.backlog(facts, at, age)

        extra = {"min_age_days": age, "as_of": at}
        columns = lists.BACKLOG_COLUMNS
        return await answer(
            "backlog", where, query, rows, columns, format, after, page_size, **extra
        )

    return router


async def _csv(
    store: ReportingStore,
    query: Document,
    after: Cursor,
    to_rows: Callable[[list[Document]], Any],
    columns: Sequence[str],
) -> AsyncIterator[str]:
    """The CSV header, then each page's rows as it is read."""
    yield lists.as_csv([], columns)
    while True:
        facts = await store.page(query, after, MAX_PAGE)
        if facts:
            yield lists.as_csv(await to_rows(facts), columns, header=False)
        if len(facts) < MAX_PAGE:
            return
        after = (facts[-1]["reported_at"], facts[-1]["issue_id"])
