"""Properties over generated cities and reports: whatever the tree, the report and what
happens to it next (returns, supervision, reopenings), every report that is not merged
has exactly one lead office that exists, may lead its category at its level, and sits in
or above the report's region; co-offices never include the lead; escalation never goes
down or sideways."""

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st

from devkit.citygen import CitySpec, generate_city
from services.contracts.events import IssueReportedPayload
from services.contracts.vocabulary import Channel, Kind, Level, ReporterType
from services.routing.domain.city import CityRules
from services.routing.domain.dispatch import (
    dispatch,
    on_reopened,
    on_returned,
    on_supervision_ordered,
)
from services.routing.domain.duplicates import NewReport, OpenIssue, distance_m, find_duplicate
from services.routing.domain.judging import Judgement, judge
from services.routing.domain.jurisdiction import DEPTH, City
from services.routing.domain.locating import GridIndex
from services.routing.domain.state import RUNGS, Assignment, Escalation, RoutingState
from tests.unit.routing.reports import report

T0 = datetime(2024, 7, 20, 8, 0, tzinfo=UTC)


@dataclass(frozen=True)
class World:
    city: City
    grids: GridIndex
    spec: CitySpec


@st.composite
def worlds(draw: st.DrawFn, rules: CityRules) -> World:
    counties = draw(st.integers(1, 3))
    townships = draw(st.integers(counties, counties * 3))
    villages = draw(st.integers(townships, townships * 4))
    spec = CitySpec(
        seed=draw(st.integers(0, 2**32)),
        counties=counties,
        townships=townships,
        villages=villages,
        grids_per_village=(draw(st.integers(0, 1)), draw(st.integers(1, 3))),
        enterprises=draw(st.integers(0, 8)),
        office_coverage=draw(st.sampled_from([1.0, 0.8, 0.4])),
    )
    city = City(generate_city(spec, rules))
    return World(city, GridIndex.of(city), spec)


@st.composite
def reports(draw: st.DrawFn, world: World) -> IssueReportedPayload:
    city = world.city
    categories = [c.id for c in city.categories()]
    keywords = [k for k, _ in city.keywords] + ["多次反映", "整个小区", "随便说说"]
    text = "".join(draw(st.lists(st.sampled_from(keywords), min_size=1, max_size=3)))
    category = draw(st.one_of(st.none(), st.sampled_from(categories), st.just("no_such")))
    region = draw(
        st.one_of(st.none(), st.sampled_from([r.code for r in city.regions()]), st.just("000000"))
    )
    west, south, east, north = world.spec.bbox
    point = draw(
        st.one_of(
            st.none(),
            st.tuples(st.floats(south - 0.05, north + 0.05), st.floats(west - 0.05, east + 0.05)),
        )
    )
    enterprises = [e.id for e in city.enterprises()] + ["ent-unknown"]
    enterprise = draw(st.one_of(st.none(), st.sampled_from(enterprises)))
    return report(
        text,
        category=category,
        kind=draw(st.sampled_from(Kind)),
        channel=draw(st.sampled_from(Channel)),
        region=region,
        latitude=None if point is None else point[0],
        longitude=None if point is None else point[1],
        reporter_type=ReporterType.ENTERPRISE
        if enterprise
        else draw(st.sampled_from(ReporterType)),
        enterprise_id=enterprise,
    )


ACTIONS = st.lists(
    st.one_of(
        st.just(("return", 0)),
        st.tuples(st.just("return_co"), st.integers(0, 5)),
        st.just(("return_stranger", 0)),
        st.just(("supervise", 0)),
        st.just(("reopen", 0)),
    ),
    max_size=12,
)


def may_lead(state: RoutingState, city: City, judgement: Judgement) -> None:
    """The invariants of the assignment in force."""
    lead = state.lead
    office = city.office(lead.office_id)
    assert office is not None, f"{lead.office_id} does not exist"
    assert lead.level is office.level
    duty = city.config.responsibility
    category = city.category(judgement.category)
    assert category is not None
    cadre: str | None = None
    if judgement.enterprise_id is not None:
        enterprise = city.enterprise(judgement.enterprise_id)
        cadre = None if enterprise is None or enterprise.cadre is None else enterprise.cadre.office
    assert (
        office.kind in duty.duties.get(judgement.category, {}).get(office.level, ())
        or office.kind == duty.coordinators.get(office.level)
        or office.kind == category.working_group
        or office.id == cadre
    ), f"{office.id} is not responsible for {judgement.category} at {office.level}"
    chain = {region.code for region in city.ancestors(judgement.region_code)}
    assert office.region in chain, f"{office.id} is outside {judgement.region_code}"
    assert lead.office_id not in lead.co_office_ids
    assert len(set(lead.co_office_ids)) == len(lead.co_office_ids)
    for co in lead.co_office_ids:
        assert city.office(co) is not None


