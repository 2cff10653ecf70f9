"""Intake's status view on the real MongoDB-wire server: an issue's events applied in
different orders, with copies republished later in the log, concurrently from two clients
(two intake instances, or the API beside the consumer), end in the same document."""

import asyncio
import random
import uuid
from datetime import timedelta
from typing import Any

from pymongo import AsyncMongoClient, monitoring

from services.contracts.events import Event, IssueReported
from services.intake.adapters.store import IntakeStore
from services.runtime.settings import PlatformSettings
from tests.unit.reporting.test_reporting_facts import EVENTS


def deliveries(seed: int) -> list[tuple[Event, int]]:
    rng = random.Random(seed)
    order = [(event, offset) for offset, event in enumerate(EVENTS)]
    rng.shuffle(order)
    copies = [
        (EVENTS[i].model_copy(update={"occurred_at": EVENTS[i].occurred_at + timedelta(hours=1)}),
         len(EVENTS) + 10 + n)
        for n, i in enumerate(rng.sample(range(len(EVENTS)), 5))
    ]  # fmt: skip
    return order + copies


async def test_any_order_and_copies_from_two_clients_give_the_same_document(
    mongo: AsyncMongoClient[Any], settings: PlatformSettings, namespace: str
) -> None:
    other: AsyncMongoClient[Any] = AsyncMongoClient(settings.mongo_url, tz_aware=True)
    try:
        in_order = IntakeStore(mongo[f"{namespace}_intake_a"])
        for offset, event in enumerate(EVENTS):
            await in_order.apply(event, offset)
        expected = await in_order.issue("hard")
        assert expected is not None and expected["state"] == "closed"

        for seed in range(3):
            db = f"{namespace}_intake_b{seed}"
            first, second = IntakeStore(mongo[db]), IntakeStore(other[db])
            mine = deliveries(seed)
            await asyncio.gather(
                *(store.apply(event, offset)
                  for n, (event, offset) in enumerate(mine)
                  for store in ([first, second] if n % 2 else [second]))
            )  # fmt: skip
            assert await first.issue("hard") == expected, seed
    finally:
        await other.close()


async def test_batches_beside_single_events_give_the_same_document(
    mongo: AsyncMongoClient[Any], settings: PlatformSettings, namespace: str
) -> None:
    """The consumer's batches (`apply_all`: one bulk write per step) beside the API's single
    events, copies included, end in the document one event at a time gives."""
    other: AsyncMongoClient[Any] = AsyncMongoClient(settings.mongo_url, tz_aware=True)
    try:
        in_order = IntakeStore(mongo[f"{namespace}_intake_a"])
        await in_order.apply_all(list(zip(EVENTS, range(len(EVENTS)), strict=True)))
        expected = await in_order.issue("hard")
        assert expected is not None and expected["state"] == "closed"
        one_by_one = IntakeStore(mongo[f"{namespace}_intake_o"])
        for offset, event in enumerate(EVENTS):
            await one_by_one.apply(event, offset)
        assert await one_by_one.issue("hard") == expected

        for seed in range(3):
            db = f"{namespace}_intake_c{seed}"
            batches, singles = IntakeStore(mongo[db]), IntakeStore(other[db])
            mine = deliveries(seed)
            cut = [mine[n : n + 4] for n in range(0, len(mine), 4)]
            await asyncio.gather(
                *(batches.apply_all(chunk) for chunk in cut),
                *(singles.apply(event, offset) for event, offset in mine[::3]),
            )
            assert await batches.issue("hard") == expected, seed
    finally:
        await other.close()


class Writes(monitoring.CommandListener):
    def __init__(self) -> None:
        self.sent: list[str] = []

    def started(self, event: monitoring.CommandStartedEvent) -> None:
        if event.command_name in ("insert", "update", "delete", "find"):
            self.sent.append(event.command_name)

    def succeeded(self, event: monitoring.CommandSucceededEvent) -> None:
        pass

    def failed(self, event: monitoring.CommandFailedEvent) -> None:
        pass


async def test_a_batch_is_one_read_and_one_write_per_kind_and_copies_cost_no_write(
    settings: PlatformSettings, namespace: str
) -> None:
    """New issues in one insert, the others in one bulk update; the consumer's copy of what
    the view holds already (the API applied it) is a read and no write."""
    listener = Writes()
    client: AsyncMongoClient[Any] = AsyncMongoClient(
        settings.mongo_url, tz_aware=True, event_listeners=[listener]
    )
    try:
        store = IntakeStore(client[f"{namespace}_intake_w"])
        mine = list(zip(EVENTS, range(len(EVENTS)), strict=True))
        await store.apply_all(mine[:3])
        assert listener.sent == ["find", "insert"]
        listener.sent.clear()
        await store.apply_all(mine)
        assert listener.sent in (["find", "update"], ["find", "insert", "update"])
        listener.sent.clear()
        await store.apply_all(mine)  # copies
        assert listener.sent == ["find"]
        in_order = IntakeStore(client[f"{namespace}_intake_x"])
        for event, offset in mine:
            await in_order.apply(event, offset)
        for issue_id in {e.issue_id for e in EVENTS}:
            assert await store.issue(issue_id) == await in_order.issue(issue_id)
    finally:
        await client.close()


async def test_reports_of_concurrent_requests_go_in_one_insert_and_a_known_one_is_folded(
    settings: PlatformSettings, namespace: str
) -> None:
    """The API's new reports (`apply_new`) from requests meanwhile: one insert, no read; a
    report whose view exists already (a retry) is folded in as `apply_all` does, and costs
    a read and no write when the view holds it."""
    listener = Writes()
    client: AsyncMongoClient[Any] = AsyncMongoClient(
        settings.mongo_url, tz_aware=True, event_listeners=[listener]
    )
    try:
        store = IntakeStore(client[f"{namespace}_intake_n"])
        mine = list(zip(EVENTS, range(len(EVENTS)), strict=True))
        reported = next((e, n) for e, n in mine if isinstance(e, IssueReported))
        reports = [
            (reported[0].model_copy(update={"issue_id": f"new-{n}", "event_id": uuid.uuid4()}), n)
            for n in range(5)
        ]
        await store.apply_all(mine)
        listener.sent.clear()
        await asyncio.gather(*(store.apply_new([one]) for one in [*reports, reported]))
        assert listener.sent == ["insert", "find"]
        expected = IntakeStore(client[f"{namespace}_intake_m"])
        await expected.apply_all([*reports, *mine])
        for issue_id in [*(f"new-{n}" for n in range(5)), "hard"]:
            assert await store.issue(issue_id) == await expected.issue(issue_id)
    finally:
        await client.close()
