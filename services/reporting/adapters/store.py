"""Reporting's projection: one fact document per issue (`log` + derived `view`, see facts.py)
and the count cells the figures are read from (domain/cells.py), in a GENERATION: a pair of
collections (`issue_facts[_<g>]`, `issue_cells[_<g>]`); the pointer document
`reporting_generations/live` names the generation the service reads and writes. A rebuild
fills a new generation beside it and moves the pointer in one write (handlers.rebuild).

Writes (handlers.count_batch, a consumer batch at a time, under the batch's issues' locks):
`load` gives each issue's document as this process last wrote it (no read), else reads it by
`_id` (finishing a transfer a crash left pending); the handler computes each issue's
`Change` (domain/transfers.py); `commit` writes them, EXACTLY ONCE, in one bulk write per
collection and step:

1. claim (facts): per issue, guarded by the revision it was computed from (`rev`) and no
   transfer pending, its new log entries, view, contribution (`posted`), revision, claim
   token, and the transfer (`pending`: its marker `<issue>|<rev>-<token>` and the move); a
   new document by one `insert_many`. Of two writers only one claims a revision; the other
   is refused (read back by its token) and computes anew;
2. apply (cells): one update per distinct cell, the batch's moves summed, guarded by none of
   its transfers' markers being a key of the cell's `applied` map yet, setting them (cells
   not known to exist are inserted empty first, in one `insert_many`): a replay applies none
   twice;
3. clear `pending` (facts). The markers of transfers done are removed by the cell's next
   write (`$unset` beside the `$inc`) or by `settle` when the log is caught up.
A crash between two writes leaves `pending` set: the next load of that issue finishes the
transfer alone (`_finish`: take it by a compare-and-set on the fact, apply where the marker is
missing, mark done, clear; the markers then leave the cells as a commit's do). A process that
read the pending transfer before another finished it finds nothing to take and applies
nothing. Every point write filters on `_id` (and guards evaluated on that one document).

Reads: cells by computed `_id`s (one `_id $in`: the local engine answers it from the `_id`
index with patch 0004); the lists read fact documents a page at a time.
"""

import asyncio
import time
from collections import OrderedDict
from collections.abc import AsyncIterator, Iterable, Mapping, Sequence
from contextlib import AsyncExitStack, asynccontextmanager
from datetime import date
from typing import Any
from uuid import uuid4

from pymongo import ASCENDING, UpdateOne
from pymongo.asynchronous.collection import AsyncCollection
from pymongo.asynchronous.database import AsyncDatabase

from services.reporting.domain import cells as cell_rules
from services.reporting.domain import transfers
from services.reporting.domain.cells import Cells
from services.reporting.domain.facts import UNSOLVED, FactRules
from services.reporting.domain.scope import Scope
from services.reporting.domain.transfers import Change, Stored
from services.runtime.effects import BulkWrites
from services.runtime.locks import KeyedLocks
from services.runtime.mongo import APPLIED, Document

