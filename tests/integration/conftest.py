from collections.abc import AsyncIterator

import pytest

from devkit.infra import Endpoints
from services.runtime.settings import PlatformSettings

pytestmark = pytest.mark.integration


@pytest.fixture
def settings(servers: Endpoints, namespace: str) -> PlatformSettings:
    return PlatformSettings(
        kafka_bootstrap=servers.kafka_bootstrap,
        mongo_url=servers.mongo_url,
        topic_prefix=f"{namespace}.",
        database_prefix=f"{namespace}_",
        partitions=3,
        retry_pause=0.01,
        log_json=False,
    )


@pytest.fixture
async def mongo(settings: PlatformSettings) -> AsyncIterator[object]:
    from services.runtime.mongo import make_mongo_client

    client = make_mongo_client(settings)
    yield client
    await client.close()
