"""Where a principal belongs: whether an issue lies within the region a supervisor or a grid
worker is bound to. Pure.

Regions are the sample city's administrative division codes (GB/T 2260 and below): the city
411900 and counties 6 digits, townships 9, villages 12, grids 15; each code begins with the
code of the region above it.
"""

from collections.abc import Mapping
from typing import Any

from services.contracts.regions import level_of, lies_in
from services.contracts.vocabulary import Level

__all__ = ["GRID_WORKER_LEVELS", "Place", "level_of", "place_of", "within"]

Place = tuple[str, ...] | str | None
"""An issue's place: its region path (routing's tree, from the city down), else — never
triaged — its own region code, else None (no region known)."""

GRID_WORKER_LEVELS = frozenset({Level.TOWNSHIP, Level.VILLAGE, Level.GRID})


def within(place: Place, bound: str | None) -> bool:
    """Whether an issue at `place` lies within the region `bound` (the region itself or below).

    No bound, or the city (a six-digit code ending in 00), covers every issue — even one whose
    region is unknown. An issue routing triaged lies within the regions on its region path.
    An issue never triaged (answered at intake, 直办) or triaged before routing put the path on
    `IssueTriaged` has only its code: it lies within the regions whose code its own begins
    with (411901002001 lies within 411901002 and 411901), the administrative-code convention.
    An issue with no region at all lies within no narrower region than the city."""
    if not bound or level_of(bound) is Level.CITY:
        return True
    if isinstance(place, tuple):
        return lies_in(place, None, bound)
    return lies_in((), place, bound)


def place_of(view: Mapping[str, Any]) -> Place:
    """An issue's place in intake's status view: the region path of its latest triage (kept on
    the view since `IssueTriaged` carries it; in the history for views built before), else its
    region code (routing's, else the one reported)."""
    if path := view.get("region_path"):
        return tuple(path)
    triaged = [
        entry
        for entry in (view.get("history") or {}).values()
        if entry.get("type") == "IssueTriaged" and entry.get("region_path")
    ]
    if triaged:
        latest = max(triaged, key=lambda entry: int(entry["offset"]))
        return tuple(latest["region_path"])
    code = view.get("region_code")
    return str(code) if code else None
