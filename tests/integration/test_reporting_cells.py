"""The count cells on the local engine: random issues' events played in random orders, with
copies, in consumer batches of random sizes, and with crashes between the writes of a batch
(before or after any bulk write of the facts or the cells reaches the database; the batch
redelivered whole after), leave the cells equal to a count over the fact documents — each
contribution moved once — and no transfer pending, no marker left in a cell."""

import asyncio
import itertools
import random
from datetime import datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from hypothesis import HealthCheck, given
from hypothesis import settings as hypothesis_settings
from hypothesis import strategies as st
from pymongo.asynchronous.collection import AsyncCollection

from services.contracts.events import Event
from services.contracts.vocabulary import Flag, Satisfaction
from services.reporting.adapters.store import ReportingStore
from services.reporting.domain import cells
from services.reporting.domain.facts import FactRules
from services.reporting.handlers import count, count_batch
from services.runtime.mongo import Document, make_mongo_client
from services.runtime.settings import PlatformSettings
from tests.reporting_events import Story

SHANGHAI = ZoneInfo("Asia/Shanghai")
T0 = datetime(2026, 10, 30, 20, 0, tzinfo=SHANGHAI)  # stories cross a day and a month
SAT, DISSAT = Satisfaction.SATISFIED, Satisfaction.DISSATISFIED
RUN = itertools.count()


def story(n: int, shape: int) -> Story:
    """One of a few lives of an issue, in several regions, offices and categories."""
    region = ("411901001001", "411902001", "411901")[n % 3]
    category = ("street_lighting", "sanitation")[n % 2]
    s = Story(f"p{n}", T0 + timedelta(hours=7 * n), region=region, category=category)
    match shape:
        case 0:
            return s.answer(1)
        case 1:
            return s.triage().assign(f"o{n % 2}").accept(3).resolve(30).visit(SAT, True, 2)
        case 2:
            return (
                s.triage().assign("o1").remind(2).flag(Flag.YELLOW, 1)
                .supervise_and_escalate("county", 1).accept(1).resolve(5)
                .visit(DISSAT, False, 1).reopen(0).assign("o2", 0.5).accept(1).resolve(1).close(1)
            )  # fmt: skip
        case _:
            return s.triage().assign("o0").give_back(2).assign("o1", 1).accept(30)


class Crash(Exception):
    """The process died between two writes."""


class Crashing(ReportingStore):
    """The store whose bulk writes (facts and cells) sometimes die, before or after they
    reach the database."""

    def __init__(self, *args: Any, rng: random.Random, rate: float, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.rng, self.rate = rng, rate

    async def _cells(self) -> AsyncCollection[Document]:
        return self._flaky(await super()._cells())

    async def _facts(self) -> AsyncCollection[Document]:
        return self._flaky(await super()._facts())

    def _flaky(self, collection: AsyncCollection[Document]) -> AsyncCollection[Document]:
        real = collection.bulk_write

        async def flaky(*args: Any, **kwargs: Any) -> Any:
            if self.rng.random() < self.rate / 2:
                raise Crash("before the write")
            done = await real(*args, **kwargs)
            if self.rng.random() < self.rate / 2:
                raise Crash("after the write")
            return done

        setattr(collection, "bulk_write", flaky)  # noqa: B010
        return collection


def counted_over(docs: dict[str, Document]) -> dict[str, dict[str, int]]:
    totals: dict[str, dict[str, int]] = {}
    for doc in docs.values():
        for cell, counters in cells.contributions(doc["view"]).items():
            cells.add(totals.setdefault(cell, {}), counters)
    return cells.nonzero(totals)


@st.composite
def plays(draw: st.DrawFn) -> tuple[list[int], list[int], int, float, int]:
    shapes = draw(st.lists(st.integers(0, 3), min_size=1, max_size=4))
    copies = draw(st.lists(st.integers(1, 3), min_size=40, max_size=40))
    seed = draw(st.integers(0, 2**32 - 1))
    rate = draw(st.sampled_from([0.0, 0.1, 0.3]))
    batch = draw(st.sampled_from([1, 3, 8, 40]))
    return shapes, copies, seed, rate, batch


@hypothesis_settings(
    max_examples=10,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(play=plays())
def test_cells_equal_a_count_over_the_facts_whatever_the_order_copies_and_crashes(
    settings: PlatformSettings, play: tuple[list[int], list[int], int, float, int]
) -> None:
    asyncio.run(_play(settings, *play))


async def _play(
    settings: PlatformSettings,
    shapes: list[int],
    copies: list[int],
    seed: int,
    rate: float,
    batch: int,
) -> None:
    events: list[Event] = [e for n, shape in enumerate(shapes) for e in story(n, shape).events]
    delivered = [e for i, e in enumerate(events) for _ in range(copies[i % len(copies)])]
    rng = random.Random(seed)
    rng.shuffle(delivered)
    client = make_mongo_client(settings)
    name = f"{settings.database('reporting')}_cells{next(RUN)}"
    rules = FactRules(SHANGHAI)
    try:
        crashing = Crashing(client[name], rules, 0, rng=rng, rate=rate)
        redeliver = []
        for start in range(0, len(delivered), batch):
            batched = delivered[start : start + batch]
            try:
                await count_batch(crashing, batched)
            except Crash:
                redeliver.extend(batched)  # not committed: the consumer gets them again
        store = ReportingStore(client[name], rules, 0)
        for event in redeliver:
            await count(store, event)
        await store.settle()  # the markers of transfers done: gone once the log is caught up
        await crashing.settle()
        docs = await store.documents()
        assert sorted(docs) == sorted({e.issue_id for e in events})
        assert not [d["_id"] for d in docs.values() if "pending" in d]
        stored = await client[name]["issue_cells"].find({}).to_list()
        assert not [c["_id"] for c in stored if c.get("applied")]  # markers pruned
        assert cells.nonzero(await store.all_cells()) == counted_over(docs)
    finally:
        await client.drop_database(name)
        await client.close()
