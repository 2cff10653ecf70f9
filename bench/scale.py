"""Reporting's read side at a city's scale: `make bench-scale` (`python -m bench.scale`).

For each size in BENCH_SCALE_SIZES (issues; default "10000,100000,1000000"), a city year is
generated (issues spread over the days of 2025, in 5 counties × 8 townships × 6 villages,
40 offices, 12 categories, every channel and kind, a mix of lives: answered at intake,
resolved and visited, escalated and reopened, still open) and produced to an issues topic of
its own (bypassing HTTP; timed apart), then the projection is built from it by the real
rebuild (`handlers.rebuild`: bulk reads of Kafka, the fold in memory per partition, bulk
inserts into a new generation, the switch), timed with its events/s, phases and peak RSS.
Then, in a new process (as reporting serves them; its RSS is printed after), every read is
timed through the HTTP routes in-process (BENCH_SCALE_REPEATS times each, default 7; p50 and
p95), the domain metrics' refresh too, and the projection's size on disk is printed
(collStats of the generation's collections). BENCH_SCALE_CELL_COUNTERS sets the rebuild's
bound on the cell counters it sums in memory (beyond, parts go to local disk). The table is
printed at each size; nothing is asserted. The topic and the database are dropped after each
size, the namespace at the end.
"""

import asyncio
import multiprocessing
import os
import random
import resource
import statistics
import time
import uuid
from collections.abc import Awaitable, Callable
from contextlib import ExitStack
from datetime import UTC, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import httpx
from aiokafka import AIOKafkaProducer
from aiokafka.admin import AIOKafkaAdminClient, NewTopic
from fastapi import FastAPI

from devkit.infra import endpoints
from devkit.namespaces import drop_namespace
from devkit.procstat import rss_mb
from services.contracts.events import Event, encode
from services.contracts.vocabulary import Channel, Flag, Kind, Satisfaction
from services.reporting.adapters.log import KafkaLog
from services.reporting.adapters.spill import SpilledCells
from services.reporting.adapters.store import ReportingStore
from services.reporting.bulletins.http import build_bulletin_router
from services.reporting.bulletins.service import Bulletins, BulletinSettings
from services.reporting.domain.facts import FactRules
from services.reporting.domain.rankings import Weights
from services.reporting.entrypoints.api import build_router
from services.reporting.entrypoints.errors import register_errors
from services.reporting.entrypoints.lists import build_lists_router
from services.reporting.entrypoints.metrics import DomainMetrics
from services.reporting.handlers import CELL_COUNTERS, RebuildStatus, rebuild
from services.runtime.broker import topic_config
from services.runtime.mongo import make_mongo_client
from services.runtime.settings import PlatformSettings
from tests.reporting_events import CITY, Story

__all__ = ["CITY", "main", "reads", "run", "story"]

SHANGHAI = ZoneInfo("Asia/Shanghai")
YEAR = datetime(2025, 1, 1, tzinfo=SHANGHAI)
NOW = datetime(2026, 1, 5, 9, tzinfo=SHANGHAI)
CATEGORIES = [f"cat{n:02d}" for n in range(12)]
OFFICES = [f"office{n:02d}" for n in range(40)]
COUNTY, TOWNSHIP = "411901", "411901001"
SAT, DISSAT = Satisfaction.SATISFIED, Satisfaction.DISSATISFIED


def region_of(rng: random.Random) -> str:
    county = f"4119{rng.randrange(1, 6):02d}"
    return f"{county}{rng.randrange(1, 9):03d}{rng.randrange(1, 7):03d}"


def story(n: int, rng: random.Random) -> list[Event]:
    """One issue's life, reported on a random moment of the year."""
    at = YEAR + timedelta(seconds=rng.randrange(365 * 86400))
    s = Story(
        f"s{n}",
        at,
        channel=rng.choice(list(Channel)),
        kind=rng.choice(list(Kind)),
        category=rng.choice(CATEGORIES),
        region=region_of(rng),
    )
    office = rng.choice(OFFICES)
    shape = rng.random()
    if shape < 0.15:
        s.answer(0.5)
    elif shape < 0.75:
        s.triage().assign(office).accept(rng.uniform(0.2, 30)).resolve(rng.uniform(1, 100))
        s.visit(SAT if rng.random() < 0.85 else DISSAT, rng.random() < 0.8, 2).close(1)
    elif shape < 0.85:
        s.triage().assign(office).remind(10).flag(Flag.YELLOW, 6).flag(Flag.RED, 8)
        s.supervise_and_escalate(rng.choice(OFFICES), 1).accept(2).resolve(20)
        s.visit(DISSAT, False, 2).reopen(0).assign(office, 0.5).accept(1).resolve(5)
    else:
        s.triage().assign(office).accept(rng.uniform(0.5, 40))
    return s.events


