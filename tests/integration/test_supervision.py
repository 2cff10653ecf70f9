"""Supervision on the real broker and database, in-process, with a clock the test moves:
the 13710 ladder of an ignored issue, extensions (by rule, and a supervisor's decision as
intake publishes it), reopening, and firing twice."""

import asyncio
from collections import Counter
from datetime import datetime
from typing import Any

import pytest

from services.contracts.events import (
    Envelope,
    ExtensionDecided,
    ExtensionDecidedPayload,
    derived_event_id,
)
from services.runtime.settings import PlatformSettings
from services.supervision.app import Supervision
from services.supervision.domain.calendar import SHANGHAI, WorkingCalendar
from services.supervision.domain.timetable import micros
from services.supervision.domain.writes import Writes
from tests.fixtures.calendars import TEST_CALENDAR
from tests.integration.test_supervision_harness import (
    OFFICE,
    T0,
    FakeClock,
    Issue,
    Log,
    absorbed,
    assign,
    at,
    http,
    owning,
    running,
)

CAL = WorkingCalendar()


async def test_an_ignored_issue_is_reminded_flagged_and_sent_up_the_ladder(
    settings: PlatformSettings,
) -> None:
    clock, issue = FakeClock(), Issue()
    async with Log(settings) as log, running(settings, clock) as sup:
        await owning(sup, partitions=settings.partitions)
        await assign(log, sup, issue)
        started = {e.payload.clock.value: e.payload for e in log.of(issue, "ClockStarted")}
        assert started["accept"].due_at == at(11, 24) and started["accept"].office_id == OFFICE
        assert started["resolve"].due_at == at(11, 26)  # general: 3 working days
        ladder = [
            (at(11, 23, 22), [("ReminderSent", "accept", "0.5")]),
            (at(11, 24, 5, 12), [("ReminderSent", "accept", "0.8")]),
            (at(11, 24, 10), [("IssueFlagged", "accept", "yellow")]),
            (
                at(11, 24, 22),  # 150%: red and supervision; the resolve clock is half gone
                [
                    ("IssueFlagged", "accept", "red"),
                    ("SupervisionOrdered", "accept", ""),
                    ("ReminderSent", "resolve", "0.5"),
                ],
            ),
            (at(11, 25, 19, 36), [("ReminderSent", "resolve", "0.8")]),
            (
                at(11, 26, 10),  # a second overdue clock turns red at 100%
                [
                    ("IssueFlagged", "resolve", "yellow"),
                    ("IssueFlagged", "resolve", "red"),
                    ("SupervisionOrdered", "resolve", ""),
                ],
            ),
        ]
        expected: list[tuple[str, str, str]] = []
        for when, steps in ladder:
            clock.set(when)
            expected += steps
            assert await log.fired(issue, len(expected)) == expected
        ordered = log.of(issue, "SupervisionOrdered")[0]
        assert ordered.payload.office_id == OFFICE
        assert "center" in ordered.payload.reason

        async with http(sup) as client:
            overdue = (await client.get("/clocks/overdue", params={"office_id": OFFICE})).json()
            history = (await client.get(f"/issues/{issue.id}/clock-history")).json()
    mine = [row for row in overdue["clocks"] if row["issue_id"] == issue.id]
    assert [(row["clock"], row["flag"]) for row in mine] == [("accept", "red"), ("resolve", "red")]
    assert overdue["by_office"][OFFICE] >= 2
    fired = {s["step"]: s["fired_at"] for s in history["clocks"][0]["steps"]}
    assert fired["reminder-50"] == "2026-11-23T22:00:00+08:00"


