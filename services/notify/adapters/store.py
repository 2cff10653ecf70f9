"""Notify's MongoDB store: its view of each issue, and one delivery record per message.

A record is created with one insert (a duplicate key means it is there already: a replayed
event creates nothing). Each change after that is a conditional update on `_id` and the
number of tries, so of two senders only one claims a try.

No read scans: each query leads with an equality on the first key of an index declared in
`ensure_indexes` (what the local engine and MongoDB answer from an index). The due records
are found by `state` (pending or sending: only the records still to send); the view by
`issue_id`, else day by day (`day`, the UTC date of `created_at`, set at insert).
"""

from datetime import UTC, datetime, timedelta
from typing import Any, Protocol

from pymongo import ASCENDING, DESCENDING
from pymongo.asynchronous.database import AsyncDatabase
from pymongo.errors import DuplicateKeyError

from services.notify.domain.delivery import State
from services.notify.domain.plan import IssueView
from services.runtime.mongo import Document

WAITING = [State.PENDING.value, State.SENDING.value]


class DeliveryStorePort(Protocol):
    """What the handlers need of the store (unit tests give them an in-memory fake)."""

    async def issue(self, issue_id: str) -> IssueView: ...
    async def update_issue(self, issue_id: str, fields: dict[str, Any]) -> None: ...
    async def create(self, record: Document) -> bool: ...
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

    async def issue(self, issue_id: str) -> IssueView:
        doc = await self._issues.find_one({"_id": issue_id})
        if doc is None:
            return IssueView(issue_id)
        return IssueView(
            issue_id=issue_id,
            has_reporter=bool(doc.get("has_reporter")),
            region_code=doc.get("region_code"),
            region_path=tuple(doc.get("region_path", ())),
            office_id=doc.get("office_id"),
            office_name=doc.get("office_name", ""),
            co_office_ids=tuple(doc.get("co_office_ids", ())),
        )

    async def update_issue(self, issue_id: str, fields: dict[str, Any]) -> None:
        await self._issues.update_one({"_id": issue_id}, {"$set": fields}, upsert=True)

    # deliveries -----------------------------------------------------------------------

    async def create(self, record: Document) -> bool:
        """Insert a new record; False when it exists already (a replay, another instance)."""
        try:
            await self._deliveries.insert_one({**record, "day": _day(record["created_at"])})
        except DuplicateKeyError:
            return False
        return True

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
