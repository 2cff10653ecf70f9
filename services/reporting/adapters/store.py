"""Reporting's projection: one fact document per issue (`log` + derived `view`, see facts.py).

Writes (in the order handlers.py runs them, under `writing`): `record` records an event in
the issue's log through `apply_once` (one atomic, idempotent, order-independent update per
event); then the handler derives the view from the log as read back (`log_of`) and
`write_view` writes it with `$max` on `{"_n": entries, ...}`. Every writer
refreshes after its own record, so the last view written is derived from the most entries:
a view of fewer entries can never replace one of more, and views of the same number of
entries are equal (the log only grows). A crash between the two writes is repaired by the
replay (refresh runs whether or not the event was new).

Reads speak of view fields (`state`, `office_id`, `flags.red`…): the store prefixes them.
Counts are aggregates ($match/$group/$sum) over the documents, never stored counters.
"""

from collections.abc import Mapping
from contextlib import AbstractAsyncContextManager
from typing import Any

from pymongo import ASCENDING
from pymongo.asynchronous.collection import AsyncCollection
from pymongo.asynchronous.database import AsyncDatabase

from services.contracts.events import Event
from services.reporting.domain.facts import FactRules, fact_update
from services.runtime.locks import KeyedLocks
from services.runtime.mongo import Document, apply_once

COLLECTION = "issue_facts"
VIEW = "view"


class ReportingStore:
    def __init__(self, db: AsyncDatabase[Document], rules: FactRules) -> None:
        self._db = db
        self._facts: AsyncCollection[Document] = db[COLLECTION]
        self.rules = rules
        self._writers = KeyedLocks()

    async def ensure_indexes(self) -> None:
        await self._facts.create_index([(f"{VIEW}.reported_day", ASCENDING)])

    def writing(self, issue_id: str) -> AbstractAsyncContextManager[None]:
        """One writer per issue in this process (the live consumer and a rebuild): its
        record and refresh are two writes, and FerretDB v1 loses concurrent updates of one
        document (services/runtime/locks.py). Each issue's events already come in order from
        one partition; this keeps a rebuild running in the service from racing the live
        consumer on the same document."""
        return self._writers.hold(issue_id)

    async def record(self, event: Event) -> bool:
        """Record the event in its issue's log only (the caller derives the view after)."""
        return await apply_once(
            self._facts, event.issue_id, str(event.event_id), fact_update(event)
        )

    async def log_of(self, issue_id: str) -> Document | None:
        """The issue's log as stored (None when it has none yet)."""
        doc = await self._facts.find_one({"_id": issue_id}, {"log": 1})
        log: Document | None = doc.get("log") if doc else None
        return log or None

    async def write_view(self, issue_id: str, view: Document) -> None:
        """Write a view derived from the log; `$max` keeps the one derived from more entries."""
        await self._facts.update_one({"_id": issue_id}, {"$max": {VIEW: view}})

    async def drop(self) -> None:
        """Forget every fact (the rebuild starts from nothing). The documents are deleted,
        not the collection: the live consumer may write into it at the same moment, and
        dropping and re-indexing a collection being written to fails on FerretDB."""
        await self._facts.delete_many({})

    async def documents(self) -> dict[str, Document]:
        """Every fact document as stored, by issue id (to compare two projections)."""
        return {doc["_id"]: doc async for doc in self._facts.find({})}

    async def facts(self, query: Document) -> list[Document]:
        """The views of the issues matching `query` (on view fields), with their issue_id."""
        found = self._facts.find(in_view(query) | {VIEW: {"$exists": True}}, {VIEW: 1})
        return [_view(doc) async for doc in found]

    async def count_by(self, match: Document, *keys: str) -> dict[tuple[str, ...], int]:
        """How many issues match, grouped by view fields `keys` (only $match/$group/$sum)."""
        pipeline: list[Document] = [
            {"$match": in_view(match) | {VIEW: {"$exists": True}}},
            {"$group": {"_id": {k: f"${VIEW}.{k}" for k in keys}, "n": {"$sum": 1}}},
        ]
        cursor = await self._facts.aggregate(pipeline)
        return {tuple(str(doc["_id"].get(k)) for k in keys): int(doc["n"]) async for doc in cursor}

    async def merged_counts(self) -> dict[str, int]:
        """How many reports were merged into each issue."""
        counted = await self.count_by({"merged_into": {"$ne": None}}, "merged_into")
        return {into: n for (into,), n in counted.items()}

    async def fields(self, match: Document, *names: str) -> list[Document]:
        """Only the view fields `names` of the issues matching `match` (FerretDB v1 cannot
        $sum a field, so a sum over issues reads the few fields it needs)."""
        projection = {f"{VIEW}.{name}": 1 for name in names}
        found = self._facts.find(in_view(match) | {VIEW: {"$exists": True}}, projection)
        return [doc[VIEW] async for doc in found]


def in_view(query: Mapping[str, Any]) -> Document:
    """A filter on view fields as a filter on the stored documents."""
    out: Document = {}
    for key, value in query.items():
        if key in ("$and", "$or", "$nor"):
            out[key] = [in_view(part) for part in value]
        else:
            out[f"{VIEW}.{key}"] = value
    return out


def _view(doc: Document) -> Document:
    view = {k: v for k, v in doc[VIEW].items() if k != "_n"}
    return view | {"issue_id": doc["_id"]}
