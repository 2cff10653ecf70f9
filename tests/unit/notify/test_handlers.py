"""Notify's use cases with fakes of its ports: records once, claims, retries, masking."""

import uuid
from collections.abc import Collection, Mapping, Sequence
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from prometheus_client import CollectorRegistry

from services.contracts.events import (
    Event,
    IssueAssigned,
    IssueAssignedPayload,
    IssueFlagged,
    IssueFlaggedPayload,
    IssueReported,
    IssueReportedPayload,
    IssueResolved,
    IssueResolvedPayload,
    IssueTriaged,
    IssueTriagedPayload,
)
from services.contracts.vocabulary import Channel, ClockKind, Flag, Kind, Level, Tier
from services.notify.adapters.channels import Channel as Sender
from services.notify.adapters.contacts import ReporterContact
from services.notify.adapters.metrics import NotifyMetrics
from services.notify.adapters.store import DeliveryStorePort
from services.notify.domain.config import ChannelName, NotifyConfig
from services.notify.domain.delivery import NoRecipient, Outgoing, SendError, State
from services.notify.handlers import NotifyHandlers
from services.runtime.mongo import Document
from tests.unit.notify.test_rules import CITY

NOON = datetime(2026, 3, 2, 4, 0, tzinfo=UTC)  # 12:00 in Shanghai


class FakeStore:
    def __init__(self) -> None:
        self.issues: dict[str, dict[str, Any]] = {}
        self.records: dict[str, Document] = {}
        self.reads = self.writes = self.set_views = 0

    async def views(self, issue_ids: Collection[str]) -> dict[str, Document]:
        self.reads += bool(issue_ids)
        return {i: {"_id": i, **self.issues[i]} for i in issue_ids if i in self.issues}

    async def record(
        self, views: Mapping[str, Mapping[str, Any]], records: Sequence[Document]
    ) -> set[str]:
        self.writes += 1
        self.set_views += len(views)
        for issue_id, fields in views.items():
            self.issues.setdefault(issue_id, {}).update(fields)
        created = {r["_id"] for r in records if r["_id"] not in self.records}
        self.records.update({r["_id"]: dict(r) for r in records if r["_id"] in created})
        return created

    async def due(self, now: datetime, limit: int) -> list[Document]:
        waiting = [
            dict(r)
            for r in self.records.values()
            if r["state"] in ("pending", "sending") and r.get("due_at") and r["due_at"] <= now
        ]
        return waiting[:limit]

    async def claim(self, delivery_id: str, attempts: int, now: datetime, lease: timedelta) -> bool:
        record = self.records[delivery_id]
        if record["attempts"] != attempts or record["state"] not in ("pending", "sending"):
            return False
        record.update(state="sending", due_at=now + lease, attempts=attempts + 1)
        return True

    async def mark_sent(self, delivery_id: str, attempts: int, now: datetime, shown: str) -> None:
        self.records[delivery_id].update(state="sent", sent_at=now, shown=shown, due_at=None)

    async def mark_unsent(
        self, delivery_id: str, attempts: int, state: State, due_at: datetime | None, reason: str
    ) -> None:
        self.records[delivery_id].update(state=state.value, due_at=due_at, last_error=reason)


class FakeChannel:
    def __init__(self, failures: int = 0) -> None:
        self.sent: list[Outgoing] = []
        self.failures = failures

    async def send(self, message: Outgoing) -> None:
        if self.failures:
            self.failures -= 1
            raise SendError("503")
        self.sent.append(message)


class FakeContacts:
    def __init__(self, known: dict[str, ReporterContact]) -> None:
        self.known = known

    async def reporter(self, issue_id: str) -> ReporterContact:
        if issue_id not in self.known:
            raise NoRecipient("the issue has no reporter's contact")
        return self.known[issue_id]


class Clock:
    def __init__(self) -> None:
        self.at = NOON

    def __call__(self) -> datetime:
        return self.at


def handlers(
    store: DeliveryStorePort, channels: dict[ChannelName, Sender], contacts: FakeContacts,
    clock: Clock, config: NotifyConfig = CITY,
) -> NotifyHandlers:  # fmt: skip
    return NotifyHandlers(
        config=config,
        store=store,
        channels=channels,
        contacts=contacts,
        metrics=NotifyMetrics(CollectorRegistry()),
        now=clock,
    )


def reported(issue_id: str) -> IssueReported:
    payload = IssueReportedPayload(
        channel=Channel.HOTLINE, kind=Kind.HELP, text="停水", reporter_id="r"
    )
    return IssueReported(issue_id=issue_id, producer="intake", payload=payload, occurred_at=NOON)


async def test_an_event_read_twice_creates_its_records_once_and_sends_them_once() -> None:
    issue = str(uuid.uuid4())
    store, sms, clock = FakeStore(), FakeChannel(), Clock()
    contacts = FakeContacts({issue: ReporterContact(phone="13912345678", receipt_code="K7Q2")})
    notify = handlers(store, {ChannelName.SMS: sms}, contacts, clock)
    event = reported(issue)
    assert await notify.record(event) == 1
    assert await notify.record(event) == 0  # a replay
    assert await notify.send_due() == 1
    assert await notify.send_due() == 0
    [message] = sms.sent
    assert message.to == "13912345678" and "K7Q2" in message.text
    [record] = store.records.values()
    assert record["state"] == "sent" and record["shown"] == "139****5678"
    assert "13912345678" not in str(record)


