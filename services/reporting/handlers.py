"""Reporting's use cases: a batch of events is counted (recorded in their issues' facts, the
views derived again, their contributions to the count cells moved exactly once, in one bulk
write per collection and step), and the projection is
rebuilt from the start of the log into a new generation beside the live one (`rebuild`).

Records that are not valid events are skipped by the rebuild (the live consumer
dead-lettered them when they first came).
"""

import asyncio
import itertools
import math
import random
import time
import zlib
from collections import defaultdict
from collections.abc import AsyncIterator, Awaitable, Callable, Iterable, Iterator, Sequence
from contextlib import AbstractAsyncContextManager
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from typing import Any, Protocol

from services.contracts.events import Event, decode
from services.reporting.domain import cells as cell_rules
from services.reporting.domain.facts import FactRules, derive
from services.reporting.domain.transfers import Change, Stored, change_of, entry_of
from services.runtime.consumer import Delivered, Delivery
from services.runtime.mongo import APPLIED, Document


class FactsWriter(Protocol):
    """What the use cases need of the store (adapters/store.py: ReportingStore)."""

    @property
    def rules(self) -> FactRules: ...

    def writing(self, issue_ids: Iterable[str]) -> AbstractAsyncContextManager[None]: ...
    async def load(self, issue_ids: Iterable[str]) -> dict[str, Stored]: ...
    async def commit(self, changes: Sequence[Change]) -> set[str]: ...
    async def settle(self) -> None: ...


class LiveProjection(Protocol):
    """The store as the live consumer needs it: the generation live now."""

    async def live(self) -> FactsWriter: ...


class Projection(FactsWriter, Protocol):
    """A store with generations (adapters/store.py: ReportingStore)."""

    async def live(self) -> "Projection": ...
    def pinned(self, generation: int) -> "Projection": ...
    async def generation(self) -> int: ...
    async def new_generation(self) -> int: ...
    async def switch(self, generation: int) -> None: ...
    async def drop_generation(self, generation: int) -> None: ...
    async def insert_facts(self, docs: list[Document]) -> None: ...
    async def insert_cells(self, totals: cell_rules.Cells) -> None: ...
    async def ensure_indexes(self) -> None: ...


SETTLE_BELOW = 100
"""A batch shorter than this means the consumer is caught up: time to settle the markers."""
ATTEMPTS = 8
"""Times a batch's issues are read again when another writer changed them meanwhile."""
BACKOFF = 0.005
"""Before attempt n (from the second), a pause of BACKOFF × 2ⁿ seconds, jittered (half to
whole): writers that keep refusing each other's claims (three processes on the same issues)
fall out of step, and the one holding a transfer has time to finish it. At most 1.3 s in all."""


async def count_batch(store: FactsWriter, events: Sequence[Event]) -> set[str]:
    """Count a batch of events: per issue, its new log entries, the view derived from the
    whole log and the move of its contribution to the cells, all issues' writes in one bulk
    per collection and step (adapters/store.py: `commit`), exactly once. The ids of the
    events recorded now (the others were known)."""
    by_issue: dict[str, list[Event]] = defaultdict(list)
    for event in events:
        by_issue[event.issue_id].append(event)
    recorded: set[str] = set()
    async with store.writing(by_issue):
        todo = list(by_issue)
        for attempt in range(ATTEMPTS):
            if attempt:
                await asyncio.sleep(BACKOFF * 2**attempt * random.uniform(0.5, 1.0))
            stored = await store.load(todo)
            changes = [
                change
                for issue_id in todo
                if (change := change_of(stored[issue_id], by_issue[issue_id], store.rules))
            ]
            refused = await store.commit(changes)
            recorded |= {e for c in changes if c.issue_id not in refused for e in c.applied}
            todo = [issue_id for issue_id in todo if issue_id in refused]
            if not todo:
                return recorded
    raise RuntimeError(f"{todo[:3]}: their documents kept changing under the batch")


async def count(store: FactsWriter, event: Event) -> bool:
    """Count one event (a batch of one). True when it was new."""
    return bool(await count_batch(store, [event]))


