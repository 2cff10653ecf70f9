"""Routing's subscription to the issue log: which events it reacts to, and with which
use case. Every other event is left alone. The service subscribes a whole batch at a time
(`batch_handler`); `event_handler` is the same choice for one event."""

from collections.abc import Sequence

from services.contracts.events import (
    Event,
    IssueClosed,
    IssueMerged,
    IssueReopened,
    IssueReported,
    IssueReturned,
    SupervisionOrdered,
)
from services.routing.handlers import RoutingHandlers
from services.runtime.consumer import BatchHandler, Delivered, Delivery, Handler


def event_handler(handlers: RoutingHandlers) -> Handler:
    async def handle(event: Event, _: Delivery) -> None:
        match event:
            case IssueReported(payload=p) if not p.direct_handling:
                await handlers.reported(event)
            case IssueReturned() | SupervisionOrdered() | IssueReopened():
                await handlers.refold(event)
            case IssueClosed() | IssueMerged():
                await handlers.closed(event.issue_id)
            case _:
                pass

    return handle


def reacts_to(event: Event) -> bool:
    """Whether routing does anything on this event."""
    match event:
        case IssueReported(payload=p):
            return not p.direct_handling
        case IssueReturned() | SupervisionOrdered() | IssueReopened():
            return True
        case IssueClosed() | IssueMerged():
            return True
        case _:
            return False


def batch_handler(handlers: RoutingHandlers) -> BatchHandler:
    async def handle(batch: Sequence[Delivered]) -> None:
        await handlers.batch([d.event for d in batch if reacts_to(d.event)])

    return handle
