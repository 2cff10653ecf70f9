"""The Kafka side of a service: broker factory, topics, and the event publisher."""

import asyncio
import contextlib
import logging
from collections.abc import Iterable

from aiokafka.admin import AIOKafkaAdminClient, NewTopic
from aiokafka.admin.config_resource import ConfigResource, ConfigResourceType
from aiokafka.errors import TopicAlreadyExistsError
from aiokafka.structs import RecordMetadata
from faststream.kafka import KafkaBroker

from services.contracts.events import Envelope, encode
from services.contracts.topics import KEPT_FOREVER, SERVICES
from services.runtime.logging import get_logger
from services.runtime.metrics import ServiceMetrics
from services.runtime.settings import PlatformSettings

log = get_logger(__name__)


def make_broker(settings: PlatformSettings, service: str) -> KafkaBroker:
    """An idempotent producer (acks=all) and FastStream's consumers, logging through ours."""
    return KafkaBroker(
        settings.kafka_bootstrap,
        security=settings.kafka.broker_security(),
        client_id=f"huiyin-{service}",
        enable_idempotence=True,
        acks="all",
        linger_ms=5,
        allow_auto_create_topics=False,
        # FastStream logs every message at `log_level`; keep those at DEBUG, below the
        # WARNING our logging configuration lets through, and keep its warnings and errors.
        logger=logging.getLogger("faststream"),
        log_level=logging.DEBUG,
    )


def topic_config(settings: PlatformSettings) -> dict[str, str]:
    """Every topic the services create: kept forever, and as many copies as a write needs."""
    return {**KEPT_FOREVER, "min.insync.replicas": str(settings.min_insync_replicas)}


async def ensure_topics(settings: PlatformSettings, service: str | None = None) -> None:
    """Create the facts and dead-letter topics and the retry topics (the platform's services',
    and `service`'s) if absent, kept
    forever; correct an existing one whose retention is finite. Idempotent, safe to race.

    A topic created elsewhere with the broker's default retention (a week on many brokers)
    would silently cut the beginning off the log; it is altered here, with a log line.
    """
    services = sorted({*SERVICES, *([service] if service else [])})
    names = [settings.issues_topic, settings.dead_letter_topic]
    names += [settings.retry_topic(name) for name in services]
    config = topic_config(settings)
    admin = AIOKafkaAdminClient(**settings.kafka.client_options())
    await admin.start()
    try:
        existing = set(await admin.list_topics())
        wanted = [
            NewTopic(
                name,
                num_partitions=settings.partitions,
                replication_factor=settings.replication_factor,
                topic_configs=config,
            )
            for name in names
            if name not in existing
        ]
        if wanted:
            with contextlib.suppress(TopicAlreadyExistsError):  # another service won the race
                await admin.create_topics(wanted)
        # every one, also a topic that a race or a slow metadata update hid from `existing`
        for name, found in (await topic_configs(admin, names)).items():
            finite = {k: found.get(k) for k in KEPT_FOREVER if found.get(k) != KEPT_FOREVER[k]}
            if finite:
                # AlterConfigs replaces the topic's overrides: give the whole set
                keep = {k: v for k, v in found.items() if k not in KEPT_FOREVER}
                await admin.alter_configs(
                    [ConfigResource(ConfigResourceType.TOPIC, name, {**keep, **KEPT_FOREVER})]
                )
                log.warning("topic.retention_corrected", topic=name, was=finite, now=KEPT_FOREVER)
    finally:
        await admin.close()


async def topic_configs(
    admin: AIOKafkaAdminClient, names: Iterable[str]
) -> dict[str, dict[str, str]]:
    """The topic-level overrides (not the broker's defaults) of each topic, by name."""
    names = list(names)
    if not names:
        return {}
    answers = await admin.describe_configs(
        [ConfigResource(ConfigResourceType.TOPIC, name) for name in names]
    )
    found: dict[str, dict[str, str]] = {}
    for answer in answers:
        for code, _message, _type, name, entries in answer.resources:
            if code:  # e.g. not known to this broker yet
                continue
            # an entry: (name, value, read_only, source, sensitive, synonyms); source 1 = topic
            found[name] = {e[0]: e[1] for e in entries if e[3] == _TOPIC_CONFIG_SOURCE}
    return found


_TOPIC_CONFIG_SOURCE = 1
"""DescribeConfigs' source of a value set on the topic itself (DYNAMIC_TOPIC_CONFIG)."""


class EventPublisher:
    """Publishes events keyed by issue_id; returns once Kafka acknowledged every one."""

    def __init__(self, broker: KafkaBroker, settings: PlatformSettings, metrics: ServiceMetrics):
        self._broker = broker
        self._topic = settings.issues_topic
        self._metrics = metrics

    async def publish(self, *events: Envelope) -> list[RecordMetadata]:
        return await self.publish_all(events)

    async def publish_all(self, events: Iterable[Envelope]) -> list[RecordMetadata]:
        """Where each event landed (partition, offset), in the order given."""
        events = list(events)
        pending = [
            await self._broker.publish(
                encode(event),
                self._topic,
                key=event.issue_id.encode(),
                headers={"type": getattr(event, "type", ""), "content-type": "application/json"},
                no_confirm=True,
            )
            for event in events
        ]
        landed: list[RecordMetadata] = list(await asyncio.gather(*pending))
        for event in events:
            self._metrics.published.labels(getattr(event, "type", "")).inc()
        return landed
