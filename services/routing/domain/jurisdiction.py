"""The city as routing sees it: regions and their ancestors, offices placed in regions,
and the responsibility list resolved to real offices. Built once from a `CityConfig`."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

from services.contracts.vocabulary import Level
from services.routing.domain.city import (
    Category,
    CategoryGroup,
    CityConfig,
    Enterprise,
    Point,
    walk_regions,
)
from services.routing.domain.policy import Policy

DEPTH: dict[Level, int] = {
    Level.CITY: 0,
    Level.COUNTY: 1,
    Level.TOWNSHIP: 2,
    Level.VILLAGE: 3,
    Level.GRID: 4,
}
"""How far below the city a level is: a smaller depth is a higher level."""


def above(level: Level, other: Level) -> bool:
    """Whether `level` is strictly higher than `other` (county is above township)."""
    return DEPTH[level] < DEPTH[other]


@dataclass(frozen=True)
class Region:
    code: str
    name: str
    level: Level
    kind: str
    parent: str | None


@dataclass(frozen=True)
class Office:
    id: str
    name: str
    kind: str
    type: str
    level: Level
    region: str


class City:
    """Read-only lookups over one city's configuration. Expects a cross-checked one
    (`load_city_config` and `check_city_config` of `adapters.city_files`, and devkit's
    `generate_city`, all give one)."""

    def __init__(self, config: CityConfig) -> None:
        self.config = config
        self._regions: dict[str, Region] = {}
        self._polygons: list[tuple[str, tuple[Point, ...]]] = []
        for row in walk_regions(config.regions):
            self._regions[row.code] = Region(row.code, row.name, row.level, row.kind, row.parent)
            if row.polygon is not None:
                self._polygons.append((row.code, row.polygon))
        self._offices: dict[str, Office] = {}
        self._placed: dict[tuple[str, str], Office] = {}
        for entry in config.offices:
            kind = config.office_kinds[entry.kind]
            level = self._regions[entry.region].level
            office = Office(entry.id, entry.name, entry.kind, kind.type, level, entry.region)
            self._offices[office.id] = office
            self._placed.setdefault((entry.region, entry.kind), office)
        self._categories: dict[str, Category] = {}
        self._groups: dict[str, CategoryGroup] = {}
        for group in config.categories.groups:
            for item in group.items:
                self._categories[item.id] = item
                self._groups[item.id] = group
        listed = [(k, item.id) for item in self._categories.values() for k in item.keywords]
        # The longest keyword wins ("水管爆裂" before "水管"); ties keep catalogue order.
        self.keywords: tuple[tuple[str, str], ...] = tuple(
            sorted(listed, key=lambda pair: -len(pair[0]))
        )
        self._enterprises = {enterprise.id: enterprise for enterprise in config.enterprises}

    @property
    def policy(self) -> Policy:
        return self.config.policy

    # --- regions

    @property
    def root(self) -> Region:
        return self._regions[self.config.regions.code]

    def region(self, code: str) -> Region | None:
        return self._regions.get(code)

    def regions(self) -> Iterator[Region]:
        return iter(self._regions.values())

    def ancestors(self, code: str) -> tuple[Region, ...]:
        """The region itself, then its parent, up to the city."""
        chain: list[Region] = []
        at: str | None = code
        while at is not None:
            region = self._regions[at]
            chain.append(region)
            at = region.parent
        return tuple(chain)

    def grid_polygons(self) -> list[tuple[str, tuple[Point, ...]]]:
        return list(self._polygons)

    # --- offices

    def office(self, office_id: str) -> Office | None:
        return self._offices.get(office_id)

    def offices(self) -> Iterator[Office]:
        return iter(self._offices.values())

    def office_in(self, region_code: str, kind: str) -> Office | None:
        """The office of `kind` that sits exactly in this region."""
        return self._placed.get((region_code, kind))

    def nearest(self, kind: str, region_code: str, lowest: Level = Level.GRID) -> Office | None:
        """The office of `kind` in the lowest region of the chain, at `lowest` or above."""
        for region in self.ancestors(region_code):
            if not above(lowest, region.level):
                office = self.office_in(region.code, kind)
                if office is not None:
                    return office
        return None

    def sits_within(self, office: Office, region_code: str) -> bool:
        """Whether the office sits in the region or in one of its ancestors."""
        return any(region.code == office.region for region in self.ancestors(region_code))

    def coordinator(self, region_code: str) -> Office | None:
        """The office that coordinates in this region (街道统筹), if the level has one."""
        level = self._regions[region_code].level
        kind = self.config.responsibility.coordinators.get(level)
        return None if kind is None else self.office_in(region_code, kind)

    # --- categories and responsibility

    def category(self, category_id: str) -> Category | None:
        return self._categories.get(category_id)

    def categories(self) -> Iterator[Category]:
        return iter(self._categories.values())

    def group_of(self, category_id: str) -> CategoryGroup:
        return self._groups[category_id]

    def duties(self, category_id: str, level: Level) -> tuple[str, ...]:
        """The office kinds responsible for the category at the level, first first."""
        return self.config.responsibility.duties.get(category_id, {}).get(level, ())

    def assists(self, category_id: str) -> tuple[str, ...]:
        return self.config.responsibility.assists.get(category_id, ())

    def responsible(self, category_id: str, region_code: str) -> tuple[Office, ...]:
        """The inverted pyramid: every office responsible for the category in the region's
        chain, the lowest level first, in the responsibility list's order within a level."""
        found: list[Office] = []
        for region in self.ancestors(region_code):
            for kind in self.duties(category_id, region.level):
                office = self.office_in(region.code, kind)
                if office is not None and office not in found:
                    found.append(office)
        return tuple(found)

    def is_responsible(self, office: Office, category_id: str) -> bool:
        """Whether the office may lead the category at its level: it is listed for it, it
        coordinates its level, or it is the category's special working group."""
        category = self._categories.get(category_id)
        return (
            office.kind in self.duties(category_id, office.level)
            or self.config.responsibility.coordinators.get(office.level) == office.kind
            or (category is not None and category.working_group == office.kind)
        )

    # --- enterprises

    def enterprise(self, enterprise_id: str) -> Enterprise | None:
        return self._enterprises.get(enterprise_id)

    def enterprises(self) -> Iterator[Enterprise]:
        return iter(self._enterprises.values())
