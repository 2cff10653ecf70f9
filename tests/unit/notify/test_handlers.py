"""Notify's use cases with fakes of its ports: records once, claims, retries, masking."""

import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from prometheus_client import CollectorRegistry

from services.contracts.events import (
    IssueAssigned,
    IssueAssignedPayload,
    IssueReported,
    IssueReportedPayload,
)
from services.contracts.vocabulary import Channel, Kind, Level
from services.notify.adapters.channels import Channel as Sender
from services.notify.adapters.contacts import ReporterContact
from services.notify.adapters.metrics import NotifyMetrics
from services.notify.adapters.store import DeliveryStorePort
from services.notify.domain.config import ChannelName, NotifyConfig
from services.notify.domain.delivery import NoRecipient, Outgoing, SendError, State
from services.notify.domain.plan import IssueView
from services.notify.handlers import NotifyHandlers
from services.runtime.mongo import Document
from tests.unit.notify.test_rules import CITY

NOON = datetime(2026, 3, 2, 4, 0, tzinfo=UTC)  # 12:00 in Shanghai


class FakeStore:
    def __init__(self) -> None:
        self.issues: dict[str, dict[str, Any]] = {}
        self.records: dict[str, Document] = {}

    async def issue(self, issue_id: str) -> IssueView:
        doc = self.issues.get(issue_id, {})
        return IssueView(
            issue_id,
            has_reporter=bool(doc.get("has_reporter")),
            region_code=doc.get("region_code"),
            region_path=tuple(doc.get("region_path", ())),
            office_id=doc.get("office_id"),
            co_office_ids=tuple(doc.get("co_office_ids", ())),
        )

    async def update_issue(self, issue_id: str, fields: dict[str, Any]) -> None:
        self.issues.setdefault(issue_id, {}).update(fields)

    async def create(self, record: Document) -> bool:
        if record["_id"] in self.records:
            return False
        self.records[record["_id"]] = dict(record)
        return True

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
