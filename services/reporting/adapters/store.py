"""Reporting's projection: one fact document per issue (`log` + derived `view`, see facts.py)
and the count cells the figures are read from (domain/cells.py), in a GENERATION: a pair of
collections (`issue_facts[_<g>]`, `issue_cells[_<g>]`); the pointer document
`reporting_generations/live` names the generation the service reads and writes. A rebuild
fills a new generation beside it and moves the pointer in one write (handlers.rebuild).

Writes (in the order handlers.py runs them, under `writing`): `record` records an event in
the issue's log through `apply_once` (one atomic, idempotent, order-independent update per
event); then the handler derives the view from the log as read back (`log_of`) and
`write_view` writes it with `$max` on `{"_n": entries, ...}`: a view of fewer entries can
never replace one of more. Then `post` moves the issue's contribution to the cells from
what it posted before to what its view contributes now, EXACTLY ONCE:

1. claim: one conditional update of the fact document, guarded by the version posted so far
   (`posted.v`, the `_n` of the view it was computed from) and by no transfer pending, sets
   `posted` to the new contribution and `pending` to the difference and its marker
   (`<issue>|<old v>><new v>`): of two writers only one claims a transition;
2. apply: for each cell of the difference one update guarded by the marker not being in the
   cell yet (`{_id: cell, applied: {$ne: marker}}`, `$inc` + `$push` of the marker), in one
   bulk; when fewer matched than sent (a new cell, or a replay), upserts make every cell
   exist and the guarded bulk runs again: a replay applies none twice;
3. mark the transfer done, pull the marker from the cells (no cell grows with history), and
   clear `pending`.
A crash between any two writes leaves `pending` set: the next `post` of that issue (the
replay of the event) finishes it first. Only `_id` equality is in any filter.

Reads: cells by computed `_id`s (one find_one each, side by side: `$in` scans on the local
engine); the lists read fact documents a page at a time.
"""

import asyncio
import time
from collections.abc import AsyncIterator, Iterable, Mapping
from contextlib import AbstractAsyncContextManager
from datetime import date
from typing import Any

from pymongo import ASCENDING, UpdateOne
from pymongo.asynchronous.collection import AsyncCollection
from pymongo.asynchronous.database import AsyncDatabase

from services.contracts.events import Event
from services.reporting.domain import cells as cell_rules
from services.reporting.domain.cells import Cells
from services.reporting.domain.facts import FactRules, fact_update
from services.reporting.domain.scope import Scope
from services.runtime.locks import KeyedLocks
from services.runtime.mongo import Document, apply_once

COLLECTION = "issue_facts"
CELLS = "issue_cells"
GENERATIONS = "reporting_generations"
LIVE = "live"
VIEW = "view"
POINTER_TTL = 1.0
"""How long a process trusts the live generation it read (a rebuild elsewhere moves it)."""
BULK = 1000


def facts_name(generation: int) -> str:
    return COLLECTION if generation == 0 else f"{COLLECTION}_{generation}"


def cells_name(generation: int) -> str:
    return CELLS if generation == 0 else f"{CELLS}_{generation}"


class Generations:
    """The pointer to the live generation (one document, `_id` "live")."""

    def __init__(self, db: AsyncDatabase[Document]) -> None:
        self._db = db
        self._pointer: AsyncCollection[Document] = db[GENERATIONS]
        self._known: tuple[int, float] | None = None

    async def live(self) -> int:
        if self._known is not None and time.monotonic() - self._known[1] < POINTER_TTL:
            return self._known[0]
        doc = await self._pointer.find_one({"_id": LIVE})
        generation = int(doc["generation"]) if doc else 0
        self._known = (generation, time.monotonic())
        return generation

    async def switch(self, generation: int) -> None:
        """Make `generation` the live one (one write)."""
        await self._pointer.update_one(
            {"_id": LIVE}, {"$set": {"generation": generation}}, upsert=True
        )
        self._known = (generation, time.monotonic())

    async def next(self) -> int:
        """A generation number not used yet (the pointer remembers the highest handed out)."""
        doc = await self._pointer.find_one_and_update(
            {"_id": "counter"}, {"$inc": {"n": 1}}, upsert=True, return_document=True
        )
        live = await self.live()
        return max(int(doc["n"]) if doc else 1, live + 1)


