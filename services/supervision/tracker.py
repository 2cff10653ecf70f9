"""The clock tracker: one issue's record loaded, changed by an event or by a firing,
published, stored, and scheduled again. The only place that writes an issue's clocks.

Both ways in follow the same order, under a per-issue lock (so the consumer and the
firing loop of one instance never interleave on an issue):

1. load the record (one read by `_id`);
2. let the pure rules decide (`reactions.react` for an event, `reactions.fire_due` for a
   firing at `now`): the new record and the events to publish;
3. publish those events and wait for Kafka's acknowledgement;
4. store the record (one update by `_id`; an event's id is absorbed with it);
5. store the issue's timer, and set it in the in-memory timetable.

A crash between 3 and 4 publishes the same deterministic ids again after the restart
(consumers drop the copies); an event already absorbed changes nothing but re-arms the
timer, which repairs a crash between 4 and 5. Time comes from the injected `now`.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import datetime

from services.contracts.events import Event
from services.runtime.broker import EventPublisher
from services.runtime.logging import get_logger
from services.supervision.metrics import SupervisionMetrics
from services.supervision.reactions import (
    CLOCK_EVENTS,
    context_of,
    fire_due,
    react,
    recalendar,
)
from services.supervision.record import IssueRecord
from services.supervision.rules import Rules
from services.supervision.store import ClockStore
from services.supervision.timesource import Now
from services.supervision.timetable import Timetable

__all__ = ["ClockTracker", "KeyedLocks"]

log = get_logger(__name__)


class KeyedLocks:
    """One asyncio lock per key, forgotten when nobody holds or waits for it."""

    def __init__(self) -> None:
        self._locks: dict[str, tuple[asyncio.Lock, int]] = {}

    def __len__(self) -> int:
        return len(self._locks)

    @asynccontextmanager
    async def hold(self, key: str) -> AsyncIterator[None]:
        lock, users = self._locks.get(key, (None, 0))
        lock = lock or asyncio.Lock()
        self._locks[key] = (lock, users + 1)
        try:
            async with lock:
                yield
        finally:
            lock, users = self._locks[key]
            if users == 1:
                del self._locks[key]
            else:
                self._locks[key] = (lock, users - 1)


class ClockTracker:
    def __init__(
        self,
        *,
        store: ClockStore,
        publisher: EventPublisher,
        rules: Rules,
        now: Now,
        timetable: Timetable,
        metrics: SupervisionMetrics,
    ) -> None:
        self._store = store
        self._publisher = publisher
        self._rules = rules
        self._now = now
        self._timetable = timetable
        self._metrics = metrics
        self._locks = KeyedLocks()

    async def apply(self, event: Event, partition: int) -> None:
        """Apply one event of the log, read from `partition`."""
        issue_id = event.issue_id
        context = context_of(event)
        if context is not None:
            async with self._locks.hold(issue_id):
                await self._store.remember(issue_id, {**context, "partition": partition})
            return
        if event.type not in CLOCK_EVENTS:
            return
        async with self._locks.hold(issue_id):
            loaded = await self._store.load(issue_id)
            record, applied = loaded or (IssueRecord.new(issue_id), frozenset())
            if str(event.event_id) in applied:
                await self._arm(record, partition, force=True)
                return
            if record.partition != partition:
                if record.partition is not None:  # the topic was repartitioned: move the timer
                    await self._store.set_timer(issue_id, record.partition, None)
                record = record.changed(partition=partition)
            rules = self._rules
            before = record.next_due(rules.calendar)
            moved = recalendar(record, self._now(), rules)
            reaction = react(moved.record, event, rules)
            publish = (*moved.publish, *reaction.publish)
            if reaction.record == record and not publish:
                return  # nothing to supervise (an acceptance of an issue without clocks…)
            if publish:
                await self._publisher.publish_all(publish)
            await self._store.save(reaction.record, rules.calendar, str(event.event_id))
            await self._arm(reaction.record, partition, force=bool(moved.publish), before=before)

    async def fire(self, issue_id: str, partition: int) -> None:
        """Fire whatever of the issue is due now; publishes each step once."""
        async with self._locks.hold(issue_id):
            loaded = await self._store.load(issue_id)
            if loaded is None:
                await self._store.set_timer(issue_id, partition, None)
                self._timetable.set(issue_id, partition, None)
                return
            record = loaded[0]
            now = self._now()
            moved = recalendar(record, now, self._rules)
            reaction = fire_due(moved.record, now, self._rules)
            publish = (*moved.publish, *reaction.publish)
            if publish or reaction.record != record:
                if publish:
                    await self._publisher.publish_all(publish)
                await self._store.save(reaction.record, self._rules.calendar)
                self._observe(reaction.record, record, now)
            owner = partition if record.partition is None else record.partition
            await self._arm(reaction.record, owner, force=True)

    @property
    def rules(self) -> Rules:
        return self._rules

    async def use_rules(self, rules: Rules) -> int:
        """Take new rules (a calendar year declared, at a reload) and recompute every open
        provisional clock on them: re-armed, with `ClockRescheduled` where due times moved.
        Returns the number of issues looked at. Idempotent: a second call finds nothing."""
        self._rules = rules
        return await self.reschedule_all()

    async def reschedule_all(self) -> int:
        """Recompute the open clocks computed on a year declared since (see `recalendar`)."""
        issues = [issue_id async for issue_id in self._store.provisional_issues()]
        for issue_id in issues:
            await self.reschedule(issue_id)
        await self.count_provisional()
        if issues:
            log.info("calendar.rescheduled", issues=len(issues))
        return len(issues)

    async def reschedule(self, issue_id: str) -> None:
        async with self._locks.hold(issue_id):
            loaded = await self._store.load(issue_id)
            if loaded is None:
                return
            record = loaded[0]
            moved = recalendar(record, self._now(), self._rules)
            if moved.record == record:
                return
            if moved.publish:
                await self._publisher.publish_all(moved.publish)
            await self._store.save(moved.record, self._rules.calendar)
            if record.partition is not None:
                await self._arm(moved.record, record.partition, force=True)

    async def count_provisional(self) -> None:
        """Set the gauge of open provisional clocks from the store (all instances agree)."""
        self._metrics.provisional.set(await self._store.provisional_clocks())

    async def record(self, issue_id: str) -> IssueRecord | None:
        loaded = await self._store.load(issue_id)
        return None if loaded is None else loaded[0]

    async def _arm(
        self,
        record: IssueRecord,
        partition: int,
        *,
        force: bool,
        before: datetime | None = None,
    ) -> None:
        due = record.next_due(self._rules.calendar)
        if force or due != before:
            await self._store.set_timer(record.issue_id, partition, due)
        self._timetable.set(record.issue_id, partition, due)

    def _observe(self, after: IssueRecord, before: IssueRecord, now: datetime) -> None:
        fired_before = before.fired_at()
        for step_id in after.fired_at().keys() - fired_before.keys():
            clock_id, _, name = step_id.rpartition(":")
            clock = after.clocks.clock(clock_id)
            step = clock.step(name, self._rules.calendar) if clock else None
            if step is None:
                continue
            self._metrics.fired.labels(step.action.value).inc()
            self._metrics.lag.observe(max((now - step.due_at).total_seconds(), 0.0))
            log.info("step.fired", issue_id=after.issue_id, step=step_id, due_at=str(step.due_at))
