"""The MongoDB-wire server's faults that the services would trip on, each reproduced here.

On FerretDB v1.24.0 as released, every test here fails: of 40 concurrent updates of one
document most are lost (it reads the document and writes it back in two steps), and a bulk of
200 updates never answers (every statement held one of the pool's connections until the
command returned), after which the server answers nothing; a lookup by `_id` with one
more condition (the guard of a conditional write) scans the whole collection; and so does
every equality on any other field, indexed or not (only `{_id: X}` reached SQLite); and
under steady updates the write-ahead log grows without bound (each update's read stayed open
across its write, so no checkpoint could complete), slowing every query as it grows.
`deploy/local/ferretdb/*.patch` fixes each at build time; MongoDB has none of these faults.
Each test uses a database of its own.
"""

import asyncio
import os
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from pymongo import AsyncMongoClient, UpdateOne

from devkit.infra import REPO, Endpoints
from services.runtime.mongo import Document
from services.runtime.query_log import scans

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


async def test_equalities_on_indexed_fields_are_answered_from_the_index(
    clients: list[AsyncMongoClient[Document]], namespace: str
) -> None:
    """Strings, booleans and `$in` on a top-level or a dotted field, alone or beside other
    conditions, with MongoDB's meaning kept where a value on the path is an array."""
    database = clients[0][f"{namespace}_engine"]
    docs = database["docs"]
    await docs.insert_many(
        [
            {"_id": f"d{i}", "office": f"o{i % 50}", "open": i % 4 == 0}
            | {"view": {"cell": f"c{i % 20}"}}
            for i in range(2_000)
        ]
        + [
            {"_id": "in-array", "office": ["oX", "o5"], "view": {"cell": "none"}},
            {"_id": "under-array", "office": "none", "view": [{"cell": "c5"}, {"cell": "c6"}]},
            {"_id": "leaf-array", "office": "none", "view": {"cell": ["c5", "c9"]}},
            {"_id": "quoted", "office": '街道<&"\\', "view": {"cell": '街道<&"\\'}},
        ]
    )
    await docs.create_index([("office", 1)])
    await docs.create_index([("view.cell", 1), ("_id", 1)])
    await docs.create_index([("open", 1)])
    cases: list[tuple[Document, set[str] | int]] = [
        ({"office": "o5"}, 40 + 1),
        ({"office": {"$in": ["o5", "o6"]}}, 80 + 1),
        ({"office": {"$eq": "o7"}, "view.cell": {"$ne": "x"}}, 40),
        ({"open": True, "office": "o10"}, 20),
        ({"view.cell": "c5"}, 100 + 2),
        ({"office": '街道<&"\\'}, {"quoted"}),
        ({"view.cell": '街道<&"\\'}, {"quoted"}),
        ({"office": "o5", "_id": {"$in": ["in-array", "d5"]}}, {"in-array", "d5"}),
    ]
    for query, expected in cases:
        explained = await database.command("explain", {"find": "docs", "filter": query})
        assert not scans(explained), (query, explained)
        found = {doc["_id"] async for doc in docs.find(query, {"_id": 1})}
        assert (found if isinstance(expected, set) else len(found)) == expected, query
    assert {"in-array"} <= {doc["_id"] async for doc in docs.find({"office": "o5"})}
    assert {"under-array", "leaf-array"} <= {d["_id"] async for d in docs.find({"view.cell": "c5"})}
    # counts, updates, deletes and a pipeline's leading $match take the same way
    assert await docs.count_documents({"office": "o5"}) == 41
    updated = await docs.update_many({"view.cell": "c5"}, {"$set": {"seen": 1}})
    assert updated.modified_count == 102
    counted = await docs.aggregate([{"$match": {"office": "o6"}}, {"$count": "n"}])
    assert [r async for r in counted] == [{"n": 40}]
    assert (await docs.delete_many({"office": "o9"})).deleted_count == 40
    unindexed = await database.command("explain", {"find": "docs", "filter": {"seen": 1}})
    assert scans(unindexed), unindexed  # the check above can tell the two apart
    await clients[0].drop_database(f"{namespace}_engine")


async def test_steady_updates_keep_the_write_ahead_log_bounded(
    clients: list[AsyncMongoClient[Document]], namespace: str
) -> None:
    """3,000 updates and findAndModifys of 4 KB documents write ~25 MB of pages; SQLite
    checkpoints its log every 1,000 pages (4 MB) and starts it over, unless a read is open."""
    info = await clients[0].admin.command("buildInfo")
    if "ferretdbVersion" not in info:
        pytest.skip("the write-ahead log is the local engine's (FerretDB on SQLite)")
    name = f"{namespace}_wal"
    docs = clients[0][name]["docs"]
    await docs.insert_many([{"_id": f"d{i}", "pad": "", "n": 0} for i in range(100)])
    for step in range(15):
        change = {"$inc": {"n": 1}, "$set": {"pad": f"{step % 10}" * 4_000}}
        await docs.bulk_write([UpdateOne({"_id": f"d{i}"}, change) for i in range(100)])
        for i in range(100):
            await docs.find_one_and_update({"_id": f"d{i}"}, change)
    assert await docs.count_documents({"n": 30}) == 100
    local = Path(os.environ.get("HUIYIN_LOCAL_DIR", REPO / ".local"))
    wal = local / "ferretdb-data" / "sqlite" / f"{name}.sqlite-wal"
    assert wal.exists(), f"the local engine keeps {name} elsewhere than {wal}"
    assert wal.stat().st_size < 10_000_000, wal.stat().st_size
    await clients[0].drop_database(name)