class ReportingStore:
    """The projection of one generation (`generation=None`: whichever is live)."""

    def __init__(
        self,
        db: AsyncDatabase[Document],
        rules: FactRules,
        generation: int | None = None,
        generations: Generations | None = None,
        writers: KeyedLocks | None = None,
    ) -> None:
        self._db = db
        self.rules = rules
        self._pinned = generation
        self.generations = generations if generations is not None else Generations(db)
        self._writers = writers if writers is not None else KeyedLocks()

    # --- generations -------------------------------------------------------------------

    async def generation(self) -> int:
        return self._pinned if self._pinned is not None else await self.generations.live()

    def pinned(self, generation: int) -> "ReportingStore":
        """This store bound to one generation (a rebuild writes the new one)."""
        return ReportingStore(self._db, self.rules, generation, self.generations, self._writers)

    async def live(self) -> "ReportingStore":
        """This store bound to the generation live now (one use case writes one)."""
        return self.pinned(await self.generation())

    async def new_generation(self) -> int:
        return await self.generations.next()

    async def switch(self, generation: int) -> None:
        await self.generations.switch(generation)

    async def _facts(self) -> AsyncCollection[Document]:
        return self._db[facts_name(await self.generation())]

    async def _cells(self) -> AsyncCollection[Document]:
        return self._db[cells_name(await self.generation())]

    async def is_empty(self) -> bool:
        """No fact document at all (a new database)."""
        return await (await self._facts()).find_one({}, {"_id": 1}) is None

    async def ensure_indexes(self) -> None:
        """The indexes, declared here only, created at start (MongoDB answers the lists'
        pages from them; the local engine indexes `_id` alone and scans)."""
        facts = await self._facts()
        await facts.create_index([(f"{VIEW}.reported_at", ASCENDING), ("_id", ASCENDING)])

    async def drop_generation(self, generation: int) -> None:
        """Drop a generation's collections whole (never document by document)."""
        await self._db.drop_collection(facts_name(generation))
        await self._db.drop_collection(cells_name(generation))

    async def size_on_disk(self) -> int:
        """Bytes the live generation's collections take (collStats storageSize)."""
        generation = await self.generation()
        total = 0
        for name in (facts_name(generation), cells_name(generation)):
            stats = await self._db.command("collStats", name)
            total += int(stats.get("storageSize") or stats.get("size") or 0)
        return total

    # --- the live writes ---------------------------------------------------------------

    def writing(self, issue_id: str) -> AbstractAsyncContextManager[None]:
        """One writer per issue in this process (the live consumer and a catch-up): its
        record, refresh and post are several writes, and FerretDB v1 loses concurrent
        updates of one document (services/runtime/locks.py)."""
        return self._writers.hold(issue_id)

    async def record(self, event: Event) -> bool:
        """Record the event in its issue's log only (the caller derives the view after)."""
        facts = await self._facts()
        return await apply_once(facts, event.issue_id, str(event.event_id), fact_update(event))

    async def log_of(self, issue_id: str) -> Document | None:
        """The issue's log as stored (None when it has none yet)."""
        doc = await (await self._facts()).find_one({"_id": issue_id}, {"log": 1})
        log: Document | None = doc.get("log") if doc else None
        return log or None

    async def write_view(self, issue_id: str, view: Document) -> None:
        """Write a view derived from the log; `$max` keeps the one derived from more entries."""
        await (await self._facts()).update_one({"_id": issue_id}, {"$max": {VIEW: view}})

    async def post(self, issue_id: str) -> None:
        """Move the issue's contribution to the cells to what its stored view contributes,
        exactly once (see the module's docstring)."""
        facts, cells = await self._facts(), await self._cells()
        for _ in range(5):
            doc = await facts.find_one({"_id": issue_id}, {VIEW: 1, "posted": 1, "pending": 1})
            if doc is None:
                return
            if pending := doc.get("pending"):
                await _finish(facts, cells, issue_id, pending)
                continue
            view = doc.get(VIEW) or {}
            posted = doc.get("posted") or {"v": 0, "cells": []}
            version = int(view.get("_n", 0))
            if int(posted["v"]) >= version:
                return
            new = cell_rules.contributions(view)
            moved = cell_rules.difference(cell_rules.from_list(posted["cells"]), new)
            marker = f"{issue_id}|{posted['v']}>{version}"
            guard: Document = {"_id": issue_id, "pending": {"$exists": False}}
            guard |= {"posted.v": posted["v"]} if doc.get("posted") else {"posted": None}
            pending = {"marker": marker, "cells": cell_rules.as_list(moved), "done": False}
            claim = {"posted": {"v": version, "cells": cell_rules.as_list(new)}}
            claimed = await facts.update_one(guard, {"$set": claim | {"pending": pending}})
            if claimed.matched_count:
                await _finish(facts, cells, issue_id, pending)
                return
        raise RuntimeError(f"{issue_id}: its posted contribution kept changing")

    # --- the rebuild's bulk writes -----------------------------------------------------

    async def insert_facts(self, docs: list[Document]) -> None:
        """Fact documents of a new generation, in bulk (nothing else writes them yet)."""
        facts = await self._facts()
        for start in range(0, len(docs), BULK):
            await facts.insert_many(docs[start : start + BULK], ordered=False)

    async def insert_cells(self, totals: Cells) -> None:
        """The cells of a new generation, in bulk (their counters summed in memory)."""
        cells = await self._cells()
        docs = [{"_id": cell, "n": counters, "applied": []} for cell, counters in totals.items()]
        for start in range(0, len(docs), BULK):
            await cells.insert_many(docs[start : start + BULK], ordered=False)

    # --- reads ---------------------------------------------------------------------------

    async def cells(self, ids: Iterable[str]) -> list[dict[str, int]]:
        """The counters of these cells (absent cells count nothing), fetched side by side."""
        collection = await self._cells()
        wanted = list(dict.fromkeys(ids))
        found = await asyncio.gather(*(collection.find_one({"_id": i}, {"n": 1}) for i in wanted))
        return [_counters(doc.get("n") or {}) for doc in found if doc]

    async def cell(self, cell_id: str) -> dict[str, int]:
        """One cell's counters (none when it does not exist)."""
        doc = await (await self._cells()).find_one({"_id": cell_id}, {"n": 1})
        return _counters(doc.get("n") or {}) if doc else {}

    async def summed(self, ids: Iterable[str]) -> dict[str, int]:
        return cell_rules.summed(await self.cells(ids))

    async def counted(
        self,
        start: date | None,
        end: date | None,
        region_code: str | None = None,
        office_id: str | None = None,
        category: str | None = None,
    ) -> dict[str, int]:
        """The counters of the issues reported in a period (local days, inclusive; an open
        end: the first / last month with issues) in one scope, summed from cells (a scope
        of an office and a category at once: counted over the facts, which scans)."""
        if office_id is not None and category is not None:
            scope = Scope(start, end, office_id, region_code, category)
            views = await self.facts(scope.query())
            return cell_rules.summed(cell_rules.scope_counters(v) for v in views)
        if start is None or end is None:
            months = cell_rules.months_with_issues(await self.summed([cell_rules.GLOBAL]))
            found = cell_rules.span(start, end, months)
            if found is None:
                return {}
            start, end = found
        periods = cell_rules.periods_of(start, end)
        total = await self.summed(cell_rules.scope_cell_ids(periods, region_code))
        return cell_rules.narrowed(total, office_id, category)

    async def all_cells(self) -> dict[str, dict[str, int]]:
        """Every cell (tests compare them with a count over the fact documents)."""
        collection = await self._cells()
        return {doc["_id"]: _counters(doc.get("n") or {}) async for doc in collection.find({})}

    async def documents(self) -> dict[str, Document]:
        """Every fact document as stored, by issue id (to compare two projections)."""
        return {doc["_id"]: doc async for doc in (await self._facts()).find({})}

    async def facts(self, query: Document) -> list[Document]:
        """The views of the issues matching `query` (on view fields), with their issue_id."""
        found = (await self._facts()).find(in_view(query) | {VIEW: {"$exists": True}}, {VIEW: 1})
        return [_view(doc) async for doc in found]

    async def page(
        self, query: Document, after: tuple[Any, str] | None, size: int
    ) -> list[Document]:
        """Up to `size` views matching `query`, in (reported_at, issue id) order, after the
        cursor `after` (the last row's reported_at and issue id)."""
        match = in_view(query) | {VIEW: {"$exists": True}}
        if after is not None:
            at, issue = after
            later = {f"{VIEW}.reported_at": {"$gt": at}}
            same = {f"{VIEW}.reported_at": at, "_id": {"$gt": issue}}
            match = {"$and": [match, {"$or": [later, same]}]}
        order = [(f"{VIEW}.reported_at", ASCENDING), ("_id", ASCENDING)]
        found = (await self._facts()).find(match, {VIEW: 1}).sort(order).limit(size)
        return [_view(doc) async for doc in found]

    async def stream(self, query: Document, size: int = BULK) -> AsyncIterator[Document]:
        """Every view matching `query`, page after page (CSV streams from this)."""
        after: tuple[Any, str] | None = None
        while True:
            rows = await self.page(query, after, size)
            for row in rows:
                yield row
            if len(rows) < size:
                return
            after = (rows[-1].get("reported_at"), rows[-1]["issue_id"])

    async def count_by(self, match: Document, *keys: str) -> dict[tuple[str, ...], int]:
        """How many issues match, grouped by view fields `keys` (only $match/$group/$sum)."""
        pipeline: list[Document] = [
            {"$match": in_view(match) | {VIEW: {"$exists": True}}},
            {"$group": {"_id": {k: f"${VIEW}.{k}" for k in keys}, "n": {"$sum": 1}}},
        ]
        cursor = await (await self._facts()).aggregate(pipeline)
        return {tuple(str(doc["_id"].get(k)) for k in keys): int(doc["n"]) async for doc in cursor}

    async def merged_counts(self, into: Iterable[str] | None = None) -> dict[str, int]:
        """How many reports were merged into each issue (of `into`, when given)."""
        match: Document = {"merged_into": {"$ne": None}}
        if into is not None:
            match = {"merged_into": {"$in": sorted(set(into))}}
        counted = await self.count_by(match, "merged_into")
        return {key: n for (key,), n in counted.items()}

    async def fields(self, match: Document, *names: str) -> list[Document]:
        """Only the view fields `names` of the issues matching `match`."""
        projection = {f"{VIEW}.{name}": 1 for name in names}
        found = (await self._facts()).find(in_view(match) | {VIEW: {"$exists": True}}, projection)
        return [doc[VIEW] async for doc in found]


