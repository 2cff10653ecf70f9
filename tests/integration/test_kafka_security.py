"""Compose's Kafka security, on a real broker of the same version: the broker configured from
compose's own `kafka` environment (translated the way the apache/kafka image does), then
`deploy/kafka/init.sh` run against it as kafka-init runs it, then each service signed in through
the runtime's own clients (SASL/SCRAM) with the passwords of deploy/.env.example.

What it shows: an unauthenticated client gets nothing; every service reads the log in its own
group; intake, routing and supervision may write facts, reporting and notify may not; no
service reads another's consumer group.
"""

import asyncio
import os
import subprocess
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from aiokafka import AIOKafkaConsumer, AIOKafkaProducer
from aiokafka.errors import GroupAuthorizationFailedError, KafkaError, TopicAuthorizationFailedError

from devkit.infra import REPO
from devkit.processes import free_port
from services.runtime.broker import ensure_topics
from services.runtime.kafka_access import KafkaAccess
from services.runtime.settings import PlatformSettings
from tests.unit.deploy import compose_file

pytestmark = pytest.mark.integration

INFRA = REPO / "deploy/local/infra.sh"
TOOLS = {
    "kafka-topics.sh": "org.apache.kafka.tools.TopicCommand",
    "kafka-configs.sh": "kafka.admin.ConfigCommand",
    "kafka-acls.sh": "org.apache.kafka.tools.AclCommand",
    "kafka-broker-api-versions.sh": "org.apache.kafka.tools.BrokerApiVersionsCommand",
}
QUICK_JVM = ("-XX:TieredStopAtLevel=1", "-XX:+UseSerialGC", "-Xshare:auto")
SERVICES = ("intake", "routing", "supervision", "reporting", "notify")
WRITERS = {"intake", "routing", "supervision"}


def image_property(variable: str) -> str:
    """The apache/kafka image's reading of KAFKA_* variables: `___` is `-`, `__` is `_`, `_`
    is `.`, lower case."""
    name = variable.removeprefix("KAFKA_").lower()
    return name.replace("___", "-").replace("__", "\0").replace("_", ".").replace("\0", "_")


@dataclass
class SecureBroker:
    port: int
    env: dict[str, str]
    """compose's environment file: the passwords"""

    def access(self, service: str) -> KafkaAccess:
        return KafkaAccess(
            f"127.0.0.1:{self.port}",
            "SASL_PLAINTEXT",
            "SCRAM-SHA-512",
            service,
            self.env[f"KAFKA_{service.upper()}_PASSWORD"],
        )


def kafka_home() -> Path:
    subprocess.run([str(INFRA), "build"], check=True, capture_output=True)
    local = Path(os.environ.get("HUIYIN_LOCAL_DIR", REPO / ".local"))
    return next(local.glob("kafka-[0-9]*"))


