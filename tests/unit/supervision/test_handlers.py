"""The tracker's order of effects, with the store and the publisher in memory: publish, then
store the record, then its timer; a replayed event re-arms; a firing publishes each step once."""

from collections.abc import AsyncIterator, Iterable, Mapping
from datetime import datetime
from typing import Any

import pytest
from prometheus_client import CollectorRegistry

from services.contracts.events import (
    Envelope,
    IssueAssigned,
    IssueAssignedPayload,
    IssueTriaged,
    IssueTriagedPayload,
    ProgressNoted,
    ProgressNotedPayload,
)
from services.contracts.vocabulary import Level, Tier
from services.runtime.consumer import Rejected
from services.runtime.locks import KeyedLocks
from services.supervision.adapters.metrics import SupervisionMetrics
from services.supervision.domain.calendar import SHANGHAI, WorkingCalendar
from services.supervision.domain.policy import Policy
from services.supervision.domain.record import IssueRecord
from services.supervision.domain.rules import Rules
from services.supervision.domain.timetable import Timetable, micros
from services.supervision.domain.writes import Writes
from services.supervision.handlers import ClockRecords, ClockTracker, Publisher

T0 = datetime(2026, 11, 23, 10, tzinfo=SHANGHAI)


class MemoryStore:
    """The store's operations (`ClockRecords`), in memory, noting the order of calls."""

    def __init__(self, calls: list[str]) -> None:
        self.records: dict[str, tuple[IssueRecord, set[str]]] = {}
        self.timers: dict[str, tuple[int, datetime]] = {}
        self.calls = calls

    async def load(self, issue_id: str) -> tuple[IssueRecord, frozenset[str]] | None:
        self.calls.append("load")
        found = self.records.get(issue_id)
        return None if found is None else (found[0], frozenset(found[1]))

    async def load_many(
        self, issue_ids: Iterable[str]
    ) -> dict[str, tuple[IssueRecord, frozenset[str]]]:
        found = {i: await self.load(i) for i in issue_ids}
        return {i: loaded for i, loaded in found.items() if loaded is not None}

    async def write(self, writes: Writes, calendar: WorkingCalendar) -> None:
        for issue_id, fields in writes.remembered:
            await self.remember(issue_id, fields)
        for record, applied in writes.saved:
            self.calls.append("save")
            ids = self.records.get(record.issue_id, (record, set()))[1]
            self.records[record.issue_id] = (record, ids | set(applied))
        for issue_id, partition, due in writes.timers:
            await self.set_timer(issue_id, partition, due)

    async def remember(self, issue_id: str, fields: Mapping[str, Any]) -> None:
        self.calls.append("remember")
        record, applied = self.records.get(issue_id, (IssueRecord.new(issue_id), set()))
        self.records[issue_id] = (record.changed(**fields), applied)

    async def save(
        self, record: IssueRecord, calendar: WorkingCalendar, applied: str | None = None
    ) -> None:
        self.calls.append("save")
        ids = self.records.get(record.issue_id, (record, set()))[1]
        self.records[record.issue_id] = (record, ids | ({applied} if applied else set()))

    async def set_timer(self, issue_id: str, partition: int, due: datetime | None) -> None:
        self.calls.append("timer")
        if due is None:
            self.timers.pop(issue_id, None)
        else:
            self.timers[issue_id] = (partition, due)

    async def provisional_issues(self, partition: int) -> AsyncIterator[str]:
        for issue_id, (record, _) in self.records.items():
            if record.provisional_years and record.partition == partition:
                yield issue_id

    async def provisional_clocks(self) -> int:
        return 0


class MemoryPublisher:
    def __init__(self, calls: list[str]) -> None:
        self.published: list[Envelope] = []
        self.calls = calls

    async def publish_all(self, events: Iterable[Envelope]) -> list[Any]:
        self.calls.append("publish")
        self.published += list(events)
        return []


class Clock:
    def __init__(self) -> None:
        self.at = T0

    def __call__(self) -> datetime:
        return self.at


def tracker(
    commit_issues: int = 100,
) -> tuple[ClockTracker, MemoryStore, MemoryPublisher, Timetable, Clock, list[str]]:
    calls: list[str] = []
    store, publisher, timetable, clock = (
        MemoryStore(calls),
        MemoryPublisher(calls),
        Timetable(),
        Clock(),
    )
    timetable.own([0])
    ports: tuple[ClockRecords, Publisher] = (store, publisher)  # the fakes satisfy the ports
    built = ClockTracker(
        store=ports[0],
        publisher=ports[1],
        rules=Rules.of(Policy()),
        now=clock,
        timetable=timetable,
        metrics=SupervisionMetrics(CollectorRegistry()),
        commit_issues=commit_issues,
    )
    return built, store, publisher, timetable, clock, calls


def assigned() -> IssueAssigned:
    payload = IssueAssignedPayload(office_id="o1", level=Level.CITY, reason="r")
    return IssueAssigned(issue_id="iss-1", producer="test", occurred_at=T0, payload=payload)


async def test_an_event_is_published_then_stored_then_its_timer_armed() -> None:
    track, store, publisher, timetable, _, calls = tracker()
    event = assigned()
    await track.apply(event, 0)
    assert calls == ["load", "publish", "save", "timer"]
    assert [e.type for e in publisher.published] == ["ClockStarted", "ClockStarted"]  # type: ignore[attr-defined]
    due = datetime(2026, 11, 23, 22, tzinfo=SHANGHAI)  # the accept clock's 50% reminder
    assert store.timers["iss-1"] == (0, due) and timetable.next_due() == micros(due)

    calls.clear()
    store.timers.clear()  # a crash came between storing the record and its timer
    await track.apply(event, 0)  # the replay publishes nothing and repairs the timer
    assert calls == ["load", "timer"] and store.timers["iss-1"] == (0, due)


