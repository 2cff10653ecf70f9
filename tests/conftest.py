import uuid
from collections.abc import Iterator
from contextlib import ExitStack

import pytest

from devkit.infra import Endpoints, endpoints


@pytest.fixture(scope="session")
def servers() -> Iterator[Endpoints]:
    """The real Kafka broker and MongoDB-wire server (environment, containers, or deploy/local)."""
    with ExitStack() as stack:
        yield endpoints(stack)


@pytest.fixture
def namespace() -> str:
    """A fresh namespace per test: its own topics and databases, nothing shared with others."""
    return f"t{uuid.uuid4().hex[:10]}"
