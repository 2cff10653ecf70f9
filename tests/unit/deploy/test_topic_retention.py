"""Wherever the topics are created, they keep every record: compose's kafka-init and broker,
and the local broker of deploy/local/infra.sh (the services check at start as well)."""

from pathlib import Path
from typing import Any

import pytest

from services.contracts.topics import (
    KEPT_FOREVER,
    RETRY_TOPIC,
    SERVICES,
)
from tests.unit.deploy import compose_file

INFRA = Path(compose_file.DEPLOY) / "local" / "infra.sh"


@pytest.fixture(scope="module")
def compose() -> dict[str, Any]:
    return compose_file.load()


def test_kafka_init_creates_every_topic_kept_forever(compose: dict[str, Any]) -> None:
    script = (Path(compose_file.DEPLOY) / "kafka/init.sh").read_text(encoding="utf-8")
    consumers = script.split("consumers=(")[1].split(")")[0].split()
    assert set(SERVICES) <= set(consumers)  # each has its retry topic
    assert RETRY_TOPIC.format(service="$service") in script
    for key, value in KEPT_FOREVER.items():
        assert f"--config {key}={value}" in script  # created so
        assert f"{key}={value}" in script.split("kept=")[1].splitlines()[0]  # corrected so
    assert '--replication-factor "$replicas"' in script
    assert "kafka-configs.sh" in script and "--alter" in script
    assert compose["services"]["kafka-init"]["command"] == ["/opt/huiyin/kafka/init.sh"]


def test_the_brokers_default_retention_is_forever(compose: dict[str, Any]) -> None:
    kafka = compose["services"]["kafka"]["environment"]
    assert str(kafka["KAFKA_LOG_RETENTION_MS"]) == "-1"
    assert str(kafka["KAFKA_LOG_RETENTION_BYTES"]) == "-1"
    assert "KAFKA_LOG_RETENTION_HOURS" not in kafka
    local = INFRA.read_text(encoding="utf-8")
    assert "log.retention.ms=-1" in local and "log.retention.bytes=-1" in local
    assert "log.retention.hours" not in local


def test_one_broker_by_default_and_the_replication_settable(compose: dict[str, Any]) -> None:
    env = compose_file.read_env_file()
    assert (env["HUIYIN_REPLICATION_FACTOR"], env["HUIYIN_MIN_INSYNC_REPLICAS"]) == ("1", "1")
    kafka = compose["services"]["kafka"]["environment"]
    assert str(kafka["KAFKA_DEFAULT_REPLICATION_FACTOR"]) == "1"
    assert str(kafka["KAFKA_MIN_INSYNC_REPLICAS"]) == "1"
