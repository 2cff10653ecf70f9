"""Notify on the real Kafka and MongoDB-wire servers, with real channels on loopback: an SMTP
server receives the e-mails, an HTTP server plays the SMS gateway, the webhook receiver and
intake's contact endpoint."""

import asyncio
import time
import uuid
from collections import Counter
from datetime import UTC, datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import httpx
import pytest

from services.contracts.events import (
    ClockStarted,
    ClockStartedPayload,
    Envelope,
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
    ReminderSent,
    ReminderSentPayload,
)
from services.contracts.vocabulary import Channel, ClockKind, Flag, Kind, Level, Tier
from services.notify.app import Notify
from services.notify.domain.signing import SIGNATURE_HEADER, TIMESTAMP_HEADER, verify
from services.runtime.mongo import Document
from services.runtime.settings import PlatformSettings
from tests.integration.notify_harness import (
    RECEIPT_CODE,
    REPORTER_PHONE,
    WEBHOOK_KEY,
    eventually,
    loopback_servers,
    notify_settings,
    running,
    write_config,
)

pytestmark = pytest.mark.integration


def flow(issue_id: str) -> list[Envelope]:
    """An issue reported, triaged, assigned (lead + co-office), reminded, red-flagged, resolved."""
    now = datetime.now(UTC)
    return [
        IssueReported(issue_id=issue_id, producer="intake", payload=IssueReportedPayload(
            channel=Channel.HOTLINE, kind=Kind.COMPLAINT, text="路灯不亮", reporter_id="r-1")),
        IssueTriaged(issue_id=issue_id, producer="routing", payload=IssueTriagedPayload(
            category="street_lights", tier=Tier.GENERAL, region_code="411901",
            reason="r", region_path=("411900", "411901"))),
        IssueAssigned(issue_id=issue_id, producer="routing", payload=IssueAssignedPayload(
            office_id="lead", office_name="城管局", co_office_ids=("co",), level=Level.COUNTY,
            reason="r")),
        ReminderSent(issue_id=issue_id, producer="supervision", payload=ReminderSentPayload(
            clock=ClockKind.RESOLVE, office_id="lead", threshold=0.5)),
        IssueFlagged(issue_id=issue_id, producer="supervision", payload=IssueFlaggedPayload(
            flag=Flag.RED, clock=ClockKind.RESOLVE, office_id="lead")),
        IssueResolved(issue_id=issue_id, producer="intake", payload=IssueResolvedPayload(
            office_id="lead", result="修好了")),
        ClockStarted(issue_id=issue_id, producer="supervision", payload=ClockStartedPayload(
            clock=ClockKind.RETURN_VISIT, working_days=3, started_at=now, due_at=now)),
    ]  # fmt: skip


EXPECTED = Counter(
    {
        ("sms", REPORTER_PHONE): 3,  # receipt, resolved, return visit
        ("sms", "13700000001"): 1,  # co-office: co-handling
        ("email", "lead@office.cn"): 3,  # assigned, reminder, red flag
        ("webhook", "lead-hook"): 3,
        ("email", "sup@city.cn"): 1,  # red flag in the supervisor's region
    }
)


async def deliveries(service: Notify, **query: str) -> list[Document]:
    return await service.store.find(dict(query), 1000)


async def settled(service: Notify, count: int) -> list[Document]:
    async def done() -> list[Document] | None:
        found = await deliveries(service)
        finished = [d for d in found if d["state"] in ("sent", "dead", "skipped")]
        return found if len(found) == count and len(finished) == count else None

    result: list[Document] = await eventually(done, f"{count} deliveries finished")
    return result


