"""Routing's use cases with a fake store and a fake publisher (both type-checked against
the ports): what a report, a return and a duplicate publish, and that every assignment
names its offices as the city's configuration (offices.yaml) names them."""

from datetime import UTC, datetime, timedelta

import pytest

from services.contracts.events import (
    IssueAssigned,
    IssueMerged,
    IssueReported,
    IssueReturned,
    IssueReturnedPayload,
    IssueTriaged,
)
from services.routing.domain.duplicates import Claim, OpenIssue, cell_of
from services.routing.domain.jurisdiction import City
from services.routing.domain.locating import GridIndex
from services.routing.handlers import BatchStore, Publisher, RoutingHandlers
from tests.unit.routing.fakes import FakePublisher, FakeStore
from tests.unit.routing.reports import report

TOWNSHIP = "411905003"
T0 = datetime(2026, 11, 20, 8, 0, tzinfo=UTC)
MAIN = (34.75, 113.62)  # latitude, longitude  # a grid of township 411905003


@pytest.fixture
def store() -> FakeStore:
    return FakeStore()


@pytest.fixture
def publisher() -> FakePublisher:
    return FakePublisher()


@pytest.fixture
def handlers(
    city: City, grids: GridIndex, store: FakeStore, publisher: FakePublisher
) -> RoutingHandlers:
    ports: tuple[BatchStore, Publisher] = (store, publisher)  # the fakes satisfy the ports
    return RoutingHandlers(city, grids, *ports)


def reported(
    issue_id: str, text: str, category: str, region: str | None = None, *, at: bool = False
) -> IssueReported:
    """A report in `region`, or at the point MAIN when `at`."""
    latitude, longitude = MAIN if at else (None, None)
    payload = report(text, category=category, region=region, latitude=latitude, longitude=longitude)
    return IssueReported(issue_id=issue_id, producer="intake", payload=payload)


async def test_an_assignment_names_its_lead_and_co_offices(
    handlers: RoutingHandlers, publisher: FakePublisher, city: City
) -> None:
    await handlers.reported(reported("i-1", "整个小区停水，多个部门都说不归自己管",
                                     "water_supply", region=TOWNSHIP))  # fmt: skip
    triaged, assigned = publisher.published
    assert isinstance(triaged, IssueTriaged) and isinstance(assigned, IssueAssigned)
    payload = assigned.payload
    assert payload.office_id == "411905003-township_office"
    assert payload.office_name == "白阳乡人民政府"  # as offices.yaml names it
    assert payload.co_office_ids
    assert payload.co_office_names == tuple(
        office.name
        for office_id in payload.co_office_ids
        if (office := city.office(office_id)) is not None
    )
    assert all(payload.co_office_names)


async def test_a_return_names_the_office_it_goes_to(
    handlers: RoutingHandlers, publisher: FakePublisher
) -> None:
    await handlers.reported(reported("i-2", "自来水水压低", "water_supply", region=TOWNSHIP))
    returned = IssueReturned(
        issue_id="i-2",
        producer="intake",
        payload=IssueReturnedPayload(office_id="411905003-township_office", reason="不属本单位"),
    )
    await handlers.refold(returned)
    assigned = publisher.published[-1]
    assert isinstance(assigned, IssueAssigned)
    assert (assigned.payload.office_id, assigned.payload.office_name) == (
        "411905-water_affairs",
        "福台市水务局",
    )
    await handlers.refold(returned)  # a replay publishes the same event again
    again = publisher.published[-1]
    assert isinstance(again, IssueAssigned)
    assert (again.event_id, again.payload) == (assigned.event_id, assigned.payload)


async def test_a_second_report_of_one_problem_is_merged_and_a_closed_one_is_not(
    handlers: RoutingHandlers, publisher: FakePublisher, store: FakeStore
) -> None:
    await handlers.reported(reported("i-3", "路灯坏了", "street_lighting", at=True))
    await handlers.reported(reported("i-4", "路灯坏了", "street_lighting", at=True))
    merged = publisher.published[-1]
    assert isinstance(merged, IssueMerged) and merged.payload.into_issue_id == "i-3"
    await handlers.closed("i-3")
    await handlers.reported(reported("i-5", "路灯坏了", "street_lighting", at=True))
    assert isinstance(publisher.published[-1], IssueAssigned)
    assert set(store.states) == {"i-3", "i-5"}


def located(issue_id: str, latitude: float, longitude: float, hours: float = 0) -> IssueReported:
    payload = report("路灯坏了", category="street_lighting", latitude=latitude, longitude=longitude)
    at = T0 + timedelta(hours=hours)
    return IssueReported(issue_id=issue_id, producer="intake", payload=payload, occurred_at=at)


def answers(publisher: FakePublisher) -> dict[str, str]:
    """Each report's answer: 'assigned' or the problem it was merged into."""
    return {
        e.issue_id: e.payload.into_issue_id if isinstance(e, IssueMerged) else "assigned"
        for e in publisher.published
        if isinstance(e, IssueAssigned | IssueMerged)
    }


