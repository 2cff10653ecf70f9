"""How fast reporting rebuilds its projection from the log, and how fast it reads it back.

N issues (BENCH_ISSUES, default 500), each with the events of a full life (triaged,
assigned with two clocks, accepted, resolved, visited, closed: 8 events), are produced to a
fresh namespace; `rebuild` then drops and rebuilds the projection, timed. Then /rates and
/lists/tasks are computed over all of it, timed. `python -m bench.reporting_rebuild`.
"""

import asyncio
import os
import time
import uuid
from contextlib import ExitStack
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

from devkit.infra import endpoints
from services.contracts.vocabulary import Satisfaction
from services.reporting.adapters.log import KafkaLog
from services.reporting.adapters.spill import SpilledCells
from services.reporting.adapters.store import ReportingStore
from services.reporting.domain import lists
from services.reporting.domain.facts import FactRules
from services.reporting.domain.rates import rates
from services.reporting.handlers import rebuild
from services.runtime.mongo import make_mongo_client
from services.runtime.settings import PlatformSettings
from tests.integration.reporting_harness import publish
from tests.reporting_events import Story

ISSUES = int(os.environ.get("BENCH_ISSUES", "500"))
T0 = datetime(2026, 10, 12, 1, tzinfo=UTC)


async def main(platform: PlatformSettings) -> None:
    events = [
        event
        for n in range(ISSUES)
        for event in Story(f"b{n}", T0 + timedelta(seconds=n)).triage().assign(f"o{n % 20}")
        .accept(1).resolve(5).visit(Satisfaction.SATISFIED, True, 2).close(1).events
    ]  # fmt: skip
    await publish(platform, events)
    mongo = make_mongo_client(platform)
    store = ReportingStore(
        mongo[platform.database("reporting")], FactRules(ZoneInfo("Asia/Shanghai"))
    )
    try:
        started = time.perf_counter()
        with SpilledCells() as spill:
            log = KafkaLog(platform.kafka_bootstrap, platform.issues_topic)
            status = await rebuild(log, store, spill)
        took = time.perf_counter() - started
        print(f"rebuild: {status.applied} events of {ISSUES} issues in {took:.1f} s "
              f"= {status.applied / took:.0f} events/s")  # fmt: skip
        started = time.perf_counter()
        facts = await store.facts({"reported_day": {"$ne": None}})
        counted, tasks = rates(facts), lists.tasks(facts)
        took = time.perf_counter() - started
        print(f"read back {len(facts)} facts, rates and task list in {took * 1000:.0f} ms "
              f"(received {counted.received}, {len(tasks)} tasks)")  # fmt: skip
    finally:
        await mongo.drop_database(platform.database("reporting"))
        await mongo.close()


if __name__ == "__main__":
    with ExitStack() as stack:
        found = endpoints(stack)
        name = f"bench{uuid.uuid4().hex[:8]}"
        settings = PlatformSettings(
            kafka_bootstrap=found.kafka_bootstrap, mongo_url=found.mongo_url,
            topic_prefix=f"{name}.", database_prefix=f"{name}_",
        )  # fmt: skip
        asyncio.run(main(settings))
