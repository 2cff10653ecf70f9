"""Notify's MongoDB store: its view of each issue, and one delivery record per message.

A consumer batch costs one read (the views of the issues it plans messages for, by `_id`) and
one write per collection (`record`): the views' fields as one bulk write, the new records in
one insert (a duplicate key means a record is there already: a replayed event creates
nothing; no read first). Each change after that is a conditional update on `_id` and the
number of tries, so of two senders only one claims a try.

No read scans: each query leads with an equality on the first key of an index declared in
`ensure_indexes` (what the local engine and MongoDB answer from an index). The due records
are found by `state` (pending or sending: only the records still to send); the view by
`issue_id`, else day by day (`day`, the UTC date of `created_at`, set at insert).
"""

from collections.abc import Collection, Mapping, Sequence
from datetime import UTC, datetime, timedelta
from typing import Any, Protocol

from pymongo import ASCENDING, DESCENDING
from pymongo.asynchronous.database import AsyncDatabase

from services.notify.domain.delivery import State
from services.runtime.effects import BulkWrites
from services.runtime.mongo import Document

WAITING = [State.PENDING.value, State.SENDING.value]


class DeliveryStorePort(Protocol):
    """What the handlers need of the store (unit tests give them an in-memory fake)."""

    async def views(self, issue_ids: Collection[str]) -> dict[str, Document]: ...
    async def record(
        self, views: Mapping[str, Mapping[str, Any]], records: Sequence[Document]
    ) -> set[str]: ...
    async def due(self, now: datetime, limit: int) -> list[Document]: ...
    async def claim(
        self, delivery_id: str, attempts: int, now: datetime, lease: timedelta
    ) -> bool: ...
    async def mark_sent(
        self, delivery_id: str, attempts: int, now: datetime, shown: str
    ) -> None: ...
    async def mark_unsent(
        self, delivery_id: str, attempts: int, state: State, due_at: datetime | None, reason: str
    ) -> None: ...


class DeliveryStore:
    def __init__(self, db: AsyncDatabase[Document]) -> None:
        self._issues = db["issues"]
        self._deliveries = db["deliveries"]

    async def ensure_indexes(self) -> None:
        await self._deliveries.create_index([("state", ASCENDING), ("due_at", ASCENDING)])
        await self._deliveries.create_index([("issue_id", ASCENDING), ("created_at", DESCENDING)])
        await self._deliveries.create_index([("day", ASCENDING), ("created_at", DESCENDING)])

    # the view of each issue -----------------------------------------------------------

    async def views(self, issue_ids: Collection[str]) -> dict[str, Document]:
        """What is remembered of each of these issues, by id (one read; an issue not seen yet
        is missing)."""
        ids = sorted(issue_ids)
        if not ids:
            return {}
        query = {"_id": ids[0]} if len(ids) == 1 else {"_id": {"$in": ids}}
        return {doc["_id"]: doc async for doc in self._issues.find(query)}

    # a batch's writes -----------------------------------------------------------------

    async def record(
        self, views: Mapping[str, Mapping[str, Any]], records: Sequence[Document]
    ) -> set[str]:
        """Set the views' fields (issue id → fields, one update each, upserted) and insert the
        records (distinct `_id`s), the two collections side by side; the ids of the records
        that were new (the others were there already: a replay, another instance)."""
        writes = BulkWrites()
        for issue_id, fields in views.items():
            writes.update(self._issues, issue_id, {"$set": dict(fields)})
        for record in records:
            day = _day(record["created_at"])
            writes.insert(self._deliveries, {**record, "day": day}, otherwise=None)
        committed = await writes.commit()
        name = self._deliveries.full_name
        return {r["_id"] for r in records} - {i for n, i in committed.taken if n == name}

    # deliveries -----------------------------------------------------------------------

    async def due(self, now: datetime, limit: int) -> list[Document]:
        """Records whose time has come: pending ones, and claims whose lease ran out."""
        cursor = self._deliveries.find({"state": {"$in": WAITING}, "due_at": {"$lte": now}})
        return await cursor.sort("due_at", ASCENDING).limit(limit).to_list()

    async def claim(self, delivery_id: str, attempts: int, now: datetime, lease: timedelta) -> bool:
        """Take try number `attempts + 1`; False when another sender took it first."""
        result = await self._deliveries.update_one(
            {"_id": delivery_id, "attempts": attempts, "state": {"$in": WAITING}},
            {"$set": {"state": State.SENDING.value, "due_at": now + lease},
             "$inc": {"attempts": 1}},
        )  # fmt: skip
        return result.modified_count == 1

    async def mark_sent(self, delivery_id: str, attempts: int, now: datetime, shown: str) -> None:
        await self._deliveries.update_one(
            {"_id": delivery_id, "attempts": attempts},
            {"$set": {"state": State.SENT.value, "sent_at": now, "shown": shown},
             "$unset": {"due_at": ""}},
        )  # fmt: skip

    async def mark_unsent(
        self, delivery_id: str, attempts: int, state: State, due_at: datetime | None, reason: str
    ) -> None:
        update: Document = {"$set": {"state": state.value, "last_error": reason}}
        if due_at is None:
            update["$unset"] = {"due_at": ""}
        else:
            update["$set"]["due_at"] = due_at
        await self._deliveries.update_one({"_id": delivery_id, "attempts": attempts}, update)

    async def get(self, delivery_id: str) -> Document | None:
        return await self._deliveries.find_one({"_id": delivery_id})

    async def find(self, query: Document, limit: int) -> list[Document]:
        """Records matching `query`, newest first (lead it with `issue_id` on a request path)."""
        cursor = self._deliveries.find(query).sort("created_at", DESCENDING).limit(limit)
        return await cursor.to_list()

    async def recent(self, query: Document, limit: int, days: int, now: datetime) -> list[Document]:
        """Records matching `query` created in the `days` UTC days up to `now`, newest first:
        one read per day, back from today, until `limit` are found."""
        found: list[Document] = []
        for back in range(days):
            if len(found) >= limit:
                break
            day = _day(now - timedelta(days=back))
            found += await self.find({"day": day, **query}, limit - len(found))
        return found


def _day(instant: datetime) -> str:
    return instant.astimezone(UTC).date().isoformat()
