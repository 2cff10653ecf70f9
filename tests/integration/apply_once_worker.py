"""One OS process applying a list of events to shared documents through `apply_once`, in an
order of its own (`test_apply_once_processes` runs two of these at once).

    python -m tests.integration.apply_once_worker MONGO_URL DATABASE EVENTS DOCUMENTS SEED
"""

import asyncio
import random
import sys

from pymongo import AsyncMongoClient

from services.runtime.mongo import Document, apply_once


async def main(url: str, database: str, seed: int, events: int, documents: int) -> None:
    client: AsyncMongoClient[Document] = AsyncMongoClient(url)
    collection = client[database]["docs"]
    work = [(f"e{n}", f"d{n % documents}") for n in range(events)]
    random.Random(seed).shuffle(work)

    async def apply(event_id: str, doc_id: str) -> None:
        update = {"$inc": {"n": 1}, "$push": {"order": event_id}, "$set": {"last": event_id}}
        await apply_once(collection, doc_id, event_id, update)

    for start in range(0, len(work), 8):  # eight at a time, as a consumer's batch would
        await asyncio.gather(*(apply(e, d) for e, d in work[start : start + 8]))
    await client.close()


if __name__ == "__main__":
    url, database, events, documents, seed = sys.argv[1:6]
    asyncio.run(main(url, database, int(seed), int(events), int(documents)))
