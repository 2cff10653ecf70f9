"""The MongoDB side of a service: the client factory and the idempotent apply.

Only what both MongoDB and FerretDB v1 support: single-document atomic updates,
upserts, unique indexes. No transactions: one update carries one effect.
"""

from collections.abc import Mapping
from typing import Any

from pymongo import AsyncMongoClient
from pymongo.asynchronous.collection import AsyncCollection
from pymongo.errors import DuplicateKeyError

from services.runtime.settings import PlatformSettings

Document = dict[str, Any]

APPLIED = "_applied"
"""The field of a projection document that remembers which events it has absorbed."""


def make_mongo_client(settings: PlatformSettings) -> AsyncMongoClient[Document]:
    return AsyncMongoClient(settings.mongo_url, tz_aware=True, serverSelectionTimeoutMS=10_000)


async def apply_once(
    collection: AsyncCollection[Document],
    doc_id: str,
    event_id: str,
    update: Mapping[str, Any],
) -> bool:
    """Apply `update` to document `doc_id` unless `event_id` was applied to it already.

    The guard and the effect are one atomic single-document update: the event id is
    pushed into the document's applied list by the same write that changes it. A
    redelivered event (same id, any offset) matches nothing; the upsert then collides
    with the existing `_id` and that collision is the "already applied" answer.
    Returns True when the effect was applied now.
    """
    push = dict(update.get("$push", {}))
    push[APPLIED] = event_id
    guarded = {**update, "$push": push}
    try:
        result = await collection.update_one(
            {"_id": doc_id, APPLIED: {"$ne": event_id}}, guarded, upsert=True
        )
    except DuplicateKeyError:
        return False
    return result.modified_count == 1 or result.upserted_id is not None
