"""The issues topic as a rebuild reads it: bulk reads by partition between offsets, with its
own consumer (no group, nothing committed)."""

from collections.abc import AsyncIterator, Callable

from aiokafka import AIOKafkaConsumer, TopicPartition

from services.runtime.kafka_access import KafkaAccess, as_access
from services.runtime.topic_reader import topic_partitions

MAX_RECORDS = 10_000


class KafkaLog:
    def __init__(self, kafka: str | KafkaAccess, topic: str) -> None:
        self.kafka = as_access(kafka)
        self.topic = topic

    async def end_offsets(self) -> dict[int, int]:
        """Each partition's high watermark now."""
        consumer = AIOKafkaConsumer(**self.kafka.client_options(), enable_auto_commit=False)
        await consumer.start()
        try:
            parts = await topic_partitions(self.kafka, self.topic)
            tps = [TopicPartition(self.topic, p) for p in parts]
            ends = await consumer.end_offsets(tps) if tps else {}
        finally:
            await consumer.stop()
        return {tp.partition: offset for tp, offset in ends.items()}

    async def batches(
        self,
        start: dict[int, int],
        end: dict[int, int],
        keep: Callable[[bytes | None], bool] | None = None,
    ) -> AsyncIterator[list[bytes | None]]:
        """The records' values from `start` (absent: the beginning) up to `end`, in batches
        (each partition in order); only those whose key `keep` accepts, when given."""
        tps = {TopicPartition(self.topic, p): o for p, o in end.items()}
        pending = {tp for tp, o in tps.items() if o > start.get(tp.partition, 0)}
        if not pending:
            return
        consumer = AIOKafkaConsumer(
            **self.kafka.client_options(),
            enable_auto_commit=False,
            group_id=None,
            auto_offset_reset="earliest",
            max_poll_records=MAX_RECORDS,
            fetch_max_bytes=64 * 1024 * 1024,
            max_partition_fetch_bytes=16 * 1024 * 1024,
        )
        await consumer.start()
        try:
            consumer.assign(list(pending))
            for tp in pending:
                if tp.partition in start:
                    consumer.seek(tp, start[tp.partition])
                else:
                    await consumer.seek_to_beginning(tp)
            while pending:
                got = await consumer.getmany(*pending, timeout_ms=500, max_records=MAX_RECORDS)
                found = [
                    record.value
                    for tp, records in got.items()
                    for record in records
                    if record.offset < tps[tp] and (keep is None or keep(record.key))
                ]
                for tp in list(pending):
                    if await consumer.position(tp) >= tps[tp]:
                        pending.discard(tp)
                if found:
                    yield found
        finally:
            await consumer.stop()
