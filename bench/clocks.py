"""Supervision's durable timers at scale, through the real service process.

1. Arm: BENCH_CLOCKS open clocks (each issue has an accept and a resolve clock). BENCH_ARMED
   of them are armed by the service itself: issues triaged and assigned on a fresh topic,
   consumed by `python -m services.supervision` (the real consumer, tracker, MongoDB store
   and timetable); the arming rate is clocks per second until every timer is scheduled.
   The rest, when BENCH_ARMED < BENCH_CLOCKS, are seeded first with `import_new` (below)
   (documents made by the store from a record built by the domain) to reach the size on a
   machine where arming them all through the service would take too long.
2. Restart: SIGKILL, then start with the service's clock shifted
   (HUIYIN_SUPERVISION_TIME_OFFSET_SECONDS) to an instant R when BENCH_BACKLOG steps are
   overdue and BENCH_RATE steps a second fall due for BENCH_WINDOW seconds (each the 50%
   reminder of an accept clock). Reported: time from the restart to healthy, to partitions
   assigned, to the first firing and to every timer loaded; resident memory; the firing lag
   behind due (p50/p99: each event's `occurred_at`, the service's clock when it fired, minus
   the step's due instant).

`uv run python -m bench.clocks`; BENCH_CLOCKS (1,000,000), BENCH_ARMED (all), BENCH_RATE
(50), BENCH_WINDOW (60), BENCH_BACKLOG (1000); BENCH_ARM_ONLY=1 stops after step 1.
Never part of the tests. Prints JSON.
"""

import asyncio
import contextlib
import json
import os
import signal
import time
import uuid
from collections.abc import Awaitable, Callable, Sequence
from contextlib import ExitStack
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
from aiokafka import AIOKafkaConsumer, AIOKafkaProducer, TopicPartition
from aiokafka.partitioner import DefaultPartitioner
from prometheus_client.parser import text_string_to_metric_families
from pymongo import AsyncMongoClient
from pymongo.asynchronous.database import AsyncDatabase

from devkit.infra import REPO, Endpoints, endpoints
from devkit.processes import ServiceProcess, free_port
from services.contracts.events import (
    IssueAssigned,
    IssueAssignedPayload,
    IssueTriaged,
    IssueTriagedPayload,
    encode,
)
from services.contracts.vocabulary import ClockKind, Level, Tier
from services.runtime.broker import ensure_topics
from services.runtime.settings import PlatformSettings
from services.supervision.adapters.files import load_policy
from services.supervision.adapters.store import ClockStore
from services.supervision.domain.calendar import SHANGHAI
from services.supervision.domain.notices import clock_id_for, step_event_id
from services.supervision.domain.reactions import react
from services.supervision.domain.record import IssueRecord
from services.supervision.domain.rules import Rules

CLOCKS = int(os.environ.get("BENCH_CLOCKS", "1000000"))
ARMED = min(int(os.environ.get("BENCH_ARMED", str(CLOCKS))), CLOCKS)
RATE = float(os.environ.get("BENCH_RATE", "50"))
WINDOW = float(os.environ.get("BENCH_WINDOW", "60"))
BACKLOG = int(os.environ.get("BENCH_BACKLOG", "1000"))
ARM_ONLY = os.environ.get("BENCH_ARM_ONLY", "") not in ("", "0")
ISSUES, ARMED_ISSUES = CLOCKS // 2, ARMED // 2
WATCHED = BACKLOG + int(RATE * WINDOW)
MONDAY = datetime(2026, 11, 23, tzinfo=SHANGHAI)
RESTART = MONDAY + timedelta(hours=20)
HALF_DAY = timedelta(hours=12)  # 50% of a 1-working-day accept clock, within one working day


def offset_to(instant: datetime) -> str:
    return str((instant - datetime.now(UTC)).total_seconds())


async def metric(service: ServiceProcess, name: str) -> float | None:
    try:
        async with httpx.AsyncClient(timeout=5) as http:
            text = (await http.get(f"{service.url}/metrics")).text
    except httpx.HTTPError:
        return None
    found = [s.value for f in text_string_to_metric_families(text) for s in f.samples]
    names = [s.name for f in text_string_to_metric_families(text) for s in f.samples]
    values = [v for n, v in zip(names, found, strict=True) if n == name]
    return sum(values) if values else None