async def test_an_extension_moves_every_later_step(settings: PlatformSettings) -> None:
    clock, extended, control = FakeClock(), Issue(), Issue()
    async with Log(settings) as log, running(settings, clock) as sup, http(sup) as client:
        await owning(sup, partitions=settings.partitions)
        await assign(log, sup, extended, control)
        accepted = [extended.accepted(at(11, 23, 11)), control.accepted(at(11, 23, 11))]
        await log.publish(*accepted)
        await absorbed(sup, *accepted)
        clock.set(at(11, 24, 9))
        request = extended.extension(at(11, 24, 9), days=2)
        await log.publish(request)
        await absorbed(sup, request)
        decided = await log.wait(lambda: log.of(extended, "ExtensionDecided"), "decided by rule")
        assert decided[0].event_id == derived_event_id(request.event_id, "extension-decided")
        assert (decided[0].payload.granted, decided[0].payload.working_days) == (True, 2)

        async def resolve_steps(issue: Issue) -> dict[str, Any]:
            clocks = (await client.get(f"/issues/{issue.id}/clocks")).json()
            resolve = next(c for c in clocks if c["clock"] == "resolve" and c["running"])
            return {
                "due_at": resolve["due_at"],
                **{s["step"]: s["due_at"] for s in resolve["steps"]},
            }

        moved, kept = await resolve_steps(extended), await resolve_steps(control)
        assert moved["due_at"] == "2026-11-30T10:00:00+08:00"  # Thursday → next Monday
        assert all(moved[name] > kept[name] for name in kept)

        clock.set(at(11, 24, 22))  # the control's 50% reminder; the extended one waits
        await log.wait(lambda: log.steps(control), "the control's reminder")
        clock.set(at(11, 25, 22))
        await log.wait(lambda: log.steps(extended), "the extended reminder, a day later")
        assert log.steps(extended) == [("ReminderSent", "resolve", "0.5")]
        clock.set(at(11, 26, 10))  # the control is overdue; the extended issue is not
        await log.wait(lambda: len(log.steps(control)) == 3, "the control turns yellow")
        assert log.steps(extended) == [("ReminderSent", "resolve", "0.5")]

        # A second, longer request goes to a supervisor, who decides through intake: intake
        # publishes the decision (its own id, the request as its cause), and it moves the clock.
        longer = extended.extension(at(11, 26, 11), days=4)
        await log.publish(longer)
        await absorbed(sup, longer)
        history = (await client.get(f"/issues/{extended.id}/clock-history")).json()
        waiting = [r for r in history["extension_requests"] if r["verdict"] == "referred"]
        assert [r["request_id"] for r in waiting] == [str(longer.event_id)]
        decision = intake_decision(longer, days=4, by="supervisor:4f2a9c0d1e7b")
        await log.publish(decision)
        await absorbed(sup, decision)
        clocks = (await client.get(f"/issues/{extended.id}/clocks")).json()
        resolve = next(c for c in clocks if c["clock"] == "resolve")
        nine_days = iso(CAL.add_working_days(T0, 9))
        assert (resolve["extended_days"], resolve["due_at"]) == (6, nine_days)
        history = (await client.get(f"/issues/{extended.id}/clock-history")).json()
        request = next(
            r for r in history["extension_requests"] if r["request_id"] == waiting[0]["request_id"]
        )
        assert request["decided_by"] == "supervisor:4f2a9c0d1e7b"

        # A copy of that decision (a retried publish) and a second supervisor's late decision
        # change nothing: the request is decided once. A later request marks that the log
        # was read past them.
        late = intake_decision(longer, days=9, by="supervisor:0b8e61c2d3a4")
        marker = extended.extension(at(11, 26, 12), days=1)
        await log.publish(decision, late, marker)
        await absorbed(sup, marker)
        clocks = (await client.get(f"/issues/{extended.id}/clocks")).json()
        resolve = next(c for c in clocks if c["clock"] == "resolve")
        assert (resolve["extended_days"], resolve["due_at"]) == (6, nine_days)


