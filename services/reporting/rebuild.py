"""Rebuild reporting's projection from the start of the log.

`python -m services.reporting.rebuild` (or POST /admin/rebuild on the running service)
drops the issue facts, then reads the issues topic from the beginning up to the high
watermarks seen when it started, with its own consumer (no group, nothing committed),
and records every event with the same update the live consumer uses. Because those
updates are idempotent and order-independent (facts.py), the rebuild may run while the
service keeps consuming: events the live consumer applies meanwhile, before or after the
rebuild reaches them, converge to the same documents.

On FerretDB v1, whose single-document updates are not atomic under concurrent writers,
that holds for POST /admin/rebuild (it runs inside the service, and the store lets one
writer at a time touch an issue); run the command while reporting is stopped or idle.
Records that are not valid events are skipped here (the live consumer dead-lettered them
when they first came).
"""

import asyncio
from collections import defaultdict
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from typing import Any

from services.contracts.events import Event, decode
from services.reporting.adapters.store import ReportingStore
from services.runtime.settings import PlatformSettings
from services.runtime.topic_reader import TopicSnapshot

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
    store: ReportingStore,
    status: RebuildStatus | None = None,
    progress: Progress = lambda read, total: None,
) -> RebuildStatus:
    """Drop the projection and rebuild it from the log; returns the final status."""
    status = status or RebuildStatus()
    status.start()
    try:
        async with TopicSnapshot(platform.kafka_bootstrap, platform.issues_topic) as log:
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
    store: ReportingStore, by_issue: dict[str, list[Event]], status: RebuildStatus
) -> None:
    """Record each issue's events, then refresh its view once; issues side by side."""
    lanes = asyncio.Semaphore(CONCURRENCY)

    async def one(issue_id: str, events: list[Event]) -> None:
        async with lanes, store.writing(issue_id):
            for event in events:
                await store.record(event)
                status.applied += 1
            await store.refresh(issue_id)

    await asyncio.gather(*(one(issue_id, events) for issue_id, events in by_issue.items()))


def main() -> None:
    from rich.console import Console
    from rich.progress import MofNCompleteColumn, Progress, TimeElapsedColumn

    from services.reporting.app import fact_rules
    from services.reporting.settings import ReportingSettings
    from services.runtime.mongo import make_mongo_client

    settings = ReportingSettings()
    platform = settings.platform
    console = Console()

    async def run() -> RebuildStatus:
        mongo = make_mongo_client(platform)
        store = ReportingStore(mongo[platform.database("reporting")], fact_rules(settings))
        columns = (*Progress.get_default_columns()[:-1], MofNCompleteColumn(), TimeElapsedColumn())
        try:
            with Progress(*columns, console=console) as bar:
                task = bar.add_task(f"rebuilding from {platform.issues_topic}", total=None)

                def show(read: int, total: int) -> None:
                    bar.update(task, completed=read, total=total)

                return await rebuild(platform, store, progress=show)
        finally:
            await mongo.close()

    done = asyncio.run(run())
    console.print(
        f"rebuilt {platform.database('reporting')}: {done.applied} events applied, "
        f"{done.skipped} skipped, from {done.total} records"
    )


if __name__ == "__main__":
    main()
