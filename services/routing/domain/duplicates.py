"""重复件合并: a report of the same category close to an open issue, within a time window,
is the same problem; it is merged into that issue instead of being dispatched again.

Pure: the caller passes the open issues it holds near the report (from its duplicate
index). Distances are great-circle metres. No geodesic library is installed (shapely
measures in degrees, pyproj and geopy are not dependencies), so the haversine formula is
written out below: one line of trigonometry on a mean-radius sphere, which is well
within a metre at the radii that merging uses.

The index is a grid of claims (`Cell`): an open problem claims the cell of its place, one
problem per cell, and a report looks at the claims of the cells its radius reaches
(`cells_near`). A cell's side is the radius divided by √2, so any two places in one cell
are within the radius of each other: whoever holds a cell is near enough to be merged into
(unless the time window or the kind of report rules it out).
"""

from __future__ import annotations

import math
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta

from services.contracts.events import IssueMergedPayload
from services.contracts.vocabulary import Kind, Tier
from services.routing.domain.policy import DuplicatePolicy

EARTH_RADIUS_M = 6_371_008.8
"""The mean radius of the earth (IUGG), in metres."""

METRES_PER_DEGREE = math.pi * EARTH_RADIUS_M / 180
"""Along a meridian (and along the equator)."""

MARGIN = 1.001
"""Widens the area `cells_near` covers, for the sphere's curvature over a few hundred metres."""


def distance_m(lat1: float, lon1: float, lat2: float, lon2: float) -> float:
    """Great-circle distance between two points given in degrees (haversine)."""
    p1, p2 = math.radians(lat1), math.radians(lat2)
    dp, dl = p2 - p1, math.radians(lon2 - lon1)
    h = math.sin(dp / 2) ** 2 + math.cos(p1) * math.cos(p2) * math.sin(dl / 2) ** 2
    return 2 * EARTH_RADIUS_M * math.asin(min(1.0, math.sqrt(h)))


@dataclass(frozen=True)
class NewReport:
    """What merging needs of a judged report."""

    category: str
    tier: Tier
    kind: Kind
    latitude: float | None
    longitude: float | None
    reported_at: datetime


@dataclass(frozen=True)
class OpenIssue:
    """An issue that is still open, as the caller's duplicate index holds it."""

    issue_id: str
    category: str
    latitude: float
    longitude: float
    last_reported_at: datetime
    """Its latest report (merged ones included), so a burst keeps the window open."""


@dataclass(frozen=True)
class Merge:
    into_issue_id: str
    distance_m: float
    reason: str

    def payload(self) -> IssueMergedPayload:
        """What `IssueMerged` carries."""
        return IssueMergedPayload(into_issue_id=self.into_issue_id, reason=self.reason)


def radius_for(category: str, policy: DuplicatePolicy) -> float:
    return policy.radius_by_category.get(category, policy.radius_m)


def find_duplicate(
    report: NewReport, open_issues: Iterable[OpenIssue], policy: DuplicatePolicy
) -> Merge | None:
    """The open issue this report duplicates, or None. Among several, the nearest wins,
    then the earliest reported, then the smallest id: the answer never depends on the
    order the candidates come in."""
    if report.kind not in policy.kinds or report.tier not in policy.tiers:
        return None
    if report.latitude is None or report.longitude is None:
        return None
    radius = radius_for(report.category, policy)
    window = timedelta(hours=policy.window_hours)
    best: tuple[float, datetime, str] | None = None
    for issue in open_issues:
        if issue.category != report.category:
            continue
        if abs(report.reported_at - issue.last_reported_at) > window:
            continue
        metres = distance_m(report.latitude, report.longitude, issue.latitude, issue.longitude)
        if metres > radius:
            continue
        key = (metres, issue.last_reported_at, issue.issue_id)
        if best is None or key < best:
            best = key
    if best is None:
        return None
    metres, _, issue_id = best
    return Merge(
        into_issue_id=issue_id,
        distance_m=metres,
        reason=(
            f"duplicate (重复件): same category {report.category}, {metres:.0f} m from open "
            f"issue {issue_id} (radius {radius:.0f} m) within {policy.window_hours:g} hours"
        ),
    )


@dataclass(frozen=True)
class Cell:
    """A square of the claim grid of one category: rows of equal height in latitude, each
    cut into columns as wide in metres as the row is high (measured at its edge nearest the
    pole, so no cell is narrower)."""

    category: str
    radius_m: float
    row: int
    column: int

    @property
    def key(self) -> str:
        """The claim's id: deterministic, so every instance claims a place under one id."""
        return f"{self.category}:{self.radius_m:g}:{self.row}:{self.column}"


def _side_m(radius: float) -> float:
    return radius / math.sqrt(2) * 0.999


def _column_step(row: int, row_step: float, side: float) -> float:
    edge = min(89.0, max(abs(row * row_step), abs((row + 1) * row_step)))
    return side / (METRES_PER_DEGREE * math.cos(math.radians(edge)))


def cell_of(category: str, latitude: float, longitude: float, policy: DuplicatePolicy) -> Cell:
    """The cell a problem of `category` at this place claims."""
    radius = radius_for(category, policy)
    side = _side_m(radius)
    row_step = side / METRES_PER_DEGREE
    row = math.floor(latitude / row_step)
    column = math.floor(longitude / _column_step(row, row_step, side))
    return Cell(category, radius, row, column)


def cells_near(
    category: str, latitude: float, longitude: float, policy: DuplicatePolicy
) -> list[Cell]:
    """Every cell holding a place within the radius of this one (its own cell included)."""
    radius = radius_for(category, policy)
    side = _side_m(radius)
    row_step = side / METRES_PER_DEGREE
    dlat = radius * MARGIN / METRES_PER_DEGREE
    widest = min(89.0, abs(latitude) + dlat)
    dlon = radius * MARGIN / (METRES_PER_DEGREE * math.cos(math.radians(widest)))
    cells = []
    for row in range(math.floor((latitude - dlat) / row_step),
                     math.floor((latitude + dlat) / row_step) + 1):  # fmt: skip
        step = _column_step(row, row_step, side)
        for column in range(math.floor((longitude - dlon) / step),
                            math.floor((longitude + dlon) / step) + 1):  # fmt: skip
            cells.append(Cell(category, radius, row, column))
    return cells


@dataclass(frozen=True)
class Claim:
    """A cell held by an open problem. A claim is confirmed once its claimer has looked
    around after claiming and found no rival (a problem near it claimed in a neighbouring
    cell at the same moment); until then a report near it waits rather than merging into
    a problem that may yet give way."""

    key: str
    problem: OpenIssue
    confirmed: bool = True


def outlived(holder: OpenIssue, report: NewReport, policy: DuplicatePolicy) -> bool:
    """The holder's window closed before this report: the report may take its cell."""
    return report.reported_at - holder.last_reported_at > timedelta(hours=policy.window_hours)