def intake_decision(request: Envelope, *, days: int, by: str) -> ExtensionDecided:
    """A supervisor's decision as intake publishes it."""
    payload = ExtensionDecidedPayload(granted=True, working_days=days, decided_by=by, reason="rain")
    return ExtensionDecided(
        issue_id=request.issue_id,
        producer="intake",
        occurred_at=at(11, 26, 11, 30),
        causation_id=request.event_id,
        payload=payload,
    )


def iso(when: datetime) -> str:
    return when.isoformat()


def due_of(sup: Supervision, issue: Issue) -> int | None:
    for partition in sup.scheduler.timetable.owned:
        part = sup.scheduler.timetable.part(partition)
        if part is not None and issue.id in part:
            return part.due_of(issue.id)
    return None


async def test_clocks_run_across_the_new_year_on_the_calendar_supplement(
    settings: PlatformSettings,
) -> None:
    """chinesecalendar 1.11.0 stops at 2026: the (test) supplement's 2027 carries the clocks."""
    start = datetime(2026, 12, 30, 10, tzinfo=SHANGHAI)  # a Wednesday
    clock, issue = FakeClock(start), Issue()
    async with Log(settings) as log, running(settings, clock, TEST_CALENDAR) as sup:
        await owning(sup, partitions=settings.partitions)
        assigned = issue.assigned(start)
        await log.publish(issue.triaged(start), assigned)
        await absorbed(sup, assigned)
        started = {e.payload.clock.value: e.payload for e in log.of(issue, "ClockStarted")}
        assert started["accept"].due_at == datetime(2026, 12, 31, 10, tzinfo=SHANGHAI)
        # 31 Dec, then (1 Jan off, a weekend) 4 and 5 Jan 2027
        assert started["resolve"].due_at == datetime(2027, 1, 5, 10, tzinfo=SHANGHAI)
        clock.set(datetime(2027, 1, 5, 10, tzinfo=SHANGHAI))
        await log.wait(
            lambda: ("IssueFlagged", "resolve", "yellow") in log.steps(issue),
            "the resolve clock overdue in 2027",
        )


async def test_a_reopened_issue_gets_fresh_clocks(settings: PlatformSettings) -> None:
    clock, issue = FakeClock(), Issue()
    async with Log(settings) as log, running(settings, clock) as sup, http(sup) as client:
        await owning(sup, partitions=settings.partitions)
        await assign(log, sup, issue)
        first = {e.event_id for e in log.of(issue, "ClockStarted")}
        await log.publish(issue.accepted(at(11, 23, 11)), issue.resolved(at(11, 24, 9)))
        visit = (await log.count(issue, 3, "ClockStarted"))[2]
        assert (visit.payload.clock.value, visit.payload.due_at) == ("return_visit", at(11, 25, 9))
        reopened = issue.reopened(at(11, 24, 15, 5))
        await log.publish(issue.visited(at(11, 24, 15)), reopened)
        fresh = (await log.count(issue, 5, "ClockStarted"))[3:]
        assert {e.payload.clock.value for e in fresh} == {"accept", "resolve"}
        assert {e.payload.started_at for e in fresh} == {at(11, 24, 15, 5)}
        assert not first & {e.event_id for e in fresh}

        # Routing sends the reopened issue back to its office: the fresh clocks stand.
        back = issue.assigned(at(11, 24, 15, 6), cause=reopened)
        await log.publish(back)
        await absorbed(sup, reopened, back)
        clocks = (await client.get(f"/issues/{issue.id}/clocks")).json()
        assert [(c["clock"], c["stop_reason"]) for c in clocks] == [
            ("accept", "accepted"),
            ("resolve", "resolved"),
            ("return_visit", "visited"),
            ("accept", None),
            ("resolve", None),
        ]
        clock.set(at(11, 25, 3, 5))  # 50% of the fresh accept clock
        await log.wait(lambda: log.steps(issue), "the fresh clock's reminder")
        reminder = log.of(issue, "ReminderSent")[0]
        assert reminder.causation_id in {e.event_id for e in fresh}
        assert len(log.of(issue, "ClockStarted")) == 5


