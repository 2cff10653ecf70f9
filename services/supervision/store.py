"""Supervision's own store: the clocks, indexed by when they fall due."""

from pymongo import ASCENDING
from pymongo.asynchronous.database import AsyncDatabase

from services.contracts.events import ClockStarted
from services.runtime.mongo import APPLIED, Document, apply_once


class ClockStore:
    def __init__(self, db: AsyncDatabase[Document]) -> None:
        self._clocks = db["clocks"]

    async def ensure_indexes(self) -> None:
        await self._clocks.create_index([("due_at", ASCENDING)])
        await self._clocks.create_index([("issue_id", ASCENDING)])

    async def start(self, started: ClockStarted) -> bool:
        p = started.payload
        clock_id = str(started.event_id)
        update = {
            "$set": {
                "issue_id": started.issue_id,
                "clock": p.clock.value,
                "office_id": p.office_id,
                "working_days": p.working_days,
                "started_at": p.started_at,
                "due_at": p.due_at,
                "state": "running",
            }
        }
        return await apply_once(self._clocks, clock_id, clock_id, update)

    async def clocks_of(self, issue_id: str) -> list[Document]:
        cursor = self._clocks.find({"issue_id": issue_id}, {APPLIED: 0}).sort("started_at")
        return [doc async for doc in cursor]
