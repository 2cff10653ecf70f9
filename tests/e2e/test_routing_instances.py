"""One problem across routing instances: two routing processes (same namespace, one consumer
group) share the partitions of the issue log; a burst of reports of one problem, keyed to
every partition, becomes one assigned problem and the rest merged into it (issue 13 item 3).

The reports are produced straight to the topic, so nothing but the two routing processes
runs. Before each burst, both instances must have consumed reports of their own (each owns
partitions), so the burst really is split between them."""

import asyncio
import math
import re
import uuid
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import httpx
import pytest
import yaml
from aiokafka import AIOKafkaConsumer, AIOKafkaProducer, TopicPartition
from aiokafka.partitioner import DefaultPartitioner

from devkit.infra import Endpoints
from devkit.processes import ServiceProcess, free_port
from services.contracts.events import (
    Event,
    IssueAssigned,
    IssueMerged,
    IssueReported,
    decode,
    encode,
)
from services.routing.domain.duplicates import METRES_PER_DEGREE, cell_of
from services.routing.domain.policy import DuplicatePolicy
from services.runtime.broker import ensure_topics
from services.runtime.settings import PlatformSettings
from tests.unit.routing.reports import report

pytestmark = pytest.mark.e2e

PARTITIONS = 6
CITY_POLICY = Path(__file__).parents[2] / "deploy/config/city/policy.yaml"
MAIN = (34.75, 113.62)  # latitude, longitude: a grid of township 411905003
BURSTS = ("street_lighting", "water_supply", "sanitation")
"""One burst per category, each at MAIN: three problems, one per category."""
SCATTERED = ("greenery", "road_damage")
"""One burst per category, its reports 15 m around a corner of the claim grid (as a phone's
fixes scatter), so they fall into several cells."""


@pytest.fixture
def settings(servers: Endpoints, namespace: str) -> PlatformSettings:
    return PlatformSettings(
        kafka_bootstrap=servers.kafka_bootstrap,
        mongo_url=servers.mongo_url,
        topic_prefix=f"{namespace}.",
        database_prefix=f"{namespace}_",
        partitions=PARTITIONS,
    )


@pytest.fixture
def routers(
    servers: Endpoints, settings: PlatformSettings, tmp_path: Path
) -> Iterator[list[ServiceProcess]]:
    asyncio.run(ensure_topics(settings))  # with its partitions, before either instance starts
    env = {
        **servers.env(),
        "HUIYIN_TOPIC_PREFIX": settings.topic_prefix,
        "HUIYIN_DATABASE_PREFIX": settings.database_prefix,
        "HUIYIN_PARTITIONS": str(PARTITIONS),
    }
    started = [
        ServiceProcess("routing", free_port(), env, tmp_path / f"routing-{n}.log") for n in (1, 2)
    ]
    try:
        for router in started:
            router.start()
        for router in started:
            router.wait_healthy()
        yield started
    finally:
        for router in started:
            router.stop()


class Log:
    """The issues topic as the test writes and tails it."""

    def __init__(self, settings: PlatformSettings) -> None:
        self.topic = settings.issues_topic
        self.events: list[Event] = []
        self._producer = AIOKafkaProducer(bootstrap_servers=settings.kafka_bootstrap, acks="all")
        self._consumer = AIOKafkaConsumer(bootstrap_servers=settings.kafka_bootstrap)

    async def _follow(self) -> None:
        while True:
            batch = await self._consumer.getmany(timeout_ms=100)
            for records in batch.values():
                self.events.extend(decode(record.value or b"") for record in records)

    async def put(self, *reports: IssueReported) -> None:
        sent = [
            await self._producer.send(self.topic, encode(r), key=r.issue_id.encode())
            for r in reports
        ]
        await asyncio.gather(*sent)

    async def answers(
        self, issue_ids: list[str], timeout: float = 60
    ) -> dict[str, IssueAssigned | IssueMerged]:
        """Each issue's IssueAssigned or IssueMerged (waits until every one has one)."""
        async with asyncio.timeout(timeout):
            while True:
                found = {
                    e.issue_id: e
                    for e in self.events
                    if e.issue_id in issue_ids and isinstance(e, IssueAssigned | IssueMerged)
                }
                if len(found) == len(issue_ids):
                    return found
                await asyncio.sleep(0.1)


