"""A batch's parts committed in two stages while the next parts are computed.

The tracker computes a big batch part by part (pure CPU) and hands each part's effects over
as two steps: `publish` (a produce batch, acknowledged) and `store` (the bulk writes, then
the in-memory timers). `Stages` runs them in the background, in order:

- part k publishes after part k-1 published (the broker gets one produce batch at a time);
- part k stores after part k published (per issue: published before stored, as the tracker's
  order wants) and after part k-1 stored (the database gets one part at a time: concurrent
  bulk writes only contend for the local engine's one writer).

So while part k is computed, part k-1 is being stored and part k is being published. A
step that fails fails every later store (nothing is stored after a failure; a later part
may still publish: a publish without its store is what a crash between the two leaves,
and a replay publishes the same ids again). `wait` returns once every step has ended.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable

__all__ = ["Stages"]

Step = Callable[[], Awaitable[None]]


class Stages:
    def __init__(self) -> None:
        self._published: asyncio.Task[None] | None = None
        self._stored: asyncio.Task[None] | None = None
        self._tasks: list[asyncio.Task[None]] = []

    def add(self, publish: Step, store: Step) -> None:
        """Publish, then store, one part: after the parts added before."""
        published = asyncio.create_task(_after([self._published], publish))
        stored = asyncio.create_task(_after([published, self._stored], store))
        self._published, self._stored = published, stored
        self._tasks += [published, stored]

    async def wait(self) -> BaseException | None:
        """Wait for every part's steps to end; the first failure (None: all done). Cancelled,
        it cancels the steps and waits for them before it lets the cancellation through."""
        if not self._tasks:
            return None
        try:
            await asyncio.wait(self._tasks)
        except asyncio.CancelledError:
            for task in self._tasks:
                task.cancel()
            await asyncio.wait(self._tasks)
            raise
        failures = [
            asyncio.CancelledError() if task.cancelled() else task.exception()
            for task in self._tasks  # every one retrieved: none is reported as forgotten
        ]
        return next((failure for failure in failures if failure is not None), None)


async def _after(previous: list[asyncio.Task[None] | None], step: Step) -> None:
    for task in previous:
        if task is not None:
            await task  # its failure is this step's: nothing runs after a failure
    await step()
