"""Issues per second through the walking skeleton, next to raw Kafka on the same broker.

1. The four services run as processes. N reports are POSTed to intake by C concurrent
   clients, as an operator (a principal the bench adds with the admin token, as `make run`
   does: intake takes reports from principals only); the clock stops when reporting counts
   all N as assigned (intake → routing → supervision → reporting, every effect stored in the
   MongoDB-wire server).
2. The same number of records the skeleton put on its topic, of the same mean size, are
   produced with aiokafka to a fresh topic and consumed back by one consumer.

Prints both and their ratio. `make bench`; N and C from BENCH_ISSUES / BENCH_CLIENTS.
"""

import asyncio
import json
import os
import statistics
import time
import uuid
from contextlib import ExitStack
from pathlib import Path

import httpx
from aiokafka import AIOKafkaConsumer, AIOKafkaProducer
from aiokafka.admin import AIOKafkaAdminClient, NewTopic

from devkit.infra import REPO, endpoints
from devkit.processes import Platform
from services.runtime.topic_reader import read_topic

ISSUES = int(os.environ.get("BENCH_ISSUES", "1000"))
CLIENTS = int(os.environ.get("BENCH_CLIENTS", "16"))
PARTITIONS = 12


async def drive_skeleton(platform: Platform) -> tuple[float, float, list[float]]:
    """Seconds to POST all reports, seconds until all are counted, per-request latencies."""
    intake, reporting = platform["intake"].url, platform["reporting"].url
    operator = {"Authorization": f"Bearer {platform.token('operator')}"}
    queue: asyncio.Queue[int] = asyncio.Queue()
    for n in range(ISSUES):
        queue.put_nowait(n)
    latencies: list[float] = []

    async def client(http: httpx.AsyncClient) -> None:
        while not queue.empty():
            n = queue.get_nowait()
            started = time.perf_counter()
            body = {"channel": "hotline", "kind": "complaint", "text": f"第{n}号路灯不亮"}
            response = await http.post(f"{intake}/issues", json=body, headers=operator)
            response.raise_for_status()
            latencies.append(time.perf_counter() - started)

    async with httpx.AsyncClient(timeout=30) as http:
        started = time.perf_counter()
        await asyncio.gather(*(client(http) for _ in range(CLIENTS)))
        posted = time.perf_counter() - started
        while True:
            if (await http.get(f"{reporting}/counts")).json()["assigned"] >= ISSUES:
                break
            await asyncio.sleep(0.1)
        flowed = time.perf_counter() - started
    return posted, flowed, latencies


async def raw_kafka(bootstrap: str, records: int, size: int) -> float:
    """Seconds to produce `records` values of `size` bytes and consume them all back."""
    topic = f"bench-raw-{uuid.uuid4().hex[:8]}"
    admin = AIOKafkaAdminClient(bootstrap_servers=bootstrap)
    await admin.start()
    await admin.create_topics([NewTopic(topic, num_partitions=PARTITIONS, replication_factor=1)])
    await admin.close()
    value = b"x" * size
    producer = AIOKafkaProducer(bootstrap_servers=bootstrap, acks="all", enable_idempotence=True)
    consumer = AIOKafkaConsumer(
        topic,
        bootstrap_servers=bootstrap,
        group_id=topic,
        auto_offset_reset="earliest",
        enable_auto_commit=False,
    )
    await producer.start()
    await consumer.start()
    try:
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


def main() -> None:
    namespace = f"b{uuid.uuid4().hex[:8]}"
    with ExitStack() as stack:
        servers = endpoints(stack)
        platform = Platform(servers, namespace, REPO / ".local/bench-logs").start()
        stack.callback(platform.stop)
        posted, flowed, latencies = asyncio.run(drive_skeleton(platform))
        topic = f"{namespace}.huiyin.issues.v1"
        log = asyncio.run(read_topic(servers.kafka_bootstrap, topic))
        events, mean_size = len(log), round(statistics.fmean(len(r.value) for r in log))
        raw = asyncio.run(raw_kafka(servers.kafka_bootstrap, events, mean_size))

    skeleton_eps, raw_eps = events / flowed, events / raw
    latencies.sort()
    result = {
        "issues": ISSUES,
        "clients": CLIENTS,
        "events_on_log": events,
        "mean_event_bytes": mean_size,
        "skeleton_seconds": round(flowed, 2),
        "skeleton_issues_per_s": round(ISSUES / flowed, 1),
        "skeleton_events_per_s": round(skeleton_eps, 1),
        "intake_posts_per_s": round(ISSUES / posted, 1),
        "intake_post_p50_ms": round(latencies[len(latencies) // 2] * 1000, 1),
        "intake_post_p99_ms": round(latencies[int(len(latencies) * 0.99)] * 1000, 1),
        "raw_kafka_seconds": round(raw, 2),
        "raw_kafka_events_per_s": round(raw_eps, 1),
        "raw_over_skeleton": round(raw_eps / skeleton_eps, 1),
    }
    print(json.dumps(result, indent=2))
    out = Path(REPO / "bench/results")
    out.mkdir(exist_ok=True)
    (out / f"skeleton-{time.strftime('%Y%m%dT%H%M%S')}.json").write_text(json.dumps(result))


if __name__ == "__main__":
    main()
