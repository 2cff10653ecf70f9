"""No scan in routing's and intake's consumers (issue 17 item 2): their handlers run on the
real database with the query log on, a batch at a time and one event at a time (the path a
batch falls back to), and every query they asked is explained (`assert_no_scan`)."""

from collections.abc import Iterable
from pathlib import Path

from services.contracts.events import (
    Envelope,
    Event,
    IssueAssigned,
    IssueReturned,
    IssueReturnedPayload,
)
from services.intake.adapters.store import IntakeStore
from services.routing.adapters.city_files import load_city
from services.routing.adapters.store import RoutingStore
from services.routing.domain.locating import GridIndex
from services.routing.handlers import RoutingHandlers
from services.routing.settings import RoutingSettings
from services.runtime.mongo import make_mongo_client
from services.runtime.settings import PlatformSettings
from tests.integration.test_no_scan import assert_no_scan
from tests.unit.routing.test_batches import burst, closed
from tests.unit.routing.test_handlers import MAIN, located


class Published:
    def __init__(self) -> None:
        self.events: list[Envelope] = []

    async def publish(self, *events: Envelope) -> None:
        self.events.extend(events)

    async def publish_all(self, events: Iterable[Envelope]) -> None:
        self.events.extend(events)


async def test_routing_and_intakes_consumer_ask_nothing_that_scans(
    settings: PlatformSettings, tmp_path: Path
) -> None:
    noted = tmp_path / "queries.jsonl"
    settings = settings.model_copy(update={"mongo_explain_log": noted})
    client = make_mongo_client(settings)
    try:
        city = load_city(RoutingSettings().city)
        store, published = RoutingStore(client[settings.database("routing")]), Published()
        routing = RoutingHandlers(city, GridIndex.of(city), store, published)
        events = burst(1, count=12)
        await routing.batch(events)  # a batch whole
        first = next(e for e in published.events if isinstance(e, IssueAssigned))
        returned = IssueReturned(
            issue_id=first.issue_id, producer="intake",
            payload=IssueReturnedPayload(office_id=first.payload.office_id, reason="not ours"),
        )  # fmt: skip
        later: list[Event] = [returned, located("i-alone", *MAIN), closed("i-alone")]
        await routing.batch(later)
        for event in later:  # one at a time, as a batch falls back to
            await routing.one(event)
        assert await store.history(first.issue_id) is not None

        intake = IntakeStore(client[settings.database("intake")])
        log: list[Event] = [*events, *published.events]  # type: ignore[list-item]
        await intake.apply_all([(e, n) for n, e in enumerate(log)])
        await intake.apply(log[0], 0)
    finally:
        await client.close()
    logged = await assert_no_scan(noted, settings)
    asked = {(one.collection, one.command) for one, _ in logged}
    assert {("issues", "find"), ("issues", "update"), ("claims", "find")} <= asked
    assert ("claims", "update") in asked and ("claims", "delete") in asked
