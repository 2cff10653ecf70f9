"""Reporting's projection: one fact document per issue (`log` + derived `view`, see facts.py)
and the count cells the figures are read from (domain/cells.py), in a GENERATION: a pair of
collections (`issue_facts[_<g>]`, `issue_cells[_<g>]`); the pointer document
`reporting_generations/live` names the generation the service reads and writes. A rebuild
fills a new generation beside it and moves the pointer in one write (handlers.rebuild).

Writes (handlers.count_batch, a consumer batch at a time, under the batch's issues' locks):
`load` gives each issue's document as this process last wrote it (no read), else reads it by
`_id` (finishing a transfer left pending); the handler computes each issue's
`Change` (domain/transfers.py); `commit` writes them, EXACTLY ONCE, in one bulk write per
collection and step:

1. claim (facts): per issue, guarded by the revision it was computed from (`rev`) and no
   transfer pending, its new log entries, view, contribution (`posted`), revision, claim
   token, and the transfer (`pending`: its marker `<issue>|<rev>-<token>`, the move and its
   STAMP `at`); a new document by one `insert_many`. Of two writers only one claims a
   revision; the other is refused (read back by its token) and computes anew;
2. apply (cells): the announced floor is read (`reporting_generations/floor`); a transfer
   stamped below it is raised (a compare-and-set on marker and stamp; one taken over
   meanwhile is left to its taker); then one update per distinct cell, the batch's moves
   summed, guarded by none of its transfers' markers being a key of the cell's `applied`
   map yet and the cell's `floor` not above their stamps, setting the markers (cells not
   known to exist are inserted empty first); where a guard fails, each transfer alone;
3. clear (facts): `pending` unset where it still holds this writer's marker and stamp, the
   issue's `last` transfer noted; the markers are left to `settle`.

A transfer is finished by whoever loads its issue while it is pending (a crash, a writer
paused or still writing; `settle` too, once it is older than STUCK): `_finish` takes it
over by a compare-and-set on its marker and stamp as read, giving it a higher stamp, applies
it where the marker is missing, and clears it if it still holds it. So a transfer's stamps
only grow, and the one who clears it holds the highest.

Markers leave the cells only in `settle`: it announces a floor (above the stamps of the
transfers it cleared), lowers it to the lowest stamp still pending, and in one update per
cell unsets the markers of transfers cleared below it and raises the cell's `floor`
(`$max`). Any late writer of a transfer (a writer paused between its claim and its cells, a
finisher taken over) holds a stamp no higher than the clearer's: it finds the marker, or,
once pruned, a floor above its stamp, and changes nothing. No first write is refused: a
claim that `settle` did not see pending landed after its announcement, and its writer reads
the floor after its claim (a finisher after its read), so its stamp is at or above it.
Clocks only choose stamps; correctness needs none to agree.
Every point write filters on `_id` (and guards evaluated on that one document).

Reads: cells by computed `_id`s (one `_id $in`: the local engine answers it from the `_id`
index with patch 0004); the lists read fact documents a page at a time.
"""

