"""Dropping what a throwaway namespace left on the shared servers: its topics (`<ns>.…`) and
its databases (`<ns>_…`). Every namespace holds some 85 partitions, each a few open files in
the broker, so a broker that keeps them all runs out of file descriptors after a few hundred
test or bench runs."""

import contextlib

from aiokafka.admin import AIOKafkaAdminClient
from pymongo import AsyncMongoClient


async def drop_namespace(kafka_bootstrap: str, mongo_url: str, namespace: str) -> tuple[int, int]:
    """Delete the namespace's topics and drop its databases; (topics, databases) dropped."""
    if not namespace:
        raise ValueError("no namespace: refusing to drop every topic and database")
    admin = AIOKafkaAdminClient(bootstrap_servers=kafka_bootstrap)
    await admin.start()
    try:
        topics = [t for t in await admin.list_topics() if t.startswith(f"{namespace}.")]
        if topics:
            with contextlib.suppress(Exception):  # a topic already gone is no failure
                await admin.delete_topics(topics)
    finally:
        await admin.close()
    client: AsyncMongoClient[dict[str, object]] = AsyncMongoClient(mongo_url)
    try:
        databases = [d for d in await client.list_database_names() if d.startswith(f"{namespace}_")]
        for name in databases:
            await client.drop_database(name)
    finally:
        await client.close()
    return len(topics), len(databases)