COLLECTION = "issue_facts"
CELLS = "issue_cells"
GENERATIONS = "reporting_generations"
LIVE = "live"
VIEW = "view"
POINTER_TTL = 1.0
"""How long a process trusts the live generation it read (a rebuild elsewhere moves it)."""
BULK = 1000
INDEXED = (
    "l_problem",
    "l_task",
    "l_result",
    "unsolved",
    "reported_month",
    "office_id",
    "merged_into",
)
"""The view fields the reads select on by equality (each the first key of an index)."""
KNOWN_ISSUES = 20_000
"""Fact documents a process remembers as it wrote them (their logs are small)."""
KNOWN_CELLS = 200_000


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
        known: "Known | None" = None,
    ) -> None:
        self._db = db
        self.rules = rules
        self._pinned = generation
        self.generations = generations if generations is not None else Generations(db)
        self._writers = writers if writers is not None else KeyedLocks()
        self._known = known if known is not None else Known()

    # --- generations -------------------------------------------------------------------

    async def generation(self) -> int:
        return self._pinned if self._pinned is not None else await self.generations.live()

    def pinned(self, generation: int) -> "ReportingStore":
        """This store bound to one generation (a rebuild writes the new one)."""
        return ReportingStore(
            self._db, self.rules, generation, self.generations, self._writers, self._known
        )

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
        """The indexes, declared here only, created at start and in a rebuild's generation.
        Every request-path query has an equality on the first key of one of them (both
        engines answer it from the index; MongoDB serves the lists' order from it too):
        a list's key, unsolved, the period's months, an office, merged into."""
        facts = await self._facts()
        order = [(f"{VIEW}.reported_at", ASCENDING), ("_id", ASCENDING)]
        await facts.create_index(order)
        for key in INDEXED:
            await facts.create_index([(f"{VIEW}.{key}", ASCENDING), *order])

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

    @asynccontextmanager
    async def writing(self, issue_ids: Iterable[str]) -> AsyncIterator[None]:
        """One writer per issue in this process (the live consumer and a catch-up): a batch
        holds its issues' locks, taken in one order (no deadlock), until its writes are
        done; FerretDB v1 loses concurrent updates of one document (runtime/locks.py)."""
        async with AsyncExitStack() as held:
            for issue_id in sorted(set(issue_ids)):
                await held.enter_async_context(self._writers.hold(issue_id))
            yield

    async def load(self, issue_ids: Iterable[str]) -> dict[str, Stored]:
        """The issues' documents as a change needs them: as this process last wrote them
        (no read), else read by `_id` side by side. A transfer left pending by a crash is
        finished first."""
        generation = await self.generation()
        facts, cells = await self._facts(), await self._cells()
        out: dict[str, Stored] = {}
        wanted = []
        for issue_id in dict.fromkeys(issue_ids):
            if (known := self._known.get(generation, issue_id)) is not None:
                out[issue_id] = known
            else:
                wanted.append(issue_id)
        fields = {"log": 1, "posted": 1, "pending": 1, "rev": 1}
        read = facts.find({"_id": {"$in": wanted}}, fields) if wanted else None
        by_id = {doc["_id"]: doc async for doc in read} if read is not None else {}
        for issue_id in wanted:
            doc = by_id.get(issue_id)
            if doc is not None and (pending := doc.get("pending")):
                await self._finish(facts, cells, generation, issue_id, pending)
            out[issue_id] = _stored_of(issue_id, doc)
        return out

    async def _finish(
        self,
        facts: AsyncCollection[Document],
        cells: AsyncCollection[Document],
        generation: int,
        issue_id: str,
        pending: Mapping[str, Any],
    ) -> None:
        """Finish one issue's transfer left pending by a crash (or being finished by another
        process), as read: take it (the fact still holds this transfer, not done yet: one
        compare-and-set naming this finisher), apply it to the cells that do not hold its
        marker, mark it done (if this finisher still holds it), clear `pending`; the markers
        go with the cells' next write or `settle`, as a commit's do.

        Each step is guarded, so it is idempotent and a finisher acting on a read that is no
        longer true does nothing: a transfer finished (or cleared by its writer) meanwhile
        has no pending marker to take, so its move is not applied again once its markers
        have left the cells (they are removed only after the transfer is done)."""
        marker = pending["marker"]
        key = marker_key(marker)
        moved = cell_rules.from_list(pending["cells"])
        this = {"_id": issue_id, "pending.marker": marker}
        if not pending.get("done"):
            mine = uuid4().hex[:12]
            taken = await facts.update_one(
                this | {"pending.done": False}, {"$set": {"pending.finisher": mine}}
            )
            if taken.matched_count == 0:
                return  # finished or cleared since it was read: nothing left to do
            if moved:
                exist = [
                    UpdateOne({"_id": c}, {"$setOnInsert": {"n": {}, "applied": {}}}, upsert=True)
                    for c in moved
                ]
                await cells.bulk_write(exist, ordered=True)
                guard = f"applied.{key}"
                incs = [
                    UpdateOne({"_id": c, guard: {"$exists": False}}, _moved_many(n, [key], []))
                    for c, n in moved.items()
                ]
                await cells.bulk_write(incs, ordered=False)
            marked = await facts.update_one(
                this | {"pending.finisher": mine}, {"$set": {"pending.done": True}}
            )
            if marked.matched_count == 0:
                return  # another finisher took it over meanwhile: it finishes
        await facts.update_one(this, {"$unset": {"pending": ""}})
        for cell in moved:
            self._known.left.setdefault((generation, cell), []).append(key)

    async def commit(self, changes: Sequence[Change]) -> set[str]:
        """Write a batch's changes; the issues whose document had changed since it was read
        (refused: nothing of theirs written; the caller reads them again).

        The steps are the module's: claim (facts), apply (cells), clear (facts), one bulk
        write each; a document new to the projection is claimed by one insert."""
        generation = await self.generation()
        facts, cells = await self._facts(), await self._cells()
        claims = BulkWrites()
        updated = 0
        for change in changes:
            claimed = _claimed(change)
            if change.stored.exists:
                guard = {"rev": change.stored.rev, "pending": None}
                claims.update(facts, change.issue_id, claimed, where=guard)
                updated += 1
            else:
                doc = {"_id": change.issue_id, "log": change.entries, APPLIED: change.applied}
                doc |= {k: v for k, v in _fields(change).items() if not k.startswith("log.")}
                claims.insert(facts, doc, otherwise=None)
        try:
            committed = await claims.commit()
        except BaseException:  # written or not: read them again next time
            for change in changes:
                self._known.drop(generation, change.issue_id)
            raise
        refused = {str(i) for _, i in committed.taken}
        if committed.matched.get(facts.full_name, 0) < updated:
            refused |= await self._not_claimed(facts, [c for c in changes if c.stored.exists])
        done = [c for c in changes if c.issue_id not in refused]
        for change in done:
            self._known.put(generation, change.after())
        for issue_id in refused:
            self._known.drop(generation, issue_id)
        moving = [c for c in done if c.moved]
        if moving:
            try:
                await self._transfer(facts, cells, generation, moving)
            except BaseException:  # their transfers are pending: the next load finishes them
                for change in moving:
                    self._known.drop(generation, change.issue_id)
                raise
        return refused

    async def _not_claimed(
        self, facts: AsyncCollection[Document], changes: Sequence[Change]
    ) -> set[str]:
        """Which changes' claims did not hold (read back: the revision is not theirs)."""
        found = await asyncio.gather(
            *(facts.find_one({"_id": c.issue_id}, {"claim": 1}) for c in changes)
        )
        return {
            c.issue_id
            for c, doc in zip(changes, found, strict=True)
            if doc is None or doc.get("claim") != c.token
        }

    async def _transfer(
        self,
        facts: AsyncCollection[Document],
        cells: AsyncCollection[Document],
        generation: int,
        moving: Sequence[Change],
    ) -> None:
        totals, markers = transfers.merged(moving)
        await self._cells_exist(cells, generation, list(totals))
        left = self._known.left
        olds = {cell: left.pop((generation, cell), []) for cell in totals}  # removed below
        incs = BulkWrites()
        for cell, counters in totals.items():
            keys = [marker_key(m) for m in markers[cell]]
            old = [k for k in olds[cell] if k not in keys]
            guard = {f"applied.{k}": {"$exists": False} for k in keys}
            incs.update(cells, cell, _moved_many(counters, keys, old), where=guard)
        try:
            committed = await incs.commit()  # a cell holding a marker had it moved (a replay)
        except BaseException:
            for cell, old in olds.items():
                left.setdefault((generation, cell), []).extend(old)
            raise
        clears = BulkWrites()
        for change in moving:
            marked = {"pending.marker": change.marker}
            clears.update(facts, change.issue_id, {"$unset": {"pending": ""}}, where=marked)
        try:
            await clears.commit()
        except BaseException:  # cleared or not: `settle` reads which (a pending one finishes)
            for cell in totals:
                doubtful = self._known.doubtful.setdefault((generation, cell), [])
                doubtful.extend(markers[cell])
            raise
        every = committed.matched.get(cells.full_name, 0) == len(totals)
        for cell in totals:  # done now: their markers go with the cell's next write
            keys = [marker_key(m) for m in markers[cell]]
            kept = [] if every else olds[cell]
            left.setdefault((generation, cell), []).extend([*kept, *keys])
        if len(left) > KNOWN_CELLS:
            await self.settle()

    async def settle(self) -> None:
        """Remove from the cells the markers of transfers done (left for the cell's next
        write to remove), one bulk per generation; called when the log is caught up."""
        left = self._known.left
        await self._resolve_doubtful()
        taken = dict(left)  # taken out first: a batch running meanwhile leaves its own
        left.clear()
        by_generation: dict[int, list[tuple[str, list[str]]]] = {}
        for (generation, cell), keys in taken.items():
            by_generation.setdefault(generation, []).append((cell, keys))
        try:
            for generation, items in by_generation.items():
                cells = self._db[cells_name(generation)]
                unsets = BulkWrites()
                for cell, keys in items:
                    unset = {"$unset": {f"applied.{k}": "" for k in keys}}
                    unsets.update(cells, cell, unset, upsert=False)
                await unsets.commit()
        except BaseException:
            for (generation, cell), keys in taken.items():
                left.setdefault((generation, cell), []).extend(keys)
            raise

    async def _resolve_doubtful(self) -> None:
        """Markers whose transfer's `pending` may or may not have been cleared (an error in
        that write): where it is gone, the marker is left to remove; where it is still there,
        the issue's next load finishes the transfer (and removes the marker itself)."""
        doubtful = self._known.doubtful
        if not doubtful:
            return
        markers = {m for ms in doubtful.values() for m in ms}
        by_issue = {m: m.rpartition("|")[0] for m in markers}
        found: dict[int, dict[str, Any]] = {}
        for generation in {g for g, _ in doubtful}:
            facts = self._db[facts_name(generation)]
            issues = sorted(set(by_issue.values()))
            docs = await asyncio.gather(
                *(facts.find_one({"_id": i}, {"pending.marker": 1}) for i in issues)
            )
            found[generation] = {
                i: ((d or {}).get("pending") or {}).get("marker")
                for i, d in zip(issues, docs, strict=True)
            }
        for (generation, cell), ms in list(doubtful.items()):
            done = [m for m in ms if found[generation].get(by_issue[m]) != m]
            self._known.left.setdefault((generation, cell), []).extend(marker_key(m) for m in done)
            del doubtful[(generation, cell)]

    async def _cells_exist(
        self, cells: AsyncCollection[Document], generation: int, ids: list[str]
    ) -> None:
        """Create the cells not known to exist (empty), in one insert."""
        known = self._known.cells.setdefault(generation, set())
        new = [cell for cell in ids if cell not in known]
        if new:
            created = BulkWrites()
            for cell in new:
                created.insert(cells, {"_id": cell, "n": {}, "applied": {}}, otherwise=None)
            await created.commit()  # the taken ones exist already: as wanted
            if len(known) > KNOWN_CELLS:
                known.clear()
            known.update(new)

    # --- the rebuild's bulk writes -----------------------------------------------------

    async def insert_facts(self, docs: list[Document]) -> None:
        """Fact documents of a new generation, in bulk (nothing else writes them yet)."""
        facts = await self._facts()
        for start in range(0, len(docs), BULK):
            await facts.insert_many(docs[start : start + BULK], ordered=False)

    async def insert_cells(self, totals: Cells) -> None:
        """The cells of a new generation, in bulk (their counters summed in memory)."""
        cells = await self._cells()
        docs = [{"_id": cell, "n": counters, "applied": {}} for cell, counters in totals.items()]
        for start in range(0, len(docs), BULK):
            await cells.insert_many(docs[start : start + BULK], ordered=False)

    # --- reads ---------------------------------------------------------------------------

    async def cells(self, ids: Iterable[str]) -> list[dict[str, int]]:
        """The counters of these cells (absent cells count nothing), in one `_id $in`."""
        collection = await self._cells()
        wanted = list(dict.fromkeys(ids))
        if not wanted:
            return []
        found = collection.find({"_id": {"$in": wanted}}, {"n": 1})
        return [_counters(doc.get("n") or {}) async for doc in found]

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

    async def unsolved_by_day(
        self, region_code: str | None, office_id: str | None, category: str | None
    ) -> dict[str, int]:
        """The unsolved issues of a scope per local day reported, from the backlog's cells
        (of an office and a category at once: counted over the facts, which scans)."""
        if office_id is not None and category is not None:
            scope = Scope(None, None, office_id, region_code, category)
            views = await self.fields(
                scope.query() | {"state": {"$in": sorted(UNSOLVED)}}, "reported_day"
            )
            out: dict[str, int] = {}
            for view in views:
                if day := view.get("reported_day"):
                    out[day] = out.get(day, 0) + 1
            return out
        total = await self.summed(cell_rules.backlog_cell_ids(region_code))
        narrowed = cell_rules.narrowed(total, office_id, category)
        return {day: n for day, n in cell_rules.prefixed(narrowed, "u").items() if n > 0}

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
        match = in_view(query, ordered=True) | {VIEW: {"$exists": True}}
        if after is not None:
            at, issue = after
            later = {f"{VIEW}.reported_at": {"$gt": at}}
            same = {f"{VIEW}.reported_at": at, "_id": {"$gt": issue}}
            after_cursor = {"$or": [later, same]}
            if "$or" in match:  # the equalities stay at the top (the engine pushes them down)
                match = {k: v for k, v in match.items() if k != "$or"} | {
                    "$and": [{"$or": match["$or"]}, after_cursor]
                }
            else:
                match |= after_cursor
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


