"""deploy/compose.yaml checked where no Docker engine runs: the Compose Specification's schema,
pinned images, commands that import, the same Kafka as deploy/local/, the start order,
volumes for every stateful part, and the image's Dockerfile."""

import hashlib
import importlib.util
import re
import tomllib
from typing import Any

import pytest
import yaml

from services.contracts.topics import DEAD_LETTER_TOPIC, ISSUES_TOPIC
from tests.unit.deploy import compose_file
from tests.unit.deploy.compose_file import (
    COMPOSE,
    DEPLOY,
    DOCKERFILE,
    REPO,
    SCHEMA,
    is_pinned,
    load,
    parse_image,
    schema_errors,
    service_packages,
    service_settings,
)

SCHEMA_SHA256 = "46b7d35f19dd93a05f8fea530291bf84d881c1791ec167ecf0e6fb94e639d496"


@pytest.fixture(scope="module")
def compose() -> dict[str, Any]:
    return load()


def built_services(compose: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {name: svc for name, svc in compose["services"].items() if "build" in svc}


# --- the Compose Specification ------------------------------------------------------------


def test_the_schema_is_the_vendored_upstream_copy() -> None:
    digest = hashlib.sha256(SCHEMA.read_bytes()).hexdigest()
    assert digest == SCHEMA_SHA256, "schema changed: update deploy/schema/README.md and this hash"


def test_the_compose_file_is_valid_against_the_compose_specification(
    compose: dict[str, Any],
) -> None:
    assert schema_errors(compose) == []


def test_a_broken_compose_file_fails_with_a_message_naming_the_place_and_the_fault() -> None:
    text = COMPOSE.read_text(encoding="utf-8")
    broken = text.replace("    healthcheck:\n      <<: *service-health", "    healthchek:\n", 1)
    broken = broken.replace("condition: service_completed_successfully", "condition: done", 1)
    assert broken != text
    errors = schema_errors(load(broken))
    assert "$.services.intake: 'healthchek' does not match any of the regexes: '^x-'" in errors
    wrong_condition = (
        "$.services.{}.depends_on['kafka-init'].condition: 'done' is not one of "
        "['service_started', 'service_healthy', 'service_completed_successfully']"
    )
    for name in service_packages():
        assert wrong_condition.format(name) in errors
    assert len(errors) == 1 + len(service_packages())


def test_a_missing_secret_stops_compose_before_anything_starts() -> None:
    env = compose_file.read_env_file()
    del env["MONGO_ROOT_PASSWORD"]
    with pytest.raises(compose_file.InterpolationError, match="MONGO_ROOT_PASSWORD"):
        load(env=env)


# --- images --------------------------------------------------------------------------------


def test_every_image_is_pinned_to_a_release(compose: dict[str, Any]) -> None:
    images = {name: svc.get("image") for name, svc in compose["services"].items()}
    unpinned = {name: image for name, image in images.items() if not image or not is_pinned(image)}
    assert unpinned == {}


@pytest.mark.parametrize(
    ("reference", "pinned"),
    [
        ("mongo:8.0.17", True),
        ("prom/prometheus:v3.7.3", True),
        ("localhost:5000/huiyin:0.1.0", True),
        ("mongo@sha256:" + "a" * 64, True),
        ("mongo", False),
        ("mongo:latest", False),
        ("mongo:8.0", False),
        ("mongo:8", False),
        ("localhost:5000/huiyin", False),
    ],
)
def test_what_counts_as_pinned(reference: str, pinned: bool) -> None:
    assert is_pinned(reference) is pinned


def test_the_services_image_carries_the_projects_version(compose: dict[str, Any]) -> None:
    version = tomllib.loads((REPO / "pyproject.toml").read_text("utf-8"))["project"]["version"]
    images = {svc["image"] for svc in built_services(compose).values()}
    assert images == {f"huiyin:{version}"}


def test_compose_runs_the_same_kafka_as_deploy_local(compose: dict[str, Any]) -> None:
    pom = (DEPLOY / "local/kafka-pom.xml").read_text(encoding="utf-8")
    match = re.search(r"<kafka\.version>([^<]+)</kafka\.version>", pom)
    assert match, "deploy/local/kafka-pom.xml names no kafka.version"
    assert "kafka-pom.xml" in (DEPLOY / "local/infra.sh").read_text(encoding="utf-8")
    kafka_images = {
        parse_image(svc["image"])
        for svc in compose["services"].values()
        if parse_image(svc.get("image", "")).name == "apache/kafka"
    }
    assert {image.tag for image in kafka_images} == {match[1]}


# --- the four services ---------------------------------------------------------------------


def test_every_service_runs_once_with_a_command_that_imports(compose: dict[str, Any]) -> None:
    modules = {}
    for name, svc in built_services(compose).items():
        command = svc["command"]
        assert command[:2] == ["python", "-m"] and len(command) == 3, (name, command)
        module = command[2]
        assert importlib.util.find_spec(module) is not None, module
        assert importlib.util.find_spec(f"{module}.__main__") is not None, (
            f"{module} has no __main__"
        )
        modules[name] = module
    assert modules == {name: f"services.{name}" for name in service_packages()}


def test_each_service_listens_publishes_and_is_checked_on_its_own_port(
    compose: dict[str, Any],
) -> None:
    for name, settings in service_settings().items():
        svc = compose["services"][name]
        port = settings.model_fields["port"].default
        assert svc["environment"][f"HUIYIN_{name.upper()}_HOST"] == "0.0.0.0"
        assert [str(p).rsplit(":", 1)[1] for p in svc["ports"]] == [str(port)]
        probe = " ".join(svc["healthcheck"]["test"])
        assert f"http://127.0.0.1:{port}/healthz" in probe


def test_prometheus_scrapes_the_services_where_compose_runs_them(compose: dict[str, Any]) -> None:
    config = yaml.safe_load((DEPLOY / "prometheus/prometheus.yml").read_text(encoding="utf-8"))
    targets = set()  # host:port, whether listed or found by DNS (every scaled instance)
    for job in config["scrape_configs"]:
        for static in job.get("static_configs", []):
            targets.update(static["targets"])
        for dns in job.get("dns_sd_configs", []):
            targets.update(f"{name}:{dns['port']}" for name in dns["names"])
    expected = {
        f"{name}:{settings.model_fields['port'].default}"
        for name, settings in service_settings().items()
    }
    assert targets >= expected
    mounts = compose["services"]["prometheus"]["volumes"]
    assert "./prometheus:/etc/prometheus:ro" in mounts


def test_services_start_after_their_topics_and_database_are_ready(compose: dict[str, Any]) -> None:
    services = compose["services"]
    for name, svc in built_services(compose).items():
        assert svc["depends_on"] == {
            "kafka-init": {"condition": "service_completed_successfully"},
            "mongodb": {"condition": "service_healthy"},
        }, name
    assert services["kafka-init"]["depends_on"] == {"kafka": {"condition": "service_healthy"}}
    for name, svc in services.items():
        for dependency, spec in svc.get("depends_on", {}).items():
            assert dependency in services, (name, dependency)
            if spec["condition"] == "service_healthy":
                assert "healthcheck" in services[dependency], f"{dependency} has no healthcheck"


def test_the_topics_are_created_with_the_configured_partitions(compose: dict[str, Any]) -> None:
    """kafka-init runs deploy/kafka/init.sh (mounted), with the partitions of the env file;
    tests/integration/test_kafka_security.py runs the same script on a real broker."""
    init = compose["services"]["kafka-init"]
    assert init["command"] == ["/opt/huiyin/kafka/init.sh"]
    assert "./kafka:/opt/huiyin/kafka:ro" in init["volumes"]
    script = (compose_file.DEPLOY / "kafka/init.sh").read_text(encoding="utf-8")
    assert 'facts="${prefix}' + ISSUES_TOPIC + '"' in script
    assert 'dead_letters="${prefix}' + DEAD_LETTER_TOPIC + '"' in script
    assert '--partitions "$partitions"' in script
    assert "--if-not-exists" in script
    assert (
        init["environment"]["HUIYIN_PARTITIONS"]
        == compose_file.read_env_file()["HUIYIN_PARTITIONS"]
    )


def test_every_stateful_part_keeps_its_data_in_a_named_volume(compose: dict[str, Any]) -> None:
    services = compose["services"]
    data_paths = {
        "kafka": services["kafka"]["environment"]["KAFKA_LOG_DIRS"],
        "mongodb": "/data/db",
        "prometheus": "/prometheus",
        "grafana": "/var/lib/grafana",
        "reporting": services["reporting"]["environment"]["HUIYIN_REPORTING_BULLETIN_DIR"],
    }
    for name, path in data_paths.items():
        named = {
            mount.split(":")[1]: mount.split(":")[0]
            for mount in services[name]["volumes"]
            if not mount.startswith((".", "/"))
        }
        assert path in named, f"{name} keeps {path} in no named volume"
        assert named[path] in compose["volumes"]


def test_the_mounted_configuration_exists() -> None:
    for svc in load()["services"].values():
        for mount in svc.get("volumes", []):
            source = mount.split(":")[0]
            if source.startswith("./"):
                assert (DEPLOY / source).exists(), f"{source} is mounted but missing"


# --- the image -----------------------------------------------------------------------------


def dockerfile() -> str:
    return DOCKERFILE.read_text(encoding="utf-8")


def test_the_dockerfile_builds_from_a_pinned_slim_python_of_the_projects_minor() -> None:
    match = re.search(r"^ARG PYTHON_IMAGE=(\S+)$", dockerfile(), re.M)
    assert match
    base = parse_image(match[1])
    assert base.name == "python" and is_pinned(match[1]) and base.tag and "slim" in base.tag
    requires = tomllib.loads((REPO / "pyproject.toml").read_text("utf-8"))["project"][
        "requires-python"
    ]
    minor = re.search(r">=(\d+\.\d+)", requires)
    assert minor and base.tag.startswith(minor[1] + ".")
    assert re.findall(r"^FROM (\S+)", dockerfile(), re.M) == ["${PYTHON_IMAGE}"] * 2


def test_the_dockerfile_installs_the_lock_with_the_makefiles_uv_and_runs_as_nobody_root() -> None:
    text = dockerfile()
    makefile = (REPO / "Makefile").read_text(encoding="utf-8")
    uv = re.search(r"^UV_VERSION := (\S+)$", makefile, re.M)
    assert uv and f"ARG UV_VERSION={uv[1]}" in text
    assert "uv sync --frozen --no-dev" in text
    users = re.findall(r"^USER (\S+)$", text, re.M)
    assert users and users[-1].split(":")[0] not in ("root", "0")
    last_user = text.rindex("\nUSER ")
    assert text.rindex("\nCMD ") > last_user


def test_the_image_has_the_bulletin_directory_writable_by_its_user(
    compose: dict[str, Any],
) -> None:
    """A named volume starts as a copy of the image's directory, owner included."""
    directory = compose["services"]["reporting"]["environment"]["HUIYIN_REPORTING_BULLETIN_DIR"]
    user = re.findall(r"^USER (\S+)$", dockerfile(), re.M)[-1].split(":")[0]
    assert f"install -d -o {user} -g {user} {directory}" in dockerfile()


def test_the_docker_context_lets_through_exactly_what_the_dockerfile_copies() -> None:
    ignore = (REPO / ".dockerignore").read_text(encoding="utf-8").splitlines()
    allowed = {line[1:].rstrip("/") for line in ignore if line.startswith("!")}
    assert "*" in ignore
    copied: set[str] = set()
    for line in re.findall(r"^COPY (?!--from)(.+)$", dockerfile(), re.M):
        copied.update(part.rstrip("/") for part in line.split()[:-1])
    assert copied == allowed
