"""Reporting's API: counts of received and assigned issues."""

from datetime import date
from typing import Any

from fastapi import APIRouter
from pydantic import BaseModel

from services.reporting.domain import rates
from services.reporting.store import ReportingStore


class Counts(BaseModel):
    day: date | None
    received: int
    assigned: int
    received_by_channel: dict[str, int]


def build_router(store: ReportingStore) -> APIRouter:
    router = APIRouter(tags=["counts"])

    @router.get("/counts")
    async def counts(day: date | None = None) -> Counts:
        match = {"channel": {"$exists": True}} | ({"reported_day": day.isoformat()} if day else {})
        by_channel = await store.count_by(match, "channel")
        assigned = await store.count_by(match | {"assigned": True}, "channel")
        return Counts(
            day=day,
            received=sum(by_channel.values()),
            assigned=sum(assigned.values()),
            received_by_channel={channel: n for (channel,), n in by_channel.items()},
        )

    @router.get("/rates", summary="The rates of domain.md for a scope and period")
    async def get_rates(
        start: date | None = None,
        end: date | None = None,
        office_id: str | None = None,
        region_code: str | None = None,
        category: str | None = None,
    ) -> dict[str, Any]:
        """Issues reported from `start` to `end` (inclusive, local days), in one scope."""
        query: dict[str, Any] = {"reported_day": {"$exists": True}}
        if start or end:
            query["reported_day"] = {
                **({"$gte": start.isoformat()} if start else {}),
                **({"$lte": end.isoformat()} if end else {}),
            }
        scope = {"office_id": office_id, "region_code": region_code, "category": category}
        query |= {key: value for key, value in scope.items() if value is not None}
        return {
            "start": start, "end": end, **scope,
            **rates(await store.facts(query)).as_dict(),
        }  # fmt: skip

    return router