def reads(region: str) -> dict[str, tuple[str, dict[str, Any]]]:
    month = {"period": "month", "on": "2025-06-15"}
    return {
        "GET /rates (city, month)": ("/rates", month),
        "GET /rates (county, month)": ("/rates", month | {"region_code": COUNTY}),
        "GET /rates (township+office+category, month)": (
            "/rates",
            month | {"region_code": TOWNSHIP, "office_id": OFFICES[0], "category": CATEGORIES[0]},
        ),
        "GET /rates (whole year)": ("/rates", {"start": "2025-01-01", "end": "2025-12-31"}),
        "GET /rankings (offices, month)": ("/rankings", month),
        "GET /rankings (townships, month)": ("/rankings", month | {"subject": "township"}),
        "GET /open (month)": ("/open", month),
        "GET /durations (month)": ("/durations", month),
        "GET /lists/tasks (first page)": ("/lists/tasks", month),
        "GET /lists/tasks (an office, month)": ("/lists/tasks", month | {"office_id": OFFICES[1]}),
        "GET /counts (a day, by office)": ("/counts", {"day": "2025-06-15", "by": "office_id"}),
        "GET /backlog-age (city)": ("/backlog-age", {}),
        "weekly bulletin (HTML)": (
            "/bulletins/weekly",
            {"on": "2025-06-16", "format": "html", "region_code": region},
        ),
    }


def app_of(store: ReportingStore, rules: FactRules) -> FastAPI:
    weights = Weights(1, 1, 1)
    app = FastAPI()
    app.include_router(build_router(store, weights, (1, 3, 7, 10, 30, 90), now=lambda: NOW))
    app.include_router(build_lists_router(store, 30, now=lambda: NOW))
    bulletins = Bulletins(
        store,
        BulletinSettings(),
        timezone=SHANGHAI,
        weights=weights,
        backlog_days=30,
        now=lambda: NOW,
    )
    app.include_router(build_bulletin_router(bulletins))
    register_errors(app)
    return app


async def timed(call: Callable[[], Awaitable[Any]], repeats: int) -> list[float]:
    out = []
    for _ in range(repeats):
        started = time.perf_counter()
        await call()
        out.append((time.perf_counter() - started) * 1000)
    return out


def p(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))]


def row(label: str, values: list[float]) -> None:
    print(f"{label:<48} {statistics.median(values):>9.1f} {p(values, 0.95):>9.1f} "
          f"{min(values):>8.1f} {max(values):>8.1f}", flush=True)  # fmt: skip


async def produce(platform: PlatformSettings, topic: str, size: int) -> int:
    """Generate `size` issues' lives into `topic` (a new one, the platform's partitions),
    issue by issue (nothing kept in memory); the number of events."""
    admin = AIOKafkaAdminClient(**platform.kafka.client_options())
    await admin.start()
    try:
        config = topic_config(platform)
        copies = platform.replication_factor
        new = NewTopic(topic, platform.partitions, copies, topic_configs=config)
        await admin.create_topics([new])
    finally:
        await admin.close()
    producer = AIOKafkaProducer(
        **platform.kafka.client_options(), acks="all", linger_ms=20, max_batch_size=1 << 20
    )
    await producer.start()
    rng, sent = random.Random(size), 0
    try:
        waiting = []
        for n in range(size):
            for event in story(n, rng):
                key = event.issue_id.encode()
                waiting.append(await producer.send(topic, encode(event), key=key))
                sent += 1
            if len(waiting) >= 20_000:
                await asyncio.gather(*waiting)
                waiting = []
        await asyncio.gather(*waiting)
    finally:
        await producer.stop()
    return sent


async def drop_topic(platform: PlatformSettings, topic: str) -> None:
    admin = AIOKafkaAdminClient(**platform.kafka.client_options())
    await admin.start()
    try:
        await admin.delete_topics([topic])
    finally:
        await admin.close()


