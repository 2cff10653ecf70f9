"""The log keeps everything, events of unknown versions are dead-lettered, a service reads
its own retry topic, and a projection knows the version of its derivation (real servers)."""

import asyncio
from typing import Any

from aiokafka import AIOKafkaProducer
from aiokafka.admin import AIOKafkaAdminClient, NewTopic
from pymongo import AsyncMongoClient

from services.contracts.dead_letter import ORIGIN_OFFSET, ORIGIN_PARTITION, DeadLetter
from services.contracts.events import Event, encode
from services.runtime.broker import ensure_topics, topic_configs
from services.runtime.consumer import Delivery
from services.runtime.projection import projection_status, record_projection
from services.runtime.settings import PlatformSettings
from services.runtime.topic_reader import read_topic
from tests.integration.test_runtime import Recorder, report, start_consumer, wait_for


async def configs(settings: PlatformSettings, names: list[str]) -> dict[str, dict[str, str]]:
    admin = AIOKafkaAdminClient(bootstrap_servers=settings.kafka_bootstrap)
    await admin.start()
    try:
        return await topic_configs(admin, names)
    finally:
        await admin.close()


async def test_the_log_the_dead_letters_and_the_retry_topics_are_kept_forever(
    settings: PlatformSettings,
) -> None:
    await ensure_topics(settings, "probe")
    names = [
        settings.issues_topic,
        settings.dead_letter_topic,
        settings.retry_topic("probe"),
        settings.retry_topic("reporting"),
    ]
    found = await configs(settings, names)
    for name in names:
        assert found[name]["retention.ms"] == "-1", name
        assert found[name]["retention.bytes"] == "-1", name


async def test_a_topic_created_with_a_finite_retention_is_corrected_at_start(
    settings: PlatformSettings,
) -> None:
    admin = AIOKafkaAdminClient(bootstrap_servers=settings.kafka_bootstrap)
    await admin.start()
    try:  # as a broker with a week's default retention would have created it
        week = {"retention.ms": "604800000", "retention.bytes": "1073741824"}
        await admin.create_topics([NewTopic(settings.issues_topic, 3, 1, topic_configs=week)])
    finally:
        await admin.close()
    async with asyncio.timeout(15):  # the broker knows the topic (it exists before the start)
        while True:
            if settings.issues_topic in await configs(settings, [settings.issues_topic]):
                break
            await asyncio.sleep(0.2)
    await ensure_topics(settings)
    async with asyncio.timeout(15):  # the broker applies an altered config shortly after
        while True:
            found = (await configs(settings, [settings.issues_topic])).get(
                settings.issues_topic, {}
            )
            if (found.get("retention.ms"), found.get("retention.bytes")) == ("-1", "-1"):
                break
            await asyncio.sleep(0.2)


async def test_an_event_of_an_unknown_version_is_dead_lettered(settings: PlatformSettings) -> None:
    recorder = Recorder()
    broker = await start_consumer(settings, recorder)
    try:
        for version in (b"99", str(10**30).encode()):
            raw = encode(report("future")).replace(
                b'"schema_version":1', b'"schema_version":' + version
            )
            await broker.publish(raw, settings.issues_topic, key=b"k")
        await broker.publish(encode(report("present")), settings.issues_topic, key=b"k")
        await wait_for(recorder, "present")
        letters = await read_topic(settings.kafka_bootstrap, settings.dead_letter_topic, until=2)
    finally:
        await broker.stop()
    assert [e.issue_id for e in recorder.seen] == ["present"]
    reasons = [DeadLetter.model_validate_json(r.value).reason for r in letters]
    assert reasons == ["unsupported_version", "unsupported_version"]


class Positions(Recorder):
    """Records where the consumer says each event sits in the log."""

    def __init__(self) -> None:
        super().__init__()
        self.positions: list[tuple[str, int, int]] = []

    async def handle(self, event: Event, delivery: Delivery) -> None:
        self.positions.append((event.issue_id, delivery.partition, delivery.offset))
        await super().handle(event, delivery)


async def test_a_service_reads_its_retry_topic_at_the_events_original_position(
    settings: PlatformSettings,
) -> None:
    recorder = Positions()
    broker = await start_consumer(settings, recorder)
    producer = AIOKafkaProducer(bootstrap_servers=settings.kafka_bootstrap)
    await producer.start()
    try:
        headers = [(ORIGIN_PARTITION, b"2"), (ORIGIN_OFFSET, b"41")]
        await producer.send_and_wait(
            settings.retry_topic("probe"), encode(report("again")), key=b"k", partition=2,
            headers=headers,
        )  # fmt: skip
        await wait_for(recorder, "again")
    finally:
        await producer.stop()
        await broker.stop()
    assert recorder.positions == [("again", 2, 41)]


async def test_a_projection_knows_whether_its_derivation_changed(
    mongo: AsyncMongoClient[Any], namespace: str
) -> None:
    db = mongo[f"{namespace}_projection"]
    fresh = await projection_status(db, "issues", 1)
    assert (fresh.recorded, fresh.changed) == (None, True)
    await record_projection(db, "issues", 1)
    assert (await projection_status(db, "issues", 1)).changed is False
    bumped = await projection_status(db, "issues", 2)
    assert (bumped.recorded, bumped.declared, bumped.changed) == (1, 2, True)
    await record_projection(db, "issues", 2)
    assert (await projection_status(db, "issues", 2)).changed is False
