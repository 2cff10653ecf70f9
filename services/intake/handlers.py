"""Intake keeps its status view by reading the whole log."""

from services.contracts.events import Event
from services.intake.store import IntakeStore
from services.runtime.consumer import Delivery


class IntakeHandlers:
    def __init__(self, store: IntakeStore) -> None:
        self._store = store

    async def handle(self, event: Event, delivery: Delivery) -> None:
        await self._store.apply(event, delivery.offset)
