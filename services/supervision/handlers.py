"""Supervision's subscriber: every event of the log goes to the clock tracker, with the
partition it was read from (the partition that owns the issue's timers)."""

from services.contracts.events import Event
from services.runtime.consumer import Delivery
from services.supervision.tracker import ClockTracker


class SupervisionHandlers:
    def __init__(self, tracker: ClockTracker) -> None:
        self._tracker = tracker

    async def handle(self, event: Event, delivery: Delivery) -> None:
        await self._tracker.apply(event, delivery.partition)