import asyncio
import time
from collections import OrderedDict
from collections.abc import AsyncIterator, Callable, Iterable, Mapping, Sequence
from contextlib import AsyncExitStack, asynccontextmanager
from datetime import date
from typing import Any

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
FLOOR = "floor"
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
STUCK = 60_000
"""Milliseconds after its stamp a transfer still pending is taken to be stuck (its writer
died): `settle` finishes it (a takeover, safe at any time; this only spares live writers)."""


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

    async def floor(self) -> int:
        """The highest floor any `settle` announced (0: none yet)."""
        doc = await self._pointer.find_one({"_id": FLOOR})
        return int(doc["at"]) if doc else 0

    async def announce(self, floor: int) -> None:
        """Announce a floor before looking for the transfers pending (one write)."""
        await self._pointer.update_one({"_id": FLOOR}, {"$max": {"at": floor}}, upsert=True)

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
        clock: Callable[[], int] | None = None,
    ) -> None:
        self._db = db
        self.rules = rules
        self._pinned = generation
        self.generations = generations if generations is not None else Generations(db)
        self._writers = writers if writers is not None else KeyedLocks()
        self._known = known if known is not None else Known()
        self.clock = clock or wall_ms
        """Transfers' stamps (milliseconds; any clock: a stamp below the announced floor is
        raised, so clocks only need to agree for the markers to leave the cells early)."""

    # --- generations -------------------------------------------------------------------

    async def generation(self) -> int:
        return self._pinned if self._pinned is not None else await self.generations.live()

    def pinned(self, generation: int) -> "ReportingStore":
        """This store bound to one generation (a rebuild writes the new one)."""
        return ReportingStore(
            self._db,
            self.rules,
            generation,
            self.generations,
            self._writers,
            self._known,
            self.clock,
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
        await facts.create_index([("pending.done", ASCENDING)])  # settle: the transfers pending

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
        (no read), else read by `_id` side by side. A transfer left pending (a crash, or a
        writer paused or still writing) is finished first."""
        generation = await self.generation()
        facts, cells = await self._facts(), await self._cells()
        out: dict[str, Stored] = {}
        wanted = []
        for issue_id in dict.fromkeys(issue_ids):
            if (known := self._known.get(generation, issue_id)) is not None:
                out[issue_id] = known
            else:
                wanted.append(issue_id)
        fields = {"log": 1, "posted": 1, "pending": 1, "rev": 1, "last": 1}
        read = facts.find({"_id": {"$in": wanted}}, fields) if wanted else None
        by_id = {doc["_id"]: doc async for doc in read} if read is not None else {}
        for issue_id in wanted:
            doc = by_id.get(issue_id)
            stamp = 0
            if doc is not None and (pending := doc.get("pending")):
                stamp = await self._finish(facts, cells, generation, issue_id, pending)
            stored = _stored_of(issue_id, doc)
            stored.stamp = max(stored.stamp, stamp)
            out[issue_id] = stored
        return out

    async def _finish(
        self,
        facts: AsyncCollection[Document],
        cells: AsyncCollection[Document],
        generation: int,
        issue_id: str,
        pending: Mapping[str, Any],
    ) -> int:
        """Finish one issue's pending transfer, as read (left by a crash, or by a writer that
        is paused or still writing): take it over (one compare-and-set on the transfer's
        marker and stamp as read, giving it a new, higher stamp: any earlier holder's clear
        now fails), apply it to the cells that do not hold its marker and whose floor is not
        above the new stamp, clear it (if this finisher still holds it) and leave its
        markers to `settle`. The stamp it gave (0: nothing taken).

        A finisher acting on a read that is no longer true takes nothing; an earlier holder
        writing late is refused by the marker, or, once `settle` pruned it, by the floor."""
        marker = pending["marker"]
        key = marker_key(marker)
        moved = cell_rules.from_list(pending["cells"])
        this = {"_id": issue_id, "pending.marker": marker}
        if pending.get("done"):  # written before stamps: applied, only to clear
            stamp = self.clock()
            if (await facts.update_one(this, _cleared(marker, stamp))).matched_count:
                self._left(generation, moved, [key], stamp)
            return stamp
        read = pending.get("at")
        floor = await self._floor()
        stamp = max(self.clock(), floor, int(read or 0) + 1)
        held = {"pending.at": read if read is not None else {"$exists": False}}
        taken = await facts.update_one(
            this | held | {"pending.done": False}, {"$set": {"pending.at": stamp}}
        )
        if taken.matched_count == 0:
            return 0  # finished, cleared or taken over since it was read: not this one's
        if moved:
            exist = [
                UpdateOne({"_id": c}, {"$setOnInsert": {"n": {}, "applied": {}}}, upsert=True)
                for c in moved
            ]
            await cells.bulk_write(exist, ordered=True)
            incs = [
                UpdateOne({"_id": c} | _unapplied([key], stamp), _moved(n, [key]))
                for c, n in moved.items()
            ]
            await cells.bulk_write(incs, ordered=False)
        cleared = await facts.update_one(this | {"pending.at": stamp}, _cleared(marker, stamp))
        if cleared.matched_count:  # still this finisher's: its markers are its to prune
            self._left(generation, moved, [key], stamp)
        return stamp

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
            change.stamp = max(self.clock(), self._known.floor, change.stored.stamp + 1)
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
        """Apply the claimed transfers to the cells, then clear them (steps 2 and 3)."""
        held = await self._stamped(facts, generation, moving)
        if held:
            await self._apply(cells, generation, held)
            await self._clear(facts, generation, held)

    async def _stamped(
        self, facts: AsyncCollection[Document], generation: int, moving: Sequence[Change]
    ) -> list[Change]:
        """The transfers this writer still holds, each with a stamp not below the announced
        floor (read now, after the claims: a `settle` that did not see a claim pending had
        announced its floor before it looked). A stamp below it is raised by a
        compare-and-set on the transfer; one taken over meanwhile is left to its taker."""
        floor = await self._floor()
        low = [c for c in moving if c.stamp < floor]
        if not low:
            return list(moving)
        raised = BulkWrites()
        before = {c.issue_id: c.stamp for c in low}
        for change in low:
            change.stamp = max(self.clock(), floor, change.stamp + 1)
            held = {"pending.marker": change.marker, "pending.at": before[change.issue_id]}
            update = {"$set": {"pending.at": change.stamp}}
            raised.update(facts, change.issue_id, update, where=held)
        committed = await raised.commit()
        lost: set[str] = set()
        if committed.matched.get(facts.full_name, 0) < len(low):
            found = await facts.find(
                {"_id": {"$in": [c.issue_id for c in low]}}, {"pending": 1}
            ).to_list()
            pending = {d["_id"]: d.get("pending") or {} for d in found}
            lost = {
                c.issue_id
                for c in low
                if (pending.get(c.issue_id) or {}).get("marker") != c.marker
                or pending[c.issue_id].get("at") != c.stamp
            }
        for change in moving:
            if change.issue_id in lost:
                self._known.drop(generation, change.issue_id)
            else:
                self._known.put(generation, change.after())
        return [c for c in moving if c.issue_id not in lost]

    async def _apply(
        self, cells: AsyncCollection[Document], generation: int, moving: Sequence[Change]
    ) -> None:
        """Step 2: one update per distinct cell, the transfers' moves summed, guarded by none
        of their markers in the cell and its floor not above their lowest stamp; where that
        guard fails (one of them applied already by a finisher, or pruned), each transfer
        again alone, guarded by its own marker and stamp."""
        totals, markers = transfers.merged(moving)
        await self._cells_exist(cells, generation, list(totals))
        lowest: dict[str, int] = {}
        for change in moving:
            for cell in change.moved:
                lowest[cell] = min(lowest.get(cell, change.stamp), change.stamp)
        incs = BulkWrites()
        for cell, counters in totals.items():
            keys = [marker_key(m) for m in markers[cell]]
            incs.update(cells, cell, _moved(counters, keys), where=_unapplied(keys, lowest[cell]))
        committed = await incs.commit()
        if committed.matched.get(cells.full_name, 0) == len(totals):
            return
        every = [marker_key(c.marker) for c in moving]
        projection = {f"applied.{k}": 1 for k in every}
        found = await cells.find({"_id": {"$in": list(totals)}}, projection).to_list()
        held = {d["_id"]: set((d.get("applied") or {}).keys()) for d in found}
        alone = BulkWrites()
        for change in moving:
            key = marker_key(change.marker)
            for cell, counters in change.moved.items():
                if key not in held.get(cell, set()):  # else it was applied, by any holder
                    where = _unapplied([key], change.stamp)
                    alone.update(cells, cell, _moved(counters, [key]), where=where)
        if len(alone):
            await alone.commit()

    async def _clear(
        self, facts: AsyncCollection[Document], generation: int, moving: Sequence[Change]
    ) -> None:
        """Step 3: clear each transfer this writer still holds (its marker and stamp), noting
        it as the issue's `last`; the markers are left to `settle`. A clear that failed or
        raised (taken over, or unknown) leaves its markers doubtful: `settle` reads which."""
        clears = BulkWrites()
        for change in moving:
            held = {"pending.marker": change.marker, "pending.at": change.stamp}
            clears.update(facts, change.issue_id, _cleared(change.marker, change.stamp), where=held)
        try:
            committed = await clears.commit()
        except BaseException:
            self._doubt(generation, moving)
            raise
        if committed.matched.get(facts.full_name, 0) < len(moving):
            self._doubt(generation, moving)
            return
        for change in moving:
            self._left(generation, change.moved, [marker_key(change.marker)], change.stamp)
        if len(self._known.left) > KNOWN_CELLS:
            await self._prune()

    def _doubt(self, generation: int, moving: Sequence[Change]) -> None:
        for change in moving:
            self._known.drop(generation, change.issue_id)
            for cell in change.moved:
                self._known.doubtful.setdefault((generation, cell), []).append(change.marker)

    def _left(self, generation: int, cells: Iterable[str], keys: list[str], stamp: int) -> None:
        """Markers of a transfer this process cleared, to prune once the floor passes `stamp`
        (the highest any holder of it had: it cleared with the transfer's last stamp)."""
        for cell in cells:
            self._known.left.setdefault((generation, cell), []).extend((k, stamp) for k in keys)

    async def _floor(self) -> int:
        floor = await self.generations.floor()
        self._known.floor = max(self._known.floor, floor)
        return floor

    async def settle(self) -> None:
        """Prune from the cells the markers of transfers done (one bulk per generation);
        called when the log is caught up.

        A marker may leave a cell only where no holder of its transfer can still write it
        (a writer paused between its claim and its cells, a finisher taken over): the same
        update raises the cell's floor above the transfer's stamp, and a write with a stamp
        below the floor is refused. The floor `settle` sets is announced first (in the
        generations' collection), then lowered to the lowest stamp of the transfers pending
        now: a transfer claimed after that read is stamped at or above the announced floor
        (`_stamped`), so no first write of a transfer is ever refused. A transfer pending
        for longer than `STUCK` (its writer died and no new event of its issue came to load
        it) is finished here first, so that it does not hold the floor down."""
        await self._resolve_doubtful()
        if await self._prune(finish_stuck=True):
            await self._prune()  # the markers of the stuck transfers it finished

    async def _prune(self, finish_stuck: bool = False) -> bool:
        """Prune what `left` holds below the floor; whether stuck transfers were finished."""
        left = self._known.left
        finished = False
        if not left:
            return finished
        taken = dict(left)  # taken out first: a batch running meanwhile leaves its own
        left.clear()
        try:
            announced = max(stamp for keys in taken.values() for _, stamp in keys) + 1
            await self.generations.announce(announced)
            for generation in sorted({g for g, _ in taken}):
                floor, stuck = await self._lowest_pending(generation, announced, finish_stuck)
                finished |= stuck
                items = [(cell, keys) for (g, cell), keys in taken.items() if g == generation]
                cells = self._db[cells_name(generation)]
                unsets = BulkWrites()
                for cell, keys in items:
                    if gone := [k for k, stamp in keys if stamp < floor]:
                        unset: Document = {"$unset": {f"applied.{k}": "" for k in gone}}
                        unset["$max"] = {"floor": floor}
                        unsets.update(cells, cell, unset, upsert=False)
                if len(unsets):
                    await unsets.commit()
                for cell, keys in items:
                    if kept := [(k, stamp) for k, stamp in keys if stamp >= floor]:
                        taken[(generation, cell)] = kept
                    else:
                        del taken[(generation, cell)]
        finally:
            for (generation, cell), keys in taken.items():
                left.setdefault((generation, cell), []).extend(keys)
        return finished

    async def _lowest_pending(
        self, generation: int, floor: int, finish_stuck: bool
    ) -> tuple[int, bool]:
        """`floor`, lowered to the lowest stamp of the transfers pending in the generation
        (those pending for longer than `STUCK` finished first, when `finish_stuck`); and
        whether any was."""
        facts = self._db[facts_name(generation)]
        query = {"pending.done": False}
        pending = {d["_id"]: d["pending"] async for d in facts.find(query, {"pending": 1})}
        old = self.clock() - STUCK
        stuck = [i for i, p in pending.items() if int(p.get("at") or 0) < old]
        finish_stuck = finish_stuck and bool(stuck)
        if finish_stuck:
            cells = self._db[cells_name(generation)]
            for issue_id in stuck:
                async with self._writers.hold(issue_id):
                    self._known.drop(generation, issue_id)
                    await self._finish(facts, cells, generation, issue_id, pending[issue_id])
            found = facts.find(query, {"pending.at": 1})
            pending = {d["_id"]: d["pending"] async for d in found}
        return min([floor, *(int(p.get("at") or 0) for p in pending.values())]), finish_stuck

    async def _resolve_doubtful(self) -> None:
        """Markers of transfers whose clear failed or may not have been written: where the
        transfer is still pending, its finisher prunes them; where it was cleared (`last`),
        they are left to prune once the floor passes the stamp it was cleared with (or, a
        later transfer of the issue done or pending, that one's stamp, which is higher)."""
        doubtful = self._known.doubtful
        if not doubtful:
            return
        for generation in {g for g, _ in doubtful}:
            facts = self._db[facts_name(generation)]
            markers = {m for (g, _), ms in doubtful.items() if g == generation for m in ms}
            issues = sorted({m.rpartition("|")[0] for m in markers})
            found = facts.find(
                {"_id": {"$in": issues}}, {"pending.marker": 1, "pending.at": 1, "last": 1}
            )
            docs = {d["_id"]: d async for d in found}
            for (g, cell), ms in list(doubtful.items()):
                if g != generation:
                    continue
                for marker in ms:
                    doc = docs.get(marker.rpartition("|")[0]) or {}
                    pending, last = doc.get("pending") or {}, doc.get("last") or {}
                    if pending.get("marker") == marker:
                        continue  # still pending: its finisher prunes its markers
                    if last.get("marker") == marker:
                        stamp = int(last["at"])
                    else:
                        stamp = max(int(last.get("at") or 0), int(pending.get("at") or 0))
                        stamp = stamp or self.clock()
                    self._left(generation, [cell], [marker_key(marker)], stamp)
                del doubtful[(g, cell)]

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
        of an office and a category at once: counted over the facts of the office in the
        period, a range of report instants on the office's index)."""
        if office_id is not None and category is not None:
            scope = Scope(start, end, office_id, region_code, category)
            views = await self.facts(scope.query(self.rules.timezone))
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


def wall_ms() -> int:
    return time.time_ns() // 1_000_000


def marker_key(marker: str) -> str:
    """A transfer's marker as a field name in a cell's `applied` map."""
    return cell_rules.escape(marker)


def _moved(counters: Mapping[str, int], keys: list[str]) -> Document:
    """Add the counters and the markers `keys` (of the transfers that move them)."""
    update: Document = {"$set": {f"applied.{k}": 1 for k in keys}}
    if inc := {f"n.{name}": n for name, n in counters.items() if n}:
        update["$inc"] = inc
    return update


def _unapplied(keys: list[str], stamp: int) -> Document:
    """A cell write's guard: none of the transfers' markers in the cell, and its floor not
    above `stamp` (no floor: none set yet)."""
    guard: Document = {f"applied.{k}": {"$exists": False} for k in keys}
    return guard | {"floor": {"$not": {"$gt": stamp}}}


def _cleared(marker: str, stamp: int) -> Document:
    """A transfer's clear: no longer pending; the issue's last transfer and its stamp."""
    return {"$unset": {"pending": ""}, "$set": {"last": {"marker": marker, "at": stamp}}}


def _fields(change: Change) -> Document:
    """What a claim sets: log entries, view, contribution, revision, the transfer."""
    out: Document = {f"log.{key}": entry for key, entry in change.entries.items()}
    posted = {"v": int(change.view.get("_n", 0)), "cells": cell_rules.as_list(change.contributed)}
    out |= {VIEW: change.view, "posted": posted, "rev": change.rev, "claim": change.token}
    if change.moved:
        moved = cell_rules.as_list(change.moved)
        out["pending"] = {
            "marker": change.marker,
            "cells": moved,
            "done": False,
            "at": change.stamp,
        }
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
    stamps = ((doc.get("last") or {}).get("at"), (doc.get("pending") or {}).get("at"))
    return Stored(
        issue_id,
        None if rev is None else int(rev),
        True,
        dict(doc.get("log") or {}),
        cell_rules.from_list(posted.get("cells")),
        int(posted.get("v", 0)),
        max(int(at or 0) for at in stamps),
    )


class Known:
    """The fact documents this process wrote last (their revision and content), so that a
    batch reads only the issues it does not know; and the cells known to exist. A document
    changed elsewhere has another revision: the claim is refused and it is read again."""

    def __init__(self, size: int = KNOWN_ISSUES) -> None:
        self._size = size
        self._docs: OrderedDict[tuple[int, str], Stored] = OrderedDict()
        self.cells: dict[int, set[str]] = {}
        self.left: dict[tuple[int, str], list[tuple[str, int]]] = {}
        """Markers of transfers this process cleared, still in their cells (generation,
        cell), with the stamp each was cleared with: `settle` prunes them."""
        self.doubtful: dict[tuple[int, str], list[str]] = {}
        """Markers of transfers whose clear this process could not confirm."""
        self.floor = 0
        """The highest floor this process saw announced (its claims' stamps start there)."""

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
