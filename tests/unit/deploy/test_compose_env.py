"""The environment of deploy/compose.yaml against what the services read.

The variables the services read come from their pydantic-settings classes themselves
(ServiceSettings subclasses, with the shared PlatformSettings under `platform`), so a new
setting without documentation fails here.
"""

import re
from typing import Any

import pytest

from tests.unit.deploy.compose_file import (
    ENV_EXAMPLE,
    README,
    all_variables_read,
    load,
    load_raw,
    read_env_file,
    referenced_variables,
    service_settings,
    settings_classes,
    variables_read,
)

# Scripts of ours that an infrastructure container runs, and so variables it reads besides the
# image's own.
OUR_SCRIPTS = {"kafka": ("kafka/healthcheck.sh",), "mongodb": ("mongo/users.js",)}

# What the infrastructure images read, by image name: their own documented variables.
IMAGE_VARIABLES = {
    "apache/kafka": re.compile(r"^(KAFKA_[A-Z0-9_]+|CLUSTER_ID)$"),
    "mongo": re.compile(r"^MONGO_INITDB_(ROOT_USERNAME|ROOT_PASSWORD|DATABASE)$"),
    "grafana/grafana": re.compile(r"^GF_[A-Z0-9_]+$"),
    "prom/prometheus": re.compile(r"^$"),
}


@pytest.fixture(scope="module")
def compose() -> dict[str, Any]:
    return load()


def words(text: str) -> set[str]:
    return set(re.findall(r"[A-Z][A-Z0-9_]*[A-Z0-9]", text))


def test_the_walk_finds_the_settings_everyone_knows() -> None:
    read = variables_read()
    assert set(read) == {"intake", "routing", "supervision", "reporting", "notify", "console"}
    for name, names in read.items():
        assert {"HUIYIN_KAFKA_BOOTSTRAP", "HUIYIN_MONGO_URL", "HUIYIN_PARTITIONS"} <= names
        assert {f"HUIYIN_{name.upper()}_HOST", f"HUIYIN_{name.upper()}_PORT"} <= names
    assert "HUIYIN_INTAKE_SECRET" in read["intake"]
    assert not any(name.endswith("_PLATFORM") for name in all_variables_read())


def test_every_variable_a_service_reads_is_documented_in_the_env_example() -> None:
    documented = words(ENV_EXAMPLE.read_text(encoding="utf-8"))
    assert sorted(all_variables_read() - documented) == []


def test_every_variable_a_service_reads_is_documented_in_the_readme() -> None:
    documented = words(README.read_text(encoding="utf-8"))
    assert sorted(all_variables_read() - documented) == []


def test_every_variable_set_for_a_service_is_one_it_reads(compose: dict[str, Any]) -> None:
    read = variables_read()
    for name in service_settings():
        given = set(compose["services"][name]["environment"])
        assert sorted(given - read[name]) == [], name
    init = set(compose["services"]["kafka-init"]["environment"])
    assert init <= all_variables_read() | script_variables("kafka/init.sh")


def script_variables(*scripts: str) -> set[str]:
    """The variables deploy/<script> reads: `${NAME…}`, `process.env.NAME` and the per-service
    `PREFIX_<SERVICE>` pattern (`${!var}` with var="PREFIX_${service^^}")."""
    found: set[str] = set()
    for script in scripts:
        text = (ENV_EXAMPLE.parent / script).read_text(encoding="utf-8")
        found |= set(re.findall(r"\$\{([A-Z][A-Z0-9_]*)", text))
        found |= set(re.findall(r"process\.env\.([A-Z][A-Z0-9_]*)", text))
        per_service = re.findall(r"([A-Z][A-Z0-9_]*_)\$\{service\^\^\}", text)
        per_service += re.findall(
            r"`([A-Z][A-Z0-9_]*_)\$\{service\.toUpperCase\(\)\}(_[A-Z]+)?`", text
        )
        names = [*variables_read(), "console"]
        for match in per_service:
            prefix, suffix = (match, "") if isinstance(match, str) else match
            found |= {f"{prefix}{name.upper()}{suffix}" for name in names}
    return found


def test_the_infrastructure_gets_only_variables_its_image_reads(compose: dict[str, Any]) -> None:
    for name, svc in compose["services"].items():
        if "build" in svc or name == "kafka-init":
            continue
        image = svc["image"].rsplit(":", 1)[0]
        pattern = IMAGE_VARIABLES[image]
        ours = script_variables(*OUR_SCRIPTS.get(name, ()))
        unknown = [
            variable
            for variable in svc.get("environment", {})
            if not pattern.match(variable) and variable not in ours
        ]
        assert unknown == [], name


def test_every_interpolated_variable_has_a_value_in_the_env_example() -> None:
    referenced = referenced_variables(load_raw())
    assigned = set(read_env_file())
    assert sorted(referenced - assigned) == [], "add them to deploy/.env.example"
    assert sorted(assigned - referenced) == [], "deploy/.env.example sets what compose never reads"


def test_compose_defaults_are_the_services_defaults() -> None:
    """`${HUIYIN_X:-default}` in compose must not drift from the settings' own default."""
    defaults: dict[str, Any] = {}
    for classes in settings_classes().values():
        for settings in classes:
            prefix = str(settings.model_config.get("env_prefix", ""))
            for field, info in settings.model_fields.items():
                defaults[f"{prefix}{field}".upper()] = info.default
    text = (ENV_EXAMPLE.parent / "compose.yaml").read_text(encoding="utf-8")
    compared = 0
    for name, default in re.findall(r"\$\{(HUIYIN_[A-Z0-9_]+):-([^}]*)\}", text):
        expected = defaults[name]
        if expected is None:
            expected_text = ""  # unset and empty mean the same to the service
        elif isinstance(expected, bool):
            expected_text = str(expected).lower()
        else:
            expected_text = str(expected)
        assert default == expected_text, name
        compared += 1
    assert compared >= 8
