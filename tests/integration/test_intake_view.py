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
