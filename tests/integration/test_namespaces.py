"""A run's namespace is dropped whole, and nothing of another namespace with it."""

import asyncio

import pytest
from aiokafka.admin import AIOKafkaAdminClient, NewTopic
from pymongo import AsyncMongoClient

from devkit.infra import Endpoints
from devkit.namespaces import drop_namespace

pytestmark = pytest.mark.integration


async def topics_and_databases(servers: Endpoints) -> tuple[set[str], set[str]]:
    admin = AIOKafkaAdminClient(bootstrap_servers=servers.kafka_bootstrap)
    await admin.start()
    try:
        topics = set(await admin.list_topics())
    finally:
        await admin.close()
    client: AsyncMongoClient[dict[str, object]] = AsyncMongoClient(servers.mongo_url)
    try:
        return topics, set(await client.list_database_names())
    finally:
        await client.close()


async def make(servers: Endpoints, namespaces: list[str]) -> None:
    admin = AIOKafkaAdminClient(bootstrap_servers=servers.kafka_bootstrap)
    await admin.start()
    try:
        await admin.create_topics([NewTopic(f"{ns}.log", 1, 1) for ns in namespaces])
    finally:
        await admin.close()
    client: AsyncMongoClient[dict[str, object]] = AsyncMongoClient(servers.mongo_url)
    try:
        for ns in namespaces:
            await client[f"{ns}_store"]["docs"].insert_one({"_id": ns})
    finally:
        await client.close()


def test_a_namespace_is_dropped_and_its_neighbour_kept(servers: Endpoints, namespace: str) -> None:
    neighbour = f"{namespace}x"  # shares the prefix, not the namespace
    asyncio.run(make(servers, [namespace, neighbour]))
    kafka, mongo = servers.kafka_bootstrap, servers.mongo_url
    dropped = asyncio.run(drop_namespace(kafka, mongo, namespace))
    assert dropped == (1, 1)
    topics, databases = asyncio.run(topics_and_databases(servers))
    assert f"{namespace}_store" not in databases and f"{neighbour}_store" in databases
    assert f"{neighbour}.log" in topics
    assert asyncio.run(drop_namespace(kafka, mongo, neighbour)) == (1, 1)
    with pytest.raises(ValueError):
        asyncio.run(drop_namespace(kafka, mongo, ""))
