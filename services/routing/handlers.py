"""Routing reacts to reports: judge, record the decision, publish it."""

from services.contracts.events import (
    Event,
    IssueAssigned,
    IssueAssignedPayload,
    IssueReopened,
    IssueReported,
    IssueReturned,
    IssueTriaged,
    IssueTriagedPayload,
    derived_event_id,
)
from services.routing.domain import DispatchRules, judge, redispatch_after_return
from services.routing.store import RoutingStore
from services.runtime.broker import EventPublisher
from services.runtime.consumer import Delivery


class RoutingHandlers:
    def __init__(self, rules: DispatchRules, store: RoutingStore, publisher: EventPublisher):
        self._rules = rules
        self._store = store
        self._publisher = publisher

    async def handle(self, event: Event, delivery: Delivery) -> None:
        match event:
            case IssueReported(payload=p) if not p.direct_handling:
                await self._dispatch(event, delivery)
            case IssueReturned(payload=p):
                office_id, reason = redispatch_after_return(p.office_id, p.reason, self._rules)
                await self._reassign(event, delivery, office_id, reason)
            case IssueReopened(payload=p):
                office = await self._store.current_office(event.issue_id)
                back = office or self._rules.default_office
                reason = f"reopened ({p.reason}): back to its office {back}"
                await self._reassign(event, delivery, back, reason)
            case _:
                pass

    async def _reassign(
        self, cause: Event, delivery: Delivery, office_id: str, reason: str
    ) -> None:
        assigned = IssueAssigned(
            event_id=derived_event_id(cause.event_id, "assigned"),
            issue_id=cause.issue_id,
            producer="routing",
            causation_id=cause.event_id,
            correlation_id=cause.correlation_id,
            payload=IssueAssignedPayload(
                office_id=office_id, level=self._rules.offices[office_id].level, reason=reason
            ),
        )
        await self._store.record_assignment(assigned, delivery.offset)
        await self._publisher.publish(assigned)

    async def _dispatch(self, reported: IssueReported, delivery: Delivery) -> None:
        decision = judge(reported.payload, self._rules)
        common = {
            "issue_id": reported.issue_id,
            "producer": "routing",
            "causation_id": reported.event_id,
            "correlation_id": reported.correlation_id or reported.event_id,
        }
        triaged = IssueTriaged(
            event_id=derived_event_id(reported.event_id, "triaged"),
            payload=IssueTriagedPayload(
                category=decision.category,
                tier=decision.tier,
                region_code=decision.region_code,
                reason=decision.reason,
            ),
            **common,
        )
        assigned = IssueAssigned(
            event_id=derived_event_id(reported.event_id, "assigned"),
            payload=IssueAssignedPayload(
                office_id=decision.office_id, level=decision.level, reason=decision.reason
            ),
            **common,
        )
        await self._store.record_assignment(assigned, delivery.offset)
        # Published on every delivery, also when the store says "already recorded": a crash
        # may have come between the two. The ids are deterministic, so consumers drop copies.
        await self._publisher.publish(triaged, assigned)
