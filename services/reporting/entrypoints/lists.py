"""The three lists and the backlog cases over HTTP, as JSON or as CSV (`format=csv`)."""

from collections.abc import Callable, Sequence
from datetime import UTC, datetime
from enum import StrEnum
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query, Response

from services.reporting.adapters.store import ReportingStore
from services.reporting.domain import lists
from services.reporting.domain.scope import Scope
from services.reporting.entrypoints.query import scope_with_state


class Format(StrEnum):
    JSON = "json"
    CSV = "csv"


def build_lists_router(
    store: ReportingStore,
    backlog_min_age_days: float,
    now: Callable[[], datetime] = lambda: datetime.now(UTC),
) -> APIRouter:
    router = APIRouter(prefix="/lists", tags=["lists"])

    def answer(
        name: str,
        where: Scope,
        rows: list[dict[str, Any]],
        columns: Sequence[str],
        fmt: Format,
        **extra: Any,
    ) -> Any:
        if fmt is Format.CSV:
            return Response(
                lists.as_csv(rows, columns),
                media_type="text/csv; charset=utf-8",
                headers={"Content-Disposition": f'attachment; filename="{name}.csv"'},
            )
        return {"list": name, **where.described(), **extra, "count": len(rows), "rows": rows}

    @router.get("/problems", summary="问题清单: distinct problems, with merged reports")
    async def problems(
        where: Annotated[Scope, Depends(scope_with_state)], format: Format = Format.JSON
    ) -> Any:
        facts = await store.facts(where.query())
        rows = lists.problems(facts, await store.merged_counts())
        return answer("problems", where, rows, lists.PROBLEM_COLUMNS, format)

    @router.get("/tasks", summary="任务清单: problems dispatched to offices")
    async def tasks(
        where: Annotated[Scope, Depends(scope_with_state)], format: Format = Format.JSON
    ) -> Any:
        rows = lists.tasks(await store.facts(where.query()))
        return answer("tasks", where, rows, lists.TASK_COLUMNS, format)

    @router.get("/results", summary="效果清单: resolved problems, their result and visit")
    async def results(
        where: Annotated[Scope, Depends(scope_with_state)], format: Format = Format.JSON
    ) -> Any:
        rows = lists.results(await store.facts(where.query()))
        return answer("results", where, rows, lists.RESULT_COLUMNS, format)

    @router.get("/backlog", summary="积案: problems unsolved for at least min_age_days")
    async def backlog(
        where: Annotated[Scope, Depends(scope_with_state)],
        min_age_days: Annotated[float | None, Query(ge=0)] = None,
        format: Format = Format.JSON,
    ) -> Any:
        at, age = now(), backlog_min_age_days if min_age_days is None else min_age_days
        rows = lists.backlog(await store.facts(where.query()), at, age)
        extra = {"min_age_days": age, "as_of": at}
        return answer("backlog", where, rows, lists.BACKLOG_COLUMNS, format, **extra)

    return router
