"""The claim grid of the duplicate index: every place within the radius of a report lies in
one of the cells the report looks up, and any two places of one cell are within the radius
(so whoever holds a cell is near enough to merge into)."""

import math

from hypothesis import given
from hypothesis import strategies as st

from services.routing.domain.duplicates import (
    METRES_PER_DEGREE,
    cell_of,
    cells_near,
    distance_m,
)
from services.routing.domain.policy import DuplicatePolicy

POLICY = DuplicatePolicy(radius_m=150, radius_by_category={"water_supply": 300})
CATEGORIES = st.sampled_from(["street_lighting", "water_supply"])
LATITUDES = st.floats(min_value=-70, max_value=70)
LONGITUDES = st.floats(min_value=-179, max_value=179)


def offset(lat: float, lon: float, metres: float, bearing: float) -> tuple[float, float]:
    """A point `metres` from (lat, lon) towards `bearing` (radians), on the sphere."""
    d = metres / (METRES_PER_DEGREE * 180 / math.pi)
    p1, l1 = math.radians(lat), math.radians(lon)
    p2 = math.asin(math.sin(p1) * math.cos(d) + math.cos(p1) * math.sin(d) * math.cos(bearing))
    l2 = l1 + math.atan2(
        math.sin(bearing) * math.sin(d) * math.cos(p1), math.cos(d) - math.sin(p1) * math.sin(p2)
    )
    return math.degrees(p2), math.degrees(l2)


@given(CATEGORIES, LATITUDES, LONGITUDES, st.floats(0, 1), st.floats(0, 2 * math.pi))
def test_a_place_within_the_radius_is_in_a_cell_looked_up(
    category: str, lat: float, lon: float, share: float, bearing: float
) -> None:
    radius = POLICY.radius_by_category.get(category, POLICY.radius_m)
    there = offset(lat, lon, radius * share, bearing)
    assert distance_m(lat, lon, *there) <= radius + 1e-6
    assert cell_of(category, *there, POLICY) in cells_near(category, lat, lon, POLICY)


@given(CATEGORIES, LATITUDES, LONGITUDES, st.floats(0, 300), st.floats(0, 2 * math.pi))
def test_two_places_of_one_cell_are_within_the_radius(
    category: str, lat: float, lon: float, metres: float, bearing: float
) -> None:
    radius = POLICY.radius_by_category.get(category, POLICY.radius_m)
    there = offset(lat, lon, metres, bearing)
    if cell_of(category, lat, lon, POLICY) == cell_of(category, *there, POLICY):
        assert distance_m(lat, lon, *there) <= radius


def test_a_cell_key_names_the_category_and_the_radius_and_few_cells_are_looked_up() -> None:
    cell = cell_of("water_supply", 34.75, 113.62, POLICY)
    assert cell.key.startswith("water_supply:300:")
    assert cell_of("water_supply", 34.75, 113.62, POLICY).key == cell.key  # deterministic
    assert cell_of("street_lighting", 34.75, 113.62, POLICY).key != cell.key
    near = cells_near("water_supply", 34.75, 113.62, POLICY)
    assert cell in near and len(near) <= 25 and len(set(near)) == len(near)
