"""Dispatch rules over the sample city: the pyramid, joint handling, working groups,
contact cadres, returns, the ladder and reopenings; every decision with its reason."""

import pytest

from services.contracts.events import (
    IssueAccepted,
    IssueAcceptedPayload,
    IssueReopened,
    IssueReopenedPayload,
    IssueReturned,
    IssueReturnedPayload,
    SupervisionOrdered,
    SupervisionOrderedPayload,
)
from services.contracts.vocabulary import ClockKind, Level, Rung, Tier
from services.routing.domain.dispatch import (
    dispatch,
    fold,
    on_reopened,
    on_returned,
    on_supervision_ordered,
)
from services.routing.domain.judging import Judgement
from services.routing.domain.jurisdiction import City, Region
from services.routing.domain.state import Escalation, RoutingState
from tests.unit.routing.reports import chain, first


@pytest.fixture(scope="module")
def village(city: City) -> Region:
    return first(city, Level.VILLAGE)


def judged(
    region: Region, category: str, tier: Tier = Tier.GENERAL, enterprise: str | None = None
) -> Judgement:
    return Judgement(category, tier, region.code, region.level, enterprise, ("test",))


def office_id(city: City, region: Region, kind: str) -> str:
    office = city.office_in(region.code, kind)
    assert office is not None
    return office.id


def test_the_lowest_level_that_can_handle_it_leads(city: City, village: Region) -> None:
    state = dispatch(judged(village, "sanitation"), city)
    assert state.lead.office_id == office_id(city, village, "village_committee")
    assert state.lead.level is Level.VILLAGE
    assert "倒金字塔" in state.lead.reason and "village" in state.lead.reason


def test_a_category_nobody_handles_in_the_village_goes_to_the_street(
    city: City, village: Region
) -> None:
    state = dispatch(judged(village, "street_lighting"), city)
    township = chain(city, village.code)[Level.TOWNSHIP]
    assert state.lead.office_id == office_id(city, township, "township_enforcement")


def test_a_report_from_a_grid_is_handled_by_its_village(city: City) -> None:
    grid = first(city, Level.GRID)
    state = dispatch(judged(grid, "sanitation"), city)
    village = chain(city, grid.code)[Level.VILLAGE]
    assert state.lead.office_id == office_id(city, village, "village_committee")


def test_a_complex_issue_gets_co_offices_but_never_the_lead(city: City, village: Region) -> None:
    state = dispatch(judged(village, "water_supply", Tier.COMPLEX), city)
    up = chain(city, village.code)
    assert state.lead.office_id == office_id(city, up[Level.TOWNSHIP], "township_office")
    assert state.lead.co_office_ids == (
        office_id(city, up[Level.COUNTY], "housing"),
        office_id(city, up[Level.COUNTY], "urban_management"),
    )
    assert "协办" in state.lead.reason


def test_co_offices_include_the_other_responsible_kinds_of_the_level(
    city: City, village: Region
) -> None:
    state = dispatch(judged(chain(city, village.code)[Level.COUNTY], "noise", Tier.COMPLEX), city)
    county = chain(city, village.code)[Level.COUNTY]
    assert state.lead.office_id == office_id(city, county, "ecology_environment")
    assert office_id(city, county, "public_security") in state.lead.co_office_ids
    assert state.lead.office_id not in state.lead.co_office_ids


def test_a_general_issue_has_no_co_offices(city: City, village: Region) -> None:
    assert dispatch(judged(village, "water_supply"), city).lead.co_office_ids == ()


def test_a_structural_enterprise_issue_goes_to_its_working_group(
    city: City, village: Region
) -> None:
    state = dispatch(judged(village, "financing", Tier.STRUCTURAL), city)
    assert state.lead.office_id == office_id(city, city.root, "wg_finance")
    assert state.lead.level is Level.CITY
    assert office_id(city, city.root, "finance") in state.lead.co_office_ids
    assert "special working group" in state.lead.reason


def test_a_working_group_that_returns_hands_over_at_the_coordinating_level(
    city: City, village: Region
) -> None:
    # wg_finance is also listed for financing at the city: the next city kind takes it.
    state = dispatch(judged(village, "financing", Tier.STRUCTURAL), city)
    state = on_returned(state, state.lead.office_id, "属一般融资咨询", city)
    assert state.lead.office_id == office_id(city, city.root, "finance")
    assert "next candidate at city level" in state.lead.reason
    assert office_id(city, city.root, "industry") in state.lead.co_office_ids
    # subsidies name wg_finance only as their working group: its return goes to the
    # pyramid, at the coordinating level (county) or above.
    state = dispatch(judged(village, "subsidies", Tier.STRUCTURAL), city)
    assert state.lead.office_id == office_id(city, city.root, "wg_finance")
    state = on_returned(state, state.lead.office_id, "属一般奖补", city)
    county = chain(city, village.code)[Level.COUNTY]
    assert state.lead.office_id == office_id(city, county, "industry")
    assert office_id(city, county, "finance") in state.lead.co_office_ids


