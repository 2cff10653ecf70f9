"""Routing's batch reads on the real MongoDB-wire server: a batch's claims and issues are read
in one query each (`_id: {$in}`), and documents an earlier version wrote are found alike."""

from datetime import UTC, datetime
from typing import Any

from pymongo import AsyncMongoClient

from services.routing.adapters.store import RoutingStore
from services.routing.domain.duplicates import OpenIssue


async def test_a_batch_read_finds_new_and_old_documents(
    mongo: AsyncMongoClient[Any], namespace: str
) -> None:
    now = datetime.now(UTC)
    new = RoutingStore(mongo[f"{namespace}_routing_new"])
    assert await new.claim("c:1", OpenIssue("i-1", "c", 34.0, 113.0, now)) is None
    assert await new.claim("c:2", OpenIssue("i-2", "c", 34.0, 113.0, now)) is None
    assert {c.problem.issue_id for c in await new.claims(["c:1", "c:2", "c:3"])} == {"i-1", "i-2"}

    old_db = mongo[f"{namespace}_routing_old"]
    await old_db["issues"].insert_many([
        {"_id": "i-1", "claim": "c:1"}, {"_id": "i-2", "merge": None, "claim": "c:2"},
    ])  # fmt: skip
    await old_db["claims"].insert_one(
        {"_id": "c:1", "issue_id": "i-1", "category": "c", "latitude": 34.0, "longitude": 113.0,
         "last_reported_at": now, "confirmed": True}
    )  # fmt: skip
    old = RoutingStore(old_db)
    stored = await old.stored(["i-1", "i-2", "i-3"])
    assert {i: s.claim for i, s in stored.items()} == {"i-1": "c:1", "i-2": "c:2"}
    assert [c.problem.issue_id for c in await old.claims(["c:1", "c:2"])] == ["i-1"]
