"""Supervision reacts to assignments by starting the accept clock."""

from zoneinfo import ZoneInfo

from services.contracts.events import (
    ClockStarted,
    ClockStartedPayload,
    Event,
    IssueAssigned,
    derived_event_id,
)
from services.contracts.vocabulary import ClockKind
from services.runtime.broker import EventPublisher
from services.runtime.consumer import Delivery
from services.supervision.domain import add_working_days
from services.supervision.store import ClockStore


class SupervisionHandlers:
    def __init__(
        self, store: ClockStore, publisher: EventPublisher, accept_days: int, timezone: ZoneInfo
    ) -> None:
        self._store = store
        self._publisher = publisher
        self._accept_days = accept_days
        self._timezone = timezone

    async def handle(self, event: Event, _: Delivery) -> None:
        if isinstance(event, IssueAssigned):
            await self._start_accept_clock(event)

    async def _start_accept_clock(self, assigned: IssueAssigned) -> None:
        started = ClockStarted(
            event_id=derived_event_id(assigned.event_id, "clock:accept"),
            issue_id=assigned.issue_id,
            producer="supervision",
            causation_id=assigned.event_id,
            correlation_id=assigned.correlation_id,
            payload=ClockStartedPayload(
                clock=ClockKind.ACCEPT,
                office_id=assigned.payload.office_id,
                working_days=self._accept_days,
                started_at=assigned.occurred_at,
                due_at=add_working_days(assigned.occurred_at, self._accept_days, self._timezone),
            ),
        )
        await self._store.start(started)
        await self._publisher.publish(started)