def marker_key(marker: str) -> str:
    """A transfer's marker as a field name in a cell's `applied` map."""
    return cell_rules.escape(marker)


def _moved_many(counters: Mapping[str, int], keys: list[str], done: list[str]) -> Document:
    """Add the counters and the markers `keys`; remove the markers `done` (transfers done)."""
    update: Document = {"$set": {f"applied.{k}": 1 for k in keys}}
    if inc := {f"n.{name}": n for name, n in counters.items() if n}:
        update["$inc"] = inc
    if done:
        update["$unset"] = {f"applied.{k}": "" for k in done}
    return update


def _fields(change: Change) -> Document:
    """What a claim sets: log entries, view, contribution, revision, the transfer."""
    out: Document = {f"log.{key}": entry for key, entry in change.entries.items()}
    posted = {"v": int(change.view.get("_n", 0)), "cells": cell_rules.as_list(change.contributed)}
    out |= {VIEW: change.view, "posted": posted, "rev": change.rev, "claim": change.token}
    if change.moved:
        moved = cell_rules.as_list(change.moved)
        out["pending"] = {"marker": change.marker, "cells": moved, "done": False}
    return out


def _claimed(change: Change) -> Document:
    update: Document = {"$set": _fields(change)}
    if change.applied:
        update["$addToSet"] = {APPLIED: {"$each": change.applied}}
    return update


