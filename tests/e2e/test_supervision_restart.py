"""Supervision as its own OS process, killed with SIGKILL while hundreds of clocks are due,
restarted: every due step fires exactly once (one distinct event id per step; copies that
a crash between publishing and recording leaves on the log share their id).

Time crosses the process boundary as a plain setting: HUIYIN_SUPERVISION_TIME_OFFSET_SECONDS
shifts the service's clock into a simulated week (it still runs at real speed)."""

import asyncio
import json
import signal
import time
from collections import Counter
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path

import httpx
import pytest
from aiokafka import AIOKafkaProducer, ConsumerRecord
from prometheus_client.parser import text_string_to_metric_families

from devkit.infra import Endpoints
from devkit.processes import ServiceProcess, free_port
from services.contracts.events import encode
from services.contracts.vocabulary import ClockKind
from services.runtime.broker import ensure_topics
from services.runtime.settings import PlatformSettings
from services.runtime.topic_reader import read_topic
from services.supervision.domain.notices import clock_id_for, step_event_id
from tests.fixtures.calendars import TEST_CALENDAR_ENV
from tests.integration.test_supervision_harness import T0, Issue, at

pytestmark = pytest.mark.e2e

ISSUES = 300
STEP_TYPES = {"ReminderSent", "IssueFlagged", "SupervisionOrdered"}
# Wednesday 10:00: the accept clock has reminded twice, flagged yellow and red and ordered
# supervision; the resolve clock has reminded once (its 80% is at 19:36).
DUE_AT = at(11, 25, 10)
DUE_STEPS: dict[ClockKind, tuple[str, ...]] = {
    ClockKind.ACCEPT: ("reminder-50", "reminder-80", "yellow", "red", "escalate"),
    ClockKind.RESOLVE: ("reminder-50",),
}


def offset_to(instant: datetime) -> str:
    return str((instant - datetime.now(UTC)).total_seconds())


def metric(service: ServiceProcess, name: str) -> float:
    try:
        text = httpx.get(f"{service.url}/metrics", timeout=2).text
    except httpx.HTTPError:
        return -1.0
    return sum(
        sample.value
        for family in text_string_to_metric_families(text)
        for sample in family.samples
        if sample.name == name
    )


def wait(probe: Callable[[], bool], what: str, timeout: float = 120) -> None:
    deadline = time.monotonic() + timeout
    while not probe():
        if time.monotonic() > deadline:
            raise AssertionError(f"not reached within {timeout} s: {what}")
        time.sleep(0.05)


async def publish(settings: PlatformSettings, issues: list[Issue]) -> list[str]:
    """Each issue triaged and assigned at T0; the expected step event ids."""
    await ensure_topics(settings)
    producer = AIOKafkaProducer(bootstrap_servers=settings.kafka_bootstrap, acks="all")
    await producer.start()
    expected = []
    try:
        for issue in issues:
            assigned = issue.assigned()
            for event in (issue.triaged(), assigned):
                key = issue.id.encode()
                await producer.send(settings.issues_topic, encode(event), key=key)
            for kind, names in DUE_STEPS.items():
                clock_id = clock_id_for(assigned.event_id, kind)
                expected += [str(step_event_id(f"{clock_id}:{name}")) for name in names]
        await producer.flush()
    finally:
        await producer.stop()
    return expected


def step_ids(log: list[ConsumerRecord[bytes, bytes]]) -> list[str]:
    """The event ids of every fired step on the log, copies included."""
    events = [json.loads(record.value or b"{}") for record in log]
    return [e["event_id"] for e in events if e.get("type") in STEP_TYPES]


def test_supervision_killed_while_clocks_are_due_fires_each_step_once(
    servers: Endpoints, namespace: str, tmp_path: Path
) -> None:
    settings = PlatformSettings(
        kafka_bootstrap=servers.kafka_bootstrap,
        mongo_url=servers.mongo_url,
        topic_prefix=f"{namespace}.",
        database_prefix=f"{namespace}_",
    )
    expected = asyncio.run(publish(settings, [Issue() for _ in range(ISSUES)]))
    env = {
        **servers.env(),
        "HUIYIN_TOPIC_PREFIX": settings.topic_prefix,
        "HUIYIN_DATABASE_PREFIX": settings.database_prefix,
        "HUIYIN_SUPERVISION_TIME_OFFSET_SECONDS": offset_to(T0),
        "HUIYIN_SUPERVISION_OFFICES": "",  # the scripted issues' office is not the sample city's
        **TEST_CALENDAR_ENV,
    }
    supervision = ServiceProcess("supervision", free_port(), env, tmp_path / "supervision.log")
    try:
        # 1. Monday: every issue's clocks are armed; nothing is due yet. Then SIGKILL.
        supervision.start()
        supervision.wait_healthy()
        wait(lambda: metric(supervision, "huiyin_supervision_timers") == ISSUES, "armed")
        assert metric(supervision, "huiyin_supervision_steps_fired_total") == 0
        supervision.kill(signal.SIGKILL)

        # 2. Wednesday: 1,800 steps are overdue and fire at once on start; SIGKILL mid-way.
        env["HUIYIN_SUPERVISION_TIME_OFFSET_SECONDS"] = offset_to(DUE_AT)
        env["HUIYIN_SUPERVISION_FIRE_CONCURRENCY"] = "2"
        supervision.start()
        wait(lambda: metric(supervision, "huiyin_supervision_steps_fired_total") > 0, "firing")
        supervision.kill(signal.SIGKILL)
        at_kill = asyncio.run(read_topic(settings.kafka_bootstrap, settings.issues_topic))

        # 3. Restarted again: the rest fires, nothing fires twice.
        env["HUIYIN_SUPERVISION_TIME_OFFSET_SECONDS"] = offset_to(DUE_AT)
        env.pop("HUIYIN_SUPERVISION_FIRE_CONCURRENCY")
        supervision.start()
        supervision.wait_healthy()
        wait(lambda: metric(supervision, "huiyin_supervision_timers") == ISSUES, "re-armed")
        deadline = time.monotonic() + 120
        while True:
            records = asyncio.run(read_topic(settings.kafka_bootstrap, settings.issues_topic))
            if set(step_ids(records)) >= set(expected) or time.monotonic() > deadline:
                break
            time.sleep(0.5)
    finally:
        supervision.kill(signal.SIGKILL)

    copies = Counter(step_ids(records))
    fired_before_kill = len(set(step_ids(at_kill)))
    print(
        f"{len(expected)} steps due; {fired_before_kill} fired before the SIGKILL; "
        f"{sum(copies.values())} step records on the log, {len(copies)} distinct ids, "
        f"{sum(copies.values()) - len(copies)} copies (crash between publish and record)"
    )
    assert 0 < fired_before_kill < len(expected), "the kill came while steps were firing"
    assert set(copies) == set(expected), "every due step fired, and nothing else"
    assert max(copies.values()) <= 2, "a copy only for a step published just before the kill"
