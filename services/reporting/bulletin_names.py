"""Names for the codes a bulletin shows: regions and offices, read from the city's
configuration (the same files routing reads; `deploy/config/city` by default). Optional:
without them a bulletin shows codes."""

from pathlib import Path
from typing import Any

import yaml

from services.runtime.logging import get_logger

log = get_logger(__name__)

_LOADER = yaml.CSafeLoader if yaml.__with_libyaml__ else yaml.SafeLoader


def load_names(city: Path | None) -> dict[str, str]:
    """Region code → name and office id → name; empty when the files are not there."""
    names: dict[str, str] = {}
    if city is None:
        return names
    regions, offices = city / "regions.yaml", city / "offices.yaml"
    try:
        if regions.is_file():
            _walk(yaml.load(regions.read_text(encoding="utf-8"), Loader=_LOADER), names)
        if offices.is_file():
            for office in yaml.load(offices.read_text(encoding="utf-8"), Loader=_LOADER) or []:
                names[str(office["id"])] = str(office["name"])
    except (OSError, yaml.YAMLError, KeyError, TypeError) as error:
        log.warning("bulletin.names_unreadable", city=str(city), error=str(error))
    return names


def _walk(node: Any, names: dict[str, str]) -> None:
    if isinstance(node, dict):
        if "code" in node and "name" in node:
            names[str(node["code"])] = str(node["name"])
        for key, value in node.items():
            if key != "polygon":
                _walk(value, names)
    elif isinstance(node, list):
        for item in node:
            _walk(item, names)
