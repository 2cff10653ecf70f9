"""Which events of the log routing reacts to, and with which use case."""

from datetime import UTC, datetime

from services.contracts.events import (
    IssueAccepted,
    IssueAcceptedPayload,
    IssueClosed,
    IssueClosedPayload,
    IssueReported,
)
from services.routing.domain.duplicates import OpenIssue
from services.routing.domain.jurisdiction import City
from services.routing.domain.locating import GridIndex
from services.routing.entrypoints.consumer import event_handler
from services.routing.handlers import RoutingHandlers
from services.runtime.consumer import Delivery
from tests.unit.routing.fakes import FakePublisher, FakeStore
from tests.unit.routing.reports import report

AT = Delivery(partition=0, offset=0)  # routing's use cases do not look at it


async def test_reports_are_routed_unless_answered_directly_and_closings_leave_the_index(
    city: City, grids: GridIndex
) -> None:
    store, publisher = FakeStore(), FakePublisher()
    handle = event_handler(RoutingHandlers(city, grids, store, publisher))
    payload = report("路灯坏了", category="street_lighting", region="411905003")
    direct = payload.model_copy(update={"direct_handling": True})
    await handle(IssueReported(issue_id="i-1", producer="intake", payload=direct), AT)
    assert publisher.published == []
    await handle(IssueReported(issue_id="i-2", producer="intake", payload=payload), AT)
    assert [type(e).__name__ for e in publisher.published] == ["IssueTriaged", "IssueAssigned"]

    await store.open_issue(OpenIssue("i-2", "street_lighting", 34.75, 113.62, datetime.now(UTC)))
    accepted = IssueAcceptedPayload(office_id=store.states["i-2"].lead.office_id)
    await handle(IssueAccepted(issue_id="i-2", producer="intake", payload=accepted), AT)
    assert "i-2" in store.open and len(publisher.published) == 2  # not routing's concern
    closed = IssueClosed(issue_id="i-2", producer="intake", payload=IssueClosedPayload())
    await handle(closed, AT)
    assert "i-2" not in store.open
