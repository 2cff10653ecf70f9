"""Clocks in a year no calendar knows yet (issue 12 item 2), on the real broker and database:
they run and fire on the provisional calendar (weekends and statutory holidays by rule),
marked provisional; once the year is declared (a reload, or a restart) their steps move to
the declared calendar, `ClockRescheduled` says so once, and each step fires once."""

import asyncio
import os
import shutil
import signal
from datetime import datetime
from pathlib import Path

from services.contracts.vocabulary import Tier
from services.runtime.settings import PlatformSettings
from services.supervision.adapters.files import DEFAULT_CALENDAR_PATH
from services.supervision.app import Supervision
from services.supervision.domain.calendar import SHANGHAI
from tests.fixtures.calendars import DECLARED_2027
from tests.integration.test_supervision_harness import (
    FakeClock,
    Issue,
    Log,
    absorbed,
    http,
    owning,
    running,
)


def on(year: int, month: int, day: int, hour: int = 0) -> datetime:
    return datetime(year, month, day, hour, tzinfo=SHANGHAI)


START = on(2026, 12, 20, 10)  # a Sunday: the clocks start on Monday 21 December, 00:00
PROVISIONAL_DUE = on(2027, 1, 5)  # 10 working days: 1 January off by rule, then a weekend
PROVISIONAL_RED = on(2027, 1, 12)  # 150%: 15 working days
DECLARED_RED = on(2027, 1, 13)  # 7 and 8 January off, Saturday 9 January worked


def no_year_declared(tmp_path: Path) -> Path:
    path = tmp_path / "calendar.yaml"
    shutil.copy(DEFAULT_CALENDAR_PATH, path)
    return path


async def started_structural(log: Log, sup: Supervision, issue: Issue) -> None:
    """Assigned on Sunday 20 December, accepted in time (no second-overdue rule)."""
    assigned = issue.assigned(START)
    accepted = issue.accepted(on(2026, 12, 21, 9))
    await log.publish(issue.triaged(START), assigned, accepted)
    await absorbed(sup, assigned, accepted)


async def test_a_clock_reaching_2027_runs_provisionally_then_moves_to_the_declared_year(
    settings: PlatformSettings, tmp_path: Path
) -> None:
    calendar = no_year_declared(tmp_path)
    clock, issue = FakeClock(START), Issue(Tier.STRUCTURAL)
    async with Log(settings) as log, running(settings, clock, calendar) as sup, http(sup) as client:
        await owning(sup, partitions=settings.partitions)
        await started_structural(log, sup, issue)
        started = {e.payload.clock.value: e.payload for e in log.of(issue, "ClockStarted")}
        assert started["resolve"].due_at == PROVISIONAL_DUE and started["resolve"].provisional
        assert not started["accept"].provisional  # due on 22 December
        clocks = (await client.get(f"/issues/{issue.id}/clocks")).json()
        resolve = next(c for c in clocks if c["clock"] == "resolve")
        assert resolve["provisional"] and resolve["provisional_years"] == [2027]
        steps = {s["step"]: s["due_at"] for s in resolve["steps"]}
        assert steps["red"] == PROVISIONAL_RED.isoformat()
        metrics = (await client.get("/metrics")).text
        assert "huiyin_supervision_provisional_clocks 1.0" in metrics

        # It fires on its provisional schedule, into 2027.
        clock.set(PROVISIONAL_DUE)
        expected = [
            ("ReminderSent", "resolve", "0.5"),
            ("ReminderSent", "resolve", "0.8"),
            ("IssueFlagged", "resolve", "yellow"),
        ]
        assert await log.fired(issue, 3) == expected

        # The operator declares 2027 (with swapped days) and reloads: the steps move, once.
        shutil.copy(DECLARED_2027, calendar)
        assert await sup.reload_calendar() == 1
        moved = await log.count(issue, 1, "ClockRescheduled")
        p = moved[0].payload
        assert p.reason == "calendar_declared" and p.years == (2027,) and not p.provisional
        assert p.old_due_at == p.new_due_at == PROVISIONAL_DUE  # the deadline stays
        assert p.steps["red"] == (PROVISIONAL_RED, DECLARED_RED)
        assert p.steps["escalate"] == (PROVISIONAL_RED, DECLARED_RED)
        assert await sup.reload_calendar() == 0  # a second reload does nothing
        clocks = (await client.get(f"/issues/{issue.id}/clocks")).json()
        resolve = next(c for c in clocks if c["clock"] == "resolve")
        assert not resolve["provisional"] and resolve["provisional_years"] == []
        assert {s["step"]: s["due_at"] for s in resolve["steps"]}["red"] == DECLARED_RED.isoformat()
        assert "huiyin_supervision_provisional_clocks 0.0" in (await client.get("/metrics")).text

        # The old red instant passes without a firing; the declared one fires red once.
        clock.set(on(2027, 1, 12, 12))
        await asyncio.sleep(1.0)
        assert log.steps(issue) == expected
        clock.set(DECLARED_RED)
        red = [("IssueFlagged", "resolve", "red"), ("SupervisionOrdered", "resolve", "")]
        assert await log.fired(issue, 5) == expected + red
        await asyncio.sleep(0.5)
    assert len(log.of(issue, "ClockRescheduled")) == 1
    fired = log.of(issue, "ReminderSent", "IssueFlagged", "SupervisionOrdered")
    assert len(fired) == len({e.event_id for e in fired}) == 5  # each step fired once


async def test_a_year_declared_while_supervision_was_down_is_taken_at_restart(
    settings: PlatformSettings, tmp_path: Path
) -> None:
    calendar = no_year_declared(tmp_path)
    clock, issue = FakeClock(START), Issue(Tier.STRUCTURAL)
    async with Log(settings) as log:
        async with running(settings, clock, calendar) as sup:
            await owning(sup, partitions=settings.partitions)
            await started_structural(log, sup, issue)
        shutil.copy(DECLARED_2027, calendar)
        async with running(settings, clock, calendar) as sup, http(sup) as client:
            moved = await log.count(issue, 1, "ClockRescheduled")
            assert moved[0].payload.steps["red"] == (PROVISIONAL_RED, DECLARED_RED)
            resolve = next(
                c
                for c in (await client.get(f"/issues/{issue.id}/clocks")).json()
                if c["clock"] == "resolve"
            )
            assert not resolve["provisional"]
            assert resolve["due_at"] == on(2027, 1, 5).isoformat()


async def test_sighup_reads_the_declared_year(settings: PlatformSettings, tmp_path: Path) -> None:
    calendar = no_year_declared(tmp_path)
    clock, issue = FakeClock(START), Issue(Tier.STRUCTURAL)
    async with Log(settings) as log, running(settings, clock, calendar) as sup:
        await owning(sup, partitions=settings.partitions)
        await started_structural(log, sup, issue)
        assert sup.listens_for_sighup
        shutil.copy(DECLARED_2027, calendar)
        os.kill(os.getpid(), signal.SIGHUP)  # as an operator would, after editing the file
        moved = await log.count(issue, 1, "ClockRescheduled")
        assert moved[0].payload.steps["red"] == (PROVISIONAL_RED, DECLARED_RED)
    assert not sup.listens_for_sighup