async def test_a_report_finds_the_problem_that_claimed_the_neighbouring_cell(
    handlers: RoutingHandlers, publisher: FakePublisher, store: FakeStore, city: City
) -> None:
    policy, (lat, lon) = city.policy.duplicates, MAIN
    here, north = cell_of("street_lighting", lat, lon, policy), lat
    while cell_of("street_lighting", north, lon, policy) == here:
        north += 0.00001  # about a metre
    await handlers.reported(located("i-6", north, lon))  # claims the cell north of MAIN's
    await handlers.reported(located("i-7", lat, lon))
    assert answers(publisher) == {"i-6": "assigned", "i-7": "i-6"}
    assert set(store.open) == {"i-6"}


class ClaimedMeanwhile(FakeStore):
    """Another instance claims the cell between this one's first look-up and its insert."""

    def __init__(self, claim: Claim) -> None:
        super().__init__()
        self.meanwhile: Claim | None = claim

    async def claim(self, key: str, problem: OpenIssue) -> Claim | None:
        if self.meanwhile is not None:
            self.claimed[key], self.meanwhile = self.meanwhile, None
        return await super().claim(key, problem)


class RivalNear(FakeStore):
    """Another instance claims a neighbouring cell for a report of the same problem just
    after this one's look-up; once this one gives way, the rival's claim is confirmed."""

    def __init__(self, rival: Claim) -> None:
        super().__init__()
        self.rival: Claim | None = rival

    async def claim(self, key: str, problem: OpenIssue) -> Claim | None:
        if self.rival is not None:
            self.claimed[self.rival.key] = self.rival
        return await super().claim(key, problem)

    async def release(self, key: str, issue_id: str) -> None:
        await super().release(key, issue_id)
        if self.rival is not None:
            await self.confirm(self.rival.key, self.rival.problem.issue_id)
            self.rival = None


async def test_a_cell_claimed_meanwhile_by_another_instance_is_merged_into(
    city: City, grids: GridIndex
) -> None:
    key = cell_of("street_lighting", *MAIN, city.policy.duplicates).key
    other = Claim(key, OpenIssue("i-other", "street_lighting", *MAIN, T0), confirmed=True)
    store, publisher = ClaimedMeanwhile(other), FakePublisher()
    await RoutingHandlers(city, grids, store, publisher).reported(located("i-8", *MAIN, hours=1))
    assert answers(publisher) == {"i-8": "i-other"}
    assert store.states == {}


async def test_a_problem_whose_window_closed_gives_its_cell_to_a_new_one(
    handlers: RoutingHandlers, publisher: FakePublisher, store: FakeStore, city: City
) -> None:
    window = city.policy.duplicates.window_hours
    await handlers.reported(located("i-9", *MAIN))
    await handlers.reported(located("i-10", *MAIN, hours=window + 1))
    await handlers.reported(located("i-11", *MAIN, hours=window + 2))
    assert answers(publisher) == {"i-9": "assigned", "i-10": "assigned", "i-11": "i-10"}
    await handlers.closed("i-9")  # its claim went to i-10: closing i-9 leaves it
    assert set(store.open) == {"i-10"}
    await handlers.closed("i-10")
    assert store.open == {}


async def test_a_replay_after_a_crash_between_claim_and_save_opens_the_problem(
    handlers: RoutingHandlers, publisher: FakePublisher, store: FakeStore, city: City
) -> None:
    key = cell_of("street_lighting", *MAIN, city.policy.duplicates).key
    store.claimed[key] = Claim(key, OpenIssue("i-12", "street_lighting", *MAIN, T0), False)
    await handlers.reported(located("i-12", *MAIN))
    assert answers(publisher) == {"i-12": "assigned"}
    assert store.claim_keys == {"i-12": key} and store.claimed[key].confirmed


async def test_a_claimer_gives_way_to_a_rival_claimed_near_it_at_the_same_moment(
    city: City, grids: GridIndex
) -> None:
    rival = rival_north(city)
    store, publisher = RivalNear(rival), FakePublisher()
    await RoutingHandlers(city, grids, store, publisher).reported(located("i-13", *MAIN))
    assert answers(publisher) == {"i-13": "i-rival"}
    assert set(store.open) == {"i-rival"} and store.states == {}


def rival_north(city: City) -> Claim:
    """An unconfirmed claim of another problem in the cell just north of MAIN's."""
    policy, (lat, lon) = city.policy.duplicates, MAIN
    here, north = cell_of("street_lighting", lat, lon, policy), lat
    while cell_of("street_lighting", north, lon, policy) == here:
        north += 0.00001
    key = cell_of("street_lighting", north, lon, policy).key
    return Claim(key, OpenIssue("i-rival", "street_lighting", north, lon, T0), confirmed=False)
