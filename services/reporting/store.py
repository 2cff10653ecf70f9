"""Reporting's projection: one fact document per issue; counts are aggregates over them."""

from typing import Any

from pymongo import ASCENDING
from pymongo.asynchronous.database import AsyncDatabase

from services.contracts.events import Event
from services.runtime.mongo import Document, apply_once


class ReportingStore:
    def __init__(self, db: AsyncDatabase[Document]) -> None:
        self._facts = db["issue_facts"]

    async def ensure_indexes(self) -> None:
        await self._facts.create_index([("reported_day", ASCENDING)])

    async def apply(self, event: Event, update: dict[str, Any]) -> bool:
        return await apply_once(self._facts, event.issue_id, str(event.event_id), update)

    async def facts(self, query: Document) -> list[Document]:
        return [doc async for doc in self._facts.find(query, {"_applied": 0})]

    async def count_by(self, match: Document, *keys: str) -> dict[tuple[str, ...], int]:
        """How many issue facts match, grouped by `keys` (only $match/$group/$sum)."""
        pipeline: list[Document] = [
            {"$match": match},
            {"$group": {"_id": {k: f"${k}" for k in keys}, "n": {"$sum": 1}}},
        ]
        cursor = await self._facts.aggregate(pipeline)
        return {tuple(str(doc["_id"].get(k)) for k in keys): int(doc["n"]) async for doc in cursor}
