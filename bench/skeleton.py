"""The platform's whole story in one run (`make bench`), next to raw Kafka and the engine.

1. Throughput: the five services run as processes; BENCH_ISSUES reports are POSTed to intake
   by BENCH_CLIENTS concurrent clients, as an operator (a principal the bench adds with the
   admin token, as `make run` does); the clock stops when reporting counts all of them as
   assigned (intake → routing → supervision → reporting, every effect stored). Meanwhile the
   CPU time of every process (the services, the database engine, the broker) is sampled, so
   the cost per issue in the first and in the last 10 % of the run can be compared (it must
   not grow with what is stored).
2. Steady load: BENCH_RATE reports a second (default 100) for BENCH_SECONDS (default 60), sent
   on schedule whatever the answers take (an open loop): `POST /issues` p50/p99, and report →
   assigned p50/p99 (from the POST being sent to routing's `IssueAssigned` read back from the
   log).
3. Raw Kafka: as many records as the platform put on its log, of the same mean size, produced
   with aiokafka to a fresh topic and consumed back by one consumer; the ratio.
4. The engine's own ceilings at the run's size (as many documents as events on the log): find
   by `_id`, find by an indexed field, bulk upsert of existing documents.
5. CPU seconds per process over the whole run, and resident memory per service at the end.
   The engine and the broker may be shared with other users of the machine: their CPU is
   theirs too.

Prints one table, then the figures as JSON (also kept in bench/results/). With
BENCH_EXPLAIN=1 the services note their query shapes (`runtime.query_log`) and the bench
lists the ones the engine answers by reading a whole collection.
"""

import asyncio
import json
import os
import random
import statistics
import subprocess
import time
import uuid
from collections.abc import Callable, Iterable
from contextlib import ExitStack
from pathlib import Path
from typing import Any
from urllib.parse import urlparse

import httpx
from aiokafka import AIOKafkaConsumer, AIOKafkaProducer, TopicPartition
from aiokafka.admin import AIOKafkaAdminClient, NewTopic
from pymongo import AsyncMongoClient, UpdateOne

from devkit.infra import REPO, Endpoints, endpoints
from devkit.processes import Platform
from services.contracts.topics import DEFAULT_PARTITIONS
from services.runtime.query_log import explain_logged, read_log
from services.runtime.topic_reader import read_topic

ISSUES = int(os.environ.get("BENCH_ISSUES", "1000"))
CLIENTS = int(os.environ.get("BENCH_CLIENTS", "16"))
RATE = float(os.environ.get("BENCH_RATE", "100"))
SECONDS = float(os.environ.get("BENCH_SECONDS", "60"))
EXPLAIN = os.environ.get("BENCH_EXPLAIN", "") not in ("", "0")
PARTITIONS = 12
TICK = os.sysconf("SC_CLK_TCK")


def cpu_seconds(pid: int) -> float:
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except (OSError, IndexError):
        return 0.0
    return (int(fields[11]) + int(fields[12])) / TICK  # utime, stime


def rss_mb(pid: int) -> float:
    try:
        status = Path(f"/proc/{pid}/status").read_text()
    except OSError:
        return 0.0
    kb = next((line.split()[1] for line in status.splitlines() if line.startswith("VmRSS")), 0)
    return round(int(kb) / 1024, 1)


def listening(port: int) -> int | None:
    """The process listening on `port` (the engine, the broker), if this user may see it."""
    try:
        out = subprocess.run(
            ["ss", "-ltnpH", f"sport = :{port}"], capture_output=True, text=True, check=False
        ).stdout
    except OSError:
        return None
    for part in out.split("pid=")[1:]:
        return int(part.split(",")[0])
    return None


def processes(platform: Platform, servers: Endpoints) -> dict[str, int]:
    found = {
        name: service.process.pid
        for name, service in platform.services.items()
        if service.process is not None
    }
    mongo_port = urlparse(servers.mongo_url).port or 27017
    kafka_port = int(servers.kafka_bootstrap.split(",")[0].rsplit(":", 1)[1])
    for name, port in (("engine", mongo_port), ("kafka", kafka_port)):
        if (pid := listening(port)) is not None:
            found[name] = pid
    return found