async def test_a_flow_of_events_sends_each_message_once_to_the_right_person(
    settings: PlatformSettings, tmp_path: Path
) -> None:
    issue_id = str(uuid.uuid4())
    async with loopback_servers() as (http, mailbox, smtp_port):
        http.contacts[issue_id] = {"phone": REPORTER_PHONE, "receipt_code": RECEIPT_CODE}
        config = write_config(tmp_path / "notify.yaml", http)
        async with running(notify_settings(settings, config, http, smtp_port)) as service:
            await service.runtime.publisher.publish(*flow(issue_id))
            records = await settled(service, sum(EXPECTED.values()))
            assert {d["state"] for d in records} == {"sent"}

            sms = http.at("/sms")
            hooks = http.at("/hook")
            got = Counter(
                [("sms", r.json()["phone"]) for r in sms]
                + [("webhook", "lead-hook") for _ in hooks]
                + [("email", m["To"]) for m in mailbox.messages]
            )
            assert got == EXPECTED
            to_reporter = [r.json()["content"] for r in sms if r.json()["phone"] == REPORTER_PHONE]
            assert all(RECEIPT_CODE in text and len(text) <= 70 for text in to_reporter)
            assert all(r.headers["X-Api-Key"] == "sms-key" for r in sms)
            # the record's id travels as Message-ID / idempotency key: copies can be dropped
            ids = {d["_id"] for d in records}
            assert {m["Message-ID"].strip("<>").split("@")[0] for m in mailbox.messages} <= ids
            assert {r.json()["out_id"] for r in sms} <= ids
            for hook in hooks:
                stamp = int(hook.headers[TIMESTAMP_HEADER])
                assert verify(WEBHOOK_KEY, stamp, hook.body, hook.headers[SIGNATURE_HEADER],
                              now=int(time.time()))  # fmt: skip
                assert hook.headers["Idempotency-Key"] == hook.json()["id"]
            assert not any(RECEIPT_CODE in (m.get_payload() or "") for m in mailbox.messages)

            # the view: masked recipients, filters; nothing of the reporter's contact
            transport = httpx.ASGITransport(app=service.app)
            async with httpx.AsyncClient(transport=transport, base_url="http://notify") as client:
                view = (await client.get("/deliveries", params={"issue_id": issue_id})).json()
                receipts = (await client.get("/deliveries", params={"kind": "receipt"})).json()
                metrics = (await client.get("/metrics")).text
            assert len(view) == sum(EXPECTED.values())
            assert REPORTER_PHONE not in str(view) and "139****5678" in str(view)
            assert "lead@office.cn" not in str(view) and "l***@office.cn" in str(view)
            assert [r["kind"] for r in receipts] == ["receipt"]
            assert 'huiyin_notify_sent_total{channel="sms",kind="receipt"} 1.0' in metrics
            assert REPORTER_PHONE not in metrics


async def test_a_failing_channel_retries_then_the_delivery_is_dead_with_the_reason(
    settings: PlatformSettings, tmp_path: Path
) -> None:
    issue_id = str(uuid.uuid4())
    async with loopback_servers() as (http, _mailbox, smtp_port):
        http.contacts[issue_id] = {"phone": REPORTER_PHONE, "receipt_code": RECEIPT_CODE}
        http.fail_first = {"/sms": -1, "/hook": 2}  # SMS always fails; the webhook twice
        config = write_config(tmp_path / "notify.yaml", http)
        async with running(notify_settings(settings, config, http, smtp_port)) as service:
            anonymous = str(uuid.uuid4())  # intake has no contact for it: 404
            await service.runtime.publisher.publish(*flow(issue_id)[:3], flow(anonymous)[0])
            records = await settled(service, 5)  # receipt (sms), assigned (email, hook), co (sms)
            [skipped] = [d for d in records if d["issue_id"] == anonymous]
            assert (skipped["state"], skipped["last_error"]) == (
                "skipped",
                "the issue has no reporter's contact",
            )
            records = [d for d in records if d["issue_id"] == issue_id]
            by_channel = {(d["channel"], d["kind"]): d for d in records}
            receipt = by_channel[("sms", "receipt")]
            assert (receipt["state"], receipt["attempts"]) == ("dead", 3)
            assert receipt["last_error"] == "sms gateway answered 503"
            hook = by_channel[("webhook", "assigned")]
            assert (hook["state"], hook["attempts"]) == ("sent", 3)
            assert len(http.at("/hook")) == 1 and http.at("/sms") == []
            text = (await httpx.AsyncClient(transport=httpx.ASGITransport(app=service.app),
                                            base_url="http://n").get("/metrics")).text  # fmt: skip
            assert 'huiyin_notify_dead_total{channel="sms",kind="receipt"} 1.0' in text
            assert 'huiyin_notify_retried_total{channel="webhook",kind="assigned"} 2.0' in text
            assert 'huiyin_notify_failed_total{channel="sms",kind="receipt"} 3.0' in text
            assert 'huiyin_notify_skipped_total{channel="sms",kind="receipt"} 1.0' in text


