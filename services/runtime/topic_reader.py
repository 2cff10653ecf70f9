"""Reading a topic from its beginning, as a rebuild, an operator or a test does: its own
consumer, no group, nothing committed."""

import asyncio
import time
from collections.abc import AsyncIterator
from types import TracebackType
from typing import TypeAlias

from aiokafka import AIOKafkaConsumer, ConsumerRecord, TopicPartition
from aiokafka.admin import AIOKafkaAdminClient

from services.runtime.kafka_access import KafkaAccess, as_access

Record: TypeAlias = ConsumerRecord[bytes, bytes]


async def topic_partitions(kafka: str | KafkaAccess, topic: str) -> list[int]:
    """The topic's partitions, as the broker describes them (none when it does not exist)."""
    admin = AIOKafkaAdminClient(**as_access(kafka).client_options())
    await admin.start()
    try:
        described = await admin.describe_topics([topic])
    finally:
        await admin.close()
    return sorted(
        p["partition"] for d in described if d.get("error_code", 0) == 0 for p in d["partitions"]
    )


class TopicSnapshot:
    """The records of `topic` from its beginning up to the high watermarks seen on entry.

    `async with TopicSnapshot(kafka, topic) as snapshot:` then `snapshot.total` (records
    to read) and `snapshot.end_offsets`, and `async for batch in snapshot.batches():`.
    """

    def __init__(self, kafka: str | KafkaAccess, topic: str, max_records: int = 1000) -> None:
        self.kafka = as_access(kafka)
        self.topic = topic
        self._consumer = AIOKafkaConsumer(
            **self.kafka.client_options(),
            enable_auto_commit=False,
            group_id=None,
            auto_offset_reset="earliest",
            max_poll_records=max_records,
        )
        self._begin: dict[TopicPartition, int] = {}
        self._end: dict[TopicPartition, int] = {}

    async def __aenter__(self) -> "TopicSnapshot":
        await self._consumer.start()
        try:
            parts = await topic_partitions(self.kafka, self.topic)
            tps = [TopicPartition(self.topic, p) for p in parts]
            if tps:
                # seek before anything awaits: a position reset already under way would
                # otherwise land after the seek
                self._consumer.assign(tps)
                await self._consumer.seek_to_beginning(*tps)
                self._begin = await self._consumer.beginning_offsets(tps)
                self._end = await self._consumer.end_offsets(tps)
        except BaseException:
            await self._consumer.stop()
            raise
        return self

    async def __aexit__(
        self,
        kind: type[BaseException] | None,
        error: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self._consumer.stop()

    @property
    def end_offsets(self) -> dict[int, int]:
        return {tp.partition: offset for tp, offset in self._end.items()}

    @property
    def total(self) -> int:
        return sum(self._end[tp] - self._begin[tp] for tp in self._end)

    async def batches(self) -> AsyncIterator[list[Record]]:
        """Batches of records (each partition in order) until every partition is read."""
        pending = {tp for tp, end in self._end.items() if end > self._begin[tp]}
        while pending:
            batch = await self._consumer.getmany(*pending, timeout_ms=500)
            found = [
                record
                for tp, records in batch.items()
                for record in records
                if record.offset < self._end[tp]
            ]
            for tp in list(pending):
                if await self._consumer.position(tp) >= self._end[tp]:
                    pending.discard(tp)
            if found:
                yield found


async def read_topic(
    kafka: str | KafkaAccess, topic: str, *, until: int | None = None, timeout: float = 10.0
) -> list[Record]:
    """Every record now in `topic`; with `until`, wait up to `timeout` s for that many."""
    if until is None:
        async with TopicSnapshot(kafka, topic) as snapshot:
            return [record async for batch in snapshot.batches() for record in batch]
    deadline = time.monotonic() + timeout
    records: list[Record] = []
    while time.monotonic() < deadline:
        records = await read_topic(kafka, topic)
        if len(records) >= until:
            break
        await asyncio.sleep(0.1)
    return records
