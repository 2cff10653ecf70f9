"""Reporting's use cases: a batch of events is counted (recorded in their issues' facts, the
views derived again, their contributions to the count cells moved exactly once, in one bulk
write per collection and step), and the projection is
rebuilt from the start of the log into a new generation beside the live one (`rebuild`).

Records that are not valid events are skipped by the rebuild (the live consumer
dead-lettered them when they first came).
"""

import time
from collections import defaultdict
from collections.abc import AsyncIterator, Callable, Iterable, Sequence
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
ATTEMPTS = 5
"""Times a batch's issues are read again when another writer changed them meanwhile."""


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
        for _ in range(ATTEMPTS):
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


Progress = Callable[[int, int], None]
"""Called with (records read, records to read)."""


@dataclass
class RebuildStatus:
    state: str = "idle"  # idle, running, done, failed
    total: int = 0
    read: int = 0
    applied: int = 0
    skipped: int = 0
    issues: int = 0
    caught_up: int = 0
    generation: int | None = None
    events_per_second: float = 0.0
    started_at: datetime | None = None
    finished_at: datetime | None = None
    error: str | None = None
    end_offsets: dict[int, int] = field(default_factory=dict)

    def start(self) -> None:
        fresh = RebuildStatus(state="running", started_at=datetime.now(UTC))
        self.__dict__.update(fresh.__dict__)

    def as_dict(self) -> dict[str, Any]:
        return asdict(self) | {"end_offsets": {str(p): o for p, o in self.end_offsets.items()}}


class EventLog(Protocol):
    """The issues topic as a rebuild reads it (adapters/log.py: KafkaLog)."""

    async def end_offsets(self) -> dict[int, int]: ...
    def batches(
        self, start: dict[int, int], end: dict[int, int]
    ) -> AsyncIterator[list[bytes | None]]: ...


class Fold:
    """Issues' logs folded in memory (the same entries `fact_update` stores), then their
    fact documents and the sum of their contributions to the cells."""

    def __init__(self, rules: FactRules) -> None:
        self.rules = rules
        self.logs: dict[str, dict[str, dict[str, Any]]] = defaultdict(dict)

    def add(self, event: Event) -> None:
        """The entry `fact_update` stores, as MongoDB gives it back (times to the ms)."""
        log = self.logs[event.issue_id]
        key = str(event.event_id)
        log[key] = entry_of(event, log.get(key))

    def documents(self) -> tuple[list[Document], cell_rules.Cells]:
        docs: list[Document] = []
        by_group: dict[tuple[str, ...], dict[str, int]] = {}
        for issue_id, log in self.logs.items():
            view = derive(log, self.rules)
            contributed = cell_rules.contributions(view)
            stored = cell_rules.as_list(contributed)
            for item in stored:  # issues of one day and place add to the same group
                cell_rules.add(by_group.setdefault(tuple(item["c"]), {}), item["n"])
            posted = {"v": view["_n"], "cells": stored}
            doc = {"_id": issue_id, "log": log, "view": view, APPLIED: sorted(log)}
            docs.append(doc | {"posted": posted, "rev": 0})
        totals: cell_rules.Cells = {}
        for ids, counters in by_group.items():
            for cell in ids:
                cell_rules.add(totals.setdefault(cell, {}), counters)
        return docs, totals


async def rebuild(
    log: EventLog,
    store: Projection,
    status: RebuildStatus | None = None,
    progress: Progress = lambda read, total: None,
) -> RebuildStatus:
    """Rebuild the projection from the log into a NEW generation, beside the live one.

    1. Read the log up to the end offsets seen at the start, in bulk; fold each issue's
       events in memory; insert its fact documents and the summed cells in bulk.
    2. Catch up: the events appended since, through the live path (exactly once), into the
       new generation; then switch the pointer (one write): reads move to the new figures.
    3. Catch up once more (what the live consumer wrote into the old generation while it was
       switching), then drop the old generation's collections whole.
    The live consumer keeps serving and writing the old generation until the switch."""
    status = status or RebuildStatus()
    if status.state != "running":
        status.start()
    started = time.perf_counter()
    try:
        old = await store.generation()
        generation = await store.new_generation()
        status.generation = generation
        target = store.pinned(generation)
        end = await log.end_offsets()
        status.end_offsets, status.total = end, sum(end.values())
        progress(0, status.total)
        fold = Fold(store.rules)
        async for batch in log.batches({}, end):
            for value in batch:
                status.read += 1
                try:
                    fold.add(decode(value or b""))
                    status.applied += 1
                except ValueError:
                    status.skipped += 1
            progress(status.read, status.total)
        docs, totals = fold.documents()
        fold.logs.clear()
        status.issues = len(docs)
        await target.ensure_indexes()
        await target.insert_facts(docs)
        await target.insert_cells(totals)
        status.events_per_second = round(status.applied / (time.perf_counter() - started), 1)
        end = await _catch_up(log, target, end, status)
        await store.switch(generation)
        await _catch_up(log, target, end, status)
        if old != generation:
            await store.drop_generation(old)
        status.state = "done"
    except BaseException as error:
        status.state, status.error = "failed", repr(error)
        raise
    finally:
        status.finished_at = datetime.now(UTC)
    return status


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
