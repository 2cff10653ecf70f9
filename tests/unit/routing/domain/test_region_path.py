"""IssueTriaged carries the region's path from the city down, so reporting can count any level."""

from services.routing.domain.judging import judge
from services.routing.domain.jurisdiction import City
from services.routing.domain.locating import GridIndex
from tests.unit.routing.reports import report


def test_the_triage_carries_the_path_from_the_city_down_to_the_grid(
    city: City, grids: GridIndex
) -> None:
    grid = "411901001001001"
    payload = judge(report("路灯不亮", region=grid), city, grids).payload()
    assert payload.region_path == ("411900", "411901", "411901001", "411901001001", grid)
    assert payload.region_names[0] == "中州市" and payload.region_names[2] == "银台街道"
    assert len(payload.region_names) == 5


def test_a_report_without_location_is_the_whole_city(city: City, grids: GridIndex) -> None:
    payload = judge(report("路灯不亮"), city, grids).payload()
    assert payload.region_path == ("411900",)
