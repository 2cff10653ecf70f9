"""How fast reporting's live path counts events into its projection on the local engine.

BENCH_LIVE_ISSUES issues (default 200) of bench.scale's city lives, their events in the order
of their times (as the live log has them: issues interleaved), handed to reporting's live
handler in consumer batches of BENCH_LIVE_BATCH (default 500) records, into a fresh database;
BENCH_LIVE_RUNS runs (default 3): events/s min / median / max. Kafka is bypassed (the
handler is what the consumer runs). `python -m bench.reporting_live`.
"""

import asyncio
import os
import random
import statistics
import time
import uuid
from contextlib import ExitStack
from zoneinfo import ZoneInfo

from bench.scale import story
from devkit.infra import endpoints
from services.reporting.adapters.store import ReportingStore
from services.reporting.domain.facts import FactRules
from services.reporting.handlers import ReportingHandlers
from services.runtime.consumer import Delivered, Delivery
from services.runtime.mongo import make_mongo_client
from services.runtime.settings import PlatformSettings

ISSUES = int(os.environ.get("BENCH_LIVE_ISSUES", "200"))
BATCH = int(os.environ.get("BENCH_LIVE_BATCH", "500"))
RUNS = int(os.environ.get("BENCH_LIVE_RUNS", "3"))


async def one_run(platform: PlatformSettings, run: int) -> tuple[int, float]:
    rng = random.Random(run)
    events = sorted((e for n in range(ISSUES) for e in story(n, rng)), key=lambda e: e.occurred_at)
    delivered = [Delivered(e, Delivery(0, i)) for i, e in enumerate(events)]
    mongo = make_mongo_client(platform)
    name = f"{platform.database('reporting')}_live{run}"
    store = ReportingStore(mongo[name], FactRules(ZoneInfo("Asia/Shanghai")))
    handlers = ReportingHandlers(store)
    try:
        await store.ensure_indexes()
        started = time.perf_counter()
        for start in range(0, len(delivered), BATCH):
            await handlers.handle_batch(delivered[start : start + BATCH])
        took = time.perf_counter() - started
    finally:
        await mongo.drop_database(name)
        await mongo.close()
    return len(events), took


async def main(platform: PlatformSettings) -> None:
    rates = []
    for run in range(RUNS):
        n, took = await one_run(platform, run)
        rates.append(n / took)
        print(
            f"run {run}: {n} events of {ISSUES} issues in {took:.1f} s = {n / took:,.0f} events/s"
        )
    print(f"live events/s: min {min(rates):,.0f}  median {statistics.median(rates):,.0f}  "
          f"max {max(rates):,.0f}  (batches of {BATCH})")  # fmt: skip


if __name__ == "__main__":
    with ExitStack() as stack:
        found = endpoints(stack)
        name = f"live{uuid.uuid4().hex[:8]}"
        settings = PlatformSettings(
            kafka_bootstrap=found.kafka_bootstrap, mongo_url=found.mongo_url,
            topic_prefix=f"{name}.", database_prefix=f"{name}_",
        )  # fmt: skip
        asyncio.run(main(settings))
