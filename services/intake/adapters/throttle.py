"""Rate-limit counters in intake's own MongoDB database, so every intake instance counts into
the same windows. One document per limit, client and window, bumped by one atomic `$inc`
upsert (MongoDB and FerretDB v1 alike; no TTL indexes there, so a new window sweeps the old)."""

import time
from collections.abc import Callable
from typing import Any

from pymongo import ReturnDocument
from pymongo.asynchronous.database import AsyncDatabase
from pymongo.errors import DuplicateKeyError

from services.intake.domain.throttling import Limit, counter_id
from services.runtime.mongo import Document


class MongoThrottle:
    def __init__(
        self, db: AsyncDatabase[Document], limit: Limit, clock: Callable[[], float] = time.time
    ) -> None:
        self._counters = db["rate_limits"]
        self._limit = limit
        self._clock = clock

    async def hit(self, name: str, client: str) -> int:
        """Count one attempt; the seconds the client must wait (0: within the limit)."""
        now = self._clock()
        window = self._limit.window(now)
        key = counter_id(name, client, window)
        count = await self._bump(key, window)  # one atomic update, on both engines
        if count == 1:  # the first attempt of a window: drop the windows that are over
            await self._counters.delete_many({"window": {"$lt": window - 1}})
        return self._limit.wait(count, now)

    async def peek(self, name: str, client: str) -> int:
        """The seconds the client must wait now (0: within the limit), counting nothing."""
        now = self._clock()
        doc = await self._counters.find_one(
            {"_id": counter_id(name, client, self._limit.window(now))}
        )
        return self._limit.wait(int(doc["count"]) if doc else 0, now)

    async def _bump(self, key: str, window: int) -> int:
        def bump() -> Any:
            return self._counters.find_one_and_update(
                {"_id": key},
                {"$inc": {"count": 1}, "$setOnInsert": {"window": window}},
                upsert=True,
                return_document=ReturnDocument.AFTER,
            )

        try:
            doc = await bump()
        except DuplicateKeyError:  # another instance inserted it first: now it exists
            doc = await bump()
        return int(doc["count"])
