"""The city's configuration folder: one YAML file per section (see `SECTION_FILES`), read
with positions so that a broken configuration is refused with the file, line and field of
every problem (`ConfigError`)."""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path
from typing import Any, TypeVar

from pydantic import ValidationError

from services.routing.adapters.config_source import ConfigError, Problem, SourceMap
from services.routing.domain.city import CityConfig, CityRules
from services.routing.domain.city_checks import city_problems, rules_problems
from services.routing.domain.jurisdiction import City

SECTION_FILES: dict[str, str] = {
    "office_kinds": "office_kinds.yaml",
    "categories": "categories.yaml",
    "responsibility": "responsibility.yaml",
    "policy": "policy.yaml",
    "regions": "regions.yaml",
    "offices": "offices.yaml",
    "enterprises": "enterprises.yaml",
}
RULE_SECTIONS = ("office_kinds", "categories", "responsibility", "policy")
GENERATED_SECTIONS = ("regions", "offices", "enterprises")

_M = TypeVar("_M", CityRules, CityConfig)


def load_rules(directory: Path) -> CityRules:
    """The hand-written sections of the folder. Raises `ConfigError`."""
    return _load(directory, CityRules, RULE_SECTIONS)


def load_city_config(directory: Path) -> CityConfig:
    """Every section of the folder, cross-checked. Raises `ConfigError`."""
    return _load(directory, CityConfig, (*RULE_SECTIONS, *GENERATED_SECTIONS))


def load_city(directory: Path) -> City:
    """The city of the folder, ready for lookups. Raises `ConfigError`."""
    return City(load_city_config(directory))


def check_city_config(config: CityConfig) -> CityConfig:
    """Cross-check a configuration built in memory (a generated benchmark city)."""
    found = [*rules_problems(config), *city_problems(config)]
    if found:
        raise ConfigError(SourceMap().problems_at(found))
    return config


def _load(directory: Path, model: type[_M], sections: Iterable[str]) -> _M:
    source = SourceMap()
    data: dict[str, Any] = {}
    for section in sections:
        path = directory / SECTION_FILES[section]
        if path.is_file():
            data[section] = source.read(path, (section,))
        elif section != "enterprises":
            source.problems.append(Problem(path, None, None, section, "missing file"))
    if source.problems:
        raise ConfigError(source.problems)
    try:
        config = model.model_validate(data)
    except ValidationError as invalid:
        raise ConfigError(source.validation_problems(invalid)) from None
    found = list(rules_problems(config))
    if not found and isinstance(config, CityConfig):
        found = list(city_problems(config))
    if found:
        raise ConfigError(source.problems_at(found))
    return config
