"""Routing's, intake's and notify's consumers alone, on a backlog: events/s and database round
trips per event (issue 17 item 3).

Each run takes a fresh namespace, puts `--events` reports of the simulator's day mix on the
facts topic, then starts routing (in this process, as its composition root builds it) and
times it from its group's first commit to its last (so joining the group and the first batch
are left out); then intake the same way, over the whole topic (the reports and what routing
derived); then notify the same way, with its sending loop left stopped (the consumer alone:
what it records is not sent). A pymongo listener counts the commands each service's database
is sent; the run's topics and databases are dropped at its end. Three runs: min/median/max.

    python -m bench.consumers            # BENCH_CONSUMER_EVENTS=2000 BENCH_CONSUMER_RUNS=3
"""

import argparse
import asyncio
import json
import os
import statistics
import time
import uuid
from collections import Counter
from typing import Any

from aiokafka import AIOKafkaConsumer, AIOKafkaProducer, TopicPartition
from aiokafka.admin import AIOKafkaAdminClient
from fastapi import FastAPI
from pymongo import monitoring

from devkit.namespaces import drop_namespace
from devkit.simulator.mixes import City as SimCity
from devkit.simulator.mixes import Plan, plan_report
from services.contracts.events import IssueReported, IssueReportedPayload, Location, encode
from services.intake.app import build_app as build_intake
from services.intake.settings import IntakeSettings
from services.notify.app import build_service as build_notify
from services.notify.settings import NotifySettings
from services.routing.app import build_app as build_routing
from services.routing.settings import RoutingSettings
from services.runtime.broker import ensure_topics
from services.runtime.settings import PlatformSettings

SERVICES = ("routing", "intake", "notify")
IGNORED = frozenset({"hello", "isMaster", "ismaster", "ping", "endSessions", "buildInfo"})


class Commands(monitoring.CommandListener):
    """Commands sent, by database."""

    def __init__(self) -> None:
        self.sent: Counter[str] = Counter()

    def started(self, event: monitoring.CommandStartedEvent) -> None:
        if event.command_name not in IGNORED:
            self.sent[event.database_name] += 1

    def succeeded(self, event: monitoring.CommandSucceededEvent) -> None:
        pass

    def failed(self, event: monitoring.CommandFailedEvent) -> None:
        pass


COMMANDS = Commands()
monitoring.register(COMMANDS)