async def one_size(platform: PlatformSettings, size: int, repeats: int) -> None:
    rules = FactRules(SHANGHAI)
    topic = f"{platform.topic_prefix}scale-{size}-issues"
    started = time.perf_counter()
    events = await produce(platform, topic, size)
    generated = time.perf_counter() - started
    mongo = make_mongo_client(platform)
    name = f"{platform.database('reporting')}_{size}"
    await mongo.drop_database(name)
    store = ReportingStore(mongo[name], rules)
    try:
        phases: dict[str, float] = {}

        def progress(status: RebuildStatus) -> None:
            phases.setdefault(status.phase, time.perf_counter() - started)

        started = time.perf_counter()
        bound = int(os.environ.get("BENCH_SCALE_CELL_COUNTERS", CELL_COUNTERS))
        with SpilledCells() as spill:
            log = KafkaLog(platform.kafka, topic)
            done = await rebuild(log, store, spill, progress=progress, cell_counters=bound)
        took = time.perf_counter() - started
        await store.ensure_indexes()
        load = os.getloadavg()[0]
        rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
        print(f"\n== {size:,} issues, {events:,} events "
              f"(generated and produced in {generated:.0f} s)")  # fmt: skip
        print(f"rebuild from Kafka: {took:.1f} s = {done.applied / took:,.0f} events/s "
              f"({done.issues:,} fact documents, {done.cells:,} cells, {done.passes} "
              f"partition reads, {done.spilled} parts of sums on disk; load {load:.1f}, "
              f"peak RSS {rss:,.0f} MB)", flush=True)  # fmt: skip
        marks = ", ".join(f"{phase} {at:.1f}" for phase, at in phases.items())
        print(f"  phases (s from the start): {marks}", flush=True)
        # the reads in a process of their own, as reporting serves them (its RSS is not the
        # rebuild's: a Python process keeps the memory it once held)
        reader = multiprocessing.get_context("spawn").Process(
            target=read_apart, args=(platform, name, repeats)
        )
        reader.start()
        await asyncio.to_thread(reader.join)
        if reader.exitcode != 0:
            raise RuntimeError(f"the reads failed (exit {reader.exitcode})")
    finally:
        await mongo.drop_database(name)
        await mongo.close()
        await drop_topic(platform, topic)


def read_apart(platform: PlatformSettings, name: str, repeats: int) -> None:
    asyncio.run(serve_reads(platform, name, repeats))


async def serve_reads(platform: PlatformSettings, name: str, repeats: int) -> None:
    """Every read of the projection in database `name`, timed through the HTTP routes
    in-process; the domain metrics' refresh; the size on disk; this process's RSS after."""
    rules = FactRules(SHANGHAI)
    mongo = make_mongo_client(platform)
    store = ReportingStore(mongo[name], rules)
    try:
        app = app_of(store, rules)
        transport = httpx.ASGITransport(app=app)
        print(f"{'read':<48} {'p50 ms':>9} {'p95 ms':>9} {'min':>8} {'max':>8}", flush=True)
        async with httpx.AsyncClient(
            transport=transport, base_url="http://bench", timeout=None
        ) as client:
            for label, (path, params) in reads(CITY).items():

                async def call(path: str = path, params: dict[str, Any] = params) -> None:
                    answer = await client.get(path, params=params)
                    assert answer.status_code == 200, (path, answer.text[:300])

                row(label, await timed(call, repeats))
        metrics = DomainMetrics(store, now=lambda: NOW)
        row("/metrics refresh (domain figures)", await timed(metrics.refresh, repeats))
        on_disk = await store.size_on_disk()
        print(f"projection on disk: {on_disk / 1e6:,.1f} MB; the process serving the reads "
              f"(started after the rebuild) holds {rss_mb(os.getpid()):,.0f} MB after "
              f"them", flush=True)  # fmt: skip
    finally:
        await mongo.close()


async def main(platform: PlatformSettings) -> None:
    sizes = [int(s) for s in os.environ.get("BENCH_SCALE_SIZES", "10000,100000,1000000").split(",")]
    repeats = int(os.environ.get("BENCH_SCALE_REPEATS", "7"))
    print(
        f"bench-scale at {datetime.now(UTC):%Y-%m-%d %H:%M} UTC, sizes {sizes}, {repeats} repeats"
    )
    for size in sizes:
        await one_size(platform, size, repeats)


def run() -> None:
    with ExitStack() as stack:
        found = endpoints(stack)
        name = f"scale{uuid.uuid4().hex[:8]}"
        settings = PlatformSettings(
            kafka_bootstrap=found.kafka_bootstrap, mongo_url=found.mongo_url,
            topic_prefix=f"{name}.", database_prefix=f"{name}_",
        )  # fmt: skip
        try:
            asyncio.run(main(settings))
        finally:
            asyncio.run(drop_namespace(found.kafka_bootstrap, found.mongo_url, name))


if __name__ == "__main__":
    run()