def total_cpu(pids: Iterable[int]) -> float:
    return sum(cpu_seconds(pid) for pid in pids)


def pct(values: list[float], p: float) -> float | None:
    if not values:
        return None
    ordered = sorted(values)
    return round(ordered[min(int(len(ordered) * p), len(ordered) - 1)] * 1000, 1)


async def drive_skeleton(platform: Platform, token: str, pids: dict[str, int]) -> dict[str, Any]:
    """Throughput: every report POSTed as fast as CLIENTS allow; cost in the first and last
    10 % of the issues (CPU ms of every process per issue, and wall ms per issue)."""
    intake, reporting = platform["intake"].url, platform["reporting"].url
    operator = {"Authorization": f"Bearer {token}"}
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

    tenth = max(1, round(ISSUES * 0.1))
    marks = {0: 0, tenth: 0, ISSUES - tenth: 0, ISSUES: 0}
    samples: dict[int, tuple[float, float]] = {}
    async with httpx.AsyncClient(timeout=60) as http:
        started = time.perf_counter()
        samples[0] = (started, total_cpu(pids.values()))
        posting = asyncio.gather(*(client(http) for _ in range(CLIENTS)))
        posted = 0.0

        def done(_: Any) -> None:
            nonlocal posted
            posted = time.perf_counter() - started

        posting.add_done_callback(done)
        while True:
            assigned = (await http.get(f"{reporting}/counts")).json()["assigned"]
            for mark in marks:
                if mark not in samples and assigned >= mark:
                    samples[mark] = (time.perf_counter(), total_cpu(pids.values()))
            if assigned >= ISSUES:
                break
            if posting.done() and posting.exception() is not None:
                break  # raised below
            await asyncio.sleep(0.05)
        await posting
        flowed = time.perf_counter() - started

    def cost(first: int, last: int) -> tuple[float, float]:
        (t0, c0), (t1, c1) = samples[first], samples[last]
        issues = max(last - first, 1)
        return round((c1 - c0) / issues * 1000, 1), round((t1 - t0) / issues * 1000, 1)

    (cpu_first, wall_first), (cpu_last, wall_last) = cost(0, tenth), cost(ISSUES - tenth, ISSUES)
    return {
        "posted": posted,
        "flowed": flowed,
        "latencies": latencies,
        "cpu_ms_per_issue_first_10pct": cpu_first,
        "cpu_ms_per_issue_last_10pct": cpu_last,
        "wall_ms_per_issue_first_10pct": wall_first,
        "wall_ms_per_issue_last_10pct": wall_last,
    }


