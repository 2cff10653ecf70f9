"""Helpers for supervision's tests on the real broker and database (no tests here): a clock
the test moves, the service in-process with its lifespan, one issue's events, and the log."""

import asyncio
import time
import uuid
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any, TypeVar

import httpx
from aiokafka import AIOKafkaConsumer, AIOKafkaProducer, ConsumerRecord, TopicPartition

from services.contracts.events import (
    Envelope,
    Event,
    ExtensionRequested,
    ExtensionRequestedPayload,
    IssueAccepted,
    IssueAcceptedPayload,
    IssueAssigned,
    IssueAssignedPayload,
    IssueReopened,
    IssueReopenedPayload,
    IssueResolved,
    IssueResolvedPayload,
    IssueTriaged,
    IssueTriagedPayload,
    IssueVisited,
    IssueVisitedPayload,
    decode,
    encode,
)
from services.contracts.owners import OWNERS
from services.contracts.vocabulary import Level, Rung, Satisfaction, Tier
from services.runtime.broker import ensure_topics
from services.runtime.settings import PlatformSettings
from services.supervision.adapters.files import DEFAULT_CALENDAR_PATH
from services.supervision.app import Supervision, build_service
from services.supervision.domain.calendar import SHANGHAI
from services.supervision.settings import SupervisionSettings

T = TypeVar("T")

OFFICE = "street-office-east"
T0 = datetime(2026, 11, 23, 10, tzinfo=SHANGHAI)  # a Monday, 10:00 in Shanghai
STEP_TYPES = ("ReminderSent", "IssueFlagged", "SupervisionOrdered")


def at(month: int, day: int, hour: int = 10, minute: int = 0) -> datetime:
    return datetime(2026, month, day, hour, minute, tzinfo=SHANGHAI)


class FakeClock:
    """Supervision's `now`, moved by the test (forward only)."""

    def __init__(self, start: datetime = T0) -> None:
        self._at = start

    def __call__(self) -> datetime:
        return self._at

    def set(self, when: datetime) -> None:
        assert when >= self._at, "time only moves forward"
        self._at = when


@asynccontextmanager
async def running(
    platform: PlatformSettings, clock: FakeClock, calendar: Path | None = None
) -> AsyncIterator[Supervision]:
    """Supervision in this process, lifespan and all, on the real Kafka and MongoDB-wire
    (with the calendar supplement `calendar`, else the shipped one)."""
    settings = SupervisionSettings(
        platform=platform,
        port=0,
        fire_tick_seconds=0.05,
        calendar=calendar or DEFAULT_CALENDAR_PATH,
        offices="",  # the scripted issues' offices are not the sample city's
    )
    service = build_service(settings, now=clock)
    async with service.app.router.lifespan_context(service.app):
        yield service


async def owning(*services: Supervision, partitions: int, timeout: float = 60) -> None:
    """Wait until `services` split every partition between them, timers loaded."""

    def split() -> bool:
        owned = [s.scheduler.timetable.owned for s in services]
        every = set().union(*owned)
        loading = any(s.scheduler.loading for s in services)
        apart = sum(len(o) for o in owned) == len(every)
        return every == set(range(partitions)) and apart and all(owned) and not loading

    await eventually(split, "partitions split between the instances", timeout)


async def eventually(probe: Callable[[], T | None], what: str, timeout: float = 60) -> T:
    deadline = time.monotonic() + timeout
    while True:
        found = probe()
        if found:
            return found
        if time.monotonic() > deadline:
            raise AssertionError(f"not reached within {timeout} s: {what}")
        await asyncio.sleep(0.05)


async def absorbed(service: Supervision, *events: Envelope, timeout: float = 30) -> None:
    """Wait until supervision has stored the effect of every one of `events`."""
    deadline = time.monotonic() + timeout
    for event in events:
        while True:
            loaded = await service.store.load(event.issue_id)
            if loaded is not None and str(event.event_id) in loaded[1]:
                break
            if time.monotonic() > deadline:
                raise AssertionError(f"{event.event_id} of {event.issue_id} not absorbed")
            await asyncio.sleep(0.05)


async def assign(log: "Log", service: Supervision, *issues: "Issue") -> None:
    """Publish each issue's triage and assignment at T0; wait until supervision has them."""
    assigned = [issue.assigned() for issue in issues]
    for issue, assignment in zip(issues, assigned, strict=True):
        await log.publish(issue.triaged(), assignment)
    await absorbed(service, *assigned)


def http(service: Supervision) -> httpx.AsyncClient:
    transport = httpx.ASGITransport(app=service.app)
    return httpx.AsyncClient(transport=transport, base_url="http://supervision")