async def test_events_that_do_not_touch_clocks_cost_nothing() -> None:
    track, _, _, _, _, calls = tracker()
    noted = ProgressNoted(
        issue_id="iss-1",
        producer="test",
        payload=ProgressNotedPayload(office_id="o1", note="on our way"),
    )
    await track.apply(noted, 0)
    assert calls == []


async def test_a_firing_publishes_each_due_step_once() -> None:
    track, store, publisher, timetable, clock, calls = tracker()
    await track.apply(assigned(), 0)
    published = len(publisher.published)
    clock.at = datetime(2026, 11, 24, 6, tzinfo=SHANGHAI)  # past the 50% and 80% reminders
    await track.fire("iss-1", 0)
    await track.fire("iss-1", 0)
    reminders = publisher.published[published:]
    assert [e.payload.threshold for e in reminders] == [0.5, 0.8]  # type: ignore[attr-defined]
    yellow = datetime(2026, 11, 24, 10, tzinfo=SHANGHAI)
    assert store.timers["iss-1"] == (0, yellow) and timetable.next_due() == micros(yellow)
    calls.clear()
    await track.fire("nobody", 0)
    assert calls == ["load", "timer"] and "nobody" not in store.timers


async def test_keyed_locks_are_forgotten_once_free() -> None:
    locks = KeyedLocks()
    async with locks.hold("a"), locks.hold("b"):
        assert len(locks) == 2
    assert len(locks) == 0


async def test_a_batch_reads_each_clocked_issue_once_and_writes_once() -> None:
    track, store, publisher, timetable, _, calls = tracker()
    first, other = assigned(), assigned().model_copy(update={"issue_id": "iss-2"})
    triaged = IssueTriaged(
        issue_id="iss-3",
        producer="routing",
        occurred_at=T0,
        payload=IssueTriagedPayload(
            category="lights", tier=Tier.GENERAL, region_code="41", reason="r"
        ),
    )
    await track.apply_batch([(first, 0), (triaged, 0), (other, 0), (first, 0)])
    # one read per issue with clock events (none for the context-only issue), one produce
    # batch, then the records and the timers together: clocks armed in bulk
    assert calls == ["load", "load", "publish", "remember", "save", "save", "timer", "timer"]
    assert len(publisher.published) == 4
    assert set(store.timers) == {"iss-1", "iss-2"} and len(timetable) == 2
    assert store.records["iss-3"][0].category == "lights"
    assert store.records["iss-1"][1] == {str(first.event_id)}


async def test_an_assignment_to_an_office_the_city_does_not_have_starts_no_clock() -> None:
    built, store, publisher, *_ = tracker()
    built._offices = frozenset({"some-real-office"})
    with pytest.raises(Rejected, match="o1") as rejected:
        await built.apply(assigned(), 0)
    assert rejected.value.reason == "unknown_office"
    assert store.records == {} and publisher.published == []
    built._offices = frozenset({"o1"})
    await built.apply(assigned(), 0)
    assert publisher.published  # a real office's clocks start


async def test_a_firing_batch_reads_once_publishes_once_and_writes_once() -> None:
    track, store, publisher, timetable, clock, calls = tracker()
    other = assigned().model_copy(update={"issue_id": "iss-2"})
    await track.apply_batch([(assigned(), 0), (other, 0)])
    published = len(publisher.published)
    clock.at = datetime(2026, 11, 23, 23, tzinfo=SHANGHAI)  # past both 50% reminders
    calls.clear()
    await track.fire_batch([("iss-1", 0), ("iss-2", 0), ("nobody", 0)])
    # one read of the three, one produce batch, the records, then the timers (the unknown
    # issue's removed): every due step of the tick in one batch
    assert calls == ["load", "load", "load", "publish", "save", "save", "timer", "timer", "timer"]
    fired = publisher.published[published:]
    assert sorted(e.issue_id for e in fired) == ["iss-1", "iss-2"]
    eighty = datetime(2026, 11, 24, 5, 12, tzinfo=SHANGHAI)  # the 80% reminders are next
    assert store.timers["iss-1"] == (0, eighty) == store.timers["iss-2"]
    assert timetable.next_due() == micros(eighty) and len(timetable) == 2
    calls.clear()
    await track.fire_batch([("iss-1", 0), ("iss-2", 0)])  # fired again: nothing doubles
    assert len(publisher.published) == published + 2


async def test_a_batch_in_parts_publishes_before_it_stores_each_part() -> None:
    track, store, publisher, _, _, calls = tracker(commit_issues=1)  # one issue a part
    first, other = assigned(), assigned().model_copy(update={"issue_id": "iss-2"})
    await track.apply_batch([(first, 0), (other, 0)])
    assert calls[:2] == ["load", "load"]
    effects = calls[2:]
    assert effects.count("publish") == 2 and effects.count("save") == 2
    assert effects.index("publish") < effects.index("save")  # each part: published first
    assert set(store.records) == {"iss-1", "iss-2"} and len(publisher.published) == 4


async def test_a_part_that_fails_to_store_fails_the_batch() -> None:
    track, store, _, _, _, _ = tracker(commit_issues=1)

    async def broken(writes: Writes, calendar: WorkingCalendar) -> None:
        raise RuntimeError("the database went away")

    store.write = broken  # type: ignore[method-assign]
    first, other = assigned(), assigned().model_copy(update={"issue_id": "iss-2"})
    with pytest.raises(RuntimeError, match="went away"):
        await track.apply_batch([(first, 0), (other, 0)])
    assert store.records == {}  # nothing stored: the batch is replayed whole
