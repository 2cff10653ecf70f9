"""Group commit: callers meanwhile share one write; each gets its own item's outcome."""

import asyncio

import pytest

from services.runtime.batching import GroupCommit


class Refused(Exception):
    pass


def test_callers_meanwhile_share_one_write_and_get_their_own_outcome() -> None:
    writes: list[list[int]] = []

    async def write(items: list[int]) -> list[int | BaseException]:
        writes.append(items)
        await asyncio.sleep(0.01)
        return [Refused(n) if n == 3 else n * 10 for n in items]

    async def run() -> list[int | BaseException]:
        group: GroupCommit[int, int] = GroupCommit(write)
        first = [asyncio.create_task(group(n)) for n in range(2)]
        await asyncio.sleep(0.001)  # their write is in flight: the next ones wait for it
        later = [asyncio.create_task(group(n)) for n in range(2, 5)]
        return await asyncio.gather(*first, *later, return_exceptions=True)

    outcomes = asyncio.run(run())
    assert writes == [[0, 1], [2, 3, 4]]
    assert outcomes[:3] == [0, 10, 20] and outcomes[4] == 40
    assert isinstance(outcomes[3], Refused)


def test_a_write_that_fails_fails_its_callers_only() -> None:
    async def write(items: list[int]) -> list[int | BaseException]:
        await asyncio.sleep(0)
        if 1 in items:
            raise Refused("down")
        return list(items)

    async def run() -> tuple[list[int | BaseException], int]:
        group: GroupCommit[int, int] = GroupCommit(write, most=2)
        done = await asyncio.gather(*(group(n) for n in range(5)), return_exceptions=True)
        return done, await group(7)  # and it goes on writing

    outcomes, later = asyncio.run(run())  # written as [0, 1], [2, 3], [4]
    assert outcomes[2:] == [2, 3, 4] and later == 7
    assert all(isinstance(o, Refused) for o in outcomes[:2])


def test_a_write_must_answer_every_item() -> None:
    async def write(items: list[int]) -> list[int | BaseException]:
        return []

    async def run() -> int:
        return await GroupCommit(write)(1)

    with pytest.raises(RuntimeError):
        asyncio.run(run())
