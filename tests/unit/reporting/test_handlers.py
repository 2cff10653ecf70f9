"""The use cases on an in-memory store that satisfies the store's port (type-checked)."""

import asyncio
import contextlib
import itertools
from collections.abc import AsyncIterator, Iterable, Sequence
from contextlib import AbstractAsyncContextManager

import pytest

from services.reporting import handlers
from services.reporting.domain import cells
from services.reporting.domain.facts import FactRules
from services.reporting.domain.transfers import Change, Stored, merged
from services.reporting.handlers import FactsWriter, LiveProjection, ReportingHandlers
from services.runtime.consumer import Delivered, Delivery
from services.runtime.mongo import Document
from tests.reporting_events import Story
from tests.unit.reporting.reporting_fold import RULES, view
from tests.unit.reporting.test_reporting_rankings_lists import T0


class MemoryStore:
    """Each issue's document as the store's claims leave it, its view, and the cells as the
    store's transfers leave them (each move once)."""

    def __init__(self) -> None:
        self.rules: FactRules = RULES
        self.docs: dict[str, Stored] = {}
        self.views: dict[str, Document] = {}
        self.cells: cells.Cells = {}
        self.commits = 0

    def writing(self, issue_ids: Iterable[str]) -> AbstractAsyncContextManager[None]:
        @contextlib.asynccontextmanager
        async def held() -> AsyncIterator[None]:
            yield

        return held()

    async def load(self, issue_ids: Iterable[str]) -> dict[str, Stored]:
        return {i: self.docs.get(i, Stored(i)) for i in issue_ids}

    async def commit(self, changes: Sequence[Change]) -> set[str]:
        self.commits += 1
        totals, _ = merged(changes)
        for change in changes:
            self.docs[change.issue_id] = change.after()
            self.views[change.issue_id] = change.view
        for cell, counters in totals.items():
            cells.add(self.cells.setdefault(cell, {}), counters)
        return set()

    async def settle(self) -> None:
        pass

    async def live(self) -> "MemoryStore":
        return self


async def test_an_event_twice_and_out_of_order_gives_the_same_view() -> None:
    story = Story("h1", T0).triage().assign("water").accept(1).resolve(2)
    store = MemoryStore()
    port: FactsWriter = store  # the fake is type-checked against both ports
    assert port is store
    live: LiveProjection = store
    handlers = ReportingHandlers(live)
    applied = [await handlers.apply(e) for e in [*reversed(story.events), *story.events]]
    assert applied == [True] * len(story.events) + [False] * len(story.events)
    assert store.views["h1"] == view(story.events)
    assert store.views["h1"]["office_name"] == "office-water"
    assert cells.nonzero(store.cells) == cells.contributions(store.views["h1"])


async def test_a_batch_is_one_commit_and_equals_the_events_one_by_one() -> None:
    stories = [Story(f"b{n}", T0).triage().assign("water").accept(1).resolve(2) for n in range(3)]
    events = [e for s in stories for e in s.events]
    one_by_one, batched = MemoryStore(), MemoryStore()
    for event in events:
        await ReportingHandlers(one_by_one).apply(event)
    delivered = [Delivered(e, Delivery(0, i)) for i, e in enumerate([*events, *events])]
    await ReportingHandlers(batched).handle_batch(delivered)  # copies inside the batch too
    assert batched.commits == 1
    assert batched.views == one_by_one.views
    assert cells.nonzero(batched.cells) == cells.nonzero(one_by_one.cells)
    assert {i: d.rev for i, d in batched.docs.items()} == dict.fromkeys(batched.docs, 1)


class ContendedStore(MemoryStore):
    """Another writer keeps changing the batch's documents: the first `refusals` commits are
    refused whole, and the moments they come at are noted."""

    def __init__(self, refusals: int) -> None:
        super().__init__()
        self.refusals = refusals
        self.at: list[float] = []

    async def commit(self, changes: Sequence[Change]) -> set[str]:
        self.at.append(asyncio.get_running_loop().time())
        if len(self.at) <= self.refusals:
            return {c.issue_id for c in changes}
        return await super().commit(changes)


async def test_a_batch_refused_by_other_writers_reads_again_later_each_time(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(handlers, "BACKOFF", 0.001)
    events = Story("c1", T0).triage().assign("water").events
    store = ContendedStore(refusals=handlers.ATTEMPTS - 1)
    assert await handlers.count_batch(store, events) == {str(e.event_id) for e in events}
    waits = [later - sooner for sooner, later in itertools.pairwise(store.at)]
    assert all(wait >= handlers.BACKOFF * 2**n * 0.5 for n, wait in enumerate(waits, 1))
    assert store.views["c1"] == view(events)
    with pytest.raises(RuntimeError, match="kept changing"):
        await handlers.count_batch(ContendedStore(refusals=handlers.ATTEMPTS), events)
