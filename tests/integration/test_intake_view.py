"""Intake's status view on the real MongoDB-wire server: an issue's events applied in
different orders, with copies republished later in the log, concurrently from two clients
(two intake instances, or the API beside the consumer), end in the same document."""

import asyncio
import random
from datetime import timedelta
from typing import Any

from pymongo import AsyncMongoClient

from services.contracts.events import Event
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
