"""A bulletin's figures from issue facts (views): the region at any level, the period's days,
overdue by office, backlog cases as of the period's end."""

from datetime import date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from services.reporting.bulletins.figures import BACKLOG_LISTED, figures
from services.reporting.domain.period import Period
from services.reporting.domain.rankings import Weights
from services.reporting.domain.scope import lies_in_region as in_region

SHANGHAI = ZoneInfo("Asia/Shanghai")
WEEK = Period.week_of(date(2026, 11, 16))
CITY, COUNTY, TOWN, OTHER_TOWN = "411900", "411901", "411901001", "411902003"


def view(
    n: int, day: date, town: str = TOWN, yellow: bool = False, red: bool = False, **fields: Any
) -> dict[str, Any]:
    reported = datetime(day.year, day.month, day.day, 9, tzinfo=SHANGHAI)
    path = [CITY, town[:6], town, f"{town}001"]
    return {
        "issue_id": f"i{n}", "reported_at": reported, "reported_day": day.isoformat(),
        "channel": "hotline", "region_code": path[-1], "region_path": path, "township": town,
        "township_name": None, "state": "received", "assigned": False, "office_id": None,
        "by_path": True,
        "category": "street_lighting", "flags": {"yellow": yellow, "red": red},
    } | fields  # fmt: skip


MONDAY, WEDNESDAY = date(2026, 11, 16), date(2026, 11, 18)
ASSIGNED: dict[str, Any] = {"assigned": True, "state": "accepted", "accepted_on_time": True}
REPORTED = [
    view(1, MONDAY, **ASSIGNED, office_id="water"),
    view(2, MONDAY, **ASSIGNED, office_id="water", yellow=True, red=True),
    view(3, WEDNESDAY, **ASSIGNED, office_id="roads", yellow=True),
    view(4, WEDNESDAY, OTHER_TOWN, **ASSIGNED, office_id="roads", red=True, yellow=True),
    view(5, WEDNESDAY, channel="grid", answered_directly=True, state="answered"),
    view(6, date(2026, 11, 23), **ASSIGNED, office_id="water"),  # next week: left out
]
OLD = date(2026, 10, 20)  # 33 days before the end of the week (23 November 00:00)
UNSOLVED = [
    view(7, OLD, **ASSIGNED, office_id="water", red=True, yellow=True),
    view(8, OLD, OTHER_TOWN, **ASSIGNED, office_id="roads"),
    view(9, date(2026, 10, 25), **ASSIGNED, office_id="water"),  # 29 days: not yet
]


def make(region: str | None) -> Any:
    return figures(
        period=WEEK, region_code=region, region_name=None, reported=REPORTED,
        unsolved=UNSOLVED, generated_at=datetime(2026, 11, 23, 8, tzinfo=SHANGHAI),
        timezone=SHANGHAI, weights=Weights(1, 1, 1), backlog_days=30,
        names={COUNTY: "和塘区", "water": "水务局"},
    )  # fmt: skip


def test_a_region_at_any_level_holds_the_issues_below_it() -> None:
    fact = REPORTED[0]
    assert [in_region(fact, code) for code in (CITY, COUNTY, TOWN, f"{TOWN}001", None)] == [
        True, True, True, True, True,
    ]  # fmt: skip
    assert not in_region(fact, OTHER_TOWN) and not in_region(fact, "4119")
    direct = {"region_code": "411901001001", "region_path": ["411901001001"]}  # never triaged
    assert [in_region(direct, code) for code in ("410000", CITY, COUNTY, TOWN, OTHER_TOWN)] == [
        True, True, True, True, False,
    ]  # fmt: skip
    assert not in_region(direct, "411902") and not in_region({"region_code": None}, CITY)


def test_the_figures_of_a_county_for_a_week() -> None:
    county = make(COUNTY)
    assert county.region_name == "和塘区"
    assert (county.totals.received, county.totals.assigned, county.totals.answered_directly) == (
        4, 3, 1,
    )  # fmt: skip
    assert county.by_channel == (("hotline", 3), ("grid", 1))
    received = {d.day: d.rates.received for d in county.daily}
    assert list(received) == WEEK.days
    assert (received[MONDAY], received[WEDNESDAY], sum(received.values())) == (2, 2, 4)
    assert [(o.office_id, o.name, o.yellow, o.red) for o in county.overdue] == [
        ("water", "水务局", 1, 1),
        ("roads", None, 1, 0),
    ]
    assert [(b.issue_id, b.age_days, b.flag, b.office_name) for b in county.backlog] == [
        ("i7", 33, "red", "水务局")
    ]
    assert {r.unit_id for r in county.office_ranking} == {"water", "roads"}
    assert [r.unit_id for r in county.township_ranking] == [TOWN]


def test_every_region_counts_every_issue_of_the_period() -> None:
    everywhere = make(None)
    assert (everywhere.totals.received, everywhere.region_name) == (5, None)
    assert [(o.office_id, o.yellow, o.red) for o in everywhere.overdue] == [
        ("roads", 2, 1),
        ("water", 1, 1),
    ]
    assert [b.issue_id for b in everywhere.backlog] == ["i7", "i8"]
    assert {r.unit_id for r in everywhere.township_ranking} == {TOWN, OTHER_TOWN}
    assert all(d.day - WEEK.start < timedelta(days=7) for d in everywhere.daily)


def test_a_long_backlog_names_its_oldest_and_counts_them_all() -> None:
    many = [
        view(100 + n, OLD - timedelta(days=n), **ASSIGNED, office_id="water") for n in range(70)
    ]
    listed = figures(
        period=WEEK, region_code=None, region_name=None, reported=[], unsolved=many,
        generated_at=datetime(2026, 11, 23, 8, tzinfo=SHANGHAI), timezone=SHANGHAI,
        weights=Weights(1, 1, 1), backlog_days=30, names={},
    )  # fmt: skip
    assert listed.backlog_total == 70
    assert len(listed.backlog) == BACKLOG_LISTED == 50
    assert [b.issue_id for b in listed.backlog[:2]] == ["i169", "i168"]  # the oldest first