async def test_firing_twice_publishes_once(
    settings: PlatformSettings, monkeypatch: pytest.MonkeyPatch
) -> None:
    clock, issue = FakeClock(), Issue()
    async with Log(settings) as log, running(settings, clock) as sup:
        await owning(sup, partitions=settings.partitions)
        await assign(log, sup, issue)
        clock.set(at(11, 23, 22))
        await log.wait(lambda: log.steps(issue), "the 50% reminder")
        record = await sup.tracker.record(issue.id)
        assert record is not None and record.partition is not None
        partition = record.partition
        # The same timer fired again, twice at once, and a stale timer in the schedule.
        await asyncio.gather(*(sup.tracker.fire(issue.id, partition) for _ in range(2)))
        timers = sup.scheduler.timetable
        timers.set(issue.id, partition, at(11, 23, 22))
        await log.wait(lambda: due_of(sup, issue) == micros(at(11, 24, 5, 12)), "stale one fired")

        # A crash between publishing a step and recording it: the retry republishes its id.
        write, failures = sup.store.write, [ConnectionError("the database went away")]

        async def flaky(writes: Writes, calendar: WorkingCalendar) -> None:
            firing = any(not applied for _, applied in writes.saved)  # an event's names its id
            if failures and firing:
                raise failures.pop()
            await write(writes, calendar)

        monkeypatch.setattr(sup.store, "write", flaky)
        clock.set(at(11, 24, 5, 12))
        await log.wait(lambda: len(log.of(issue, "ReminderSent")) == 2, "the 80% reminder")
        clock.set(at(11, 24, 5, 13))  # the retry, a second later
        await log.wait(lambda: len(log.of(issue, "ReminderSent")) == 3, "its retry")

    copies = Counter(e.event_id for e in log.of(issue, "ReminderSent"))
    assert sorted(copies.values()) == [1, 2]  # 50% once; 80% twice, with one id
    async with Log(settings) as log, running(settings, clock) as sup:  # a restart
        await owning(sup, partitions=settings.partitions)
        record = await sup.tracker.record(issue.id)
        assert record is not None
        assert set(record.clocks.clocks[0].fired) == {"reminder-50", "reminder-80"}
        assert due_of(sup, issue) == micros(at(11, 24, 10))  # loaded: yellow is next
        await log.wait(lambda: len(log.of(issue, "ReminderSent")) >= 3, "the log read back")
    assert Counter(e.event_id for e in log.of(issue, "ReminderSent")) == copies


async def test_timers_of_the_per_partition_layout_are_moved_at_start(
    settings: PlatformSettings,
) -> None:
    from pymongo import AsyncMongoClient

    from services.supervision.adapters.store import ClockStore

    client: AsyncMongoClient[dict[str, Any]] = AsyncMongoClient(settings.mongo_url, tz_aware=True)
    db = client[settings.database("supervision")]
    try:
        newer = at(11, 25)
        await db["timers_p1"].insert_many(
            [{"_id": "old-1", "due": at(11, 24)}, {"_id": "both", "due": at(11, 23)}]
        )
        await db["timers_p2"].insert_one({"_id": "old-2", "due": at(11, 26)})
        await db["timers"].insert_one({"_id": "both", "partition": "1", "due": newer})
        store = ClockStore(db, settings.partitions)
        await store.ensure_indexes()
        await store.ensure_indexes()  # a second start finds nothing to move
        moved = sorted([t async for t in store.timers_in(1)])
        assert moved == [("both", newer), ("old-1", at(11, 24))]  # the newer one kept
        assert [t async for t in store.timers_in(2)] == [("old-2", at(11, 26))]
        assert not any(n.startswith("timers_p") for n in await db.list_collection_names())
        assert await store.timer_of("old-2", 2) == at(11, 26)
        assert await store.timer_of("old-2", 1) is None  # another partition's: not ours
    finally:
        await client.drop_database(settings.database("supervision"))
        await client.close()
