"""研判: category, tier and region, each with its reason."""

from shapely.geometry import Polygon  # type: ignore[import-untyped]

from services.contracts.vocabulary import Kind, Level, ReporterType, Tier
from services.routing.domain.judging import categorise, judge, tier_of
from services.routing.domain.jurisdiction import City
from services.routing.domain.locating import GridIndex
from tests.unit.routing.reports import first, report


def test_a_known_category_is_taken_from_the_report(city: City) -> None:
    category, why = categorise(report("楼下的灯坏了", category="water_supply"), city)
    assert category == "water_supply"
    assert "given by the report" in why


def test_the_category_is_inferred_from_a_keyword(city: City) -> None:
    category, why = categorise(report("小区门口路灯坏了三天"), city)
    assert category == "street_lighting"
    assert "'路灯'" in why


def test_the_longest_keyword_wins(city: City) -> None:
    # 电梯 (elevator) is in the text, but 加装电梯 (old community renovation) is longer.
    category, _ = categorise(report("老楼想加装电梯,进展太慢"), city)
    assert category == "old_community_renovation"


def test_an_unknown_category_falls_back_to_the_text(city: City) -> None:
    category, why = categorise(report("晚上施工噪音太大", category="noise_pollution"), city)
    assert category == "noise"
    assert "'noise_pollution' is not in the catalogue" in why


def test_nothing_matched_gives_the_fallback_category(city: City) -> None:
    category, why = categorise(report("想问一件事情"), city)
    assert category == city.config.categories.fallback == "other"
    assert "fallback" in why


def test_tiers_follow_the_configured_rules(city: City) -> None:
    def tier(
        text: str,
        category: str,
        kind: Kind = Kind.COMPLAINT,
        reporter_type: ReporterType = ReporterType.CITIZEN,
    ) -> Tier:
        reported = report(text, category=category, kind=kind, reporter_type=reporter_type)
        return tier_of(reported, category, city)[0]

    assert tier("路灯坏了", "street_lighting") is Tier.GENERAL
    assert tier("路灯坏了,多次反映没人管", "street_lighting") is Tier.STRUCTURAL
    assert tier("整个小区停水", "water_supply") is Tier.COMPLEX
    assert tier("回迁房什么时候交", "resettlement_housing") is Tier.COMPLEX
    assert tier("我的社保怎么转", "social_insurance", Kind.CONSULTATION) is Tier.INDIVIDUAL
    assert tier("社保窗口态度差", "social_insurance") is Tier.GENERAL
    assert tier("贷款难", "financing", reporter_type=ReporterType.ENTERPRISE) is Tier.STRUCTURAL
    assert tier("贷款难", "financing") is Tier.GENERAL


def test_the_tier_reason_names_the_rule(city: City) -> None:
    _, why = tier_of(report("整条街的路灯都不亮"), "street_lighting", city)
    assert why == "tier complex by the rule '涉及多个部门或大面积的问题合力办'"


def test_a_region_code_is_taken_as_given(city: City, grids: GridIndex) -> None:
    village = first(city, Level.VILLAGE)
    judged = judge(report("垃圾没人清运", region=village.code), city, grids)
    assert (judged.region_code, judged.level) == (village.code, Level.VILLAGE)
    assert village.name in judged.reason


def test_a_point_is_located_in_the_grid_that_covers_it(city: City, grids: GridIndex) -> None:
    code, ring = city.grid_polygons()[1234]
    centre = Polygon(ring).centroid
    judged = judge(report("垃圾", latitude=centre.y, longitude=centre.x), city, grids)
    assert (judged.region_code, judged.level) == (code, Level.GRID)
    assert f"lies in grid {code}" in judged.reason


def test_an_unknown_code_falls_back_to_the_point(city: City, grids: GridIndex) -> None:
    code, ring = city.grid_polygons()[10]
    centre = Polygon(ring).centroid
    located = report("垃圾", region="000000", latitude=centre.y, longitude=centre.x)
    judged = judge(located, city, grids)
    assert judged.region_code == code
    assert "unknown region code '000000'" in judged.reason


def test_a_point_outside_the_city_means_the_whole_city(city: City, grids: GridIndex) -> None:
    judged = judge(report("垃圾", latitude=39.9, longitude=116.4), city, grids)
    assert (judged.region_code, judged.level) == (city.root.code, Level.CITY)
    assert "outside every grid" in judged.reason


def test_an_enterprise_without_location_is_in_its_registered_region(
    city: City, grids: GridIndex
) -> None:
    enterprise = next(city.enterprises())
    judged = judge(report("贷款难", enterprise_id=enterprise.id), city, grids)
    assert judged.region_code == enterprise.region
    assert judged.enterprise_id == enterprise.id


def test_a_shared_border_goes_to_the_smaller_code() -> None:
    west = [(0.0, 0.0), (1.0, 0.0), (1.0, 1.0), (0.0, 1.0)]
    east = [(1.0, 0.0), (2.0, 0.0), (2.0, 1.0), (1.0, 1.0)]
    index = GridIndex([("b-east", east), ("a-west", west)])
    assert index.locate(latitude=0.5, longitude=1.0) == "a-west"
    assert index.locate(latitude=0.5, longitude=1.5) == "b-east"
    assert index.locate(latitude=1.5, longitude=1.5) is None
