"""A batch's parts through the two stages: each stage takes one part at a time in order, a
part stores only after it published, and nothing is stored after a failure."""

import asyncio
from collections.abc import Awaitable, Callable

import pytest

from services.supervision.handlers.stages import Stages


def step(
    log: list[str], name: str, pause: float = 0.0, fail: bool = False
) -> Callable[[], Awaitable[None]]:
    async def run() -> None:
        log.append(f"{name} begins")
        await asyncio.sleep(pause)
        if fail:
            raise RuntimeError(name)
        log.append(f"{name} ends")

    return run


async def test_each_stage_takes_one_part_at_a_time_in_order() -> None:
    log: list[str] = []
    stages = Stages()
    # the first part's store is slow, the second's publish slower than the first's
    stages.add(step(log, "publish 1"), step(log, "store 1", pause=0.03))
    stages.add(step(log, "publish 2", pause=0.01), step(log, "store 2"))
    stages.add(step(log, "publish 3"), step(log, "store 3"))
    assert await stages.wait() is None
    order = log.index
    for k in (1, 2, 3):
        assert order(f"publish {k} ends") < order(f"store {k} begins")
    for k in (1, 2):
        assert order(f"publish {k} ends") < order(f"publish {k + 1} begins")
        assert order(f"store {k} ends") < order(f"store {k + 1} begins")
    # the second part published while the first was being stored
    assert order("publish 2 begins") < order("store 1 ends")


async def test_nothing_is_stored_after_a_failure() -> None:
    log: list[str] = []
    stages = Stages()
    stages.add(step(log, "publish 1"), step(log, "store 1"))
    stages.add(step(log, "publish 2", fail=True), step(log, "store 2"))
    stages.add(step(log, "publish 3"), step(log, "store 3"))
    failure = await stages.wait()
    assert isinstance(failure, RuntimeError) and str(failure) == "publish 2"
    assert "store 1 ends" in log
    assert not any(line.startswith(("store 2", "store 3")) for line in log)


async def test_a_cancelled_wait_cancels_the_steps_and_waits_for_them() -> None:
    log: list[str] = []
    stages = Stages()
    stages.add(step(log, "publish 1"), step(log, "store 1", pause=10))
    waiting = asyncio.create_task(stages.wait())
    await asyncio.sleep(0.01)
    waiting.cancel()
    with pytest.raises(asyncio.CancelledError):
        await waiting
    assert "store 1 begins" in log and "store 1 ends" not in log


async def test_nothing_added_is_nothing_to_wait_for() -> None:
    assert await Stages().wait() is None