async def steady(platform: Platform, token: str, topic: str, bootstrap: str) -> dict[str, Any]:
    """RATE reports a second for SECONDS, on schedule: POST latency and report → assigned."""
    count = max(1, int(RATE * SECONDS))
    intake = platform["intake"].url
    operator = {"Authorization": f"Bearer {token}"}
    sent: dict[str, float] = {}
    assigned: dict[str, float] = {}
    posts: list[float] = []
    failed = 0
    consumer = AIOKafkaConsumer(bootstrap_servers=bootstrap)
    await consumer.start()
    stop = asyncio.Event()

    async def follow() -> None:
        tps = [TopicPartition(topic, p) for p in range(DEFAULT_PARTITIONS)]
        consumer.assign(tps)
        await consumer.seek_to_end(*tps)
        while not stop.is_set():
            for records in (await consumer.getmany(timeout_ms=50, max_records=5000)).values():
                now = time.perf_counter()
                for record in records:
                    event = json.loads(record.value or b"{}")
                    if event.get("type") == "IssueAssigned":
                        assigned.setdefault(event["issue_id"], now)

    follower = asyncio.create_task(follow())
    limits = httpx.Limits(max_connections=1000, max_keepalive_connections=200)
    async with httpx.AsyncClient(timeout=120, limits=limits) as http:

        async def report(n: int) -> None:
            nonlocal failed
            started = time.perf_counter()
            body = {"channel": "hotline", "kind": "complaint", "text": f"稳态第{n}号井盖缺失"}
            try:
                response = await http.post(f"{intake}/issues", json=body, headers=operator)
                response.raise_for_status()
            except httpx.HTTPError:
                failed += 1
                return
            posts.append(time.perf_counter() - started)
            sent[response.json()["issue_id"]] = started

        begun = time.perf_counter()
        tasks = []
        for n in range(count):
            delay = begun + n / RATE - time.perf_counter()
            if delay > 0:
                await asyncio.sleep(delay)
            tasks.append(asyncio.create_task(report(n)))
        await asyncio.gather(*tasks)
    for _ in range(1200):  # up to 2 minutes for the last ones to be assigned
        if len(sent.keys() & assigned.keys()) >= len(sent) or follower.done():
            break
        await asyncio.sleep(0.1)
    stop.set()
    await follower
    await consumer.stop()
    flow = [assigned[i] - sent[i] for i in sent if i in assigned]
    return {
        "steady_rate_per_s": RATE,
        "steady_seconds": SECONDS,
        "steady_reports": count,
        "steady_failed_posts": failed,
        "steady_not_assigned": len(sent) - len(flow),
        "steady_post_p50_ms": pct(posts, 0.5),
        "steady_post_p99_ms": pct(posts, 0.99),
        "steady_report_to_assigned_p50_ms": pct(flow, 0.5),
        "steady_report_to_assigned_p99_ms": pct(flow, 0.99),
    }


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


async def ceilings(mongo_url: str, database: str, size: int) -> dict[str, Any]:
    """The engine alone, at `size` documents: finds by `_id` and by an indexed field a
    second, and a bulk upsert of the existing documents (documents a second)."""
    client: AsyncMongoClient[dict[str, Any]] = AsyncMongoClient(mongo_url, tz_aware=True)
    docs = client[database]["docs"]
    try:
        for first in range(0, size, 5000):
            rows = [
                {"_id": f"d{n}", "key": f"k{n}", "pad": "x" * 200}
                for n in range(first, min(first + 5000, size))
            ]
            await docs.insert_many(rows, ordered=False)
        await docs.create_index("key")
        picks = [random.randrange(size) for _ in range(200)]

        async def rate(lookups: list[int], query: Callable[[int], dict[str, Any]]) -> float:
            started = time.perf_counter()
            for n in lookups:
                await docs.find_one(query(n))
            return round(len(lookups) / (time.perf_counter() - started), 1)

        by_id = await rate(picks, lambda n: {"_id": f"d{n}"})
        by_field = await rate(picks[:20], lambda n: {"key": f"k{n}"})
        started = time.perf_counter()
        for first in range(0, size, 1000):
            ops = [
                UpdateOne({"_id": f"d{n}"}, {"$set": {"pad": "y" * 200}}, upsert=True)
                for n in range(first, min(first + 1000, size))
            ]
            await docs.bulk_write(ops, ordered=True)
        upserts = round(size / (time.perf_counter() - started), 1)
    finally:
        await client.drop_database(database)
        await client.close()
    return {
        "engine_docs": size,
        "engine_find_by_id_per_s": by_id,
        "engine_find_by_indexed_field_per_s": by_field,
        "engine_bulk_upsert_docs_per_s": upserts,
    }


async def scanning(path: Path, mongo_url: str) -> list[str]:
    client: AsyncMongoClient[dict[str, Any]] = AsyncMongoClient(mongo_url)
    try:
        explained = await explain_logged(client, read_log(path))
    finally:
        await client.close()
    return sorted(
        f"{one.database.split('_', 1)[-1]}.{one.collection} {one.command} {json.dumps(one.shape)}"
        for one, scans, _ in explained
        if scans
    )


