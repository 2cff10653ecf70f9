"""The firing loop hands the issues due to the tracker in batches, at most `concurrency` issues
in flight, and schedules a failed batch again; with the store and the tracker in memory."""

import asyncio
from collections.abc import AsyncIterator, Callable, Sequence
from datetime import datetime, timedelta

from prometheus_client import CollectorRegistry

from services.supervision.adapters.metrics import SupervisionMetrics
from services.supervision.domain.calendar import SHANGHAI
from services.supervision.entrypoints.scheduler import Scheduler, TimerSource

T0 = datetime(2026, 11, 23, 10, tzinfo=SHANGHAI)


class NoTimers:
    async def timers_in(
        self, partition: int, batch_size: int = 5000
    ) -> AsyncIterator[tuple[str, datetime]]:
        for _ in ():
            yield "", T0


def scheduler(concurrency: int, batch: int) -> Scheduler:
    store: TimerSource = NoTimers()  # the fake satisfies the port
    return Scheduler(
        store=store,
        now=lambda: T0,
        metrics=SupervisionMetrics(CollectorRegistry()),
        tick=0.01,
        concurrency=concurrency,
        batch=batch,
        retry_after=timedelta(0),
    )


async def until(probe: Callable[[], bool], timeout: float = 5) -> None:
    for _ in range(int(timeout / 0.01)):
        if probe():
            return
        await asyncio.sleep(0.01)
    raise AssertionError(f"not within {timeout} s")


async def test_the_issues_due_fire_in_batches() -> None:
    batches: list[list[tuple[str, int]]] = []

    async def fire(due: Sequence[tuple[str, int]]) -> None:
        batches.append(sorted(due))

    loop = scheduler(concurrency=1000, batch=3)
    loop.fire_with(fire)
    await loop.assign([0, 1])
    for n in range(5):
        loop.timetable.set(f"i{n}", n % 2, T0 - timedelta(seconds=n))
    loop.timetable.set("later", 0, T0 + timedelta(hours=1))
    await loop.start()
    await until(lambda: sum(map(len, batches)) == 5)
    await loop.stop()
    assert [len(b) for b in batches] == [3, 2]
    assert sorted(i for b in batches for i, _ in b) == [f"i{n}" for n in range(5)]
    assert len(loop.timetable) == 1 and loop.busy == 0


async def test_at_most_concurrency_issues_are_in_flight_and_a_failed_batch_comes_back() -> None:
    batches: list[int] = []
    release = asyncio.Event()
    failures = [RuntimeError("the database went away")]

    async def fire(due: Sequence[tuple[str, int]]) -> None:
        batches.append(len(due))
        await release.wait()
        if failures:
            raise failures.pop()

    loop = scheduler(concurrency=2, batch=250)
    loop.fire_with(fire)
    await loop.assign([0])
    for n in range(3):
        loop.timetable.set(f"i{n}", 0, T0 - timedelta(seconds=n))
    await loop.start()
    await until(lambda: batches == [2])
    await asyncio.sleep(0.05)
    assert batches == [2] and loop.busy == 2  # the third waits for a free slot
    release.set()
    await until(lambda: sum(batches) == 5)  # the failed two came back with the third
    await loop.stop()
    assert len(loop.timetable) == 0
