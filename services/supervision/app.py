"""Composition root of supervision: the policy and the calendar supplement, the clock, the
store, the use cases (`handlers`), the scheduler and its partition listener, the consumer and
the HTTP app.

`now` is injectable: in-process tests pass a controllable callable; otherwise the system
clock, shifted by `HUIYIN_SUPERVISION_TIME_OFFSET_SECONDS`.

The calendar supplement is read at start and again on SIGHUP (`Supervision.reload_calendar`):
either way, the open clocks computed on a year declared since are recomputed and re-armed, with
`ClockRescheduled`, by the instance that owns their partition (at start, once a partition's
timers are loaded; on SIGHUP, for the partitions it owns: send it to every instance).
"""

import asyncio
import signal
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field

from fastapi import FastAPI

from services.runtime.logging import get_logger
from services.runtime.service import Runtime, build_runtime, create_app
from services.supervision.adapters.files import load_offices, load_policy, load_supplement
from services.supervision.adapters.metrics import SupervisionMetrics
from services.supervision.adapters.store import ClockStore
from services.supervision.adapters.timesource import Now, system_clock
from services.supervision.domain.rules import Rules
from services.supervision.entrypoints.consumer import subscriber
from services.supervision.entrypoints.http import build_router, register_errors
from services.supervision.entrypoints.scheduler import PartitionListener, Scheduler
from services.supervision.handlers import ClockTracker, ClockViews
from services.supervision.settings import SupervisionSettings

log = get_logger(__name__)


@dataclass
class Supervision:
    """The service's parts, for the app and for tests that look inside."""

    runtime: Runtime
    rules: Rules
    store: ClockStore
    scheduler: Scheduler
    tracker: ClockTracker
    now: Now
    app: FastAPI
    settings: SupervisionSettings
    tasks: set[asyncio.Task[None]] = field(default_factory=set)
    listens_for_sighup: bool = False

    async def reload_calendar(self) -> int:
        """Read the policy and the calendar supplement again and recompute the open clocks on
        a year declared since; the number of issues looked at. An invalid file changes nothing
        (the error is logged and raised)."""
        rules = load_rules(self.settings)
        self.rules = rules
        return await self.tracker.use_rules(rules)

    def _in_background(self, work: Callable[[], Awaitable[object]], what: str) -> None:
        async def run() -> None:
            pause = 0.5
            while True:
                try:
                    await work()
                    return
                except asyncio.CancelledError:
                    raise
                except Exception as error:  # retried: an invalid file, a broker not up yet
                    log.warning(f"{what}.failed", error=repr(error))
                    await asyncio.sleep(pause)
                    pause = min(pause * 2, 30.0)

        task = asyncio.create_task(run(), name=what)
        self.tasks.add(task)
        task.add_done_callback(self.tasks.discard)

    async def _start(self) -> None:
        try:
            asyncio.get_running_loop().add_signal_handler(signal.SIGHUP, self._on_sighup)
        except (NotImplementedError, RuntimeError, ValueError):  # not the main thread
            return
        self.listens_for_sighup = True

    def _on_sighup(self) -> None:
        log.info("calendar.reload", path=str(self.settings.calendar))
        self._in_background(self.reload_calendar, "calendar.reload")

    async def _stop(self) -> None:
        if self.listens_for_sighup:
            asyncio.get_running_loop().remove_signal_handler(signal.SIGHUP)
            self.listens_for_sighup = False
        for task in list(self.tasks):
            task.cancel()
        await asyncio.gather(*self.tasks, return_exceptions=True)


def load_rules(settings: SupervisionSettings) -> Rules:
    return Rules.of(load_policy(settings.policy), load_supplement(settings.calendar))


def build_service(settings: SupervisionSettings, *, now: Now | None = None) -> Supervision:
    now = now or system_clock(settings.time_offset)
    rules = load_rules(settings)
    runtime = build_runtime("supervision", settings.platform)
    metrics = SupervisionMetrics(runtime.metrics.registry)
    store = ClockStore(runtime.db, settings.platform.partitions)
    scheduler = Scheduler(
        store=store,
        now=now,
        metrics=metrics,
        tick=settings.fire_tick_seconds,
        concurrency=settings.fire_concurrency,
        load_batch=settings.load_batch,
    )
    tracker = ClockTracker(
        store=store,
        publisher=runtime.publisher,
        rules=rules,
        now=now,
        timetable=scheduler.timetable,
        metrics=metrics,
        offices=load_offices(settings.offices),
        commit_issues=settings.commit_issues,
    )
    scheduler.fire_with(tracker.fire_batch)
    scheduler.when_loaded(lambda partition: tracker.reschedule([partition]))
    listener = PartitionListener(scheduler, settings.platform.issues_topic)
    runtime.consume_batch(subscriber(tracker), listener=listener, max_records=settings.batch_max)
    router = build_router(ClockViews(store, lambda: tracker.rules, now))
    app = create_app(runtime, [router])
    register_errors(app)
    service = Supervision(runtime, rules, store, scheduler, tracker, now, app, settings)
    runtime.on_startup += [store.ensure_indexes, scheduler.start, service._start]
    runtime.on_shutdown += [service._stop, scheduler.stop]
    runtime.before_metrics.append(tracker.count_provisional)
    return service


def build_app(settings: SupervisionSettings, *, now: Now | None = None) -> FastAPI:
    return build_service(settings, now=now).app