async def _finish(
    facts: AsyncCollection[Document],
    cells: AsyncCollection[Document],
    issue_id: str,
    pending: Mapping[str, Any],
) -> None:
    """Steps 2 and 3 of a transfer (idempotent: each step is guarded by the marker)."""
    marker = pending["marker"]
    moved = cell_rules.from_list(pending["cells"])
    if moved and not pending.get("done"):
        incs = [
            UpdateOne({"_id": c, "applied": {"$ne": marker}}, _moved(counters, marker))
            for c, counters in moved.items()
        ]
        applied = await cells.bulk_write(incs, ordered=False)
        if applied.matched_count < len(incs):  # a cell is new, or this ran before a crash
            exist = [
                UpdateOne({"_id": c}, {"$setOnInsert": {"n": {}, "applied": []}}, upsert=True)
                for c in moved
            ]
            await cells.bulk_write(exist, ordered=False)
            await cells.bulk_write(incs, ordered=False)
    if moved:
        await facts.update_one(
            {"_id": issue_id, "pending.marker": marker}, {"$set": {"pending.done": True}}
        )
        pulls = [UpdateOne({"_id": c}, {"$pull": {"applied": marker}}) for c in moved]
        await cells.bulk_write(pulls, ordered=False)
    await facts.update_one({"_id": issue_id, "pending.marker": marker}, {"$unset": {"pending": ""}})


def _moved(counters: Mapping[str, int], marker: str) -> Document:
    inc = {f"n.{name}": n for name, n in counters.items()}
    return {"$inc": inc, "$push": {"applied": marker}}


def _counters(stored: Mapping[str, Any]) -> dict[str, int]:
    return {name: int(n) for name, n in stored.items()}


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
