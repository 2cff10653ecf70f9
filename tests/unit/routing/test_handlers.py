"""Routing's use cases with a fake store and a fake publisher (both type-checked against
the ports): what a report, a return and a duplicate publish, and that every assignment
names its offices as the city's configuration (offices.yaml) names them."""

import pytest

from services.contracts.events import (
    IssueAssigned,
    IssueMerged,
    IssueReported,
    IssueReturned,
    IssueReturnedPayload,
    IssueTriaged,
)
from services.routing.domain.jurisdiction import City
from services.routing.domain.locating import GridIndex
from services.routing.handlers import Publisher, RoutingHandlers, Store
from tests.unit.routing.fakes import FakePublisher, FakeStore
from tests.unit.routing.reports import report

TOWNSHIP = "411905003"
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
    ports: tuple[Store, Publisher] = (store, publisher)  # the fakes satisfy the ports
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