class ReportingHandlers:
    """Reporting counts every event into the live generation of its projection."""

    def __init__(self, store: LiveProjection) -> None:
        self._store = store

    async def apply(self, event: Event) -> bool:
        return await count(await self._store.live(), event)

    async def handle(self, event: Event, _: Delivery) -> None:
        await self.apply(event)

    async def handle_batch(self, batch: Sequence[Delivered]) -> None:
        """The consumer's batch (runtime.consumer `consume_batch`), counted at once; a short
        batch (the log is caught up) then settles the cells' markers."""
        store = await self._store.live()
        await count_batch(store, [one.event for one in batch])
        if len(batch) < SETTLE_BELOW:
            await store.settle()


Progress = Callable[["RebuildStatus"], None]
"""Called with the rebuild's status as it goes (after every read batch and bulk insert)."""

CHUNK = 500
"""Documents per bulk insert of a rebuild."""
WRITERS = 4
"""Bulk inserts of a rebuild in flight at once (the engine converts documents on every core
it has; the fold of the next documents overlaps them)."""
QUEUED = 2 * WRITERS
"""Chunks folded ahead of the writers at most (memory stays bounded)."""
MEMORY_EVENTS = 400_000
"""Events a rebuild folds in memory at once at most (≈ 0.8 KB each): a partition that holds
more is read in as many passes, each folding the issues whose key falls in its share."""
CELL_COUNTERS = 1_000_000
"""Cell counters a rebuild sums in memory at most (≈ 90 B each; they grow with the days and
places of the log): beyond, the sums so far go to the spill (local disk) and leave memory.
At 100 k issues, 1 M instead of 4 M: peak RSS 781 -> 386 MB for 10 % of the speed."""


@dataclass
class RebuildStatus:
    state: str = "idle"  # idle, running, done, failed
    phase: str = ""  # reading, writing cells, indexing, catching up, switching
    total: int = 0
    read: int = 0
    applied: int = 0
    skipped: int = 0
    issues: int = 0
    """Fact documents folded (each issue's once its partition is read)."""
    written: int = 0
    """Fact documents inserted into the new generation."""
    cells: int = 0
    """Cell documents inserted into the new generation (each once)."""
    spilled: int = 0
    """Parts of the cell sums put in the spill (none while they fit in memory)."""
    caught_up: int = 0
    passes: int = 0
    """Reads of a partition (more than one per partition when it holds more than a rebuild
    folds in memory at once)."""
    generation: int | None = None
    events_per_second: float = 0.0
    """Events applied per second since the start (to the switch, once done)."""
    started_at: datetime | None = None
    finished_at: datetime | None = None
    error: str | None = None
    end_offsets: dict[int, int] = field(default_factory=dict)

    def start(self) -> None:
        fresh = RebuildStatus(state="running", started_at=datetime.now(UTC))
        self.__dict__.update(fresh.__dict__)

    def as_dict(self) -> dict[str, Any]:
        return asdict(self) | {"end_offsets": {str(p): o for p, o in self.end_offsets.items()}}

    def line(self) -> str:
        """One progress line (the CLI's, the service's log)."""
        return (
            f"{self.phase}: read {self.read:,}/{self.total:,} events "
            f"({self.events_per_second:,.0f}/s), {self.issues:,} issues folded, "
            f"{self.written:,} written, {self.cells:,} cells, {self.skipped:,} skipped"
        )


Keep = Callable[[bytes | None], bool]
"""Which records a read keeps, by their key (the issue id), before decoding them."""


def share(part: int, parts: int) -> Keep:
    """The records of one of `parts` shares of the issues (by a stable hash of the key)."""
    return lambda key: zlib.crc32(key or b"") % parts == part


class EventLog(Protocol):
    """The issues topic as a rebuild reads it (adapters/log.py: KafkaLog)."""

    async def end_offsets(self) -> dict[int, int]: ...
    def batches(
        self, start: dict[int, int], end: dict[int, int], keep: Keep | None = None
    ) -> AsyncIterator[list[bytes | None]]: ...


class Spill(Protocol):
    """Where a rebuild puts the parts of its cell sums that do not fit in memory
    (adapters/spill.py: SpilledCells, on local disk)."""

    def add(self, totals: cell_rules.Cells) -> None: ...
    def merged(self) -> Iterator[tuple[str, cell_rules.Counters]]: ...


