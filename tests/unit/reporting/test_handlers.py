"""The use cases on an in-memory store that satisfies the store's port (type-checked)."""

import contextlib
from collections.abc import AsyncIterator
from contextlib import AbstractAsyncContextManager
from typing import Any

from services.contracts.events import Event
from services.reporting.domain import cells
from services.reporting.domain.facts import FactRules, fact_update
from services.reporting.handlers import FactsWriter, LiveProjection, ReportingHandlers
from services.runtime.mongo import Document
from tests.reporting_events import Story
from tests.unit.reporting.reporting_fold import RULES, apply, view
from tests.unit.reporting.test_reporting_rankings_lists import T0


class MemoryStore:
    """Each issue's document as MongoDB would hold it (reporting_fold.apply), and its view."""

    def __init__(self) -> None:
        self.rules: FactRules = RULES
        self.docs: dict[str, dict[str, Any]] = {}
        self.views: dict[str, Document] = {}
        self.posted: dict[str, cells.Cells] = {}
        self.cells: cells.Cells = {}

    def writing(self, issue_id: str) -> AbstractAsyncContextManager[None]:
        @contextlib.asynccontextmanager
        async def held() -> AsyncIterator[None]:
            yield

        return held()

    async def record(self, event: Event) -> bool:
        doc = self.docs.setdefault(event.issue_id, {})
        new = str(event.event_id) not in doc.get("log", {})
        apply(doc, fact_update(event))
        return new

    async def log_of(self, issue_id: str) -> Document | None:
        log: Document | None = self.docs.get(issue_id, {}).get("log")
        return log

    async def write_view(self, issue_id: str, view: Document) -> None:
        if view["_n"] >= self.views.get(issue_id, {}).get("_n", 0):
            self.views[issue_id] = view

    async def post(self, issue_id: str) -> None:
        """The cells as the store's transfers leave them (each move once)."""
        view = self.views.get(issue_id)
        new = cells.contributions(view)
        for cell, counters in cells.difference(self.posted.get(issue_id, {}), new).items():
            cells.add(self.cells.setdefault(cell, {}), counters)
        self.posted[issue_id] = new

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
