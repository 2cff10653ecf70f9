"""The city's offices and regions, read from its configuration folder (offices.yaml,
regions.yaml)."""

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import yaml

from services.intake.domain.city import City

_Loader = yaml.CSafeLoader | yaml.SafeLoader
_LOADER: type[_Loader] = yaml.CSafeLoader if yaml.__with_libyaml__ else yaml.SafeLoader
"""libyaml's parser when there (regions.yaml is a megabyte: seconds in pure Python)."""


def _codes(node: Any) -> Iterator[str]:
    """Every region code of the tree (city, counties, townships, villages, grids)."""
    if isinstance(node, dict):
        if "code" in node:
            yield str(node["code"])
        for value in node.values():
            yield from _codes(value)
    elif isinstance(node, list):
        for item in node:
            yield from _codes(item)


def load_city(folder: Path) -> City:
    offices = yaml.load((folder / "offices.yaml").read_text(encoding="utf-8"), _LOADER) or []
    regions = yaml.load((folder / "regions.yaml").read_text(encoding="utf-8"), _LOADER) or {}
    return City(
        offices=frozenset(str(office["id"]) for office in offices),
        regions=frozenset(_codes(regions)),
    )
