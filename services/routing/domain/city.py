"""The city as configuration: its jurisdiction tree, offices, category catalogue,
responsibility list, contact cadres and routing policy, as validated models. The files
they come from are read by `services.routing.adapters.city_files`; the cross-checks of
names that point somewhere are in `city_checks`.

The rules (office kinds, categories, responsibility list, policy) are written by hand;
the tree, the offices and the enterprises may be generated (`devkit.citygen`).
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from typing import Annotated, Literal

from pydantic import Field, StringConstraints, field_validator
from shapely.geometry import Polygon  # type: ignore[import-untyped]

from services.contracts.vocabulary import Level
from services.routing.domain.policy import Id, Model, Name, Policy

Loc = tuple[str | int, ...]
"""A path into the configuration, as pydantic reports it: ("offices", 3, "region")."""

Code = Annotated[str, StringConstraints(pattern=r"^[0-9A-Za-z]{2,24}$")]
Longitude = Annotated[float, Field(ge=-180, le=180)]
Latitude = Annotated[float, Field(ge=-90, le=90)]
Point = tuple[Longitude, Latitude]


# --- the jurisdiction tree: city → county/district → township/street → village/community → grid


class Grid(Model):
    code: Code
    name: Name
    polygon: tuple[Point, ...] | None = Field(
        default=None, description="[longitude, latitude] corners; the ring closes itself"
    )

    @field_validator("polygon")
    @classmethod
    def _simple(cls, polygon: tuple[Point, ...] | None) -> tuple[Point, ...] | None:
        if polygon is not None:
            if len(polygon) < 3:
                raise ValueError("a polygon needs at least 3 points")
            if not Polygon(polygon).is_valid:
                raise ValueError("not a simple polygon (it crosses itself or is flat)")
        return polygon


class Village(Model):
    code: Code
    name: Name
    kind: Literal["village", "community"] = "village"
    grids: tuple[Grid, ...] = ()


class Township(Model):
    code: Code
    name: Name
    kind: Literal["township", "town", "street"] = "town"
    villages: tuple[Village, ...] = ()


class County(Model):
    code: Code
    name: Name
    kind: Literal["county", "district", "county_city"] = "district"
    townships: tuple[Township, ...] = ()


class CityRegion(Model):
    code: Code
    name: Name
    name_en: Name | None = None
    counties: tuple[County, ...] = Field(min_length=1)


@dataclass(frozen=True)
class RegionRow:
    """One node of the tree, flattened: where it is in the file and who its parent is."""

    loc: Loc
    code: str
    name: str
    kind: str
    level: Level
    parent: str | None
    polygon: tuple[Point, ...] | None = None


def walk_regions(root: CityRegion) -> Iterator[RegionRow]:
    """Every node of the tree, parents before children, in file order."""
    at: Loc = ("regions",)
    yield RegionRow(at, root.code, root.name, "city", Level.CITY, None)
    for c, county in enumerate(root.counties):
        at_c = (*at, "counties", c)
        yield RegionRow(at_c, county.code, county.name, county.kind, Level.COUNTY, root.code)
        for t, town in enumerate(county.townships):
            at_t = (*at_c, "townships", t)
            yield RegionRow(at_t, town.code, town.name, town.kind, Level.TOWNSHIP, county.code)
            for v, village in enumerate(town.villages):
                at_v = (*at_t, "villages", v)
                yield RegionRow(
                    at_v, village.code, village.name, village.kind, Level.VILLAGE, town.code
                )
                for g, grid in enumerate(village.grids):
                    yield RegionRow(
                        (*at_v, "grids", g),
                        grid.code,
                        grid.name,
                        "grid",
                        Level.GRID,
                        village.code,
                        grid.polygon,
                    )


# --- offices


OfficeType = Literal["center", "government", "department", "committee", "working_group", "utility"]


class OfficeKind(Model):
    """A kind of office that exists at some levels: a water bureau at county and city."""

    name: Name = Field(description="appended to the region's name: 金水区 + 水务局")
    name_en: Name
    levels: tuple[Level, ...] = Field(min_length=1)
    type: OfficeType
    names: dict[str, Name] = Field(
        default={}, description="a different name by region kind, e.g. street: 办事处"
    )


class OfficeEntry(Model):
    id: Id
    name: Name
    kind: Id
    region: Code


# --- categories and the responsibility list


class Category(Model):
    id: Id
    name: Name
    name_en: Name
    keywords: tuple[Name, ...] = Field(default=(), description="any of these in the text")
    working_group: Id | None = Field(
        default=None, description="the office kind of the special working group (专班)"
    )


class CategoryGroup(Model):
    id: Id
    name: Name
    name_en: Name
    items: tuple[Category, ...] = Field(min_length=1)


class Catalogue(Model):
    fallback: Id = Field(description="the category of a report nothing else matches")
    groups: tuple[CategoryGroup, ...] = Field(min_length=1)


class Responsibility(Model):
    """权责清单: category × level → office kinds, most responsible first."""

    coordinators: dict[Level, Id] = Field(
        description="the office kind that coordinates at a level (街道统筹)"
    )
    duties: dict[Id, dict[Level, tuple[Id, ...]]]
    assists: dict[Id, tuple[Id, ...]] = Field(
        default={}, description="office kinds that co-handle joint (complex, structural) issues"
    )


# --- enterprises and their contact cadres


class ContactCadre(Model):
    name: Name
    office: Id


class Enterprise(Model):
    id: Id
    name: Name
    region: Code
    cadre: ContactCadre | None = None


# --- the whole configuration


class CityRules(Model):
    """The hand-written part: what kinds of office exist and who owns what."""

    office_kinds: dict[Id, OfficeKind]
    categories: Catalogue
    responsibility: Responsibility
    policy: Policy


class CityConfig(CityRules):
    """The rules plus one city: its tree, its offices and its enterprises."""

    regions: CityRegion
    offices: tuple[OfficeEntry, ...]
    enterprises: tuple[Enterprise, ...] = ()