def _stored_of(issue_id: str, doc: Document | None) -> Stored:
    if doc is None:
        return Stored(issue_id)
    posted = doc.get("posted") or {}
    rev = doc.get("rev")
    return Stored(
        issue_id,
        None if rev is None else int(rev),
        True,
        dict(doc.get("log") or {}),
        cell_rules.from_list(posted.get("cells")),
        int(posted.get("v", 0)),
    )


class Known:
    """The fact documents this process wrote last (their revision and content), so that a
    batch reads only the issues it does not know; and the cells known to exist. A document
    changed elsewhere has another revision: the claim is refused and it is read again."""

    def __init__(self, size: int = KNOWN_ISSUES) -> None:
        self._size = size
        self._docs: OrderedDict[tuple[int, str], Stored] = OrderedDict()
        self.cells: dict[int, set[str]] = {}
        self.left: dict[tuple[int, str], list[str]] = {}
        self.doubtful: dict[tuple[int, str], list[str]] = {}
        """Markers of transfers done, still in their cells (generation, cell): removed by the
        cell's next write or by `settle`."""

    def get(self, generation: int, issue_id: str) -> Stored | None:
        key = (generation, issue_id)
        found = self._docs.get(key)
        if found is not None:
            self._docs.move_to_end(key)
        return found

    def put(self, generation: int, stored: Stored) -> None:
        self._docs[(generation, stored.issue_id)] = stored
        self._docs.move_to_end((generation, stored.issue_id))
        while len(self._docs) > self._size:
            self._docs.popitem(last=False)

    def drop(self, generation: int, issue_id: str) -> None:
        self._docs.pop((generation, issue_id), None)


