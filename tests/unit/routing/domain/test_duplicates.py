"""重复件: same category, near, within the window → merged into the open issue."""

from datetime import UTC, datetime, timedelta

import pytest

from services.contracts.vocabulary import Kind, Tier
from services.routing.domain.duplicates import NewReport, OpenIssue, distance_m, find_duplicate
from services.routing.domain.policy import DuplicatePolicy

T0 = datetime(2024, 7, 20, 8, 0, tzinfo=UTC)
POLICY = DuplicatePolicy(radius_m=150, window_hours=72, radius_by_category={"water_supply": 300})
LAT, LON = 34.7466, 113.6253  # metres per degree here: ~111,000 north, ~91,400 east


def new(
    category: str = "water_supply",
    *,
    north_m: float = 0,
    hours: float = 0,
    kind: Kind = Kind.COMPLAINT,
    tier: Tier = Tier.GENERAL,
) -> NewReport:
    return NewReport(
        category, tier, kind, LAT + north_m / 111_195, LON, T0 + timedelta(hours=hours)
    )


def issue(issue_id: str, category: str = "water_supply", north_m: float = 0) -> OpenIssue:
    return OpenIssue(issue_id, category, LAT + north_m / 111_195, LON, T0)


def test_distance_is_great_circle_metres() -> None:
    assert distance_m(LAT, LON, LAT, LON) == 0
    assert distance_m(LAT, LON, LAT + 0.01, LON) == pytest.approx(1112, abs=1)
    # Zhengzhou to Beijing, about 620 km.
    assert distance_m(34.7466, 113.6253, 39.9042, 116.4074) == pytest.approx(620_000, rel=0.02)


def test_a_near_report_of_the_same_category_is_merged() -> None:
    merge = find_duplicate(new(north_m=200), [issue("i-1")], POLICY)
    assert merge is not None and merge.into_issue_id == "i-1"
    assert merge.distance_m == pytest.approx(200, abs=1)
    assert "radius 300 m" in merge.reason
    assert merge.payload().into_issue_id == "i-1"


@pytest.mark.parametrize(
    ("report", "why"),
    [
        (new(north_m=350), "beyond the category's radius"),
        (new("noise", north_m=200), "beyond the default radius"),
        (new("drainage"), "another category"),
        (new(hours=73), "after the window"),
        (new(hours=-73), "before the window"),
        (new(kind=Kind.CONSULTATION), "a consultation is answered one by one"),
        (new(tier=Tier.INDIVIDUAL), "a personal matter is never merged"),
    ],
)
def test_what_is_not_a_duplicate(report: NewReport, why: str) -> None:
    open_issues = [issue("i-1"), issue("i-2", "noise")]
    assert find_duplicate(report, open_issues, POLICY) is None, why


def test_a_report_without_a_point_is_never_merged() -> None:
    report = NewReport("water_supply", Tier.GENERAL, Kind.COMPLAINT, None, None, T0)
    assert find_duplicate(report, [issue("i-1")], POLICY) is None


def test_the_nearest_open_issue_wins_whatever_the_order() -> None:
    issues = [issue("far", north_m=250), issue("near", north_m=100), issue("mid", north_m=180)]
    for ordering in (issues, issues[::-1]):
        merge = find_duplicate(new(north_m=120), ordering, POLICY)
        assert merge is not None and merge.into_issue_id == "near"


def test_a_burst_of_fifty_reports_of_one_water_main_is_one_problem() -> None:
    open_issues: list[OpenIssue] = []
    reporters: dict[str, int] = {}
    for n in range(50):
        report = new(north_m=(n % 10) * 20 - 90, hours=n * 0.1)
        merge = find_duplicate(report, open_issues, POLICY)
        if merge is None:
            issue_id = f"issue-{n}"
            assert report.latitude is not None and report.longitude is not None
            open_issues.append(
                OpenIssue(issue_id, report.category, report.latitude, report.longitude, T0)
            )
        else:
            issue_id = merge.into_issue_id
        reporters[issue_id] = reporters.get(issue_id, 0) + 1
    assert reporters == {"issue-0": 50}
