"""Supervision's subscription: every event of the log goes to the clock tracker, with the
partition it was read from (the partition that owns the issue's timers)."""

from services.contracts.events import Event
from services.runtime.consumer import Delivery, Handler
from services.supervision.handlers import ClockTracker

__all__ = ["subscriber"]


def subscriber(tracker: ClockTracker) -> Handler:
    async def handle(event: Event, delivery: Delivery) -> None:
        await tracker.apply(event, delivery.partition)

    return handle