def options(argv: list[str] | None = None) -> argparse.Namespace:
    env = os.environ.get
    parser = argparse.ArgumentParser(
        prog="python -m bench.consumers",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument(
        "--events",
        type=int,
        default=int(env("BENCH_CONSUMER_EVENTS", "2000")),
        help="reports put on the topic (routing derives more)",
    )
    parser.add_argument("--runs", type=int, default=int(env("BENCH_CONSUMER_RUNS", "3")))
    return parser.parse_args(argv)


def reports(count: int) -> list[IssueReported]:
    city, plans = SimCity.load(), list[Plan]()
    for n in range(count):
        plans.append(plan_report(17, n, city, plans))
    found = []
    for plan in plans:
        body = plan.body
        payload = IssueReportedPayload(
            channel=body["channel"],
            kind=body["kind"],
            text=body["text"],
            category=body.get("category"),
            location=Location(**body["location"]),
            reporter_type=body["reporter_type"],
            direct_handling="direct_answer" in body,
        )
        found.append(IssueReported(issue_id=str(uuid.uuid4()), producer="intake", payload=payload))
    return found


async def end_offsets(settings: PlatformSettings) -> dict[TopicPartition, int]:
    consumer = AIOKafkaConsumer(bootstrap_servers=settings.kafka_bootstrap)
    await consumer.start()
    try:
        parts = [TopicPartition(settings.issues_topic, p) for p in range(settings.partitions)]
        return dict(await consumer.end_offsets(parts))
    finally:
        await consumer.stop()


async def committed_rate(
    settings: PlatformSettings, group: str, target: dict[TopicPartition, int]
) -> tuple[int, float]:
    """Events the group committed from its first commit on, and the seconds it took: the
    consumer's own pace, without joining the group and reading the first batch."""
    admin = AIOKafkaAdminClient(bootstrap_servers=settings.kafka_bootstrap)
    await admin.start()
    first: tuple[int, float] | None = None
    try:
        while True:
            offsets = await admin.list_consumer_group_offsets(group)
            done = sum(
                min(o.offset, target.get(tp, 0)) for tp, o in offsets.items() if o.offset > 0
            )
            now = time.perf_counter()
            if first is None and done > 0:
                first = (done, now)
            if first is not None and done >= sum(target.values()):
                return done - first[0], now - first[1]
            await asyncio.sleep(0.02)
    finally:
        await admin.close()


async def timed(app: FastAPI, settings: PlatformSettings, service: str) -> dict[str, Any]:
    """`service`'s consumer over the whole topic: the events on it, those it handled after its
    first commit, the seconds that took, and the commands it sent in all."""
    target = await end_offsets(settings)
    database = settings.database(service)
    before = COMMANDS.sent[database]
    async with app.router.lifespan_context(app):
        group = f"{settings.topic_prefix}huiyin-{service}"
        counted, seconds = await asyncio.wait_for(
            committed_rate(settings, group, target), timeout=1800
        )
    return {
        "events": sum(target.values()),
        "counted": counted,
        "seconds": seconds,
        "commands": COMMANDS.sent[database] - before,
    }


async def one_run(events: list[IssueReported]) -> dict[str, Any]:
    namespace = f"bc{uuid.uuid4().hex[:8]}"
    platform = PlatformSettings(
        topic_prefix=f"{namespace}.", database_prefix=f"{namespace}_", log_json=False
    )
    platform = platform.model_copy(update={"log_level": "WARNING"})
    try:
        await ensure_topics(platform)
        producer = AIOKafkaProducer(bootstrap_servers=platform.kafka_bootstrap, linger_ms=5)
        await producer.start()
        try:
            sent = [
                await producer.send(
                    platform.issues_topic,
                    encode(e),
                    key=e.issue_id.encode(),
                    headers=[("type", b"IssueReported")],
                )
                for e in events
            ]
            await asyncio.gather(*sent)
        finally:
            await producer.stop()
        result: dict[str, Any] = {}
        routing = build_routing(RoutingSettings(platform=platform))
        result["routing"] = await timed(routing, platform, "routing")
        intake = build_intake(IntakeSettings(platform=platform))
        result["intake"] = await timed(intake, platform, "intake")
        notify = build_notify(NotifySettings(platform=platform))
        notify.runtime.on_startup.remove(notify.dispatcher.start)  # the consumer alone
        result["notify"] = await timed(notify.app, platform, "notify")
    finally:  # its topics and databases, whatever happened
        await drop_namespace(platform.kafka_bootstrap, platform.mongo_url, namespace)
    return result


def spread(values: list[float]) -> str:
    return f"{min(values):.3g} / {statistics.median(values):.3g} / {max(values):.3g}"


async def main(argv: list[str] | None = None) -> None:
    chosen = options(argv)
    events = reports(chosen.events)
    runs = [await one_run(events) for _ in range(chosen.runs)]
    print(json.dumps(runs, indent=1))
    print(
        f"{'consumer':<10} {'events':>7} {'events/s min/median/max':>26} {'round trips/event':>20}"
    )
    for service in SERVICES:
        # a backlog read in the first batch leaves no time after the first commit to time
        paced = [r[service] for r in runs if r[service]["counted"]]
        rates = spread([t["counted"] / t["seconds"] for t in paced]) if paced else "one batch"
        trips = [r[service]["commands"] / r[service]["events"] for r in runs]
        print(f"{service:<10} {runs[0][service]['events']:>7} {rates:>26} {spread(trips):>20}")


if __name__ == "__main__":
    asyncio.run(main())
