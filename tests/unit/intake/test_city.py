"""Names checked against the city's configuration: a principal bound to an office or region
the city does not have is a 422 naming the field, and an assignment to an office the city
does not list is refused by the consumer's handler (so the runtime dead-letters it)."""

import asyncio

import pytest

from services.contracts.events import IssueAssigned, IssueAssignedPayload
from services.contracts.vocabulary import Level
from services.intake.adapters.city import load_city
from services.intake.domain.errors import Invalid
from services.intake.domain.privacy import Privacy
from services.intake.domain.reports import PrincipalIn
from services.intake.domain.rules import Principal, Role
from services.intake.domain.throttling import Limit
from services.intake.handlers.issues import IntakeHandlers
from services.intake.settings import CONFIG
from services.runtime.consumer import Delivered, Delivery, Rejected
from tests.unit.intake.fakes import CountingThrottle, FakePublisher, FakeStore

CITY = load_city(CONFIG / "city")
ADMIN = Principal(id="admin", role=Role.ADMIN)
OFFICE = "411900-urban_management"


def intake() -> tuple[IntakeHandlers, FakeStore]:
    store = FakeStore()
    throttle = CountingThrottle(Limit.parse("5/minute"))
    return IntakeHandlers(store, FakePublisher(), Privacy("k"), throttle, city=CITY), store


def test_the_city_file_gives_offices_and_every_level_of_region() -> None:
    assert OFFICE in CITY.offices
    assert {"411900", "411905", "411905003", "411905003001", "411905003001001"} <= CITY.regions


@pytest.mark.parametrize(
    ("fields", "field"),
    [
        ({"role": "office", "office_id": "fake-office"}, "office_id"),
        ({"role": "supervisor", "region_code": "411999"}, "region_code"),
        ({"role": "grid_worker", "region_code": "411905003999001"}, "region_code"),
    ],
)
def test_a_principal_bound_to_what_the_city_does_not_have_is_refused(
    fields: dict[str, str], field: str
) -> None:
    handlers, _ = intake()
    with pytest.raises(Invalid) as refused:
        handlers.check_principal(PrincipalIn.model_validate({"name": "n", **fields}), ADMIN)
    assert refused.value.field == field


def test_a_principal_bound_to_what_the_city_has_is_accepted() -> None:
    handlers, _ = intake()
    for fields in ({"role": "office", "office_id": OFFICE},
                   {"role": "supervisor", "region_code": "411905"}):  # fmt: skip
        handlers.check_principal(PrincipalIn.model_validate({"name": "n", **fields}), ADMIN)


def assigned(office: str, *co: str) -> IssueAssigned:
    payload = IssueAssignedPayload(office_id=office, co_office_ids=co, level=Level.CITY, reason="r")
    return IssueAssigned(issue_id="i1", producer="routing", payload=payload)


@pytest.mark.parametrize("event", [assigned("fake-office"), assigned(OFFICE, "fake-co")])
def test_an_assignment_to_an_office_the_city_does_not_list_is_refused(
    event: IssueAssigned,
) -> None:
    handlers, store = intake()
    with pytest.raises(Rejected, match="fake") as rejected:
        asyncio.run(handlers.handle(event, Delivery(0, 1)))
    assert rejected.value.reason == "unknown_office"
    assert store.views == {}


def test_an_assignment_to_a_real_office_is_adopted() -> None:
    handlers, store = intake()
    asyncio.run(handlers.handle(assigned(OFFICE), Delivery(0, 1)))
    assert store.views["i1"]["office_id"] == OFFICE


def test_a_batch_with_an_assignment_to_an_unlisted_office_is_refused_whole() -> None:
    handlers, store = intake()
    batch = [
        Delivered(assigned(OFFICE), Delivery(0, 1)),
        Delivered(assigned("fake"), Delivery(0, 2)),
    ]
    with pytest.raises(Rejected) as rejected:
        asyncio.run(handlers.handle_batch(batch))
    assert rejected.value.reason == "unknown_office" and store.views == {}


def test_a_batch_is_applied_at_once() -> None:
    handlers, store = intake()
    other = assigned(OFFICE).model_copy(update={"issue_id": "i2"})
    batch = [Delivered(assigned(OFFICE), Delivery(0, 1)), Delivered(other, Delivery(1, 1))]
    asyncio.run(handlers.handle_batch(batch))
    assert store.batches == 1
    assert {i: v["office_id"] for i, v in store.views.items()} == {"i1": OFFICE, "i2": OFFICE}
