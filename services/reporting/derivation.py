"""The version of the rules that derive reporting's projection from the log, checked at start.

Raise `DERIVATION` when the same events would derive other documents (a new figure, a new
cell, a changed rule). A reporting that finds its database's projection recorded under
another version rebuilds it from the log at start, beside the live one (`handlers.rebuild`:
the old figures are served until the new ones are complete, then they switch in one step),
with its progress in the log, and records the new version. A new, empty database is
recorded at once.
"""

import asyncio
import time

from pymongo.asynchronous.database import AsyncDatabase

from services.reporting.adapters.log import KafkaLog
from services.reporting.adapters.spill import SpilledCells
from services.reporting.adapters.store import ReportingStore
from services.reporting.handlers import RebuildStatus, rebuild
from services.runtime.logging import get_logger
from services.runtime.mongo import Document
from services.runtime.projection import projection_status, record_projection
from services.runtime.settings import PlatformSettings

log = get_logger(__name__)

DERIVATION = 3
"""1: one fact document per issue, figures counted over them; 2: count cells kept as the facts
change (reads sum cells); 3: the backlog's cells (unsolved issues per day reported), markers
as keys, documents with a revision, the lists' keys in the view."""

NAME = "facts"
PROGRESS_EVERY = 5.0
"""Seconds between two progress lines of a rebuild in the log."""


class Derivation:
    """The start-up check, and the rebuild it may start (kept here so that it finishes)."""

    def __init__(
        self,
        db: AsyncDatabase[Document],
        store: ReportingStore,
        platform: PlatformSettings,
        status: RebuildStatus | None = None,
    ) -> None:
        self._db, self._store, self._platform = db, store, platform
        self.status = status if status is not None else RebuildStatus()
        self._running: set[asyncio.Task[None]] = set()

    async def check(self) -> None:
        found = await projection_status(self._db, NAME, DERIVATION)
        if not found.changed:
            return
        if found.recorded is None and await self._store.is_empty():
            await record_projection(self._db, NAME, DERIVATION)
            return
        log.warning("projection.stale", recorded=found.recorded, declared=DERIVATION)
        task = asyncio.create_task(self._rebuild(), name="reporting.derivation.rebuild")
        self._running.add(task)
        task.add_done_callback(self._running.discard)

    async def _rebuild(self) -> None:
        shown = [0.0]

        def progress(status: RebuildStatus) -> None:  # a line every few seconds
            if time.monotonic() - shown[0] >= PROGRESS_EVERY or status.state == "done":
                shown[0] = time.monotonic()
                log.info("projection.rebuilding", progress=status.line())

        self.status.start()
        try:
            kafka_log = KafkaLog(self._platform.kafka, self._platform.issues_topic)
            with SpilledCells() as spill:
                await rebuild(kafka_log, self._store, spill, self.status, progress)
        except Exception as error:  # the old figures stay; the next start tries again
            log.error("projection.rebuild_failed", error=repr(error))
            return
        await record_projection(self._db, NAME, DERIVATION)
        log.info("projection.rebuilt", version=DERIVATION, applied=self.status.applied)
