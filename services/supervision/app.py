"""Composition root of supervision: the policy and the calendar supplement, the clock, the
store, the tracker, the scheduler and its partition listener, the consumer and the HTTP app.

`now` is injectable: in-process tests pass a controllable callable; otherwise the system
clock, shifted by `HUIYIN_SUPERVISION_TIME_OFFSET_SECONDS`.
"""

from dataclasses import dataclass

from fastapi import FastAPI

from services.runtime.service import Runtime, build_runtime, create_app
from services.supervision.api import build_router
from services.supervision.calendar_supplement import load_supplement
from services.supervision.handlers import SupervisionHandlers
from services.supervision.metrics import SupervisionMetrics
from services.supervision.policy import load_policy
from services.supervision.rules import Rules
from services.supervision.scheduler import PartitionListener, Scheduler
from services.supervision.settings import SupervisionSettings
from services.supervision.store import ClockStore
from services.supervision.timesource import Now, system_clock
from services.supervision.tracker import ClockTracker


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


def build_service(settings: SupervisionSettings, *, now: Now | None = None) -> Supervision:
    now = now or system_clock(settings.time_offset)
    rules = Rules.of(load_policy(settings.policy), load_supplement(settings.calendar))
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
    )
    scheduler.fire_with(tracker.fire)
    runtime.on_startup += [store.ensure_indexes, scheduler.start]
    runtime.on_shutdown.append(scheduler.stop)
    listener = PartitionListener(scheduler, settings.platform.issues_topic)
    runtime.consume(SupervisionHandlers(tracker).handle, listener=listener)
    router = build_router(store, rules, now)
    app = create_app(runtime, [router])
    return Supervision(runtime, rules, store, scheduler, tracker, now, app)


def build_app(settings: SupervisionSettings, *, now: Now | None = None) -> FastAPI:
    return build_service(settings, now=now).app
