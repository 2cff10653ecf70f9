"""Helpers for reporting's tests on the real broker and database (no tests here): the
service behind a real uvicorn server in this process, the log, and waiting for the
service's consumer group to have committed everything on the topic."""

import asyncio
import time
from collections.abc import AsyncIterator, Iterable
from contextlib import asynccontextmanager
from typing import Any
from zoneinfo import ZoneInfo

import httpx
import uvicorn
from aiokafka import AIOKafkaConsumer, AIOKafkaProducer, TopicPartition
from aiokafka.admin import AIOKafkaAdminClient

from services.contracts.events import Envelope, encode
from services.reporting.adapters.store import ReportingStore
from services.reporting.app import build_app
from services.reporting.domain import cells
from services.reporting.domain.facts import FactRules
from services.reporting.settings import ReportingSettings
from services.runtime.broker import ensure_topics
from services.runtime.mongo import Document, make_mongo_client
from services.runtime.settings import PlatformSettings

ADMIN_TOKEN = "reporting-admin-secret"
RULES = FactRules(ZoneInfo("Asia/Shanghai"))


@asynccontextmanager
async def serving(platform: PlatformSettings, **options: Any) -> AsyncIterator[httpx.AsyncClient]:
    """Reporting on a real HTTP server (uvicorn, an ephemeral port), lifespan and all."""
    settings = ReportingSettings(platform=platform, port=0, admin_token=ADMIN_TOKEN, **options)
    config = uvicorn.Config(build_app(settings), host="127.0.0.1", port=0, log_level="warning")
    server = uvicorn.Server(config)
    task = asyncio.create_task(server.serve())
    try:
        while not server.started:
            if task.done():
                task.result()
            await asyncio.sleep(0.05)
        port = server.servers[0].sockets[0].getsockname()[1]
        async with httpx.AsyncClient(base_url=f"http://127.0.0.1:{port}", timeout=30) as client:
            yield client
    finally:
        server.should_exit = True
        await task


async def publish(platform: PlatformSettings, events: Iterable[Envelope]) -> None:
    await ensure_topics(platform)
    producer = AIOKafkaProducer(bootstrap_servers=platform.kafka_bootstrap, acks="all")
    await producer.start()
    try:
        for event in events:
            key = event.issue_id.encode()
            await producer.send_and_wait(platform.issues_topic, encode(event), key=key)
    finally:
        await producer.stop()


async def caught_up(platform: PlatformSettings, timeout: float = 60) -> None:
    """Wait until reporting's group has committed every record now on the topic (it
    commits a batch only after every effect is stored)."""
    group = f"{platform.topic_prefix}huiyin-reporting"
    tps = [TopicPartition(platform.issues_topic, p) for p in range(platform.partitions)]
    consumer = AIOKafkaConsumer(bootstrap_servers=platform.kafka_bootstrap)
    admin = AIOKafkaAdminClient(bootstrap_servers=platform.kafka_bootstrap)
    await consumer.start()
    await admin.start()
    try:
        end = await consumer.end_offsets(tps)
        deadline = time.monotonic() + timeout
        while True:
            committed = await admin.list_consumer_group_offsets(group, partitions=tps)
            done = {tp: meta.offset for tp, meta in committed.items() if meta is not None}
            if all(done.get(tp, 0) >= end[tp] for tp in tps if end[tp] > 0):
                return
            if time.monotonic() > deadline:
                raise AssertionError(f"reporting did not catch up: {done} < {end}")
            await asyncio.sleep(0.1)
    finally:
        await consumer.stop()
        await admin.close()


async def projection(platform: PlatformSettings) -> dict[str, Document]:
    """Every fact document of the live generation, with its set of absorbed event ids as a
    sorted list, without the writers' bookkeeping (`rev`, `claim`, `last`: how many writes,
    whose last, the last transfer's marker and stamp, which a rebuild starts afresh)."""
    client = make_mongo_client(platform)
    try:
        store = ReportingStore(client[platform.database("reporting")], RULES)
        docs = await store.documents()
    finally:
        await client.close()
    for doc in docs.values():
        doc["_applied"] = sorted(doc["_applied"])  # a set: the order of arrival differs
        doc.pop("rev", None)
        doc.pop("claim", None)
        doc.pop("last", None)
    return docs


async def count_cells(platform: PlatformSettings) -> dict[str, dict[str, int]]:
    """Every count cell of the live generation, without zero counters."""
    client = make_mongo_client(platform)
    try:
        store = ReportingStore(client[platform.database("reporting")], RULES)
        return cells.nonzero(await store.all_cells())
    finally:
        await client.close()


async def rebuilt(client: httpx.AsyncClient, timeout: float = 120) -> dict[str, Any]:
    """Wait for the rebuild started over HTTP to finish; its final status."""
    auth = {"Authorization": f"Bearer {ADMIN_TOKEN}"}
    deadline = time.monotonic() + timeout
    while True:
        status: dict[str, Any] = (await client.get("/admin/rebuild", headers=auth)).json()
        if status["state"] in ("done", "failed"):
            return status
        if time.monotonic() > deadline:
            raise AssertionError(f"the rebuild did not finish: {status}")
        await asyncio.sleep(0.1)
