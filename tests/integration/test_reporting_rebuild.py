"""A rebuild of many issues on the local engine, beside a live generation: bulk reads of the
log (each partition in several passes, as when it holds more events than a rebuild folds in
memory at once), the fold in memory (its sums added to the cells in parts), bulk inserts into
a new generation, one switch, the old generation dropped; the rebuilt documents and cells are
those the live fold gives.

The size is REPORTING_REBUILD_ISSUES (default 3,000 issues, about 28,000 events: tens of
thousands of events; set 20000 for tens of thousands of issues on an idle machine)."""

import os
import random
import time
from typing import Any

from aiokafka import AIOKafkaProducer

from bench.scale import story
from services.contracts.events import Event, encode
from services.reporting.adapters.log import KafkaLog
from services.reporting.adapters.spill import SpilledCells
from services.reporting.adapters.store import ReportingStore, facts_name
from services.reporting.domain import cells
from services.reporting.domain.facts import FactRules
from services.reporting.handlers import count, rebuild
from services.runtime.broker import ensure_topics
from services.runtime.settings import PlatformSettings
from tests.integration.test_reporting_cells import SHANGHAI, counted_over

ISSUES = int(os.environ.get("REPORTING_REBUILD_ISSUES", "3000"))


async def produce(settings: PlatformSettings, events: list[Event]) -> None:
    await ensure_topics(settings)
    producer = AIOKafkaProducer(
        bootstrap_servers=settings.kafka_bootstrap, acks="all", linger_ms=20
    )
    await producer.start()
    try:
        for event in events:
            await producer.send(settings.issues_topic, encode(event), key=event.issue_id.encode())
        await producer.flush()
    finally:
        await producer.stop()


async def test_a_rebuild_of_many_issues_beside_the_live_generation(
    settings: PlatformSettings, mongo: Any
) -> None:
    rng = random.Random(18)
    by_issue = {f"s{n}": story(n, rng) for n in range(ISSUES)}
    events = [e for evs in by_issue.values() for e in evs]
    await produce(settings, events)
    store = ReportingStore(mongo[settings.database("reporting")], FactRules(SHANGHAI))
    live = await store.live()
    first = by_issue["s0"]
    for event in first:  # the live generation has something to serve meanwhile
        await count(live, event)
    assert await store.generation() == 0

    started = time.perf_counter()
    # bounds on the events folded and the cell counters summed at once that make every
    # partition take several passes and the cells' sums be made in many parts
    bound = max(1, len(events) // (3 * settings.partitions))
    log = KafkaLog(settings.kafka_bootstrap, settings.issues_topic)
    with SpilledCells() as spill:
        status = await rebuild(log, store, spill, memory_events=bound, cell_counters=ISSUES * 10)
    took = time.perf_counter() - started
    print(f"rebuilt {status.applied} events of {status.issues} issues in {took:.1f} s "
          f"({status.events_per_second:,.0f} events/s to the switch)")  # fmt: skip
    assert status.state == "done" and status.applied == len(events) and status.issues == ISSUES
    assert status.passes >= 2 * settings.partitions  # each partition read in shares
    assert status.spilled >= 2  # the sums made in parts, on disk
    assert status.cells == len(await store.all_cells())  # and each cell inserted once
    assert await store.generation() == status.generation == 1
    names = await mongo[settings.database("reporting")].list_collection_names()
    assert facts_name(0) not in names and facts_name(1) in names  # the old one dropped

    docs = await store.documents()
    assert len(docs) == ISSUES
    sample = ("s0", "s1", f"s{ISSUES // 2}", f"s{ISSUES - 1}")
    beside = store.pinned(99)  # the live fold of the same events, event by event
    for issue in sample:
        for event in by_issue[issue]:
            await count(beside, event)
    folded_live = await beside.documents()
    await beside.drop_generation(99)
    for issue in sample:
        assert docs[issue]["view"] == folded_live[issue]["view"]
        assert docs[issue]["posted"] == folded_live[issue]["posted"]
        assert sorted(docs[issue]["_applied"]) == sorted(folded_live[issue]["_applied"])
    assert not [d["_id"] for d in docs.values() if "pending" in d]
    assert cells.nonzero(await store.all_cells()) == counted_over(docs)

    again = by_issue["s1"]  # the live path on the new generation changes nothing
    for event in again:
        assert not await count(await store.live(), event)
    assert cells.nonzero(await store.all_cells()) == counted_over(docs)
