"""Group commit: concurrent callers' items sent to the database together, each caller answered
with its own item's outcome once the statement that carried it is done.

The first item goes at once; items that arrive while a statement is in flight wait and go
together in the next one (at most `most` each). No timer: an idle service adds no latency, a
busy one sends fewer, bigger statements (the local engine runs each statement as a
transaction of its own, so the round trips, not the documents, are what cost). A caller
still returns only after its own item is stored: nothing is acknowledged before it is
written.
"""

import asyncio
from collections.abc import Awaitable, Callable, Sequence
from typing import Generic, TypeVar

__all__ = ["GroupCommit"]

T = TypeVar("T")
R = TypeVar("R")


class GroupCommit(Generic[T, R]):
    """`await group(item)`: `item` written by `write` in one call with the items of other
    callers waiting meanwhile. `write` gets the items in the order they came and answers one
    outcome per item, in that order (an exception for an item refused alone); when `write`
    raises, every item of its call gets that error."""

    def __init__(
        self, write: Callable[[list[T]], Awaitable[Sequence[R | BaseException]]], most: int = 500
    ) -> None:
        self._write = write
        self._most = most
        self._waiting: list[tuple[T, asyncio.Future[R]]] = []
        self._running: asyncio.Task[None] | None = None

    async def __call__(self, item: T) -> R:
        future: asyncio.Future[R] = asyncio.get_running_loop().create_future()
        self._waiting.append((item, future))
        if self._running is None:
            self._running = asyncio.create_task(self._drain())
        return await future

    async def _drain(self) -> None:
        try:
            while self._waiting:
                batch, self._waiting = self._waiting[: self._most], self._waiting[self._most :]
                await self._send(batch)
        finally:
            self._running = None

    async def _send(self, batch: list[tuple[T, asyncio.Future[R]]]) -> None:
        try:
            outcomes = await self._write([item for item, _ in batch])
            if len(outcomes) != len(batch):
                raise RuntimeError(f"{len(outcomes)} outcomes for {len(batch)} items")
        except Exception as error:
            for _, future in batch:
                if not future.done():
                    future.set_exception(error)
            return
        except BaseException:  # cancelled (the service stops): so are its callers
            for _, future in batch:
                future.cancel()
            raise
        for (_, future), outcome in zip(batch, outcomes, strict=True):
            if future.done():  # its caller was cancelled meanwhile
                continue
            if isinstance(outcome, BaseException):
                future.set_exception(outcome)
            else:
                future.set_result(outcome)
