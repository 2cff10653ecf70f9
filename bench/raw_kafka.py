"""Raw Kafka on the platform's broker: as many records as the platform put on its log, of the
same mean size, produced by one idempotent producer (acks=all, as the services produce) to a
fresh topic with the log's partition count, and consumed back by one consumer."""

import asyncio
import contextlib
import time
import uuid

from aiokafka import AIOKafkaConsumer, AIOKafkaProducer, TopicPartition
from aiokafka.admin import AIOKafkaAdminClient, NewTopic

from services.contracts.topics import DEFAULT_PARTITIONS


async def raw_kafka(bootstrap: str, records: int, size: int) -> float:
    """Seconds to produce `records` values of `size` bytes and consume them all back."""
    topic = f"bench-raw-{uuid.uuid4().hex[:8]}"
    admin = AIOKafkaAdminClient(bootstrap_servers=bootstrap)
    await admin.start()
    try:
        await admin.create_topics(
            [NewTopic(topic, num_partitions=DEFAULT_PARTITIONS, replication_factor=1)]
        )
        await leaders_elected(admin, topic)
        return await produce_and_consume(bootstrap, topic, records, size)
    finally:
        with contextlib.suppress(Exception):
            await admin.delete_topics([topic])
        await admin.close()


async def leaders_elected(admin: AIOKafkaAdminClient, topic: str) -> None:
    """Wait (up to 30 s) until every partition of the new topic has a leader, so the timing
    holds no retries of a producer that came too early."""
    for _ in range(300):
        described = await admin.describe_topics([topic])
        partitions = [p for d in described for p in d.get("partitions", [])]
        if len(partitions) == DEFAULT_PARTITIONS and all(p["leader"] >= 0 for p in partitions):
            return
        await asyncio.sleep(0.1)


async def produce_and_consume(bootstrap: str, topic: str, records: int, size: int) -> float:
    value = b"x" * size
    producer = AIOKafkaProducer(bootstrap_servers=bootstrap, acks="all", enable_idempotence=True)
    consumer = AIOKafkaConsumer(
        bootstrap_servers=bootstrap,
        group_id=topic,
        auto_offset_reset="earliest",
        enable_auto_commit=False,
    )
    await producer.start()
    await consumer.start()
    try:
        # partitions assigned, not subscribed: no group rebalance inside the timing
        tps = [TopicPartition(topic, p) for p in range(DEFAULT_PARTITIONS)]
        consumer.assign(tps)
        # one record to each partition first, outside the timing: a new topic's leaders
        # answer NotLeader for a moment after they are named, and the producer retries
        for tp in tps:
            await (await producer.send(topic, b"", partition=tp.partition))
        await consumer.seek_to_end(*tps)
        for tp in tps:
            await consumer.position(tp)
        started = time.perf_counter()
        sends = [await producer.send(topic, value, key=str(n).encode()) for n in range(records)]
        await asyncio.gather(*sends)
        received = 0
        while received < records:
            batch = await consumer.getmany(timeout_ms=500, max_records=1000)
            received += sum(len(part) for part in batch.values())
            await consumer.commit()
        return time.perf_counter() - started
    finally:
        await producer.stop()
        await consumer.stop()
