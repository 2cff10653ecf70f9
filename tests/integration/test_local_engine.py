"""The MongoDB-wire server's faults that the services would trip on, each reproduced here.

On FerretDB v1.24.0 as released, every test here fails: of 40 concurrent updates of one
document most are lost (it reads the document and writes it back in two steps), and a bulk of
200 updates never answers (every statement held one of the pool's connections until the
command returned), after which the server answers nothing; and a lookup by `_id` with one
more condition (the guard of a conditional write) scans the whole collection.
`deploy/local/ferretdb/*.patch` fixes each at build time; MongoDB has none of these faults.
Each test uses a database of its own.
"""

import asyncio
from collections.abc import AsyncIterator

import pytest
from pymongo import AsyncMongoClient, UpdateOne

from devkit.infra import Endpoints
from services.runtime.mongo import Document

pytestmark = pytest.mark.integration

CLIENTS = 8
"""Separate clients, so the updates reach the server on separate connections at once."""


@pytest.fixture
async def clients(servers: Endpoints) -> AsyncIterator[list[AsyncMongoClient[Document]]]:
    made: list[AsyncMongoClient[Document]] = [
        AsyncMongoClient(servers.mongo_url, maxPoolSize=1, timeoutMS=20_000) for _ in range(CLIENTS)
    ]
    yield made
    for client in made:
        await client.close()


async def test_concurrent_updates_of_one_document_are_all_applied(
    clients: list[AsyncMongoClient[Document]], namespace: str
) -> None:
    collections = [client[f"{namespace}_engine"]["docs"] for client in clients]
    await collections[0].insert_one({"_id": "counter", "n": 0, "seen": []})

    async def update(i: int) -> None:
        await collections[i % CLIENTS].update_one(
            {"_id": "counter", "seen": {"$ne": f"e{i}"}},
            {"$inc": {"n": 1}, "$push": {"seen": f"e{i}"}},
        )

    await asyncio.gather(*(update(i) for i in range(40)))
    document = await collections[0].find_one({"_id": "counter"})
    assert document is not None
    assert document["n"] == 40
    assert sorted(document["seen"]) == sorted(f"e{i}" for i in range(40))
    await clients[0].drop_database(f"{namespace}_engine")


async def test_a_bulk_of_many_updates_answers_and_applies_each(
    clients: list[AsyncMongoClient[Document]], namespace: str
) -> None:
    collection = clients[0][f"{namespace}_engine"]["docs"]
    await collection.insert_many([{"_id": f"d{i}", "n": 0} for i in range(200)])
    result = await collection.bulk_write(
        [UpdateOne({"_id": f"d{i}"}, {"$inc": {"n": 1}}) for i in range(200)]
    )
    assert result.modified_count == 200
    assert await collection.count_documents({"n": 1}) == 200
    # the server still answers afterwards
    assert await clients[1][f"{namespace}_engine"]["docs"].count_documents({}) == 200
    await clients[0].drop_database(f"{namespace}_engine")


def scans(explained: Document) -> bool:
    """Whether a query plan reads the whole collection: MongoDB says COLLSCAN, FerretDB on
    SQLite passes SQLite's plan on (`SCAN <table>` rather than `SEARCH … USING INDEX`)."""
    plan = str(explained.get("queryPlanner", explained))
    return "COLLSCAN" in plan or "detail=SCAN " in plan


async def test_a_lookup_by_id_with_a_guard_is_answered_from_the_index(
    clients: list[AsyncMongoClient[Document]], namespace: str
) -> None:
    database = clients[0][f"{namespace}_engine"]
    await database["docs"].insert_many([{"_id": f"d{i}", "_applied": [f"e{i}"]} for i in range(50)])
    guarded = {"_id": "d7", "_applied": {"$ne": "e99"}}
    explained = await database.command("explain", {"find": "docs", "filter": guarded})
    assert not scans(explained), explained
    unindexed = await database.command("explain", {"find": "docs", "filter": {"_applied": "e7"}})
    assert scans(unindexed), unindexed  # the check above can tell the two apart
    assert await database["docs"].find_one(guarded) == {"_id": "d7", "_applied": ["e7"]}
    await clients[0].drop_database(f"{namespace}_engine")
