import asyncio
import threading
import uuid
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager

import pytest

from devkit.infra import Endpoints, endpoints
from devkit.namespaces import drop_namespace


@pytest.fixture(scope="session")
def servers() -> Iterator[Endpoints]:
    """The real Kafka broker and MongoDB-wire server (environment, containers, or deploy/local)."""
    with ExitStack() as stack:
        yield endpoints(stack)


@contextmanager
def throwaway(servers: Endpoints, prefix: str = "t") -> Iterator[str]:
    """A fresh namespace: its own topics and databases, nothing shared with others, all
    dropped afterwards (a broker that kept every test's ~85 partitions would run out of file
    descriptors after a few runs of the suite)."""
    name = f"{prefix}{uuid.uuid4().hex[:10]}"
    try:
        yield name
    finally:
        # in a thread of its own: the tests' event loop may be the current one here
        dropping = threading.Thread(
            target=lambda: asyncio.run(
                drop_namespace(servers.kafka_bootstrap, servers.mongo_url, name)
            )
        )
        dropping.start()
        dropping.join()


@pytest.fixture
def namespace(servers: Endpoints) -> Iterator[str]:
    """A fresh namespace per test, dropped after it."""
    with throwaway(servers) as name:
        yield name
