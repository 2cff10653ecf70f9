"""Which grid a point lies in: an STR-tree spatial index over the grids' polygons."""

from __future__ import annotations

from collections.abc import Iterable, Sequence

from shapely import STRtree  # type: ignore[import-untyped]
from shapely.geometry import Point, Polygon  # type: ignore[import-untyped]

from services.routing.domain.jurisdiction import City


class GridIndex:
    """Points to grid codes. A point on a border shared by grids goes to the smallest
    code, so the answer never depends on the order the grids were listed in."""

    def __init__(self, grids: Iterable[tuple[str, Sequence[tuple[float, float]]]]) -> None:
        self._codes: list[str] = []
        polygons = []
        for code, ring in grids:
            self._codes.append(code)
            polygons.append(Polygon(ring))
        self._tree = STRtree(polygons)

    @classmethod
    def of(cls, city: City) -> GridIndex:
        return cls(city.grid_polygons())

    def __len__(self) -> int:
        return len(self._codes)

    def locate(self, *, latitude: float, longitude: float) -> str | None:
        """The code of the grid that covers the point, or None outside every grid."""
        hits = self._tree.query(Point(longitude, latitude), predicate="covered_by")
        codes = [self._codes[int(index)] for index in hits]
        return min(codes) if codes else None