@pytest.fixture(scope="module")
def broker(tmp_path_factory: pytest.TempPathFactory) -> Iterator[SecureBroker]:
    home, folder = kafka_home(), tmp_path_factory.mktemp("secure-kafka")
    port, controller = free_port(), free_port()
    compose = compose_file.load()
    properties = {
        image_property(k): str(v)
        for k, v in compose["services"]["kafka"]["environment"].items()
        if k.startswith("KAFKA_")
    }
    properties |= {
        "listeners": f"SASL_PLAINTEXT://127.0.0.1:{port},CONTROLLER://127.0.0.1:{controller}",
        "advertised.listeners": f"SASL_PLAINTEXT://127.0.0.1:{port}",
        "controller.quorum.bootstrap.servers": f"127.0.0.1:{controller}",
        "log.dirs": str(folder / "data"),
    }
    properties.pop("controller.quorum.voters", None)
    config = folder / "server.properties"
    config.write_text("".join(f"{k}={v}\n" for k, v in properties.items()), encoding="utf-8")
    java = [
        "java", "-Xms128m", "-Xmx512m", f"-Dkafka.logs.dir={folder}",
        f"-Dlog4j2.configurationFile={REPO / 'deploy/local/log4j2.yaml'}",
        "-cp", f"{home}/libs/*",
    ]  # fmt: skip
    cluster = compose["services"]["kafka"]["environment"]["CLUSTER_ID"]
    subprocess.run(
        [*java, "kafka.tools.StorageTool", "format", "--standalone", "-t", cluster,
         "-c", str(config)],
        check=True, capture_output=True,
    )  # fmt: skip
    log = (folder / "broker.log").open("wb")
    process = subprocess.Popen([*java, "kafka.Kafka", str(config)], stdout=log, stderr=log)
    bin_dir = folder / "bin"
    bin_dir.mkdir()
    for script, main in TOOLS.items():
        tool = bin_dir / script
        quick = " ".join([java[0], *QUICK_JVM, *java[1:]])  # a tool lives a second or two
        tool.write_text(f'#!/bin/sh\nexec {quick} {main} "$@"\n'.replace("*", "\\*"))
        tool.chmod(0o755)
    env = compose_file.read_env_file()
    init_env = {
        **os.environ,
        **{k: str(v) for k, v in compose["services"]["kafka-init"]["environment"].items()},
        "KAFKA_SERVER": f"127.0.0.1:{port}",
        "KAFKA_BIN": str(bin_dir),
        "HUIYIN_PARTITIONS": "2",
    }
    try:
        health = [str(REPO / "deploy/kafka/healthcheck.sh")]
        for _ in range(60):
            if subprocess.run(health, env=init_env, capture_output=True).returncode == 0:
                break
            assert process.poll() is None, (folder / "broker.log").read_text()[-3000:]
            asyncio.run(asyncio.sleep(1))
        subprocess.run(
            [str(REPO / "deploy/kafka/init.sh")], env=init_env, check=True, capture_output=True
        )
        yield SecureBroker(port, env)
    finally:
        process.terminate()
        process.wait(30)
        log.close()


async def _produce(access: KafkaAccess, topic: str) -> None:
    producer = AIOKafkaProducer(**access.client_options(), enable_idempotence=True, acks="all")
    await producer.start()
    try:
        await producer.send_and_wait(topic, b"{}", key=b"k")
    finally:
        await producer.stop()


async def _consume(access: KafkaAccess, topic: str, group: str) -> Any:
    consumer = AIOKafkaConsumer(
        topic, **access.client_options(), group_id=group, auto_offset_reset="earliest"
    )
    await consumer.start()
    try:
        return await consumer.getmany(timeout_ms=3000)
    finally:
        await consumer.stop()


def test_a_client_that_does_not_sign_in_gets_nothing(broker: SecureBroker) -> None:
    plain = KafkaAccess(f"127.0.0.1:{broker.port}")
    with pytest.raises(KafkaError):
        asyncio.run(asyncio.wait_for(_produce(plain, "huiyin.issues.v1"), 15))


def test_a_wrong_password_is_refused(broker: SecureBroker) -> None:
    wrong = KafkaAccess(
        f"127.0.0.1:{broker.port}", "SASL_PLAINTEXT", "SCRAM-SHA-512", "intake", "guess"
    )
    with pytest.raises(KafkaError):
        asyncio.run(asyncio.wait_for(_produce(wrong, "huiyin.issues.v1"), 15))


@pytest.mark.parametrize("service", SERVICES)
def test_each_service_writes_only_the_topics_it_owns(broker: SecureBroker, service: str) -> None:
    access = broker.access(service)
    settings = PlatformSettings(
        kafka_bootstrap=access.bootstrap,
        kafka_security_protocol="SASL_PLAINTEXT",
        kafka_username=service,
        kafka_password=access.password,
        partitions=2,
    )
    asyncio.run(ensure_topics(settings, service))  # what it does at start: describe, no create
    asyncio.run(_produce(access, "huiyin.issues.dlq.v1"))
    if service in WRITERS:
        asyncio.run(_produce(access, "huiyin.issues.v1"))
    else:
        with pytest.raises(TopicAuthorizationFailedError):
            asyncio.run(_produce(access, "huiyin.issues.v1"))
    asyncio.run(_consume(access, "huiyin.issues.v1", f"huiyin-{service}"))
    other = next(s for s in SERVICES if s != service)
    with pytest.raises(GroupAuthorizationFailedError):
        asyncio.run(_consume(access, "huiyin.issues.v1", f"huiyin-{other}"))


def test_the_env_example_gives_every_service_its_own_password() -> None:
    env = compose_file.read_env_file()
    passwords = [env[f"KAFKA_{s.upper()}_PASSWORD"] for s in SERVICES]
    assert len(set(passwords)) == len(SERVICES)
