"""Supervision's subscription: each batch of the log goes to the clock tracker at once, every
event with the partition it was read from (the partition that owns the issue's timers)."""

from collections.abc import Sequence

from services.runtime.consumer import BatchHandler, Delivered
from services.supervision.handlers import ClockTracker

__all__ = ["subscriber"]


def subscriber(tracker: ClockTracker) -> BatchHandler:
    async def handle(batch: Sequence[Delivered]) -> None:
        await tracker.apply_batch([(d.event, d.delivery.partition) for d in batch])

    return handle
