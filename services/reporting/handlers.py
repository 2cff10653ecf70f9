"""Reporting's use cases: an event is counted (recorded in its issue's facts, the view derived
again), and the projection is rebuilt from the start of the log.

The rebuild (POST /admin/rebuild on the running service, or `python -m
services.reporting.rebuild`) drops the issue facts, then reads the issues topic from the
beginning up to the high watermarks seen when it started, with its own consumer (no group,
nothing committed), and records every event with the same update the live consumer uses.
Because those updates are idempotent and order-independent (domain/facts.py), the rebuild
may run while the service keeps consuming: events the live consumer applies meanwhile,
before or after the rebuild reaches them, converge to the same documents.

On FerretDB v1, whose single-document updates are not atomic under concurrent writers,
that holds for POST /admin/rebuild (it runs inside the service, and the store lets one
writer at a time touch an issue); run the command while reporting is stopped or idle.
Records that are not valid events are skipped here (the live consumer dead-lettered them
when they first came).
"""

import asyncio
from collections import defaultdict
from collections.abc import Callable
from contextlib import AbstractAsyncContextManager
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from typing import Any, Protocol

from services.contracts.events import Event, decode
from services.reporting.domain.facts import FactRules, derive
from services.runtime.consumer import Delivery
from services.runtime.mongo import Document
from services.runtime.settings import PlatformSettings
from services.runtime.topic_reader import TopicSnapshot


class FactsWriter(Protocol):
    """What the use cases need of the store (adapters/store.py: ReportingStore)."""

    @property
    def rules(self) -> FactRules: ...

    def writing(self, issue_id: str) -> AbstractAsyncContextManager[None]: ...
    async def record(self, event: Event) -> bool: ...
    async def log_of(self, issue_id: str) -> Document | None: ...
    async def write_view(self, issue_id: str, view: Document) -> None: ...
    async def drop(self) -> None: ...


async def refresh(store: FactsWriter, issue_id: str) -> None:
    """Derive the issue's view from its whole log as stored, and write it. Every writer
    refreshes after its own record, so the last view written is derived from the most
    entries (adapters/store.py); a crash between the two writes is repaired by the replay."""
    log = await store.log_of(issue_id)
    if log is not None:
        await store.write_view(issue_id, derive(log, store.rules))


class ReportingHandlers:
    """Reporting counts every event: it records it in the issue's facts, then derives the
    issue's view again, one writer per issue (see adapters/store.py)."""

    def __init__(self, store: FactsWriter) -> None:
        self._store = store

    async def apply(self, event: Event) -> bool:
        """Record the event in its issue's facts and refresh the view. True when new."""
        async with self._store.writing(event.issue_id):
            applied = await self._store.record(event)
            await refresh(self._store, event.issue_id)
        return applied

    async def handle(self, event: Event, _: Delivery) -> None:
        await self.apply(event)


CONCURRENCY = 16
"""Issues rebuilt side by side (each issue's events in order, one refresh per batch)."""

Progress = Callable[[int, int], None]
"""Called with (records read, records to read)."""


@dataclass
class RebuildStatus:
    state: str = "idle"  # idle, running, done, failed
    total: int = 0
    read: int = 0
    applied: int = 0
    skipped: int = 0
    started_at: datetime | None = None
    finished_at: datetime | None = None
    error: str | None = None
    end_offsets: dict[int, int] = field(default_factory=dict)

    def start(self) -> None:
        fresh = RebuildStatus(state="running", started_at=datetime.now(UTC))
        self.__dict__.update(fresh.__dict__)

    def as_dict(self) -> dict[str, Any]:
        return asdict(self) | {"end_offsets": {str(p): o for p, o in self.end_offsets.items()}}


async def rebuild(
    platform: PlatformSettings,
    store: FactsWriter,
    status: RebuildStatus | None = None,
    progress: Progress = lambda read, total: None,
) -> RebuildStatus:
    """Drop the projection and rebuild it from the log; returns the final status."""
    status = status or RebuildStatus()
    status.start()
    try:
        async with TopicSnapshot(platform.kafka, platform.issues_topic) as log:
            status.end_offsets, status.total = log.end_offsets, log.total
            progress(0, status.total)
            await store.drop()
            async for batch in log.batches():
                by_issue: dict[str, list[Event]] = defaultdict(list)
                for record in batch:
                    status.read += 1
                    try:
                        event = decode(record.value or b"")
                    except ValueError:
                        status.skipped += 1
                        continue
                    by_issue[event.issue_id].append(event)
                await _apply(store, by_issue, status)
                progress(status.read, status.total)
        status.state = "done"
    except Exception as error:
        status.state, status.error = "failed", repr(error)
        raise
    finally:
        status.finished_at = datetime.now(UTC)
    return status


async def _apply(
    store: FactsWriter, by_issue: dict[str, list[Event]], status: RebuildStatus
) -> None:
    """Record each issue's events, then refresh its view once; issues side by side."""
    lanes = asyncio.Semaphore(CONCURRENCY)

    async def one(issue_id: str, events: list[Event]) -> None:
        async with lanes, store.writing(issue_id):
            for event in events:
                await store.record(event)
                status.applied += 1
            await refresh(store, issue_id)

    await asyncio.gather(*(one(issue_id, events) for issue_id, events in by_issue.items()))
