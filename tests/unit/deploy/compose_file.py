"""Reading deploy/compose.yaml the way `docker compose` does, without a Docker engine.

Compose reads the YAML, interpolates `${VAR}` from the environment file, then validates the
result against the Compose Specification's JSON schema. This module does the same with the
schema kept in deploy/schema/, and reads the settings classes to know which variables the
services read.
"""

import ast
import importlib
import json
import pkgutil
import re
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any

import yaml
from jsonschema import Draft7Validator  # type: ignore[import-untyped]
from jsonschema.exceptions import best_match  # type: ignore[import-untyped]
from pydantic_settings import BaseSettings

import services
from services.runtime.settings import ServiceSettings

REPO = Path(__file__).resolve().parents[3]
DEPLOY = REPO / "deploy"
COMPOSE = DEPLOY / "compose.yaml"
ENV_EXAMPLE = DEPLOY / ".env.example"
SCHEMA = DEPLOY / "schema/compose-spec.json"
DOCKERFILE = DEPLOY / "Dockerfile"
README = REPO / "README.md"

_REFERENCE = re.compile(
    r"\$(?:(?P<escaped>\$)|\{(?P<braced>[^}]*)\}|(?P<named>[A-Za-z_][A-Za-z0-9_]*))"
)
_BRACED = re.compile(r"(?P<name>[A-Za-z_][A-Za-z0-9_]*)(?:(?P<op>:?[-?+])(?P<arg>.*))?", re.S)
_ASSIGNMENT = re.compile(r"^(?P<name>[A-Za-z_][A-Za-z0-9_]*)=(?P<value>.*)$")


class InterpolationError(ValueError):
    """A `${VAR:?message}` whose variable is missing, or a reference compose would reject."""


def read_env_file(path: Path = ENV_EXAMPLE) -> dict[str, str]:
    """The `NAME=value` lines of an environment file (comments and blank lines skipped)."""
    values: dict[str, str] = {}
    for line in path.read_text(encoding="utf-8").splitlines():
        match = _ASSIGNMENT.match(line.strip())
        if match:
            values[match["name"]] = match["value"].strip().strip("\"'")
    return values


def interpolate_text(text: str, env: Mapping[str, str]) -> str:
    """One string with compose's interpolation: $$, $VAR, ${VAR}, ${VAR:-d}, ${VAR-d},
    ${VAR:?e}, ${VAR?e}, ${VAR:+a}, ${VAR+a}."""

    def replace(match: re.Match[str]) -> str:
        if match["escaped"]:
            return "$"
        if match["named"]:
            return env.get(match["named"], "")
        braced = _BRACED.fullmatch(match["braced"])
        if braced is None:
            raise InterpolationError(f"invalid interpolation: {match[0]!r}")
        name, op, arg = braced["name"], braced["op"], braced["arg"] or ""
        value = env.get(name)
        present = value is not None and (value != "" or not (op or "").startswith(":"))
        if op in (":-", "-"):
            return value if present and value is not None else arg
        if op in (":?", "?"):
            if not present or value is None:
                raise InterpolationError(f"required variable {name} is missing: {arg}")
            return value
        if op in (":+", "+"):
            return arg if present else ""
        return value or ""

    return _REFERENCE.sub(replace, text)


def interpolate(node: Any, env: Mapping[str, str]) -> Any:
    """Every string value of a parsed compose file interpolated (keys are left alone)."""
    if isinstance(node, str):
        return interpolate_text(node, env)
    if isinstance(node, list):
        return [interpolate(item, env) for item in node]
    if isinstance(node, dict):
        return {key: interpolate(value, env) for key, value in node.items()}
    return node


def referenced_variables(node: Any) -> set[str]:
    """The names the compose file interpolates (`$$` escapes are the container's own)."""
    if isinstance(node, str):
        names = set()
        for match in _REFERENCE.finditer(node):
            if match["named"]:
                names.add(match["named"])
            elif match["braced"] is not None:
                braced = _BRACED.fullmatch(match["braced"])
                if braced:
                    names.add(braced["name"])
        return names
    if isinstance(node, list):
        return set().union(*(referenced_variables(item) for item in node))
    if isinstance(node, dict):
        return set().union(*(referenced_variables(value) for value in node.values()))
    return set()


def load_raw(text: str | None = None) -> dict[str, Any]:
    """The compose file as YAML gives it (anchors and merge keys resolved), not interpolated."""
    document = yaml.safe_load(COMPOSE.read_text(encoding="utf-8") if text is None else text)
    if not isinstance(document, dict):
        raise ValueError("a compose file is a mapping")
    return document


def load(text: str | None = None, env: Mapping[str, str] | None = None) -> dict[str, Any]:
    """The compose file as compose sees it with deploy/.env.example as its environment."""
    resolved = interpolate(load_raw(text), read_env_file() if env is None else env)
    assert isinstance(resolved, dict)
    return resolved


