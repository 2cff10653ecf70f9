"""A projection derived by older rules is rebuilt from the log when reporting starts, and a new
database records the current derivation at once (`services/reporting/derivation.py`)."""

import asyncio
from datetime import UTC, datetime

from services.reporting.derivation import DERIVATION, NAME
from services.runtime.mongo import make_mongo_client
from services.runtime.projection import projection_status, record_projection
from services.runtime.settings import PlatformSettings
from tests.integration.reporting_harness import (
    caught_up,
    count_cells,
    projection,
    publish,
    serving,
)
from tests.reporting_events import Story

AT = datetime(2026, 10, 12, 1, 0, tzinfo=UTC)


async def recorded(settings: PlatformSettings) -> int | None:
    client = make_mongo_client(settings)
    try:
        db = client[settings.database("reporting")]
        return (await projection_status(db, NAME, DERIVATION)).recorded
    finally:
        await client.close()


async def test_an_older_derivation_is_rebuilt_at_start(settings: PlatformSettings) -> None:
    stories = [Story(f"d{n}", AT).triage().assign("street-1").accept(1.0) for n in range(3)]
    async with serving(settings):
        assert await recorded(settings) == DERIVATION  # a new database: recorded at once
        await publish(settings, [e for s in stories for e in s.events])
        await caught_up(settings)
    live, live_cells = await projection(settings), await count_cells(settings)
    assert len(live) == 3

    # as if these documents had been derived by older rules: another version, no cells
    client = make_mongo_client(settings)
    try:
        db = client[settings.database("reporting")]
        await record_projection(db, NAME, DERIVATION - 1)
        for name in await db.list_collection_names():
            if name.startswith("issue_cells"):
                await db[name].drop()
    finally:
        await client.close()
    assert await count_cells(settings) == {}

    async with serving(settings):
        for _ in range(600):
            if await recorded(settings) == DERIVATION:
                break
            await asyncio.sleep(0.1)
        assert await recorded(settings) == DERIVATION
        assert await projection(settings) == live
        assert await count_cells(settings) == live_cells
