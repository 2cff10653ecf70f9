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

from services.runtime.locks import KeyedLocks
from services.runtime.settings import PlatformSettings

Document = dict[str, Any]

APPLIED = "_applied"
"""The field of a projection document that remembers which events it has absorbed."""


def make_mongo_client(settings: PlatformSettings) -> AsyncMongoClient[Document]:
    return AsyncMongoClient(settings.mongo_url, tz_aware=True, serverSelectionTimeoutMS=10_000)


DOCUMENT_LOCKS = KeyedLocks()
"""This process's writers of one document take turns (see services/runtime/locks.py)."""

IDEMPOTENT_OPERATORS = frozenset({"$set", "$setOnInsert", "$unset", "$addToSet", "$max", "$min"})
"""Update operators whose second application changes nothing ($inc and $push are not)."""


async def apply_once(
    collection: AsyncCollection[Document],
    doc_id: str,
    event_id: str,
    update: Mapping[str, Any],
) -> bool:
    """Apply an event's `update` to document `doc_id`, once.

    The document remembers the ids of the events it absorbed: an event it already has is
    skipped (so a replay after a crash never moves a projection back to an older state),
    and the update that absorbs a new one records its id in the same atomic write.

    Every filter is on `_id` alone, the one lookup FerretDB v1 answers from an index.
    Writers of one document in this process take turns (`DOCUMENT_LOCKS`: FerretDB v1
    loses concurrent updates of one document). The check and the write are two calls, so
    two consumers that briefly hold the same partition during a rebalance could both
    apply one event: the update must therefore be
    idempotent by its operators (`IDEMPOTENT_OPERATORS`; write lists as maps keyed by event
    id, count by aggregating documents), which makes such a double a no-op.
    Returns True when the event was applied now.
    """
    if not_idempotent := set(update) - IDEMPOTENT_OPERATORS:
        raise ValueError(
            f"apply_once takes idempotent operators only, not {sorted(not_idempotent)}"
        )
    add = {**update.get("$addToSet", {}), APPLIED: event_id}
    guarded = {**update, "$addToSet": add}
    async with DOCUMENT_LOCKS.hold((collection.full_name, doc_id)):
        return await _apply_guarded(collection, doc_id, event_id, guarded)


async def _apply_guarded(
    collection: AsyncCollection[Document], doc_id: str, event_id: str, guarded: Document
) -> bool:
    try:
        # a concurrent upsert may create the document first: check it again, once
        async for attempt in stamina.retry_context(
            on=DuplicateKeyError, attempts=2, timeout=None, wait_initial=0, wait_jitter=0
        ):
            with attempt:
                seen = await collection.find_one({"_id": doc_id}, {APPLIED: 1})
                if seen is not None and event_id in seen.get(APPLIED, ()):
                    return False
                await collection.update_one({"_id": doc_id}, guarded, upsert=True)
    except DuplicateKeyError as again:
        raise RuntimeError(f"{doc_id}: the document kept changing under apply_once") from again
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
