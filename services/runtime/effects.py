"""A batch's writes, gathered per collection and sent as one bulk write each.

A batch handler adds its writes in the order its events say (`update`, `delete`, each on
one document by `_id`), then `commit`s: every collection gets one ordered `bulk_write`, so
the writes of one document keep their order, and the collections are written side by side.
No write reads first. An upsert that meets a concurrent insert of the same `_id` (a
duplicate key, which MongoDB and FerretDB report rather than retry) is sent once more: the
document exists now, and the writes are idempotent when the handler's are (`$set`, a guarded
`$addToSet`).

For a compare-and-set, a write may carry a guard, `where` (conditions besides the `_id`, never
an upsert): it applies only where the guard holds, and `commit` counts the updates that matched
per collection (`Committed.matched`), so the caller learns whether all its guards held in
one round trip. An `insert` without `otherwise` is refused when its `_id` is taken
(`Committed.taken`) instead of becoming an update. Both engines answer each statement's `_id`
filter from the `_id` index (FerretDB v1 with our patches 0001 and 0003; bulk updates with
patch 0002).
"""

import asyncio
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

import stamina
from pymongo import DeleteOne, UpdateOne
from pymongo.asynchronous.collection import AsyncCollection
from pymongo.errors import BulkWriteError

from services.runtime.mongo import Document

__all__ = ["BulkWrites", "Committed"]

DUPLICATE_KEY = 11000


@dataclass
class Committed:
    """What a commit did: updates matched per collection (full name), and the `_id`s of the
    inserts without `otherwise` that found their `_id` taken, as (collection, `_id`)."""

    matched: dict[str, int] = field(default_factory=dict)
    taken: set[tuple[str, Any]] = field(default_factory=set)


class BulkWrites:
    def __init__(self) -> None:
        self._writes: dict[str, tuple[AsyncCollection[Document], list[Any]]] = {}
        self._inserts: dict[str, tuple[AsyncCollection[Document], list[Any]]] = {}

    def _of(self, collection: AsyncCollection[Document]) -> list[Any]:
        return self._writes.setdefault(collection.full_name, (collection, []))[1]

    def update(
        self,
        collection: AsyncCollection[Document],
        doc_id: str,
        update: Mapping[str, Any],
        *,
        upsert: bool = True,
        where: Mapping[str, Any] | None = None,
    ) -> None:
        """`where`: more conditions beside the `_id` (a guard: the write is skipped when they
        do not hold, and is then never an upsert, which would meet the document's `_id`)."""
        upsert = upsert and not where
        self._of(collection).append(
            UpdateOne({"_id": doc_id, **(where or {})}, dict(update), upsert=upsert)
        )

    def insert(
        self,
        collection: AsyncCollection[Document],
        document: Document,
        otherwise: Mapping[str, Any] | None,
    ) -> None:
        """Insert a document believed new (`_id` set), in one `insert_many` with the other new
        ones of its collection: far cheaper than upserts on FerretDB v1. When the `_id` turns
        out taken, the update `otherwise` is applied to it instead (None: the insert is refused,
        and `commit` says so). A document inserted must
        have no other write in the same commit (the inserts go first)."""
        inserts = self._inserts.setdefault(collection.full_name, (collection, []))[1]
        inserts.append((document, None if otherwise is None else dict(otherwise)))

    def delete(
        self,
        collection: AsyncCollection[Document],
        doc_id: str,
        *,
        where: Mapping[str, Any] | None = None,
    ) -> None:
        """`where`: more conditions beside the `_id` (e.g. who still holds it)."""
        self._of(collection).append(DeleteOne({"_id": doc_id, **(where or {})}))

    def __len__(self) -> int:
        return sum(len(ops) for _, ops in (*self._writes.values(), *self._inserts.values()))

    async def commit(self) -> Committed:
        """Every collection's new documents in one `insert_many`, then its other writes in one
        ordered bulk write; the collections side by side."""
        names = self._writes.keys() | self._inserts.keys()
        committed = Committed()
        await asyncio.gather(*(self._commit(name, committed) for name in names))
        self._writes.clear()
        self._inserts.clear()
        return committed

    async def _commit(self, name: str, committed: Committed) -> None:
        collection, inserts = self._inserts.get(name, (None, []))
        updates = list(self._writes.get(name, (None, []))[1])
        if collection is not None and inserts:
            taken = await _insert_new(collection, [doc for doc, _ in inserts])
            committed.taken |= {
                (name, doc["_id"])
                for doc, update in inserts
                if update is None and doc["_id"] in taken
            }
            updates[:0] = [
                UpdateOne({"_id": doc["_id"]}, update, upsert=True)
                for doc, update in inserts
                if update is not None and doc["_id"] in taken
            ]
        if updates:
            target = self._writes[name][0] if name in self._writes else collection
            assert target is not None
            committed.matched[name] = await _bulk(target, updates)


async def _insert_new(collection: AsyncCollection[Document], docs: list[Document]) -> set[Any]:
    """Insert `docs`; the `_id`s that were taken already (a duplicate key each)."""
    try:
        await collection.insert_many(docs, ordered=False)
    except BulkWriteError as error:
        errors = error.details.get("writeErrors", [])
        if not all(e.get("code") == DUPLICATE_KEY for e in errors):
            raise
        return {docs[e["index"]]["_id"] for e in errors}
    return set()


def _duplicate_only(error: Exception) -> bool:
    if not isinstance(error, BulkWriteError):
        return False
    errors = error.details.get("writeErrors", [])
    return bool(errors) and all(e.get("code") == DUPLICATE_KEY for e in errors)


async def _bulk(collection: AsyncCollection[Document], ops: list[Any]) -> int:
    """The ordered bulk write; how many of its updates matched a document."""
    async for attempt in stamina.retry_context(
        on=_duplicate_only, attempts=3, timeout=None, wait_initial=0, wait_jitter=0
    ):
        with attempt:
            done = await collection.bulk_write(ops, ordered=True)
    return int(done.matched_count)
