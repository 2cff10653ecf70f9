"""Reading a topic whole, as an operator or a test would: from the start, without a group."""

import time

from aiokafka import AIOKafkaConsumer, ConsumerRecord, TopicPartition
from aiokafka.admin import AIOKafkaAdminClient


async def read_topic(
    bootstrap: str, topic: str, *, until: int | None = None, timeout: float = 10.0
) -> list[ConsumerRecord[bytes, bytes]]:
    """Every record now in `topic` (or, with `until`, wait up to `timeout` for that many)."""
    deadline = time.monotonic() + timeout
    partitions = await _partitions(bootstrap, topic)
    if not partitions:
        return []
    tps = [TopicPartition(topic, p) for p in partitions]
    consumer = AIOKafkaConsumer(bootstrap_servers=bootstrap, enable_auto_commit=False)
    await consumer.start()
    try:
        consumer.assign(tps)
        await consumer.seek_to_beginning(*tps)
        records: list[ConsumerRecord[bytes, bytes]] = []
        while time.monotonic() < deadline:
            end = await consumer.end_offsets(tps)
            batch = await consumer.getmany(*tps, timeout_ms=200)
            for part in batch.values():
                records.extend(part)
            caught_up = all([await consumer.position(tp) >= end[tp] for tp in tps])
            if until is None and caught_up:
                break
            if until is not None and len(records) >= until:
                break
        return records
    finally:
        await consumer.stop()


async def _partitions(bootstrap: str, topic: str) -> list[int]:
    admin = AIOKafkaAdminClient(bootstrap_servers=bootstrap)
    await admin.start()
    try:
        described = await admin.describe_topics([topic])
    finally:
        await admin.close()
    return sorted(
        p["partition"] for d in described if d.get("error_code", 0) == 0 for p in d["partitions"]
    )