def test_a_structural_issue_is_coordinated_at_the_policy_level(city: City, village: Region) -> None:
    state = dispatch(judged(village, "sanitation", Tier.STRUCTURAL), city)
    county = chain(city, village.code)[Level.COUNTY]
    assert state.lead.office_id == office_id(city, county, "urban_management")
    assert "coordinated at county level" in state.lead.reason


def test_an_enterprise_goes_first_to_its_contact_cadre(city: City) -> None:
    enterprise = next(e for e in city.enterprises() if e.cadre is not None)
    region = city.region(enterprise.region)
    assert region is not None and enterprise.cadre is not None
    state = dispatch(judged(region, "recruitment", enterprise=enterprise.id), city)
    assert state.lead.office_id == enterprise.cadre.office
    assert enterprise.cadre.name in state.lead.reason and "一企一策" in state.lead.reason


def test_a_cadre_outside_the_report_region_is_passed_over(city: City) -> None:
    enterprise = next(e for e in city.enterprises() if e.cadre is not None)
    elsewhere = next(
        r
        for r in city.regions()
        if r.level is Level.VILLAGE and r.code[:6] != enterprise.region[:6]
    )
    state = dispatch(judged(elsewhere, "sanitation", enterprise=enterprise.id), city)
    assert state.lead.office_id == office_id(city, elsewhere, "village_committee")
    assert "outside region" in state.lead.reason


def test_a_return_goes_to_the_next_candidate_then_a_level_up(city: City, village: Region) -> None:
    up = chain(city, village.code)
    state = dispatch(judged(village, "sanitation"), city)

    # Nobody else handles sanitation in the village: the street takes it.
    state = on_returned(state, state.lead.office_id, "不归我们管", city)
    assert state.lead.office_id == office_id(city, up[Level.TOWNSHIP], "township_enforcement")
    assert "不归我们管" in state.lead.reason and state.returns_at_level == 0

    # First return at the township: the next kind at the same level.
    state = on_returned(state, state.lead.office_id, "应由街道办协调", city)
    assert state.lead.office_id == office_id(city, up[Level.TOWNSHIP], "township_office")
    assert state.returns_at_level == 1

    # Second return at the township: one level up.
    state = on_returned(state, state.lead.office_id, "需区级部门处理", city)
    assert state.lead.office_id == office_id(city, up[Level.COUNTY], "urban_management")
    assert "returned 2 times at township level" in state.lead.reason
    assert state.returns_at_level == 0

    # No other county kind handles sanitation: the first return already climbs.
    state = on_returned(state, state.lead.office_id, "x", city)
    assert state.lead.office_id == office_id(city, city.root, "urban_management")
    state = on_returned(state, state.lead.office_id, "x", city)
    center = office_id(city, city.root, "hotline_center")
    assert state.lead.office_id == center
    # The city's center is the end of the line: its return changes no assignment.
    assert on_returned(state, center, "x", city).decisions == state.decisions


def test_a_co_office_that_returns_steps_out_and_the_lead_stays(city: City, village: Region) -> None:
    state = dispatch(judged(village, "water_supply", Tier.COMPLEX), city)
    leaving = state.lead.co_office_ids[0]
    after = on_returned(state, leaving, "不是我们的职责", city)
    assert after.lead.office_id == state.lead.office_id
    assert after.lead.co_office_ids == state.lead.co_office_ids[1:]
    assert "co-office" in after.lead.reason


def test_a_return_by_an_office_not_on_the_issue_changes_nothing(
    city: City, village: Region
) -> None:
    state = dispatch(judged(village, "sanitation"), city)
    assert on_returned(state, "someone-else", "x", city).decisions == state.decisions


def test_a_cadre_office_that_returns_hands_over_to_the_pyramid(city: City) -> None:
    enterprise = next(
        e for e in city.enterprises() if e.cadre and not e.cadre.office.endswith("township_office")
    )
    region = city.region(enterprise.region)
    assert region is not None
    state = dispatch(judged(region, "sanitation", enterprise=enterprise.id), city)
    state = on_returned(state, state.lead.office_id, "请属地处理", city)
    assert state.lead.office_id == office_id(city, region, "village_committee")


