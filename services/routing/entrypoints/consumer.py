"""Routing's subscription to the issue log: which events it reacts to, and with which
use case. Every other event is left alone."""

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
from services.runtime.consumer import Delivery, Handler


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