@pytest.fixture
async def log(settings: PlatformSettings) -> AsyncIterator[Log]:
    tail = Log(settings)
    await tail._producer.start()
    await tail._consumer.start()
    partitions = [TopicPartition(tail.topic, n) for n in range(PARTITIONS)]
    tail._consumer.assign(partitions)
    await tail._consumer.seek_to_beginning(*partitions)
    following = asyncio.create_task(tail._follow())
    try:
        yield tail
    finally:
        following.cancel()
        await asyncio.gather(following, return_exceptions=True)
        await tail._producer.stop()
        await tail._consumer.stop()


def one_per_partition(per_partition: int = 1) -> list[str]:
    """Issue ids keyed `per_partition` to each partition (Kafka's default partitioner)."""
    choose, every = DefaultPartitioner(), list(range(PARTITIONS))
    chosen: dict[int, list[str]] = {p: [] for p in every}
    while any(len(ids) < per_partition for ids in chosen.values()):
        issue_id = f"i-{uuid.uuid4().hex[:12]}"
        ids = chosen[choose(issue_id.encode(), every, every)]
        if len(ids) < per_partition:
            ids.append(issue_id)
    return [issue_id for ids in chosen.values() for issue_id in ids]


def around_a_corner(category: str, count: int) -> list[tuple[float, float]]:
    """`count` places 15 m around the corner of the claim grid north-east of MAIN."""
    policy = DuplicatePolicy(**yaml.safe_load(CITY_POLICY.read_text())["duplicates"])
    lat, lon = MAIN
    here = cell_of(category, lat, lon, policy)
    while cell_of(category, lat, lon, policy).row == here.row:
        lat += 0.000001
    row = cell_of(category, lat, lon, policy)
    while cell_of(category, lat, lon, policy).column == row.column:
        lon += 0.000001
    east, north = 15 / (METRES_PER_DEGREE * math.cos(math.radians(lat))), 15 / METRES_PER_DEGREE
    turns = [2 * math.pi * n / count for n in range(count)]
    places = [(lat + north * math.sin(t), lon + east * math.cos(t)) for t in turns]
    assert len({cell_of(category, *p, policy) for p in places}) >= 3
    return places


def reported(issue_id: str, category: str, place: tuple[float, float] | None) -> IssueReported:
    latitude, longitude = place or (None, None)
    payload = report("路灯坏了，晚上一片黑", category=category, region="411905003",
                     latitude=latitude, longitude=longitude)  # fmt: skip
    return IssueReported(issue_id=issue_id, producer="intake", payload=payload)


async def reports_consumed(router: ServiceProcess) -> float:
    async with httpx.AsyncClient() as client:
        text = (await client.get(f"{router.url}/metrics", timeout=10)).text
    found = re.search(r'^huiyin_events_consumed_total\{type="IssueReported"\} (\S+)$', text, re.M)
    return float(found.group(1)) if found else 0.0


async def both_own_partitions(routers: list[ServiceProcess], log: Log) -> None:
    """Reports without a place (never merged) on every partition, until each instance has
    consumed some: the group has settled with partitions on both."""
    for _ in range(20):
        ids = one_per_partition()
        await log.put(*(reported(i, "parking", None) for i in ids))
        await log.answers(ids)
        if all([await reports_consumed(r) > 0 for r in routers]):
            return
        await asyncio.sleep(1)
    raise AssertionError("the two routing instances never both owned partitions")


async def test_a_burst_of_one_problem_across_two_instances_is_one_problem(
    routers: list[ServiceProcess], log: Log
) -> None:
    await both_own_partitions(routers, log)
    for category in BURSTS + SCATTERED:
        before = [await reports_consumed(r) for r in routers]
        ids = one_per_partition(per_partition=2)
        scattered = category in SCATTERED
        places = around_a_corner(category, len(ids)) if scattered else [MAIN] * len(ids)
        await log.put(*(reported(i, category, p) for i, p in zip(ids, places, strict=True)))
        answers = await log.answers(ids)
        assigned = [i for i, e in answers.items() if e.type == "IssueAssigned"]
        assert len(assigned) == 1, f"{category}: {len(assigned)} problems opened"
        [problem] = assigned
        merged = {i: e for i, e in answers.items() if isinstance(e, IssueMerged)}
        assert set(merged) == set(ids) - {problem}
        assert {e.payload.into_issue_id for e in merged.values()} == {problem}
        after = [await reports_consumed(r) for r in routers]
        assert all(a > b for a, b in zip(after, before, strict=True)), "both took part"
    triaged = [e for e in log.events if e.type == "IssueTriaged"]
    assert len({e.issue_id for e in triaged}) == len(triaged)  # one triage per report
