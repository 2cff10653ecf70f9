"""The small loop that sends what is due: every tick, `NotifyHandlers.send_due`.

On stop, the loop finishes the tries it has begun (so a graceful stop never leaves a sent
message unmarked), then ends.
"""

import asyncio
import contextlib

from pymongo.errors import PyMongoError

from services.notify.handlers import NotifyHandlers
from services.runtime.logging import get_logger

log = get_logger(__name__)


class Dispatcher:
    def __init__(self, handlers: NotifyHandlers, tick: float) -> None:
        self._handlers = handlers
        self._tick = tick
        self._stopping = asyncio.Event()
        self._task: asyncio.Task[None] | None = None

    async def start(self) -> None:
        self._stopping.clear()
        self._task = asyncio.create_task(self._run(), name="notify-dispatcher")

    async def stop(self) -> None:
        self._stopping.set()
        if self._task is not None:
            await self._task
            self._task = None

    async def _run(self) -> None:
        while not self._stopping.is_set():
            try:
                busy = await self._handlers.send_due()
            except PyMongoError as error:  # the database away: try again next tick
                log.warning("dispatcher.waiting_for_database", error=type(error).__name__)
                busy = 0
            if not busy:
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(self._stopping.wait(), self._tick)
