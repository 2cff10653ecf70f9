"""Two processes finishing the same pending transfer (a crash left it; during a rebalance
both consumers load the issue, or a rebuild's catch-up and the live consumer do): the one
that read the document before the other finished it must not apply the move a second time,
however late it acts on what it read."""

import asyncio
import contextlib
import random
from collections.abc import AsyncIterator
from typing import Any

import pytest
from pymongo.asynchronous.collection import AsyncCollection

from services.contracts.events import Event
from services.reporting.adapters import store
from services.reporting.adapters.store import ReportingStore
from services.reporting.domain import cells
from services.reporting.domain.facts import FactRules
from services.reporting.handlers import count_batch
from services.runtime.mongo import Document
from services.runtime.settings import PlatformSettings
from tests.integration.test_reporting_cells import (
    SHANGHAI,
    Crash,
    Crashing,
    counted_over,
    story,
)

RULES = FactRules(SHANGHAI)


class CellsDie(ReportingStore):
    """A process that dies just before its first bulk write of the cells."""

    async def _cells(self) -> AsyncCollection[Document]:
        collection = await super()._cells()

        async def dies(*args: Any, **kwargs: Any) -> Any:
            raise Crash("before the cells' write")

        setattr(collection, "bulk_write", dies)  # noqa: B010
        return collection