def cpu_seconds(service: ServiceProcess) -> float:
    """The service process's CPU time so far (user + system): a figure that other load on the
    machine changes less than a rate."""
    assert service.process is not None
    fields = Path(f"/proc/{service.process.pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def rss_mb(service: ServiceProcess) -> float:
    assert service.process is not None
    status = Path(f"/proc/{service.process.pid}/status").read_text()
    kb = next(line.split()[1] for line in status.splitlines() if line.startswith("VmRSS"))
    return round(int(kb) / 1024, 1)


async def wait_for(
    probe: Callable[[], Awaitable[bool]], timeout: float, poll: float = 0.05
) -> float:
    started = time.perf_counter()
    while not await probe():
        if time.perf_counter() - started > timeout:
            raise TimeoutError(f"not within {timeout} s")
        await asyncio.sleep(poll)
    return time.perf_counter()


def plan(lead: float) -> tuple[list[datetime], datetime]:
    """When each armed issue is assigned: its accept reminder falls due before RESTART (the
    backlog), or RATE a second from RESTART + lead for WINDOW seconds, or at `later`."""
    start = RESTART + timedelta(seconds=lead)
    dues = [RESTART - timedelta(seconds=1 + k * 0.001) for k in range(BACKLOG)]
    dues += [start + timedelta(seconds=k / RATE) for k in range(WATCHED - BACKLOG)]
    later = start + timedelta(seconds=WINDOW + 3600)
    dues += [later] * max(ARMED_ISSUES - len(dues), 0)
    return [due - HALF_DAY for due in dues[:ARMED_ISSUES]], later


def assignment(issue_id: str, at: datetime) -> tuple[IssueTriaged, IssueAssigned]:
    common: dict[str, Any] = {"issue_id": issue_id, "occurred_at": at, "producer": "routing"}
    tier = IssueTriagedPayload(category="lights", tier=Tier.GENERAL, region_code="41", reason="b")
    office = IssueAssignedPayload(office_id="411900-urban_management", level=Level.CITY, reason="b")
    return IssueTriaged(payload=tier, **common), IssueAssigned(payload=office, **common)


async def import_new(
    db: AsyncDatabase[dict[str, Any]],
    documents: Sequence[dict[str, Any]],
    timers: Sequence[tuple[str, int, datetime]],
) -> None:
    """Bulk-insert issues never seen before, straight into supervision's collections (the
    layout `services.supervision.adapters.store` documents): `documents` as
    `ClockStore.document()` makes them, with `_id` set, and their timers. Not for live issues."""
    if documents:
        await db["issues"].insert_many(documents, ordered=False)
    if timers:
        rows = [{"_id": i, "partition": str(p), "due": due} for i, p, due in timers]
        await db["timers"].insert_many(rows, ordered=False)


async def seed(
    settings: PlatformSettings,
    db: AsyncDatabase[dict[str, Any]],
    count: int,
    due: datetime,
) -> None:
    """`count` issues whose first step falls due at `due`, stored the way the service would."""
    rules = Rules.of(load_policy())
    _, assigned = assignment("seed-template", due - HALF_DAY)
    template = react(IssueRecord.new("seed-template"), assigned, rules).record
    document = ClockStore.document(template.changed(history=()), rules.calendar)
    clock_ids = [c.clock_id for c in template.clocks.clocks]
    choose, partitions = DefaultPartitioner(), list(range(settings.partitions))
    for first in range(0, count, 10_000):
        docs, timers = [], []
        for n in range(first, min(first + 10_000, count)):
            issue_id = f"seed-{n}"
            swap = {"seed-template": issue_id, **{c: str(uuid.uuid4()) for c in clock_ids}}
            partition = choose(issue_id.encode(), partitions, partitions)
            docs.append({**replaced(document, swap), "_id": issue_id, "partition": partition})
            timers.append((issue_id, partition, due))
        await import_new(db, docs, timers)


def replaced(value: Any, swap: dict[str, str]) -> Any:
    if isinstance(value, str):
        return swap.get(value, value)
    if isinstance(value, dict):
        return {k: replaced(v, swap) for k, v in value.items()}
    if isinstance(value, list):
        return [replaced(v, swap) for v in value]
    return value


def encoded(starts: list[datetime]) -> tuple[list[tuple[bytes, bytes]], dict[str, datetime]]:
    """Each armed issue's triage and assignment as `(key, value)` records, in order; the due
    instant of each watched step. Made before the arming is timed: the bench's own pydantic
    work is not the service's."""
    records, watched = [], {}
    for n, at in enumerate(starts):
        for event in (events := assignment(f"bench-{n}", at)):
            records.append((event.issue_id.encode(), encode(event)))
        if n < WATCHED:
            clock_id = clock_id_for(events[1].event_id, ClockKind.ACCEPT)
            watched[str(step_event_id(f"{clock_id}:reminder-50"))] = at + HALF_DAY
    return records, watched


async def produce(settings: PlatformSettings, records: list[tuple[bytes, bytes]]) -> None:
    """Publish the records (as fast as the broker takes them)."""
    producer = AIOKafkaProducer(bootstrap_servers=settings.kafka_bootstrap, linger_ms=20)
    await producer.start()
    try:
        pending = [
            await producer.send(settings.issues_topic, value, key=key) for key, value in records
        ]
        await asyncio.gather(*pending)
    finally:
        await producer.stop()


async def follow(settings: PlatformSettings, seen: list[tuple[str, datetime]], stop: Any) -> None:
    """Every reminder arriving on the topic from now on: (event id, occurred_at)."""
    consumer = AIOKafkaConsumer(bootstrap_servers=settings.kafka_bootstrap)
    await consumer.start()
    try:
        tps = [TopicPartition(settings.issues_topic, p) for p in range(settings.partitions)]
        consumer.assign(tps)
        await consumer.seek_to_end(*tps)
        while not stop.is_set():
            for records in (await consumer.getmany(timeout_ms=100, max_records=5000)).values():
                for event in (json.loads(r.value or b"{}") for r in records):
                    if event.get("type") == "ReminderSent":
                        seen.append(
                            (event["event_id"], datetime.fromisoformat(event["occurred_at"]))
                        )
    finally:
        await consumer.stop()


async def run(servers: Endpoints, namespace: str, logs: Path) -> dict[str, Any]:
    settings = PlatformSettings(
        kafka_bootstrap=servers.kafka_bootstrap,
        mongo_url=servers.mongo_url,
        topic_prefix=f"{namespace}.",
        database_prefix=f"{namespace}_",
    )
    await ensure_topics(settings)
    client: AsyncMongoClient[dict[str, Any]] = AsyncMongoClient(settings.mongo_url, tz_aware=True)
    db = client[settings.database("supervision")]
    env = {
        **servers.env(),
        "HUIYIN_TOPIC_PREFIX": settings.topic_prefix,
        "HUIYIN_DATABASE_PREFIX": settings.database_prefix,
        "HUIYIN_LOG_LEVEL": "WARNING",
        "HUIYIN_SUPERVISION_TIME_OFFSET_SECONDS": offset_to(MONDAY),
    }
    supervision = ServiceProcess("supervision", free_port(), env, logs / "supervision.log")
    lead = ISSUES / 5000 + 15  # about the restart's load time: the window starts after it
    starts, later = plan(lead)
    result: dict[str, Any] = {"clocks": ISSUES * 2, "armed_by_service": ARMED_ISSUES * 2}
    seen: list[tuple[str, datetime]] = []
    stop = asyncio.Event()
    try:
        began = time.perf_counter()
        await seed(settings, db, ISSUES - ARMED_ISSUES, later + timedelta(hours=1))
        result["seed_seconds"] = round(time.perf_counter() - began, 1)
        supervision.start()
        await asyncio.to_thread(supervision.wait_healthy, 120)
        records, watched = encoded(starts)
        began, cpu = time.perf_counter(), cpu_seconds(supervision)
        await produce(settings, records)
        result["produce_seconds"] = round(time.perf_counter() - began, 1)

        async def armed() -> bool:
            return await metric(supervision, "huiyin_supervision_timers") == ISSUES

        arming = await wait_for(armed, 24 * 3600, poll=1) - began
        result |= {"arming_seconds": round(arming, 1)}
        result["arming_clocks_per_s"] = round(ARMED_ISSUES * 2 / arming, 1)
        armed_cpu = cpu_seconds(supervision) - cpu
        result["arming_cpu_ms_per_clock"] = round(armed_cpu * 1000 / (ARMED_ISSUES * 2), 3)
        result["rss_mb_armed"] = rss_mb(supervision)
        await asyncio.to_thread(supervision.kill, signal.SIGKILL)
        if ARM_ONLY:
            return result

        follower = asyncio.create_task(follow(settings, seen, stop))
        await asyncio.sleep(2)  # the follower stands at the end of the log
        env["HUIYIN_SUPERVISION_TIME_OFFSET_SECONDS"] = offset_to(RESTART)
        spawned = time.perf_counter()
        supervision.start()

        async def healthy() -> bool:
            return await metric(supervision, "huiyin_supervision_timers") is not None

        async def assigned() -> bool:
            owned = await metric(supervision, "huiyin_supervision_partitions_owned")
            return owned == settings.partitions

        async def loaded() -> bool:
            return await metric(supervision, "huiyin_supervision_partitions_loading") == 0

        for what, probe in [("healthy", healthy), ("assigned", assigned), ("loaded", loaded)]:
            result[f"restart_to_{what}_s"] = round(await wait_for(probe, 3600) - spawned, 2)
        result["rss_mb_after_restart_load"] = rss_mb(supervision)

        async def all_fired() -> bool:
            return len({e for e, _ in seen}) >= WATCHED

        with contextlib.suppress(TimeoutError):
            await wait_for(all_fired, lead + WINDOW + 300, poll=0.5)
        fired_cpu = cpu_seconds(supervision)  # loading, then firing: per step fired
        result["firing_cpu_ms_per_step"] = round(fired_cpu * 1000 / max(len(seen), 1), 3)
        result["rss_mb_end"] = rss_mb(supervision)
        stop.set()
        await follower
    finally:
        supervision.kill(signal.SIGKILL)
        await client.drop_database(settings.database("supervision"))
        await client.close()
    return {**result, **firing(watched, seen, float(result["restart_to_loaded_s"]))}


def firing(
    watched: dict[str, datetime], seen: list[tuple[str, datetime]], loaded: float
) -> dict[str, Any]:
    fired = {e: at for e, at in seen if e in watched}
    lag = {e: (at - watched[e]).total_seconds() * 1000 for e, at in fired.items()}
    window = sorted(ms for e, ms in lag.items() if watched[e] >= RESTART)
    steady = sorted(
        ms for e, ms in lag.items() if watched[e] >= RESTART + timedelta(seconds=loaded)
    )
    backlog = [at for e, at in fired.items() if watched[e] < RESTART]

    def pct(values: list[float], p: float) -> float | None:
        return round(values[min(int(len(values) * p), len(values) - 1)], 1) if values else None

    def since(at: datetime | None) -> float | None:
        return None if at is None else round((at - RESTART).total_seconds(), 2)

    return {
        "restart_to_first_firing_s": since(min(fired.values(), default=None)),
        "backlog_steps": BACKLOG,
        "backlog_all_fired_by_s": since(max(backlog, default=None)),
        "backlog_fired_per_s": fired_per_s(backlog),
        "window_steps": WATCHED - BACKLOG,
        "window_rate_per_s": RATE,
        "steps_missing": WATCHED - len(fired),
        "duplicate_copies": len(seen) - len({e for e, _ in seen}),
        "lag_p50_ms": pct(window, 0.5),
        "lag_p99_ms": pct(window, 0.99),
        "lag_max_ms": pct(window, 1.0),
        "lag_after_load_p50_ms": pct(steady, 0.5),
        "lag_after_load_p99_ms": pct(steady, 0.99),
    }


def fired_per_s(instants: list[datetime]) -> float | None:
    """Steps fired a second while a backlog drains: from the first firing to the last."""
    if len(instants) < 2:
        return None
    spread = (max(instants) - min(instants)).total_seconds()
    return round(len(instants) / spread, 1) if spread > 0 else None


def main() -> None:
    with ExitStack() as stack:
        servers = endpoints(stack)
        result = asyncio.run(run(servers, f"c{uuid.uuid4().hex[:8]}", REPO / ".local/bench-logs"))
    print(json.dumps(result, indent=2))
    out = REPO / "bench/results"
    out.mkdir(exist_ok=True)
    (out / f"clocks-{time.strftime('%Y%m%dT%H%M%S')}.json").write_text(json.dumps(result))


if __name__ == "__main__":
    main()
