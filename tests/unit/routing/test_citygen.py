"""The generator: deterministic, sized as asked, grids tiling the city's box."""

from dataclasses import replace

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from shapely import union_all  # type: ignore[import-untyped]
from shapely.geometry import Polygon, box  # type: ignore[import-untyped]

from devkit.citygen import CitySpec, generate_city
from services.contracts.vocabulary import Level
from services.routing.domain.city import CityRules, walk_regions
from services.routing.domain.jurisdiction import City
from services.routing.domain.locating import GridIndex

SMALL = CitySpec(counties=3, townships=9, villages=40, enterprises=20, seed=7)


def test_the_same_spec_gives_the_same_city(rules: CityRules) -> None:
    assert generate_city(SMALL, rules) == generate_city(SMALL, rules)
    assert generate_city(SMALL, rules) != generate_city(replace(SMALL, seed=8), rules)


def test_the_city_has_the_asked_size_and_nested_codes(rules: CityRules) -> None:
    rows = list(walk_regions(generate_city(SMALL, rules).regions))
    levels = [row.level for row in rows]
    assert (levels.count(Level.COUNTY), levels.count(Level.TOWNSHIP)) == (3, 9)
    assert levels.count(Level.VILLAGE) == 40
    for row in rows:
        if row.parent is not None:  # a county shares its city's first four digits
            assert row.code.startswith(row.parent[:4] if row.level is Level.COUNTY else row.parent)


def test_the_grids_tile_the_bounding_box_exactly(rules: CityRules) -> None:
    city = City(generate_city(SMALL, rules))
    polygons = [Polygon(ring) for _, ring in city.grid_polygons()]
    whole = box(*SMALL.bbox)
    assert union_all(polygons).symmetric_difference(whole).area == pytest.approx(0, abs=1e-12)
    assert sum(p.area for p in polygons) == pytest.approx(whole.area, rel=1e-9)  # no overlaps


def test_every_office_kind_is_placed_at_each_of_its_levels(rules: CityRules) -> None:
    city = City(generate_city(SMALL, rules))
    for region in city.regions():
        for kind_id, kind in rules.office_kinds.items():
            if region.level in kind.levels:
                assert city.office_in(region.code, kind_id) is not None


def test_an_impossible_spec_is_refused() -> None:
    with pytest.raises(ValueError, match="villages"):
        CitySpec(townships=10, villages=5)


@settings(max_examples=25, deadline=None)
@given(
    seed=st.integers(0, 2**32),
    x=st.floats(0, 1),
    y=st.floats(0, 1),
)
def test_every_point_of_the_box_lies_in_a_grid(
    rules: CityRules, seed: int, x: float, y: float
) -> None:
    spec = CitySpec(counties=2, townships=4, villages=10, enterprises=0, seed=seed)
    city = City(generate_city(spec, rules))
    west, south, east, north = spec.bbox
    longitude, latitude = west + x * (east - west), south + y * (north - south)
    code = GridIndex.of(city).locate(latitude=latitude, longitude=longitude)
    assert code is not None
    region = city.region(code)
    assert region is not None and region.level is Level.GRID
