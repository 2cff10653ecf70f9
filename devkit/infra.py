"""Where the real Kafka broker and MongoDB-wire server are, in this order:

1. addresses given in the environment (HUIYIN_KAFKA_BOOTSTRAP and HUIYIN_MONGO_URL);
2. else containers from testcontainers, when a Docker engine answers a ping;
3. else the local servers of deploy/local (real Kafka jars and FerretDB, started if needed).
"""

import os
import subprocess
from contextlib import ExitStack
from dataclasses import dataclass
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
KAFKA_IMAGE = "apache/kafka:4.1.1"
MONGO_IMAGE = "mongo:8.0"


@dataclass(frozen=True)
class Endpoints:
    kafka_bootstrap: str
    mongo_url: str
    source: str

    def env(self) -> dict[str, str]:
        return {"HUIYIN_KAFKA_BOOTSTRAP": self.kafka_bootstrap, "HUIYIN_MONGO_URL": self.mongo_url}


def from_environment() -> Endpoints | None:
    kafka, mongo = os.environ.get("HUIYIN_KAFKA_BOOTSTRAP"), os.environ.get("HUIYIN_MONGO_URL")
    return Endpoints(kafka, mongo, "environment") if kafka and mongo else None


def docker_answers() -> bool:
    try:
        import docker  # provided by testcontainers

        return bool(docker.from_env(timeout=3).ping())
    except Exception:
        return False


def from_containers(stack: ExitStack) -> Endpoints:
    from testcontainers.kafka import KafkaContainer
    from testcontainers.mongodb import MongoDbContainer

    kafka = stack.enter_context(KafkaContainer(KAFKA_IMAGE).with_kraft())
    mongo = stack.enter_context(MongoDbContainer(MONGO_IMAGE))
    return Endpoints(kafka.get_bootstrap_server(), mongo.get_connection_url(), "testcontainers")


def from_local() -> Endpoints:
    script = REPO / "deploy/local/infra.sh"
    subprocess.run([str(script), "start"], check=True)
    lines = subprocess.run([str(script), "env"], check=True, capture_output=True, text=True).stdout
    env = dict(line.split("=", 1) for line in lines.split())
    return Endpoints(env["HUIYIN_KAFKA_BOOTSTRAP"], env["HUIYIN_MONGO_URL"], "deploy/local")


def endpoints(stack: ExitStack) -> Endpoints:
    """The servers to use; containers started here are stopped when `stack` closes."""
    found = from_environment()
    if found is not None:
        return found
    if docker_answers():
        return from_containers(stack)
    return from_local()