async def test_a_failing_channel_is_tried_again_after_the_pause_then_accepted() -> None:
    issue = str(uuid.uuid4())
    store, sms, clock = FakeStore(), FakeChannel(failures=1), Clock()
    contacts = FakeContacts({issue: ReporterContact(phone="13912345678", receipt_code="K")})
    notify = handlers(store, {ChannelName.SMS: sms}, contacts, clock)
    await notify.record(reported(issue))
    await notify.send_due()
    [record] = store.records.values()
    assert (record["state"], record["attempts"], record["last_error"]) == ("pending", 1, "503")
    assert await notify.send_due() == 0  # not before the pause
    clock.at += timedelta(seconds=CITY.retry.first_pause_seconds)
    await notify.send_due()
    assert (record["state"], record["attempts"], len(sms.sent)) == ("sent", 2, 1)


async def test_an_office_assignment_goes_to_the_configured_addresses_and_no_channel_skips() -> None:
    issue = str(uuid.uuid4())
    store, mail, clock = FakeStore(), FakeChannel(), Clock()
    notify = handlers(store, {ChannelName.EMAIL: mail}, FakeContacts({}), clock)
    payload = IssueAssignedPayload(
        office_id="411900-urban_management", office_name="中州市城市管理局", level=Level.CITY,
        reason="r",
    )  # fmt: skip
    event = IssueAssigned(issue_id=issue, producer="routing", payload=payload, occurred_at=NOON)
    assert await notify.record(event) == 2  # e-mail and SMS, the office's two channels
    await notify.send_due()
    assert [m.to for m in mail.sent] == ["cgj@zz.gov.cn"]
    assert "中州市城市管理局" in mail.sent[0].text and issue in mail.sent[0].text
    states = sorted((r["channel"], r["state"], r.get("last_error")) for r in store.records.values())
    assert states == [
        ("email", "sent", None),
        ("sms", "skipped", "the sms channel is not configured"),
    ]


async def test_a_claim_taken_by_another_sender_is_left_alone() -> None:
    issue = str(uuid.uuid4())
    store, sms, clock = FakeStore(), FakeChannel(), Clock()
    contacts = FakeContacts({issue: ReporterContact(phone="13912345678", receipt_code="K")})
    notify = handlers(store, {ChannelName.SMS: sms}, contacts, clock)
    await notify.record(reported(issue))
    [record] = await store.due(NOON, 10)
    assert await store.claim(record["_id"], 0, NOON, timedelta(seconds=60))  # the other one
    await notify.send(record)  # holds the stale attempt count: claims nothing
    assert sms.sent == []


@pytest.mark.parametrize("hours", [49, 24 * 30])
async def test_an_old_event_sends_nothing(hours: int) -> None:
    store, clock = FakeStore(), Clock()
    notify = handlers(store, {}, FakeContacts({}), clock)
    event = reported(str(uuid.uuid4())).model_copy(
        update={"occurred_at": NOON - timedelta(hours=hours)}
    )
    assert await notify.record(event) == 0 and store.records == {}
    assert store.issues  # the view still learns from it


def story(issue_id: str) -> list[Event]:
    """An issue's events in log order, each plans with the view its predecessors left: the
    reporter, the region (the supervisor's red flag), the lead and co-office."""
    return [
        reported(issue_id),
        IssueTriaged(issue_id=issue_id, producer="routing", payload=IssueTriagedPayload(
            category="street_lights", tier=Tier.GENERAL, region_code="411901", reason="r",
            region_path=("411900", "411901"))),
        IssueAssigned(issue_id=issue_id, producer="routing", payload=IssueAssignedPayload(
            office_id="411900-urban_management", office_name="中州市城市管理局",
            co_office_ids=("411901-housing",), level=Level.CITY, reason="r")),
        IssueFlagged(issue_id=issue_id, producer="supervision", payload=IssueFlaggedPayload(
            flag=Flag.RED, clock=ClockKind.RESOLVE, office_id="411900-urban_management")),
        IssueResolved(issue_id=issue_id, producer="intake", payload=IssueResolvedPayload(
            office_id="411900-urban_management", result="修好了")),
    ]  # fmt: skip


def interleaved(*stories: list[Event]) -> list[Event]:
    return [event for step in zip(*stories, strict=True) for event in step]


async def test_a_batch_records_what_its_events_one_at_a_time_would_in_one_read_and_one_write() -> (
    None
):
    a, b = str(uuid.uuid4()), str(uuid.uuid4())
    events = interleaved(story(a), story(b))
    alone, batched = FakeStore(), FakeStore()
    one_by_one = handlers(alone, {}, FakeContacts({}), Clock())
    for event in events:
        await one_by_one.record(event)
    created = await handlers(batched, {}, FakeContacts({}), Clock()).record_all(events)
    assert created == len(alone.records) > len(events)
    assert batched.records == alone.records and batched.issues == alone.issues
    kinds = {(r["issue_id"], r["kind"], r["audience"]) for r in batched.records.values()}
    assert (a, "red_flag", "supervisors") in kinds and (a, "co_assigned", "co_offices") in kinds
    assert (batched.reads, batched.writes) == (1, 1)


async def test_replays_and_copies_in_a_batch_create_nothing_twice() -> None:
    issue = str(uuid.uuid4())
    store = FakeStore()
    notify = handlers(store, {}, FakeContacts({}), Clock())
    events = story(issue)
    first = await notify.record_all([*events, *events])  # every event twice in one batch
    assert first == len(store.records) > len(events)
    records = dict(store.records)
    assert await notify.record_all(events) == 0  # the batch replayed
    assert await notify.record_all(events[2:]) == 0  # a split's tail replayed
    assert store.records == records
    assert store.set_views == 1  # the replays found the view as they leave it: not written