class Fold:
    """Issues' logs folded in memory (the same entries `fact_update` stores), then their
    fact documents (taken a chunk at a time, each log dropped as its document is made) and
    the sum of their contributions to the cells over every document taken."""

    def __init__(self, rules: FactRules) -> None:
        self.rules = rules
        self.logs: dict[str, dict[str, dict[str, Any]]] = defaultdict(dict)
        self._groups: dict[tuple[str, ...], dict[str, int]] = {}
        """Issues of one day and place add the same to the same cells: summed per group."""
        self.held = 0
        """Counters held in the groups (what the fold's memory grows with besides logs)."""

    def add(self, event: Event) -> None:
        """The entry `fact_update` stores, as MongoDB gives it back (times to the ms)."""
        log = self.logs[event.issue_id]
        key = str(event.event_id)
        log[key] = entry_of(event, log.get(key))

    def take(self, size: int) -> Iterator[list[Document]]:
        """The fact documents of the issues folded so far, `size` at a time, in the order
        their issues came; their logs leave memory, their contributions are summed."""
        chunk: list[Document] = []
        for issue_id in list(self.logs):
            chunk.append(self._document(issue_id, self.logs.pop(issue_id)))
            if len(chunk) >= size:
                yield chunk
                chunk = []
        if chunk:
            yield chunk

    def _document(self, issue_id: str, log: dict[str, dict[str, Any]]) -> Document:
        view = derive(log, self.rules)
        stored = cell_rules.as_list(cell_rules.contributions(view))
        for item in stored:
            group = self._groups.setdefault(tuple(item["c"]), {})
            before = len(group)
            cell_rules.add(group, item["n"])
            self.held += len(group) - before
        posted = {"v": view["_n"], "cells": stored}
        doc = {"_id": issue_id, "log": log, "view": view, APPLIED: sorted(log)}
        return doc | {"posted": posted, "rev": 0}

    def totals(self) -> cell_rules.Cells:
        """Every cell's counters: the contributions of the documents taken since the last
        call (the sums leave memory)."""
        groups, self._groups, self.held = self._groups, {}, 0
        totals: cell_rules.Cells = {}
        for ids, counters in groups.items():
            for cell in ids:
                if (found := totals.get(cell)) is None:
                    totals[cell] = dict(counters)  # most cells: one group (a day, a place)
                else:
                    cell_rules.add(found, counters)
        return totals

    def documents(self) -> tuple[list[Document], cell_rules.Cells]:
        """Every fact document at once, and the cells."""
        docs = [doc for chunk in self.take(CHUNK) for doc in chunk]
        return docs, self.totals()


