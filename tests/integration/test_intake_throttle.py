"""Intake's rate-limit counters on the real MongoDB-wire server: two intake instances (two
clients of one database) hitting at once count into one window, and lose no hit."""

import asyncio
from typing import Any

from pymongo import AsyncMongoClient

from services.intake.adapters.throttle import MongoThrottle
from services.intake.domain.throttling import Limit
from services.runtime.settings import PlatformSettings

NOW = 6_000_010.0  # ten seconds into a window of a minute


async def test_two_instances_share_one_limit_and_lose_no_hit(
    mongo: AsyncMongoClient[Any], settings: PlatformSettings, namespace: str
) -> None:
    limit = Limit.parse("60/minute")
    other_client: AsyncMongoClient[Any] = AsyncMongoClient(settings.mongo_url)
    try:
        first = MongoThrottle(mongo[f"{namespace}_intake"], limit, clock=lambda: NOW)
        second = MongoThrottle(other_client[f"{namespace}_intake"], limit, clock=lambda: NOW)
        waits = await asyncio.gather(
            *(throttle.hit("receipts", "10.0.0.1") for throttle in [first, second] * 40)
        )
        assert sorted(waits) == [0] * 60 + [50] * 20
        assert await first.peek("receipts", "10.0.0.1") == 50  # peeking counts nothing
        assert await second.hit("receipts", "10.0.0.2") == 0  # another client: its own count
        later = MongoThrottle(mongo[f"{namespace}_intake"], limit, clock=lambda: NOW + 60)
        assert await later.hit("receipts", "10.0.0.1") == 0  # the next window starts afresh
        left = await mongo[f"{namespace}_intake"]["rate_limits"].count_documents({})
        assert left <= 3
    finally:
        await other_client.close()


async def test_concurrent_bumps_from_two_clients_lose_nothing_without_the_process_lock(
    mongo: AsyncMongoClient[Any], settings: PlatformSettings, namespace: str
) -> None:
    """Two instances share no in-process lock: the `$inc` upsert alone must count right."""
    limit = Limit.parse("1000/minute")
    other_client: AsyncMongoClient[Any] = AsyncMongoClient(settings.mongo_url)
    try:
        first = MongoThrottle(mongo[f"{namespace}_intake"], limit, clock=lambda: NOW)
        second = MongoThrottle(other_client[f"{namespace}_intake"], limit, clock=lambda: NOW)
        counts = await asyncio.gather(
            *(throttle._bump("k", 1) for throttle in [first, second] * 30)
        )
        assert sorted(counts) == list(range(1, 61))
    finally:
        await other_client.close()