def test_supervision_climbs_the_ladder_one_rung_at_a_time(city: City, village: Region) -> None:
    state = dispatch(judged(village, "noise"), city)
    climbed = []
    for _ in range(5):
        state = on_supervision_ordered(state, "红旗", city)
        climbed.append(state.rung)
    top = Rung.PRINCIPAL
    assert climbed == [Rung.CENTER, Rung.DEPUTY, Rung.EXECUTIVE_DEPUTY, top, top]
    escalations = [d for d in state.decisions if isinstance(d, Escalation)]
    assert len(escalations) == 4  # at the top nothing more happens
    assert escalations[0].supervisor_id == office_id(city, city.root, "hotline_center")
    assert escalations[1].supervisor == "分管生态环境副市长"
    assert escalations[3].supervisor_id == "principal-leaders"
    assert all(state.lead.office_id in e.reason for e in escalations)


def test_a_reassignment_keeps_the_rung(city: City, village: Region) -> None:
    state = on_supervision_ordered(dispatch(judged(village, "sanitation"), city), "超时", city)
    state = on_returned(state, state.lead.office_id, "x", city)
    assert state.lead.rung is Rung.CENTER


def test_a_reopened_issue_goes_back_then_up(city: City, village: Region) -> None:
    up = chain(city, village.code)
    state = dispatch(judged(village, "sanitation"), city)
    committee = state.lead.office_id
    state = on_reopened(state, "群众不满意", city)
    assert state.lead.office_id == committee and state.reopens == 1
    assert "back to its office" in state.lead.reason
    state = on_reopened(state, "仍不满意", city)
    assert state.lead.office_id == office_id(city, up[Level.TOWNSHIP], "township_enforcement")
    assert state.reopens == 0 and "reopened 2 times" in state.lead.reason


def test_fold_reacts_to_the_log_and_ignores_what_it_does_not_route(
    city: City, village: Region
) -> None:
    state = dispatch(judged(village, "sanitation"), city, cause="reported-1")
    lead = state.lead.office_id
    returned = IssueReturned(
        issue_id="i-1",
        producer="intake",
        payload=IssueReturnedPayload(office_id=lead, reason="非本单位职责"),
    )
    ordered = SupervisionOrdered(
        issue_id="i-1",
        producer="supervision",
        payload=SupervisionOrderedPayload(clock=ClockKind.ACCEPT, reason="签收超时"),
    )
    reopened = IssueReopened(
        issue_id="i-1", producer="intake", payload=IssueReopenedPayload(reason="不满意")
    )
    accepted = IssueAccepted(
        issue_id="i-1", producer="intake", payload=IssueAcceptedPayload(office_id=lead)
    )
    state = fold(state, accepted, city)
    assert len(state.decisions) == 1
    for event in (returned, ordered, reopened):
        once = fold(state, event, city)
        assert fold(once, event, city) == once  # a second delivery changes nothing
        assert once.last.cause == str(event.event_id)
        state = once
    assert state.rung is Rung.CENTER
    assert [d.type for d in state.decisions] == ["assigned", "assigned", "escalated", "assigned"]


def test_the_state_round_trips_through_json(city: City, village: Region) -> None:
    state = dispatch(judged(village, "water_supply", Tier.COMPLEX), city, cause="c1")
    state = on_supervision_ordered(state, "x", city, cause="c2")
    state = on_returned(state, state.lead.office_id, "x", city, cause="c3")
    assert RoutingState.model_validate_json(state.model_dump_json()) == state


def test_supervision_for_an_office_that_no_longer_has_the_issue_is_stale(
    city: City, village: Region
) -> None:
    state = dispatch(judged(village, "sanitation"), city)
    former = state.lead.office_id
    state = on_returned(state, former, "x", city)
    assert on_supervision_ordered(state, "超时", city, office_id=former).rung is Rung.OFFICE
    current = state.lead.office_id
    assert on_supervision_ordered(state, "超时", city, office_id=current).rung is Rung.CENTER


def test_decisions_become_the_payloads_of_the_log(city: City, village: Region) -> None:
    judgement = judged(village, "water_supply", Tier.COMPLEX)
    state = on_supervision_ordered(dispatch(judgement, city), "红旗", city)
    assigned = state.lead.payload()
    assert (assigned.office_id, assigned.co_office_ids) == (
        state.lead.office_id,
        state.lead.co_office_ids,
    )
    assert assigned.level is Level.TOWNSHIP and assigned.reason == state.lead.reason
    last = state.last
    assert isinstance(last, Escalation)
    escalated = last.payload()
    assert (escalated.from_rung, escalated.to_rung) == (Rung.OFFICE, Rung.CENTER)
    triaged = judgement.payload()
    assert (triaged.category, triaged.tier, triaged.region_code) == (
        "water_supply",
        Tier.COMPLEX,
        village.code,
    )
