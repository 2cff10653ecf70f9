"""The database engine alone, at the size of the run, in a scratch database it drops after:
what it can do at most for the operations the services make, so the platform's own figures
have something to be compared with."""

import asyncio
import contextlib
import random
import time
from collections.abc import Awaitable, Callable
from typing import Any

from pymongo import AsyncMongoClient, UpdateOne

BATCH = 1000
BUDGET = 3.0  # seconds per lookup figure: a scanning engine answers only a few in it
LOOKUPS = 300  # finds of each kind (at most: see BUDGET)
HANG = 120.0  # seconds before a bulk that never answers is reported as such


async def rate(n: int, one: Callable[[int], Awaitable[Any]], budget: float = BUDGET) -> float:
    """Operations a second, doing `one(i)` up to `n` times or for `budget` seconds."""
    started = time.perf_counter()
    done = 0
    while done < n:
        await one(done)
        done += 1
        if time.perf_counter() - started > budget:
            break
    return round(done / (time.perf_counter() - started), 1)


async def timed_bulk(run: Callable[[], Awaitable[Any]], docs: int) -> float | None:
    """Documents a second through one call, None when the engine has not answered in HANG."""
    started = time.perf_counter()
    try:
        await asyncio.wait_for(run(), HANG)
    except TimeoutError:
        return None
    return round(docs / (time.perf_counter() - started), 1)


async def ceilings(mongo_url: str, database: str, size: int) -> dict[str, Any]:
    """At `size` documents (each a ~250-byte document with an indexed `key` and `office`):
    finds by `_id` and by an equality on the indexed field a second; bulk upserts of new
    documents (docs/s, batches of 1,000); one bulk update of 1,000 existing documents."""
    size = max(size, BATCH)
    client: AsyncMongoClient[dict[str, Any]] = AsyncMongoClient(mongo_url, tz_aware=True)
    docs = client[database]["docs"]

    def doc(n: int) -> dict[str, Any]:
        return {"_id": f"d{n}", "key": f"k{n}", "office": f"o{n % 50}", "pad": "x" * 200}

    try:
        await docs.create_index("key")
        for first in range(0, size, 5 * BATCH):
            await docs.insert_many([doc(n) for n in range(first, min(first + 5 * BATCH, size))])
        picks = [random.randrange(size) for _ in range(LOOKUPS)]
        by_id = await rate(len(picks), lambda i: docs.find_one({"_id": f"d{picks[i]}"}))
        by_key = await rate(len(picks), lambda i: docs.find_one({"key": f"k{picks[i]}"}))
        upserts = [
            UpdateOne({"_id": f"d{n}"}, {"$set": doc(n)}, upsert=True)
            for n in range(size, size + min(size, 5 * BATCH))
        ]

        async def upsert_all() -> None:
            for first in range(0, len(upserts), BATCH):
                await docs.bulk_write(upserts[first : first + BATCH], ordered=True)

        upserted = await timed_bulk(upsert_all, len(upserts))
        chosen = random.sample(range(size), BATCH)
        updates = [UpdateOne({"_id": f"d{n}"}, {"$set": {"pad": "y" * 200}}) for n in chosen]
        updated = await timed_bulk(lambda: docs.bulk_write(updates, ordered=True), BATCH)
    finally:
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(client.drop_database(database), HANG)
        await client.close()
    return {
        "engine_docs": size,
        "engine_find_by_id_per_s": by_id,
        "engine_find_by_indexed_field_per_s": by_key,
        "engine_bulk_upsert_docs_per_s": upserted,
        "engine_bulk_update_1000_docs_per_s": updated,
    }
