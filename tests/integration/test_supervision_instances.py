"""Supervision's timers across instances and restarts, and its views, on the real broker and
database: two instances split the partitions and fire each step once; timers that fell due
while no instance ran fire at once on start; open and overdue lists by office, region, level."""

import asyncio
from collections import Counter

from aiokafka.partitioner import DefaultPartitioner
from prometheus_client import CollectorRegistry

from services.runtime.settings import PlatformSettings
from tests.integration.test_supervision_harness import (
    STEP_TYPES,
    FakeClock,
    Issue,
    Log,
    absorbed,
    assign,
    at,
    eventually,
    http,
    owning,
    running,
)

ACCEPT_TILL_RED = [
    ("ReminderSent", "accept", "0.5"),
    ("ReminderSent", "accept", "0.8"),
    ("IssueFlagged", "accept", "yellow"),
    ("IssueFlagged", "accept", "red"),
    ("SupervisionOrdered", "accept", ""),
    ("ReminderSent", "resolve", "0.5"),
]


def spread(partitions: int, per_partition: int) -> list[Issue]:
    """Issues whose keys land `per_partition` in each partition (Kafka's default partitioner)."""
    choose, every = DefaultPartitioner(), list(range(partitions))
    chosen: dict[int, list[Issue]] = {p: [] for p in every}
    while any(len(found) < per_partition for found in chosen.values()):
        issue = Issue()
        found = chosen[choose(issue.id.encode(), every, every)]
        if len(found) < per_partition:
            found.append(issue)
    return [issue for found in chosen.values() for issue in found]


def fired(registry: CollectorRegistry) -> float:
    return sum(
        float(s.value)
        for family in registry.collect()
        for s in family.samples
        if s.name == "huiyin_supervision_steps_fired_total"
    )


async def test_two_instances_split_the_partitions_and_fire_each_step_once(
    settings: PlatformSettings,
) -> None:
    clock, issues = FakeClock(), spread(settings.partitions, 4)
    async with (
        Log(settings) as log,
        running(settings, clock) as one,
        running(settings, clock) as two,
    ):
        await owning(one, two, partitions=settings.partitions)
        await assign(log, one, *issues)
        clock.set(at(11, 24, 22))
        for issue in issues:
            assert await log.fired(issue, len(ACCEPT_TILL_RED)) == ACCEPT_TILL_RED
        counts = [one.runtime.metrics.registry, two.runtime.metrics.registry]
        expected = len(issues) * len(ACCEPT_TILL_RED)
        await eventually(lambda: sum(map(fired, counts)) == expected, "firings counted")
        assert all(fired(registry) > 0 for registry in counts), "each instance fired its share"
    copies = Counter(e.event_id for i in issues for e in log.of(i, *STEP_TYPES))
    assert len(copies) == expected and set(copies.values()) == {1}


async def test_timers_due_while_no_instance_ran_fire_at_once_on_start(
    settings: PlatformSettings,
) -> None:
    clock, issues = FakeClock(), [Issue() for _ in range(20)]
    async with Log(settings) as log:
        async with running(settings, clock) as sup:
            await owning(sup, partitions=settings.partitions)
            await assign(log, sup, *issues)
        clock.set(at(11, 24, 10))  # while it is down, the accept clocks run out
        async with running(settings, clock) as sup:
            await owning(sup, partitions=settings.partitions)
            for issue in issues:
                assert await log.fired(issue, 3) == ACCEPT_TILL_RED[:3]
    steps = Counter(e.event_id for i in issues for e in log.of(i, *STEP_TYPES))
    assert len(steps) == 3 * len(issues) and set(steps.values()) == {1}


async def test_open_clocks_and_overdue_lists_by_office_region_and_level(
    settings: PlatformSettings,
) -> None:
    clock, east, west = FakeClock(), Issue(office="office-east"), Issue(office="office-west")
    async with Log(settings) as log, running(settings, clock) as sup, http(sup) as client:
        await owning(sup, partitions=settings.partitions)
        await assign(log, sup, east, west)
        accepted = west.accepted(at(11, 23, 11))
        await log.publish(accepted)
        await absorbed(sup, accepted)

        async def listed(**params: str) -> list[tuple[str, str]]:
            body = (await client.get("/clocks/open", params=params)).json()
            return [(row["office_id"], row["clock"]) for row in body["clocks"]]

        assert await listed(office_id="office-east") == [
            ("office-east", "accept"),
            ("office-east", "resolve"),
        ]
        assert await listed(office_id="office-west") == [("office-west", "resolve")]
        assert len(await listed(region_code="410102", level="township")) == 3
        assert await listed(clock="accept") == [("office-east", "accept")]
        assert await listed(level="city") == []

        clock.set(at(11, 24, 12))  # the east office never accepted: overdue, yellow
        await log.fired(east, 3)
        # a step is recorded as fired just after its event is published: read until it is
        async with asyncio.timeout(10):
            while True:
                overdue = (await client.get("/clocks/overdue")).json()
                if overdue["clocks"] and overdue["clocks"][0]["flag"] == "yellow":
                    break
                await asyncio.sleep(0.05)
        assert (overdue["count"], overdue["by_office"]) == (1, {"office-east": 1})
        row = overdue["clocks"][0]
        assert (row["clock"], row["flag"], row["overdue_hours"]) == ("accept", "yellow", 2.0)
        assert row["next_step"]["step"] == "red"
        west_only = await client.get("/clocks/overdue", params={"office_id": "office-west"})
        assert west_only.json()["count"] == 0
        for path in ("/clocks/open", "/clocks/overdue"):  # no such code: said, not an empty list
            refused = await client.get(path, params={"region_code": "41O1"})
            assert refused.status_code == 422
            assert refused.json()["detail"][0]["loc"] == ["query", "region_code"]

        assert (await client.get("/issues/nobody/clocks")).json() == []
        assert (await client.get("/issues/nobody/clock-history")).status_code == 404
        # Supervision changes no clock over HTTP: decisions enter through intake.
        body = {"granted": True, "decided_by": "supervisor", "reason": "x"}
        closed = await client.post(f"/issues/{east.id}/extension-decision", json=body)
        assert closed.status_code == 404
