"""Reporting's API: counts of received and assigned issues."""

from datetime import date

from fastapi import APIRouter
from pydantic import BaseModel

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

    return router