def schema_errors(document: Mapping[str, Any]) -> list[str]:
    """What the Compose Specification's schema says is wrong, as `path: reason` lines.

    Where a value matches none of several shapes (oneOf), the reason is the closest shape's.
    """
    schema = json.loads(SCHEMA.read_text(encoding="utf-8"))
    validator = Draft7Validator(schema)
    closest = (best_match([error]) for error in validator.iter_errors(document))
    return sorted(f"{error.json_path}: {error.message}" for error in closest if error)


@dataclass(frozen=True)
class Image:
    name: str
    tag: str | None
    digest: str | None


def parse_image(reference: str) -> Image:
    """`registry/name:tag@sha256:…` split into name, tag and digest."""
    rest, _, digest = reference.partition("@")
    slash = rest.rfind("/")
    colon = rest.rfind(":")
    if colon > slash:
        return Image(rest[:colon], rest[colon + 1 :], digest or None)
    return Image(rest, None, digest or None)


_VERSION_TAG = re.compile(r"^v?\d+\.\d+\.\d+([-.+][0-9A-Za-z.-]+)?$")


def is_pinned(reference: str) -> bool:
    """A digest, or a tag that names one release (MAJOR.MINOR.PATCH, a suffix allowed)."""
    image = parse_image(reference)
    if image.digest:
        return image.digest.startswith("sha256:") and len(image.digest) == 71
    return image.tag is not None and bool(_VERSION_TAG.match(image.tag))


# --- what the services read --------------------------------------------------------------


def service_packages() -> list[str]:
    """The runnable services: packages under services/ with a __main__ module."""
    return sorted(
        info.name
        for info in pkgutil.iter_modules(services.__path__)
        if info.ispkg and (Path(services.__path__[0]) / info.name / "__main__.py").exists()
    )


def service_settings() -> dict[str, type[ServiceSettings]]:
    """Each service's settings class, found by importing its settings module."""
    found: dict[str, type[ServiceSettings]] = {}
    for name in service_packages():
        module = importlib.import_module(f"services.{name}.settings")
        classes = [
            value
            for value in vars(module).values()
            if isinstance(value, type)
            and issubclass(value, ServiceSettings)
            and value is not ServiceSettings
        ]
        if len(classes) != 1:
            raise LookupError(f"services.{name}.settings has {len(classes)} settings classes")
        found[name] = classes[0]
    return found


def _variables(settings: type[BaseSettings]) -> Iterator[str]:
    prefix = str(settings.model_config.get("env_prefix", ""))
    for field_name, field in settings.model_fields.items():
        annotation = field.annotation
        if isinstance(annotation, type) and issubclass(annotation, BaseSettings):
            yield from _variables(annotation)  # read under its own prefix
            continue
        alias = field.validation_alias or field.alias
        yield (alias if isinstance(alias, str) else f"{prefix}{field_name}").upper()


def _settings_base(base: ast.expr) -> bool:
    name = base.attr if isinstance(base, ast.Attribute) else getattr(base, "id", "")
    return str(name).endswith("Settings")


@cache
def settings_classes() -> dict[str, list[type[BaseSettings]]]:
    """Every pydantic-settings class under services/, by the package it lives in
    (`runtime`, `intake`, ...). The modules are found in the source (a class whose base is
    named `...Settings`), so none is missed and only those are imported."""
    root = Path(services.__path__[0])
    found: dict[str, list[type[BaseSettings]]] = {}
    for path in sorted(root.rglob("*.py")):
        if path.name == "__main__.py":
            continue
        tree = ast.parse(path.read_text(encoding="utf-8"))
        names = [
            node.name
            for node in tree.body
            if isinstance(node, ast.ClassDef) and any(_settings_base(base) for base in node.bases)
        ]
        if not names:
            continue
        module = importlib.import_module(
            "services." + ".".join(path.relative_to(root).with_suffix("").parts)
        )
        classes = [
            value
            for name in names
            if isinstance(value := getattr(module, name), type) and issubclass(value, BaseSettings)
        ]
        # a base without a prefix of its own (ServiceSettings) is only read through its subclasses
        classes = [
            cls for cls in classes if cls.model_config.get("env_prefix") or not cls.__subclasses__()
        ]
        if classes:
            package = path.relative_to(root).parts[0]
            found.setdefault(package, []).extend(classes)
    return found


def variables_read() -> dict[str, set[str]]:
    """Every environment variable a service reads, by service: its own settings classes
    (with the shared ones nested under `platform`) and the runtime's."""
    classes = settings_classes()
    shared = {name for cls in classes.get("runtime", []) for name in _variables(cls)}
    return {
        service: shared | {name for cls in classes.get(service, []) for name in _variables(cls)}
        for service in service_packages()
    }


def all_variables_read() -> set[str]:
    return set().union(*variables_read().values())
