"""The MongoDB side of a service: the client factory and the idempotent apply.

Only what both MongoDB and FerretDB v1 support: single-document atomic updates,
upserts, unique indexes. No transactions: one update carries one effect.
"""

from collections.abc import Mapping
from typing import Any

import stamina
from pymongo import AsyncMongoClient
from pymongo.asynchronous.collection import AsyncCollection
from pymongo.errors import DuplicateKeyError

from services.runtime.query_log import QueryLog
from services.runtime.settings import PlatformSettings

Document = dict[str, Any]

APPLIED = "_applied"
"""The field of a projection document that remembers which events it has absorbed."""


def make_mongo_client(settings: PlatformSettings) -> AsyncMongoClient[Document]:
    """The service's client; noting every query shape when `mongo_explain_log` is set."""
    listeners: list[QueryLog] = []
    if settings.mongo_explain_log is not None:
        listeners.append(QueryLog(settings.mongo_explain_log))
    return AsyncMongoClient(
        settings.mongo_url,
        tz_aware=True,
        serverSelectionTimeoutMS=10_000,
        event_listeners=listeners,
    )


async def apply_once(
    collection: AsyncCollection[Document],
    doc_id: str,
    event_id: str,
    update: Mapping[str, Any],
) -> bool:
    """Apply an event's `update` to document `doc_id`, exactly once: one conditional write.

    The document remembers the ids of the events it absorbed (`_applied`). The update's
    filter carries the guard — this document, and this event not yet in it — and the same
    atomic write records the event's id, so an event is applied at most once whoever else
    writes the document at the same time: another instance during a rebalance, intake's API
    beside its consumer, a replay. No read comes before the write.

    Upserted: a document that does not exist yet is created by the same write. When the
    filter matches nothing and the insert then finds the `_id` taken (a duplicate key), the
    document exists: either it already holds the event, or a concurrent writer created it a
    moment ago; the guarded update is run once more without upsert, and its match says which.
    Any operators may be used ($inc too): the guard makes them run once. Returns True when the
    event was applied now, False when it had been before.

    Both engines answer the filter from the `_id` index (FerretDB with our patch 0003) and
    apply it atomically (FerretDB with our patch 0002; MongoDB always).
    """
    add = {**update.get("$addToSet", {}), APPLIED: event_id}
    guarded = {**update, "$addToSet": add}
    unseen = {"_id": doc_id, APPLIED: {"$ne": event_id}}
    try:
        await collection.update_one(unseen, guarded, upsert=True)
    except DuplicateKeyError:
        again = await collection.update_one(unseen, guarded)
        return again.matched_count == 1
    return True


async def upsert(
    collection: AsyncCollection[Document], doc_id: str, update: Mapping[str, Any]
) -> None:
    """Upsert document `doc_id`; when a concurrent upsert created it first (a duplicate `_id`,
    which MongoDB and FerretDB report rather than retry), update it now. The one
    upsert-retry-on-duplicate of the platform (through `stamina`)."""
    try:
        async for attempt in stamina.retry_context(
            on=DuplicateKeyError, attempts=2, timeout=None, wait_initial=0, wait_jitter=0
        ):
            with attempt:
                await collection.update_one({"_id": doc_id}, dict(update), upsert=True)
    except DuplicateKeyError as again:
        raise RuntimeError(f"{doc_id}: the document kept changing under an upsert") from again
