"""Durable timers, fired: partition ownership and the firing loop.

Ownership follows the consumer group. Supervision's consumer passes `PartitionListener`
to the runtime (`runtime.consume(..., listener=...)`). When Kafka assigns partitions to
this instance, their timers are loaded from the store into the in-memory `Timetable`: one
scan of each partition's timer collection, the partitions side by side, streamed (firing
starts with the first batch; overdue timers fire at once). When Kafka revokes them, they
are dropped and the firings under way for them are awaited, so the next owner starts from
stored state; once loaded, a partition's clocks computed on a year declared since
are recomputed (`when_loaded`). An issue's events are all in one partition, so two
instances never hold the same issue's timer. (Kafka's eager rebalancing revokes from
every member before it assigns to any.) A rebalance reloads the partitions it moves:
with 500,000 timers on the local FerretDB a full reload takes about 20 s, and firing goes
on meanwhile from what is loaded.

The loop sleeps until the earliest owned timer falls due (at most `tick` seconds, so a
clock that jumps, as a test's does, is noticed) or until the timetable changes, then
hands the issues due to `fire` (the tracker's `fire_batch`) in batches of at most `batch`
(one read, one produce batch, one bulk write each), at most `concurrency` issues in flight.
A batch that raises is tried again `retry_after` later; firing is idempotent, so nothing
doubles.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Awaitable, Callable, Iterable, Sequence
from datetime import datetime, timedelta
from typing import Protocol

from aiokafka import TopicPartition
from aiokafka.abc import ConsumerRebalanceListener

from services.runtime.logging import get_logger
from services.supervision.adapters.metrics import SupervisionMetrics
from services.supervision.adapters.timesource import Now
from services.supervision.domain.timetable import Timetable, micros

__all__ = ["PartitionListener", "Scheduler", "TimerSource"]

Fire = Callable[[Sequence[tuple[str, int]]], Awaitable[None]]
Loaded = Callable[[int], Awaitable[object]]

log = get_logger(__name__)


class TimerSource(Protocol):
    """What the scheduler needs of the store (`adapters.store.ClockStore`)."""

    def timers_in(
        self, partition: int, batch_size: int = ...
    ) -> AsyncIterator[tuple[str, datetime]]: ...


class Scheduler:
    def __init__(
        self,
        *,
        store: TimerSource,
        now: Now,
        metrics: SupervisionMetrics,
        tick: float = 0.25,
        concurrency: int = 1000,
        batch: int = 250,
        load_batch: int = 20000,
        retry_after: timedelta = timedelta(seconds=1),
    ) -> None:
        self.timetable = Timetable(on_change=self.wake)
        self._store = store
        self._now = now
        self._metrics = metrics
        self._tick = tick
        self._concurrency = concurrency
        self._batch = batch
        self._load_batch = load_batch
        self._retry_after = retry_after
        self._fire: Fire | None = None
        self._loaded: Loaded | None = None
        self._wakeup = asyncio.Event()
        self._stopping = False
        self._loop_task: asyncio.Task[None] | None = None
        self._loaders: dict[int, asyncio.Task[None]] = {}
        self._inflight: dict[int, set[asyncio.Task[None]]] = {}
        self._busy = 0
        metrics.watch(
            timers=lambda: len(self.timetable),
            partitions=lambda: len(self.timetable.owned),
            loading=lambda: len(self._loaders),
        )

    def fire_with(self, fire: Fire) -> None:
        self._fire = fire

    def when_loaded(self, loaded: Loaded) -> None:
        """Run `loaded(partition)` once a newly owned partition's timers are loaded (the
        tracker recomputes its clocks on a year declared since)."""
        self._loaded = loaded

    def wake(self) -> None:
        self._wakeup.set()

    @property
    def busy(self) -> int:
        """Issues being fired now."""
        return self._busy

    @property
    def loading(self) -> frozenset[int]:
        return frozenset(self._loaders)

    async def start(self) -> None:
        if self._fire is None:
            raise RuntimeError("the scheduler has nothing to fire with: call fire_with first")
        self._loop_task = asyncio.create_task(self._run(), name="supervision-firing-loop")

    async def stop(self) -> None:
        self._stopping = True
        self.wake()
        if self._loop_task is not None:
            done, _ = await asyncio.wait({self._loop_task}, timeout=5)
            if not done:
                self._loop_task.cancel()
        loaders = list(self._loaders.values())
        for loader in loaders:
            loader.cancel()
        await asyncio.gather(*loaders, *filter(None, [self._loop_task]), return_exceptions=True)
        self._loaders.clear()
        inflight = [t for tasks in self._inflight.values() for t in tasks]
        if inflight:
            await asyncio.wait(inflight, timeout=30)

    async def assign(self, partitions: Iterable[int]) -> None:
        new = frozenset(partitions) - self.timetable.owned
        if not new:
            return
        self.timetable.own(new)
        for partition in new:
            self._loaders[partition] = asyncio.create_task(self._load(partition))
        log.info("timers.assigned", partitions=sorted(new))

    async def revoke(self, partitions: Iterable[int]) -> None:
        gone = frozenset(partitions) & self.timetable.owned
        if not gone:
            return
        self.timetable.drop(gone)
        for partition in gone:
            loader = self._loaders.pop(partition, None)
            if loader is not None:
                loader.cancel()
        inflight = [t for p in gone for t in self._inflight.get(p, ())]
        if inflight:
            await asyncio.wait(inflight, timeout=30)
        log.info("timers.revoked", partitions=sorted(gone))

    async def _load(self, partition: int) -> None:
        """Read the partition's timers into the timetable; retried while the store is away."""
        pause = 0.5
        while True:
            loaded = 0
            try:
                async for issue_id, due in self._store.timers_in(partition, self._load_batch):
                    loaded += self.timetable.offer(issue_id, partition, due)
                    if loaded % 1000 == 0:
                        self.wake()  # let the loop fire what is overdue while loading goes on
                        await asyncio.sleep(0)
            except asyncio.CancelledError:
                raise
            except Exception as error:
                log.warning("timers.load_failed", partition=partition, error=repr(error))
                await asyncio.sleep(pause)
                pause = min(pause * 2, 10.0)
                continue
            break
        self._metrics.loaded.inc(loaded)
        self.wake()
        log.info("timers.loaded", partition=partition, timers=loaded)
        await self._after_load(partition)
        self._loaders.pop(partition, None)

    async def _after_load(self, partition: int) -> None:
        pause = 0.5
        while self._loaded is not None and self.timetable.owns(partition) and not self._stopping:
            try:
                await self._loaded(partition)
                return
            except asyncio.CancelledError:
                raise
            except Exception as error:
                log.warning("timers.after_load_failed", partition=partition, error=repr(error))
                await asyncio.sleep(pause)
                pause = min(pause * 2, 10.0)

    async def _run(self) -> None:
        while not self._stopping:
            self._wakeup.clear()
            now = self._now()
            while (free := min(self._concurrency - self._busy, self._batch)) > 0:
                due = self.timetable.pop_due(now, free)
                if not due:
                    break
                self._spawn(due)
            next_due = self.timetable.next_due()
            if next_due is None or next_due <= micros(now):
                delay = self._tick  # nothing, or every slot busy: a finished firing wakes us
            else:
                delay = min(self._tick, (next_due - micros(now)) / 1e6)
            await self._sleep(delay)

    async def _sleep(self, seconds: float) -> None:
        """Until woken or `seconds` passed. (Not `asyncio.wait_for`: on Python 3.11 it can
        swallow a cancellation that races with the wake-up, and the loop would never end.)"""
        woken = asyncio.ensure_future(self._wakeup.wait())
        try:
            await asyncio.wait({woken}, timeout=seconds)
        finally:
            woken.cancel()

    def _spawn(self, due: list[tuple[str, int]]) -> None:
        """Fire `due` as one batch, noted as in flight for each of its partitions (a revoke
        waits for it)."""
        task = asyncio.create_task(self._fire_batch(due))
        self._busy += len(due)
        partitions = {partition for _, partition in due}
        for partition in partitions:
            self._inflight.setdefault(partition, set()).add(task)

        def done(finished: asyncio.Task[None]) -> None:
            self._busy -= len(due)
            for partition in partitions:
                running = self._inflight.get(partition)
                if running is not None:
                    running.discard(finished)
                    if not running:
                        del self._inflight[partition]
            self.wake()

        task.add_done_callback(done)

    async def _fire_batch(self, due: list[tuple[str, int]]) -> None:
        assert self._fire is not None
        try:
            await self._fire(due)
        except asyncio.CancelledError:
            raise
        except Exception as error:
            self._metrics.firing_failed.inc(len(due))
            log.warning("timer.fire_failed", issues=len(due), error=repr(error))
            again = self._now() + self._retry_after
            for issue_id, partition in due:
                self.timetable.retry(issue_id, partition, again)


class PartitionListener(ConsumerRebalanceListener):  # type: ignore[misc]
    """Kafka's partition assignments for the issues topic → this instance's timers."""

    def __init__(self, scheduler: Scheduler, topic: str) -> None:
        self._scheduler = scheduler
        self._topic = topic

    async def on_partitions_revoked(self, revoked: set[TopicPartition]) -> None:
        await self._scheduler.revoke(tp.partition for tp in revoked if tp.topic == self._topic)

    async def on_partitions_assigned(self, assigned: set[TopicPartition]) -> None:
        await self._scheduler.assign(tp.partition for tp in assigned if tp.topic == self._topic)