def _counters(stored: Mapping[str, Any]) -> dict[str, int]:
    return {name: int(n) for name, n in stored.items()}


SELECTIVE: tuple[str, ...] = ("office_id", "merged_into", "reported_month", "unsolved")
SELECTIVE += ("l_result", "l_task", "l_problem")
"""The indexed equalities, most selective first: a query keeps the first it has as the one
the engine answers from an index (SQLite reads that index's rows; a second equality pushed
down too could make it pick a wide one); the others become conditions on those rows."""


def one_equality(query: Mapping[str, Any], ordered: bool = False) -> Document:
    """`query` with a single indexed equality (see SELECTIVE), the same rows. `ordered` (a
    page): an equality of one value first, so that its index (which goes on with the lists'
    order) gives the rows in order; the period's instants bound them."""
    present = [key for key in SELECTIVE if key in query]
    if ordered:
        present.sort(key=lambda key: not _single(query[key]))
    chosen = next(iter(present), None)
    out: Document = {}
    for key, value in query.items():
        if key == chosen or key not in SELECTIVE:
            out[key] = value
        elif key == "reported_month":
            continue  # the period's day range (beside it) says the same
        elif value is True:
            out[key] = {"$ne": False}  # the list keys are always set
        else:
            same = {"$gte": value, "$lte": value}  # a range: evaluated on the rows
            out[key] = value if isinstance(value, dict) else same
    return out


def _single(value: Any) -> bool:
    """Whether a condition is an equality to one value."""
    if isinstance(value, dict):
        return len(value) == 1 and len(value.get("$in") or ()) == 1
    return True


def in_view(query: Mapping[str, Any], ordered: bool = False) -> Document:
    """A filter on view fields as a filter on the stored documents (one indexed equality)."""
    out: Document = {}
    for key, value in one_equality(query, ordered).items():
        if key in ("$and", "$or", "$nor"):
            out[key] = [in_view(part) for part in value]
        else:
            out[f"{VIEW}.{key}"] = value
    return out


def _view(doc: Document) -> Document:
    view = {k: v for k, v in doc[VIEW].items() if k != "_n"}
    return view | {"issue_id": doc["_id"]}