async def rebuild(
    log: EventLog,
    store: Projection,
    spill: Spill,
    status: RebuildStatus | None = None,
    progress: Progress = lambda status: None,
    memory_events: int = MEMORY_EVENTS,
    cell_counters: int = CELL_COUNTERS,
) -> RebuildStatus:
    """Rebuild the projection from the log into a NEW generation, beside the live one.

    1. Read the log up to the end offsets seen at the start, one partition at a time (an
       issue's events are all in its key's partition), in bulk; fold its issues' events in
       memory (a new generation is empty: nothing is read from the database, and no claim,
       marker or revision guard is needed: nothing else writes it yet); hand their fact
       documents in chunks to `WRITERS` bulk inserts that run while the next are folded and
       read; sum the contributions to the cells in memory and insert each cell once at the
       end; then create the indexes (on a full collection, once). A partition of more than
       `memory_events` events is read in as many passes, each over a share of its issues
       (filtered by key before decoding), and sums of more than `cell_counters` counters go
       to `spill` as they come and are merged from it at the end (each cell still inserted
       once), so the memory a rebuild holds does not grow with the log.
    2. Catch up: the events appended since, through the live path (exactly once), into the
       new generation; then switch the pointer (one write): reads move to the new figures.
    3. Catch up once more (what the live consumer wrote into the old generation while it was
       switching), then drop the old generation's collections whole.
    The live consumer keeps serving and writing the old generation until the switch."""
    status = status or RebuildStatus()
    if status.state != "running":
        status.start()
    started = time.perf_counter()

    def report(phase: str | None = None) -> None:
        status.phase = phase or status.phase
        status.events_per_second = round(status.applied / (time.perf_counter() - started), 1)
        progress(status)

    try:
        old = await store.generation()
        generation = await store.new_generation()
        status.generation = generation
        target = store.pinned(generation)
        end = await log.end_offsets()
        status.end_offsets, status.total = end, sum(end.values())
        report("reading")
        fold = Fold(store.rules)
        async with _Inserts(target, status, report) as inserts:
            for partition in sorted(end):
                parts = max(1, math.ceil(end[partition] / memory_events))
                status.passes += parts
                for part in range(parts):
                    keep = share(part, parts) if parts > 1 else None
                    async for batch in log.batches({}, {partition: end[partition]}, keep):
                        for value in batch:
                            status.read += 1
                            try:
                                fold.add(decode(value or b""))
                                status.applied += 1
                            except ValueError:
                                status.skipped += 1
                        report()
                    for docs in fold.take(CHUNK):
                        status.issues += len(docs)
                        await inserts.facts(docs)
                        if fold.held > cell_counters:
                            spill.add(fold.totals())
                            status.spilled += 1
            report("writing cells")
            if status.spilled:  # some sums are on disk: the rest join them, all come back merged
                spill.add(fold.totals())
                status.spilled += 1
                entries: Iterator[tuple[str, cell_rules.Counters]] = spill.merged()
            else:
                entries = iter(fold.totals().items())
            while chunk := dict(itertools.islice(entries, CHUNK)):
                await inserts.cells(chunk)
        report("indexing")
        await target.ensure_indexes()
        report("catching up")
        status.events_per_second = round(status.applied / (time.perf_counter() - started), 1)
        end = await _catch_up(log, target, end, status)
        report("switching")
        await store.switch(generation)
        await _catch_up(log, target, end, status)
        if old != generation:
            await store.drop_generation(old)
        status.state = "done"
        progress(status)
    except BaseException as error:
        status.state, status.error = "failed", repr(error)
        raise
    finally:
        status.finished_at = datetime.now(UTC)
    return status


class _Inserts:
    """A rebuild's bulk inserts: `WRITERS` tasks take chunks from a bounded queue, so the
    engine writes while the next chunks are folded (and the queue holds at most `QUEUED`).
    Leaving the block waits for every insert; a failed insert fails the rebuild."""

    def __init__(
        self, target: Projection, status: RebuildStatus, report: Callable[[], None]
    ) -> None:
        self._target, self._status, self._report = target, status, report
        self._queue: asyncio.Queue[Callable[[], Awaitable[None]] | None] = asyncio.Queue(QUEUED)
        self._group = asyncio.TaskGroup()

    async def __aenter__(self) -> "_Inserts":
        await self._group.__aenter__()
        for _ in range(WRITERS):
            self._group.create_task(self._write())
        return self

    async def __aexit__(self, *exc: Any) -> None:
        if exc[0] is None:
            for _ in range(WRITERS):
                await self._queue.put(None)
        await self._group.__aexit__(*exc)

    async def facts(self, docs: list[Document]) -> None:
        async def insert() -> None:
            await self._target.insert_facts(docs)
            self._status.written += len(docs)

        await self._put(insert)

    async def cells(self, totals: cell_rules.Cells) -> None:
        async def insert() -> None:
            await self._target.insert_cells(totals)
            self._status.cells += len(totals)

        await self._put(insert)

    async def _put(self, insert: Callable[[], Awaitable[None]]) -> None:
        await self._queue.put(insert)
        await asyncio.sleep(0)  # a free writer takes it now

    async def _write(self) -> None:
        while (insert := await self._queue.get()) is not None:
            await insert()
            self._report()


async def _catch_up(
    log: EventLog, target: FactsWriter, since: dict[int, int], status: RebuildStatus
) -> dict[int, int]:
    """Count the events appended after `since` into `target` (the live path); the new end."""
    end = await log.end_offsets()
    async for batch in log.batches(since, end):
        events = _decoded(batch)
        await count_batch(target, events)
        status.caught_up += len(events)
    await target.settle()
    return end


def _decoded(batch: Iterable[bytes | None]) -> list[Event]:
    out = []
    for value in batch:
        try:
            out.append(decode(value or b""))
        except ValueError:
            continue
    return out
