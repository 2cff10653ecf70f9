"""Supervision's clock tracker: an event of the log, a firing, a calendar reload, from the
event to the domain to the adapters.

`ClockTracker` is the only place that writes an issue's clocks. A batch of events and a
firing follow the same order, under per-issue locks (so the consumer and the firing loop of
one instance never interleave on an issue):

1. load the records, a batch's in one read (`store.load_many`; none for an issue the batch
   only tells context about: that is written without a read);
2. let the pure rules decide (`reactions.recalendar` first, for a year declared since the
   record was stored; then `reactions.react` for an event, `reactions.fire_due` for a firing
   at `now`, for every issue the firing loop found due in one tick): the new record and the
   events to publish;
3. publish those events (a batch's all at once) and wait for Kafka's acknowledgement;
4. store the records (a batch's as one bulk write; the events' ids are absorbed with them);
5. store the issues' timers (one bulk write), and set them in the in-memory timetable: a
   batch arms its clocks in bulk.

A batch's issues go through 2–5 in parts (`commit_issues` issues each, `stages.Stages`):
while a part is computed, the part before is published and the one before that stored, one
part at a time in each stage, so the CPU, the broker and the database work side by side;
the batch is done when every part is (a part that fails fails the batch, which is then
replayed: idempotent, as after a crash).

A crash between 3 and 4 publishes the same deterministic ids again after the restart
(consumers drop the copies); an event already absorbed changes nothing but re-arms the
timer, which repairs a crash between 4 and 5. Time comes from the injected `now`.

The store and the publisher are ports (`ClockRecords`, `Publisher`): the unit tests' fakes
satisfy them, type-checked.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Iterable, Mapping, Sequence
from contextlib import AsyncExitStack
from datetime import datetime
from functools import partial
from typing import Any, Protocol

from services.contracts.events import Envelope, Event, IssueAssigned
from services.runtime.consumer import Rejected
from services.runtime.locks import KeyedLocks
from services.runtime.logging import get_logger
from services.supervision.adapters.metrics import SupervisionMetrics
from services.supervision.adapters.timesource import Now
from services.supervision.domain.calendar import WorkingCalendar
from services.supervision.domain.reactions import (
    CLOCK_EVENTS,
    context_of,
    fire_due,
    react,
    recalendar,
)
from services.supervision.domain.record import IssueRecord
from services.supervision.domain.rules import Rules
from services.supervision.domain.timetable import Timetable
from services.supervision.domain.writes import Writes
from services.supervision.handlers.stages import Stages

__all__ = ["ClockRecords", "ClockTracker", "Publisher"]

log = get_logger(__name__)


class ClockRecords(Protocol):
    """What the tracker needs of the store (`adapters.store.ClockStore`)."""

    async def load(self, issue_id: str) -> tuple[IssueRecord, frozenset[str]] | None: ...

    async def load_many(
        self, issue_ids: Iterable[str]
    ) -> dict[str, tuple[IssueRecord, frozenset[str]]]: ...

    async def write(self, writes: Writes, calendar: WorkingCalendar) -> None: ...

    async def remember(self, issue_id: str, fields: Mapping[str, Any]) -> None: ...

    async def save(
        self, record: IssueRecord, calendar: WorkingCalendar, applied: str | None = None
    ) -> None: ...

    async def set_timer(self, issue_id: str, partition: int, due: datetime | None) -> None: ...

    def provisional_issues(self, partition: int) -> AsyncIterator[str]: ...

    async def provisional_clocks(self) -> int: ...


class Publisher(Protocol):
    """What the tracker needs of the publisher (`runtime.broker.EventPublisher`)."""

    async def publish_all(self, events: Iterable[Envelope]) -> Any: ...


class ClockTracker:
    def __init__(
        self,
        *,
        store: ClockRecords,
        publisher: Publisher,
        rules: Rules,
        now: Now,
        timetable: Timetable,
        metrics: SupervisionMetrics,
        offices: frozenset[str] | None = None,
        commit_issues: int = 100,
    ) -> None:
        self._offices = offices
        """The offices the city has; an assignment naming another is rejected (None: not
        checked)."""
        self._commit_issues = commit_issues
        """A batch's issues are committed this many at a time, each part while the next is
        computed (parts hold different issues: the order per issue is kept)."""
        self._store = store
        self._publisher = publisher
        self._rules = rules
        self._now = now
        self._timetable = timetable
        self._metrics = metrics
        self._locks = KeyedLocks()

    async def apply(self, event: Event, partition: int) -> None:
        """Apply one event of the log, read from `partition`."""
        await self.apply_batch([(event, partition)])

    async def apply_batch(self, batch: Sequence[tuple[Event, int]]) -> None:
        """Apply a batch of events of the log (each with the partition it was read from), in
        order per issue: one read per issue whose clocks the batch touches, one produce
        batch, one bulk write of the records and one of the timers. An assignment to an
        office the city does not have is rejected (the runtime dead-letters it alone)."""
        for event, _ in batch:
            self._check_offices(event)
        by_issue: dict[str, list[tuple[Event, int]]] = {}
        for event, partition in batch:
            if event.type in CLOCK_EVENTS or context_of(event) is not None:
                by_issue.setdefault(event.issue_id, []).append((event, partition))
        if not by_issue:
            return
        tracked = {i for i, events in by_issue.items() if any(_clocked(e) for e, _ in events)}
        async with AsyncExitStack() as held:
            for issue_id in sorted(by_issue):
                await held.enter_async_context(self._locks.hold(issue_id))
            loaded = await self._store.load_many(tracked)
            issues = list(by_issue.items())
            stages = Stages()
            try:
                for first in range(0, len(issues), self._commit_issues):
                    writes, publish = Writes(), list[Envelope]()
                    armed: list[tuple[IssueRecord, int, datetime | None]] = []
                    for issue_id, events in issues[first : first + self._commit_issues]:
                        if issue_id not in tracked:
                            fields: dict[str, Any] = {}
                            for event, partition in events:
                                fields |= {**(context_of(event) or {}), "partition": partition}
                            writes.remembered.append((issue_id, fields))  # no read: one upsert
                            continue
                        self._fold(events, loaded.get(issue_id), writes, publish, armed)
                    stages.add(partial(self._publish, publish), partial(self._keep, writes, armed))
                    await asyncio.sleep(0)  # the stages move on while the next part is computed
            finally:
                failure = await stages.wait()  # every part ended before the locks are let go
            if failure is not None:
                raise failure

    async def _commit(
        self,
        publish: list[Envelope],
        writes: Writes,
        armed: list[tuple[IssueRecord, int, datetime | None]],
    ) -> None:
        """A batch's effects in order: one produce batch awaited, one bulk write per
        collection, then the in-memory timers."""
        await self._publish(publish)
        await self._keep(writes, armed)

    async def _publish(self, publish: list[Envelope]) -> None:
        if publish:
            await self._publisher.publish_all(publish)

    async def _keep(
        self, writes: Writes, armed: list[tuple[IssueRecord, int, datetime | None]]
    ) -> None:
        if writes:
            await self._store.write(writes, self._rules.calendar)
        for record, partition, due in armed:
            self._timetable.set(record.issue_id, partition, due)

    def _fold(
        self,
        events: list[tuple[Event, int]],
        loaded: tuple[IssueRecord, frozenset[str]] | None,
        writes: Writes,
        publish: list[Envelope],
        armed: list[tuple[IssueRecord, int, datetime | None]],
    ) -> None:
        """One issue's events of a batch, in order, over its record: what to publish, the
        record to store and its timer."""
        rules = self._rules
        record, applied = loaded or (IssueRecord.new(events[0][0].issue_id), frozenset())
        stored_partition = record.partition
        before = record.next_due(rules.calendar)
        absorbed: list[str] = []
        changed = force = arm = False
        partition = events[0][1]
        for event, partition in events:
            context = context_of(event)
            if context is not None:
                fields = {**record.model_dump(), **context, "partition": partition}
                record = IssueRecord.model_validate(fields)
                changed = True
                continue
            event_id = str(event.event_id)
            if event_id in applied or event_id in absorbed:
                force = arm = True  # a replay: nothing changes, but the timer is re-armed
                continue
            if record.partition != partition:
                record = record.changed(partition=partition)
            moved = recalendar(record, self._now(), rules)
            reaction = react(moved.record, event, rules)
            derived = (*moved.publish, *reaction.publish)
            if reaction.record == record and not derived:
                continue  # nothing to supervise (an acceptance of an issue without clocks…)
            publish.extend(derived)
            record = reaction.record
            absorbed.append(event_id)
            changed = arm = True
            force = force or bool(moved.publish)
        if changed:
            writes.saved.append((record, tuple(absorbed)))
            if loaded is None:
                writes.new.add(record.issue_id)
            elif not loaded[0].provisional_years:
                writes.no_provisional.add(record.issue_id)
        if not arm:
            return
        if stored_partition is not None and stored_partition != partition:
            writes.timers.append((record.issue_id, stored_partition, None))  # repartitioned
            force = True
        due = record.next_due(rules.calendar)
        if force or due != before:
            writes.timers.append((record.issue_id, partition, due))
        armed.append((record, partition, due))

    def _check_offices(self, event: Event) -> None:
        if self._offices is None or not isinstance(event, IssueAssigned):
            return
        named = [event.payload.office_id, *event.payload.co_office_ids]
        if unknown := sorted(set(named) - self._offices):
            detail = f"IssueAssigned names offices the city does not have: {unknown}"
            raise Rejected("unknown_office", detail)

    async def fire(self, issue_id: str, partition: int) -> None:
        """Fire whatever of the issue is due now; publishes each step once."""
        await self.fire_batch([(issue_id, partition)])

    async def fire_batch(self, due: Sequence[tuple[str, int]]) -> None:
        """Fire whatever is due now of each issue `(issue_id, partition)`, as one batch: one
        read, one produce batch, one bulk write per collection; each step published once
        (its id is the step's: a firing repeated after a crash republishes the same id)."""
        owner_of = dict(due)
        async with AsyncExitStack() as held:
            for issue_id in sorted(owner_of):
                await held.enter_async_context(self._locks.hold(issue_id))
            loaded = await self._store.load_many(owner_of)
            now, writes, publish = self._now(), Writes(), list[Envelope]()
            armed: list[tuple[IssueRecord, int, datetime | None]] = []
            fired: list[tuple[IssueRecord, IssueRecord]] = []
            for issue_id, partition in owner_of.items():
                if issue_id not in loaded:
                    writes.timers.append((issue_id, partition, None))
                    self._timetable.set(issue_id, partition, None)
                    continue
                record = loaded[issue_id][0]
                moved = recalendar(record, now, self._rules)
                reaction = fire_due(moved.record, now, self._rules)
                if moved.publish or reaction.publish or reaction.record is not record:
                    publish += (*moved.publish, *reaction.publish)
                    writes.saved.append((reaction.record, ()))
                    if not record.provisional_years:
                        writes.no_provisional.add(issue_id)
                    fired.append((reaction.record, record))
                owner = partition if record.partition is None else record.partition
                next_due = reaction.record.next_due(self._rules.calendar)
                writes.timers.append((issue_id, owner, next_due))
                armed.append((reaction.record, owner, next_due))
            await self._commit(publish, writes, armed)
            for after, before in fired:
                self._observe(after, before, now)

    @property
    def rules(self) -> Rules:
        return self._rules

    async def use_rules(self, rules: Rules) -> int:
        """Take new rules (a calendar year declared, at a reload) and recompute the open
        provisional clocks of the partitions this instance owns: re-armed, with
        `ClockRescheduled` where due times moved (every instance reloads its own partitions;
        a partition assigned later is recomputed when its timers are loaded). Returns the
        number of issues looked at. Idempotent: a second call finds nothing to move."""
        self._rules = rules
        return await self.reschedule(self._timetable.owned)

    async def reschedule(self, partitions: Iterable[int]) -> int:
        """Recompute the open clocks of `partitions` computed on a year declared since (see
        `reactions.recalendar`); the number of provisional issues looked at."""
        issues = [
            issue_id
            for partition in sorted(partitions)
            async for issue_id in self._store.provisional_issues(partition)
        ]
        for issue_id in issues:
            await self.reschedule_issue(issue_id)
        await self.count_provisional()
        if issues:
            log.info("calendar.rescheduled", issues=len(issues))
        return len(issues)

    async def reschedule_issue(self, issue_id: str) -> None:
        async with self._locks.hold(issue_id):
            loaded = await self._store.load(issue_id)
            if loaded is None:
                return
            record = loaded[0]
            moved = recalendar(record, self._now(), self._rules)
            if moved.record is record:
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


def _clocked(event: Event) -> bool:
    return event.type in CLOCK_EVENTS and context_of(event) is None