class SlowReader(ReportingStore):
    """A process whose read of the facts comes back, then waits (a pause, a busy loop)
    until `go` is set before it acts on what it read."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.read, self.go = asyncio.Event(), asyncio.Event()

    async def _facts(self) -> AsyncCollection[Document]:
        collection = await super()._facts()
        find = collection.find

        def late(*args: Any, **kwargs: Any) -> AsyncIterator[Document]:
            async def rows() -> AsyncIterator[Document]:
                found = [doc async for doc in find(*args, **kwargs)]
                self.read.set()
                await self.go.wait()
                for doc in found:
                    yield doc

            return rows()

        setattr(collection, "find", late)  # noqa: B010
        return collection


async def left_pending(db: Any, events: list[Event]) -> None:
    """The events counted by a process that dies before its cells' write: the issue's
    transfer stays pending."""
    with contextlib.suppress(Crash):
        await count_batch(CellsDie(db, RULES, 0), events)


async def test_a_stale_reader_does_not_finish_a_transfer_finished_meanwhile(
    settings: PlatformSettings, mongo: Any
) -> None:
    db = mongo[settings.database("reporting")]
    events = story(1, 1).events
    await left_pending(db, events)
    first = ReportingStore(db, RULES, 0)  # two other processes: their own memory and locks
    second = SlowReader(db, RULES, 0)
    late = asyncio.create_task(second.load([events[0].issue_id]))
    await second.read.wait()  # it has read the pending transfer...
    await first.load([events[0].issue_id])  # ...which the other finishes meanwhile
    await first.settle()  # and the markers of transfers done are removed
    second.go.set()
    await late  # it acts on what it read
    await first.settle()
    await second.settle()

    docs = await first.documents()
    assert not [d["_id"] for d in docs.values() if "pending" in d]
    assert cells.nonzero(await first.all_cells()) == counted_over(docs)
    assert not [c["_id"] async for c in db["issue_cells"].find({}) if c.get("applied")]
    assert await first.load([events[0].issue_id])  # nothing left to finish


async def test_two_processes_finishing_one_transfer_at_once_move_it_once(
    settings: PlatformSettings, mongo: Any
) -> None:
    db = mongo[settings.database("reporting")]
    events = story(2, 2).events
    await left_pending(db, events)
    stores = [ReportingStore(db, RULES, 0) for _ in range(3)]
    await asyncio.gather(*(s.load([events[0].issue_id]) for s in stores))
    for s in stores:
        await s.settle()
    docs = await stores[0].documents()
    assert not [d["_id"] for d in docs.values() if "pending" in d]
    assert cells.nonzero(await stores[0].all_cells()) == counted_over(docs)


class PausedWriter(ReportingStore):
    """A process that stops between its claim of a batch's transfers (written to the facts)
    and its writes of the cells (a pause, a busy loop, a long GC) until `go` is set: before
    it checks its transfers' stamps (`_transfer`) or after, just before the cells (`_apply`)."""

    def __init__(self, *args: Any, at: str, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.at = at
        self.paused, self.go = asyncio.Event(), asyncio.Event()

    async def _pause(self, step: str) -> None:
        if step == self.at:
            self.paused.set()
            await self.go.wait()

    async def _transfer(self, *args: Any, **kwargs: Any) -> None:
        await self._pause("_transfer")
        await super()._transfer(*args, **kwargs)

    async def _apply(self, *args: Any, **kwargs: Any) -> None:
        await self._pause("_apply")
        await super()._apply(*args, **kwargs)


@pytest.mark.parametrize("at", ["_transfer", "_apply"])
@pytest.mark.parametrize("later", [False, True], ids=["finished", "finished-and-moved-on"])
async def test_a_writer_paused_between_its_claim_and_its_cells_counts_once(
    settings: PlatformSettings, mongo: Any, later: bool, at: str
) -> None:
    """The writer's transfer is finished by another process, which settles (the markers of
    transfers done leave the cells) and, in one case, counts the issue's next event too; the
    writer's cell writes then come late: they must change nothing."""
    db = mongo[settings.database("reporting")]
    events = story(3, 2).events
    issue = events[0].issue_id
    writer = PausedWriter(db, RULES, 0, at=at)
    paused = asyncio.create_task(count_batch(writer, events[:-1]))
    await writer.paused.wait()
    other = ReportingStore(db, RULES, 0)  # another process: its own memory and locks
    if later:
        await count_batch(other, events[-1:])  # finishes the pending transfer, then its own
    else:
        await other.load([issue])  # finishes the pending transfer
    await other.settle()
    writer.go.set()
    await paused
    await writer.settle()
    await other.settle()

    docs = await other.documents()
    assert not [d["_id"] for d in docs.values() if "pending" in d]
    assert cells.nonzero(await other.all_cells()) == counted_over(docs)
    assert not [c["_id"] async for c in db["issue_cells"].find({}) if c.get("applied")]


async def test_a_transfer_stuck_pending_is_finished_by_settle(
    settings: PlatformSettings, mongo: Any
) -> None:
    """A writer died between its claim and its cells, and its issue gets no new event: the
    transfer would hold every cell's floor (and so the pruning of markers) below its stamp.
    A later `settle` finishes it once it is older than STUCK."""
    db = mongo[settings.database("reporting")]
    dead = story(4, 1).events
    await left_pending(db, dead)
    later = store.wall_ms() + store.STUCK + 1_000
    other = ReportingStore(db, RULES, 0, clock=lambda: later)
    await count_batch(other, story(5, 2).events)  # markers of its own to prune
    await other.settle()

    docs = await other.documents()
    assert not [d["_id"] for d in docs.values() if "pending" in d]
    assert cells.nonzero(await other.all_cells()) == counted_over(docs)
    assert not [c["_id"] async for c in db["issue_cells"].find({}) if c.get("applied")]


class Jittery(Crashing):
    """A process whose bulk writes sometimes die, and whose batches pause at random between
    their claim and their cells (before or after the stamps are checked)."""

    async def _transfer(self, *args: Any, **kwargs: Any) -> None:
        await asyncio.sleep(self.rng.random() * 0.03)
        await super()._transfer(*args, **kwargs)

    async def _apply(self, *args: Any, **kwargs: Any) -> None:
        await asyncio.sleep(self.rng.random() * 0.03)
        await super()._apply(*args, **kwargs)


@pytest.mark.parametrize("seed", range(4))
async def test_processes_counting_the_same_events_side_by_side_count_each_move_once(
    settings: PlatformSettings, mongo: Any, seed: int
) -> None:
    """Three processes get every event (a rebalance, a rebuild's catch-up beside the live
    consumer), in their own orders and batches, pause and die at random between writes and
    settle now and then: the cells equal a count over the facts, nothing stays pending,
    no marker stays in a cell."""
    db = mongo[settings.database("reporting")]
    rng = random.Random(seed)
    events = [e for n in range(4) for e in story(10 + n, rng.randrange(4)).events]
    processes = [Jittery(db, RULES, 0, rng=random.Random(rng.random()), rate=0.1) for _ in range(3)]
    redeliver: list[Event] = []

    async def consume(process: Jittery) -> None:
        mine = [e for e in events for _ in range(process.rng.randrange(1, 3))]
        process.rng.shuffle(mine)
        size = process.rng.choice([1, 3, 8])
        for start in range(0, len(mine), size):
            try:
                await count_batch(process, mine[start : start + size])
            except Crash:
                redeliver.extend(mine[start : start + size])
            if process.rng.random() < 0.3:
                with contextlib.suppress(Crash):
                    await process.settle()

    await asyncio.gather(*(consume(p) for p in processes))
    last = ReportingStore(db, RULES, 0)
    await count_batch(last, redeliver)
    await last.load({e.issue_id for e in events})  # finishes what a crash left pending
    for process in processes:
        process.rate = 0.0
        await process.settle()
    await last.settle()

    docs = await last.documents()
    assert sorted(docs) == sorted({e.issue_id for e in events})
    assert not [d["_id"] for d in docs.values() if "pending" in d]
    assert cells.nonzero(await last.all_cells()) == counted_over(docs)
    assert not [c["_id"] async for c in db["issue_cells"].find({}) if c.get("applied")]