class Issue:
    """One issue's events as the other services would publish them."""

    def __init__(self, tier: Tier = Tier.GENERAL, office: str = OFFICE) -> None:
        self.id = f"iss-{uuid.uuid4().hex[:12]}"
        self.tier = tier
        self.office = office

    def _common(self, when: datetime, cause: Envelope | None, kind: str) -> dict[str, Any]:
        caused = {"causation_id": cause.event_id} if cause is not None else {}
        producer = min(OWNERS[kind])  # its owner: another producer's would be dead-lettered
        return {"issue_id": self.id, "occurred_at": when, "producer": producer, **caused}

    def triaged(self, when: datetime = T0) -> IssueTriaged:
        payload = IssueTriagedPayload(
            category="street_lighting", tier=self.tier, region_code="410102", reason="test"
        )
        return IssueTriaged(payload=payload, **self._common(when, None, "IssueTriaged"))

    def assigned(
        self, when: datetime = T0, cause: Envelope | None = None, rung: Rung = Rung.OFFICE
    ) -> IssueAssigned:
        payload = IssueAssignedPayload(
            office_id=self.office, level=Level.TOWNSHIP, rung=rung, reason="test"
        )
        return IssueAssigned(payload=payload, **self._common(when, cause, "IssueAssigned"))

    def accepted(self, when: datetime) -> IssueAccepted:
        payload = IssueAcceptedPayload(office_id=self.office)
        return IssueAccepted(payload=payload, **self._common(when, None, "IssueAccepted"))

    def extension(self, when: datetime, days: int) -> ExtensionRequested:
        payload = ExtensionRequestedPayload(office_id=self.office, working_days=days, reason="x")
        return ExtensionRequested(payload=payload, **self._common(when, None, "ExtensionRequested"))

    def resolved(self, when: datetime) -> IssueResolved:
        payload = IssueResolvedPayload(office_id=self.office, result="fixed")
        return IssueResolved(payload=payload, **self._common(when, None, "IssueResolved"))

    def visited(self, when: datetime) -> IssueVisited:
        payload = IssueVisitedPayload(satisfaction=Satisfaction.DISSATISFIED, solved=False)
        return IssueVisited(payload=payload, **self._common(when, None, "IssueVisited"))

    def reopened(self, when: datetime) -> IssueReopened:
        payload = IssueReopenedPayload(reason="the reporter is not satisfied")
        return IssueReopened(payload=payload, **self._common(when, None, "IssueReopened"))


class Log:
    """The issues topic as a test writes and tails it (every record, copies included)."""

    def __init__(self, platform: PlatformSettings) -> None:
        self._platform = platform
        self.records: list[ConsumerRecord[bytes, bytes]] = []
        self.events: list[Event] = []
        self._producer: AIOKafkaProducer | None = None
        self._consumer: AIOKafkaConsumer | None = None
        self._tail: asyncio.Task[None] | None = None

    async def __aenter__(self) -> "Log":
        p = self._platform
        await ensure_topics(p)
        self._producer = AIOKafkaProducer(bootstrap_servers=p.kafka_bootstrap, acks="all")
        self._consumer = AIOKafkaConsumer(bootstrap_servers=p.kafka_bootstrap)
        await self._producer.start()
        await self._consumer.start()
        tps = [TopicPartition(p.issues_topic, n) for n in range(p.partitions)]
        self._consumer.assign(tps)
        await self._consumer.seek_to_beginning(*tps)
        self._tail = asyncio.create_task(self._follow())
        return self

    async def __aexit__(self, *_: object) -> None:
        if self._tail is not None:
            self._tail.cancel()
            await asyncio.gather(self._tail, return_exceptions=True)
        for client in (self._producer, self._consumer):
            if client is not None:
                await client.stop()

    async def _follow(self) -> None:
        assert self._consumer is not None
        while True:
            batch = await self._consumer.getmany(timeout_ms=100)
            for records in batch.values():
                for record in records:
                    self.records.append(record)
                    self.events.append(decode(record.value or b""))

    async def publish(self, *events: Envelope) -> None:
        assert self._producer is not None
        for event in events:
            topic = self._platform.issues_topic
            await self._producer.send_and_wait(topic, encode(event), key=event.issue_id.encode())

    def of(self, issue: Issue | str, *types: str) -> list[Any]:
        """The issue's events of `types` (all when none), in log order, copies included."""
        issue_id = issue.id if isinstance(issue, Issue) else issue
        return [e for e in self.events if e.issue_id == issue_id and (not types or e.type in types)]

    def steps(self, issue: Issue | str) -> list[tuple[str, str, str]]:
        """Each distinct fired step of the issue as (type, clock, detail), in log order."""
        seen, found = set(), []
        for e in self.of(issue, *STEP_TYPES):
            if e.event_id in seen:
                continue
            seen.add(e.event_id)
            p: Any = e.payload
            detail = str(p.threshold) if e.type == "ReminderSent" else getattr(p, "flag", "")
            found.append((e.type, p.clock.value, str(detail)))
        return found

    async def wait(self, probe: Callable[[], T | None], what: str, timeout: float = 30) -> T:
        return await eventually(probe, what, timeout)

    async def count(self, issue: Issue | str, n: int, *types: str) -> list[Any]:
        """Wait until the issue has `n` events of `types` on the log (copies count)."""
        await self.wait(lambda: len(self.of(issue, *types)) >= n, f"{n} of {types or 'any'}")
        return self.of(issue, *types)

    async def fired(self, issue: Issue | str, n: int) -> list[tuple[str, str, str]]:
        """Wait until `n` distinct steps of the issue fired; return them."""
        await self.wait(lambda: len(self.steps(issue)) >= n, f"{n} fired steps")
        return self.steps(issue)


def later(when: datetime, **delta: float) -> datetime:
    return when + timedelta(**delta)
