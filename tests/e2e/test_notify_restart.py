"""Notify as its own OS process, killed with SIGKILL while it delivers, restarted: every
message arrives, and the only copies are those a try in flight at the kill may repeat —
carrying the same id (Message-ID / Idempotency-Key), so a receiver drops them."""

import asyncio
import signal
import uuid
from collections import Counter
from pathlib import Path

import httpx
import pytest
from aiokafka import AIOKafkaProducer

from devkit.infra import Endpoints
from devkit.processes import ServiceProcess, free_port
from services.contracts.events import (
    IssueAssigned,
    IssueAssignedPayload,
    IssueReported,
    IssueReportedPayload,
    encode,
)
from services.contracts.vocabulary import Channel, Kind, Level
from services.runtime.broker import ensure_topics
from services.runtime.settings import PlatformSettings
from tests.integration.notify_harness import (
    INTAKE_TOKEN,
    RECEIPT_CODE,
    REPORTER_PHONE,
    WEBHOOK_KEY,
    eventually,
    loopback_servers,
    write_config,
)

pytestmark = pytest.mark.e2e

ISSUES = 40
PER_ISSUE = 4  # receipt (SMS), assigned (e-mail + webhook), co_assigned (SMS)
CONCURRENCY = 16  # tries a notify process has in flight at most (handlers.NotifyHandlers)


async def publish(settings: PlatformSettings, issues: list[str]) -> None:
    await ensure_topics(settings)
    producer = AIOKafkaProducer(bootstrap_servers=settings.kafka_bootstrap, acks="all")
    await producer.start()
    try:
        for issue_id in issues:
            reported = IssueReported(
                issue_id=issue_id,
                producer="intake",
                payload=IssueReportedPayload(
                    channel=Channel.HOTLINE, kind=Kind.COMPLAINT, text="噪音", reporter_id="r"
                ),
            )
            lead = IssueAssignedPayload(
                office_id="lead", co_office_ids=("co",), level=Level.CITY, reason="r"
            )
            assigned = IssueAssigned(issue_id=issue_id, producer="routing", payload=lead)
            for event in (reported, assigned):
                await producer.send(settings.issues_topic, encode(event), key=issue_id.encode())
        await producer.flush()
    finally:
        await producer.stop()


def sent_count(service: ServiceProcess) -> int:
    try:
        response = httpx.get(
            f"{service.url}/deliveries", params={"state": "sent", "limit": 1000}, timeout=5
        )
    except httpx.HTTPError:
        return 0
    return len(response.json()) if response.is_success else 0


async def test_notify_killed_mid_delivery_loses_nothing_and_repeats_only_in_flight_tries(
    servers: Endpoints, namespace: str, tmp_path: Path
) -> None:
    settings = PlatformSettings(
        kafka_bootstrap=servers.kafka_bootstrap,
        mongo_url=servers.mongo_url,
        topic_prefix=f"{namespace}.",
        database_prefix=f"{namespace}_",
        partitions=3,
    )
    issues = [str(uuid.uuid4()) for _ in range(ISSUES)]
    expected = ISSUES * PER_ISSUE
    async with loopback_servers() as (http, mailbox, smtp_port):
        http.contacts = {
            issue: {"phone": REPORTER_PHONE, "receipt_code": RECEIPT_CODE} for issue in issues
        }
        http.delay = 0.05  # a slow gateway and receiver: the kill lands mid-delivery
        env = {
            **servers.env(),
            "HUIYIN_TOPIC_PREFIX": settings.topic_prefix,
            "HUIYIN_DATABASE_PREFIX": settings.database_prefix,
            "HUIYIN_PARTITIONS": "3",
            "HUIYIN_NOTIFY_CONFIG": str(write_config(tmp_path / "notify.yaml", http)),
            "HUIYIN_NOTIFY_SMTP_HOST": "127.0.0.1",
            "HUIYIN_NOTIFY_SMTP_PORT": str(smtp_port),
            "HUIYIN_NOTIFY_WEBHOOK_SECRET": WEBHOOK_KEY,
            "HUIYIN_NOTIFY_INTAKE_URL": http.url,
            "HUIYIN_NOTIFY_INTAKE_TOKEN": INTAKE_TOKEN,
            "HUIYIN_NOTIFY_TICK_SECONDS": "0.05",
        }
        notify = ServiceProcess("notify", free_port(), env, tmp_path / "notify.log")
        try:
            notify.start()
            await asyncio.to_thread(notify.wait_healthy)
            await publish(settings, issues)
            await eventually(lambda: len(http.at("/sms")) >= 10, "some messages sent", 60)
            notify.kill(signal.SIGKILL)
            arrived_before = len(http.at("/sms")) + len(http.at("/hook")) + len(mailbox.messages)
            assert arrived_before < expected, "the kill came too late to land mid-delivery"

            notify.start()
            await asyncio.to_thread(notify.wait_healthy)
            await eventually(lambda: sent_count(notify) == expected, "every record sent", 180)
            await asyncio.sleep(1.0)  # time for a double to show, if there were one
        finally:
            notify.stop()

    ids = (
        [r.json()["out_id"] for r in http.at("/sms")]
        + [r.headers["Idempotency-Key"] for r in http.at("/hook")]
        + [m["Message-ID"].strip("<>").split("@")[0] for m in mailbox.messages]
    )
    copies = Counter(ids)
    assert len(copies) == expected, "every message arrived"
    repeated = sum(n - 1 for n in copies.values())
    assert repeated <= CONCURRENCY, f"{repeated} copies: more than the tries in flight"
    assert max(copies.values()) <= 2