async def test_a_restart_mid_delivery_and_a_replay_send_nothing_twice_and_lose_nothing(
    settings: PlatformSettings, tmp_path: Path
) -> None:
    issue_id = str(uuid.uuid4())
    async with loopback_servers() as (http, mailbox, smtp_port):
        http.contacts[issue_id] = {"phone": REPORTER_PHONE, "receipt_code": RECEIPT_CODE}
        http.delay = 0.3  # the gateway and the webhook receiver are slow
        config = write_config(tmp_path / "notify.yaml", http)
        options = notify_settings(settings, config, http, smtp_port)
        async with running(options) as first:
            await first.runtime.publisher.publish(*flow(issue_id))
            await eventually(lambda: http.at("/sms") or http.at("/hook"), "a first message")
        # stopped mid-delivery; the second instance reads the whole log again (a fresh group)
        replay = f"{settings.topic_prefix}replay"
        async with running(options, group_id=replay) as second:
            records = await settled(second, sum(EXPECTED.values()))
            await asyncio.sleep(1.0)  # time for a double to show, if there were one
            assert {d["state"] for d in records} == {"sent"}
            assert len(await deliveries(second)) == sum(EXPECTED.values())
        sent = Counter(
            [("sms", r.json()["phone"]) for r in http.at("/sms")]
            + [("webhook", "lead-hook") for _ in http.at("/hook")]
            + [("email", m["To"]) for m in mailbox.messages]
        )
        assert sent == EXPECTED


async def test_quiet_hours_hold_a_non_urgent_message_and_let_an_urgent_one_through(
    settings: PlatformSettings, tmp_path: Path
) -> None:
    issue_id = str(uuid.uuid4())
    night = datetime(2026, 3, 2, 23, 30, tzinfo=ZoneInfo("Asia/Shanghai"))
    async with loopback_servers() as (http, mailbox, smtp_port):
        http.contacts[issue_id] = {"phone": REPORTER_PHONE, "receipt_code": RECEIPT_CODE}
        config = write_config(
            tmp_path / "notify.yaml", http, quiet_hours={"start": "22:00", "end": "08:00"}
        )
        options = notify_settings(settings, config, http, smtp_port)
        async with running(options, now=lambda: night.astimezone(UTC)) as service:
            events = flow(issue_id)
            await service.runtime.publisher.publish(events[0], events[1], events[3])
            # the receipt (urgent) goes at once; the reminder waits for 08:00
            await eventually(lambda: http.at("/sms"), "the receipt sent")
            records = await eventually(
                lambda: _two(service), "the receipt and the reminder recorded"
            )
            reminder = next(d for d in records if d["kind"] == "reminder")
            assert reminder["state"] == "pending" and reminder["held"]
            morning = datetime(2026, 3, 3, 8, 0, tzinfo=ZoneInfo("Asia/Shanghai"))
            assert reminder["due_at"] == morning
            assert mailbox.messages == []


async def _two(service: Notify) -> list[Document] | None:
    found = await deliveries(service)
    return found if len(found) >= 2 else None
