"""The Kafka side of a service: broker factory, topics, and the event publisher."""

import asyncio
import contextlib
import logging
from collections.abc import Iterable

from aiokafka.admin import AIOKafkaAdminClient, NewTopic
from aiokafka.errors import TopicAlreadyExistsError
from aiokafka.structs import RecordMetadata
from faststream.kafka import KafkaBroker

from services.contracts.events import Envelope, encode
from services.runtime.metrics import ServiceMetrics
from services.runtime.settings import PlatformSettings


def make_broker(settings: PlatformSettings, service: str) -> KafkaBroker:
    """An idempotent producer (acks=all) and FastStream's consumers, logging through ours."""
    return KafkaBroker(
        settings.kafka_bootstrap,
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


async def ensure_topics(settings: PlatformSettings) -> None:
    """Create the facts and dead-letter topics if absent (idempotent, safe to race)."""
    admin = AIOKafkaAdminClient(bootstrap_servers=settings.kafka_bootstrap)
    await admin.start()
    try:
        existing = set(await admin.list_topics())
        wanted = [
            NewTopic(name, num_partitions=settings.partitions, replication_factor=1)
            for name in (settings.issues_topic, settings.dead_letter_topic)
            if name not in existing
        ]
        if wanted:
            with contextlib.suppress(TopicAlreadyExistsError):  # another service won the race
                await admin.create_topics(wanted)
    finally:
        await admin.close()


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