def table(result: dict[str, Any]) -> str:
    """The figures as one plain table (no braces: the JSON after it is found by them)."""
    rows = [(name.replace("_", " "), value) for name, value in result.items()]
    width = max(len(n) for n, _ in rows)
    pad = "\n" + " " * (width + 2)
    rows = [(n, pad.join(map(str, v)) or "none" if isinstance(v, list) else v) for n, v in rows]
    lines = [f"{'figure'.ljust(width)}  value", f"{'-' * width}  -----"]
    lines += [f"{n.ljust(width)}  {v}" for n, v in rows]
    return "\n".join(lines).replace("{", "(").replace("}", ")")


def main() -> None:
    namespace = f"b{uuid.uuid4().hex[:8]}"
    logs = REPO / ".local/bench-logs"
    explain_log = logs / f"queries-{namespace}.jsonl"
    extra = {"HUIYIN_MONGO_EXPLAIN_LOG": str(explain_log)} if EXPLAIN else {}
    with ExitStack() as stack:
        servers = endpoints(stack)
        platform = Platform(servers, namespace, logs, extra_env=extra).start()
        stack.callback(platform.stop)
        pids = processes(platform, servers)
        cpu_start = {name: cpu_seconds(pid) for name, pid in pids.items()}
        token = platform.token("operator")
        flow = asyncio.run(drive_skeleton(platform, token, pids))
        topic = f"{namespace}.huiyin.issues.v1"
        load = asyncio.run(steady(platform, token, topic, servers.kafka_bootstrap))
        cpu = {name: round(cpu_seconds(pid) - cpu_start[name], 1) for name, pid in pids.items()}
        rss = {name: rss_mb(pid) for name, pid in pids.items() if name in platform.services}
        log = asyncio.run(read_topic(servers.kafka_bootstrap, topic))
        events, mean_size = len(log), round(statistics.fmean(len(r.value) for r in log))
        raw = asyncio.run(raw_kafka(servers.kafka_bootstrap, events, mean_size))
        engine = asyncio.run(ceilings(servers.mongo_url, f"{namespace}_ceilings", events))
        scans = asyncio.run(scanning(explain_log, servers.mongo_url)) if EXPLAIN else []

    flowed, latencies = flow["flowed"], flow["latencies"]
    issues_on_log = ISSUES + load["steady_reports"]
    skeleton_eps = events * ISSUES / issues_on_log / flowed  # the throughput run's share
    raw_eps = events / raw
    result: dict[str, Any] = {
        "issues": ISSUES,
        "clients": CLIENTS,
        "events_on_log": events,
        "mean_event_bytes": mean_size,
        "skeleton_seconds": round(flowed, 2),
        "skeleton_issues_per_s": round(ISSUES / flowed, 1),
        "skeleton_events_per_s": round(skeleton_eps, 1),
        "intake_posts_per_s": round(ISSUES / flow["posted"], 1),
        "intake_post_p50_ms": pct(latencies, 0.5),
        "intake_post_p99_ms": pct(latencies, 0.99),
        "raw_kafka_seconds": round(raw, 2),
        "raw_kafka_events_per_s": round(raw_eps, 1),
        "raw_over_skeleton": round(raw_eps / skeleton_eps, 1),
        **{k: v for k, v in flow.items() if k.endswith("pct")},
        **load,
        **engine,
        **{f"cpu_s_{name}": seconds for name, seconds in cpu.items()},
        **{f"rss_mb_{name}": mb for name, mb in rss.items()},
    }
    if EXPLAIN:
        result["scanning_queries"] = scans
    print(table(result))
    print(json.dumps(result, indent=2))
    out = Path(REPO / "bench/results")
    out.mkdir(exist_ok=True)
    (out / f"skeleton-{time.strftime('%Y%m%dT%H%M%S')}.json").write_text(json.dumps(result))


if __name__ == "__main__":
    main()
