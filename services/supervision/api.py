"""Supervision's views: an issue's clocks."""

from typing import Any

from fastapi import APIRouter

from services.supervision.store import ClockStore


def build_router(store: ClockStore) -> APIRouter:
    router = APIRouter(tags=["clocks"])

    @router.get("/issues/{issue_id}/clocks")
    async def clocks(issue_id: str) -> list[dict[str, Any]]:
        return [{"clock_id": doc.pop("_id"), **doc} for doc in await store.clocks_of(issue_id)]

    return router