def never_down_the_ladder(state: RoutingState) -> None:
    rung = 0
    for decision in state.decisions:
        if isinstance(decision, Escalation):
            assert RUNGS.index(decision.from_rung) == rung
            assert RUNGS.index(decision.to_rung) == rung + 1
            rung += 1
        else:
            assert RUNGS.index(decision.rung) == rung


def lowest_level(state: RoutingState, city: City, judgement: Judgement) -> None:
    """倒金字塔: a general issue without a cadre starts at the lowest level that can."""
    first = state.decisions[0]
    assert isinstance(first, Assignment)
    for region in city.ancestors(judgement.region_code):
        if DEPTH[region.level] <= DEPTH[first.level]:
            break
        for kind in city.duties(judgement.category, region.level):
            assert city.office_in(region.code, kind) is None, f"{kind} in {region.code} could"


@settings(
    max_examples=150,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)
@given(data=st.data())
def test_every_report_lands_with_one_responsible_lead(
    rules: CityRules, data: st.DataObject
) -> None:
    world = data.draw(worlds(rules))
    city = world.city
    open_issues: list[OpenIssue] = []
    for n in range(data.draw(st.integers(1, 6))):
        reported = data.draw(reports(world))
        echo: bool = data.draw(st.booleans())
        if open_issues and echo:  # another report of an open problem
            echoed = data.draw(st.sampled_from(open_issues))
            north, east = data.draw(st.tuples(*[st.floats(-0.004, 0.004)] * 2))
            reported = report(
                "又一次反映" + reported.text,
                category=echoed.category,
                latitude=echoed.latitude + north,
                longitude=echoed.longitude + east,
            )
        at = T0 + timedelta(hours=data.draw(st.integers(0, 100)))
        judgement = judge(reported, city, world.grids)
        where = reported.location
        new = NewReport(
            judgement.category, judgement.tier, reported.kind, where.latitude, where.longitude, at
        )
        merge = find_duplicate(new, open_issues, city.policy.duplicates)
        event(f"tier {judgement.tier.value}, region at {judgement.level.value}")
        if merge is not None:
            event("merged")
            into = next(i for i in open_issues if i.issue_id == merge.into_issue_id)
            assert into.category == judgement.category
            assert new.latitude is not None and new.longitude is not None
            metres = distance_m(new.latitude, new.longitude, into.latitude, into.longitude)
            assert metres <= city.policy.duplicates.radius_by_category.get(
                judgement.category, city.policy.duplicates.radius_m
            )
            assert abs(at - into.last_reported_at) <= timedelta(hours=72)
            continue
        state = dispatch(judgement, city, cause=f"report-{n}")
        may_lead(state, city, judgement)
        if judgement.tier.value == "general" and judgement.enterprise_id is None:
            lowest_level(state, city, judgement)
        if new.latitude is not None and new.longitude is not None:
            open_issues.append(
                OpenIssue(f"issue-{n}", judgement.category, new.latitude, new.longitude, at)
            )
        for action, index in data.draw(ACTIONS):
            lead = state.lead
            if action == "return":
                state = on_returned(state, lead.office_id, "不属于本单位", city)
            elif action == "return_co" and lead.co_office_ids:
                co = lead.co_office_ids[index % len(lead.co_office_ids)]
                state = on_returned(state, co, "非协办职责", city)
            elif action == "return_stranger":
                before = state
                state = on_returned(state, "stranger-office", "?", city)
                assert state.decisions == before.decisions
            elif action == "supervise":
                state = on_supervision_ordered(state, "红旗", city)
            elif action == "reopen":
                state = on_reopened(state, "不满意", city)
            may_lead(state, city, judgement)
            never_down_the_ladder(state)
            event(f"lead at {state.lead.level.value} after {action}")
            assert all(d.reason for d in state.decisions)
        assert RoutingState.model_validate_json(state.model_dump_json()) == state


def test_levels_run_from_city_to_grid() -> None:
    assert sorted(Level, key=DEPTH.__getitem__) == [
        Level.CITY,
        Level.COUNTY,
        Level.TOWNSHIP,
        Level.VILLAGE,
        Level.GRID,
    ]
