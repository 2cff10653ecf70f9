"""Supervision's configuration files: the policy and the calendar supplement, read from disk
and handed to the pure parsers of `domain.policy` and `domain.calendar_supplement`. Every
error names the file (and, from the parsers, the field, year or date)."""

from __future__ import annotations

from pathlib import Path

import yaml

from services.supervision.domain.calendar_supplement import (
    CalendarSupplement,
    CalendarSupplementError,
    parse_supplement,
)
from services.supervision.domain.policy import Policy, PolicyError, parse_policy

__all__ = ["DEFAULT_CALENDAR_PATH", "DEFAULT_POLICY_PATH", "load_policy", "load_supplement"]

_CONFIG = Path(__file__).resolve().parents[3] / "deploy" / "config"
DEFAULT_POLICY_PATH = _CONFIG / "policy.yaml"
DEFAULT_CALENDAR_PATH = _CONFIG / "calendar.yaml"
DEFAULT_OFFICES_PATH = _CONFIG / "city" / "offices.yaml"


class _DatesAsText(yaml.SafeLoader):
    """YAML without timestamp resolution: dates stay text, checked by the parser with clear
    errors."""


_DatesAsText.yaml_implicit_resolvers = {
    first: [(tag, regexp) for tag, regexp in resolvers if tag != "tag:yaml.org,2002:timestamp"]
    for first, resolvers in yaml.SafeLoader.yaml_implicit_resolvers.items()
}


def load_policy(path: Path | str = DEFAULT_POLICY_PATH) -> Policy:
    """Read and validate a policy YAML file; any error names the file and the field."""
    path = Path(path)
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
    except OSError as unreadable:
        raise PolicyError(str(path), [("(file)", str(unreadable))]) from unreadable
    except yaml.YAMLError as malformed:
        raise PolicyError(str(path), [("(yaml)", str(malformed))]) from malformed
    return parse_policy(data if data is not None else {}, str(path))


def load_supplement(path: Path | str = DEFAULT_CALENDAR_PATH) -> CalendarSupplement:
    """Read and check a supplement file; any error names the file, the year and the date."""
    path = Path(path)
    try:
        data = yaml.load(path.read_text(encoding="utf-8"), Loader=_DatesAsText)
    except OSError as unreadable:
        raise CalendarSupplementError(str(path), [("(file)", str(unreadable))]) from unreadable
    except yaml.YAMLError as malformed:
        raise CalendarSupplementError(str(path), [("(yaml)", str(malformed))]) from malformed
    return parse_supplement(data, str(path))


def load_offices(path: Path | str) -> frozenset[str] | None:
    """The ids of the offices the city has (routing's `offices.yaml`); None for no path
    (nothing is checked)."""
    if not str(path):
        return None
    loader = yaml.CSafeLoader if yaml.__with_libyaml__ else yaml.SafeLoader
    offices = yaml.load(Path(path).read_text(encoding="utf-8"), loader) or []
    return frozenset(str(office["id"]) for office in offices)
