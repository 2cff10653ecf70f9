"""Reporting counts every event: it records it in the issue's facts (store.apply)."""

from services.contracts.events import Event
from services.reporting.adapters.store import ReportingStore
from services.runtime.consumer import Delivery


class ReportingHandlers:
    def __init__(self, store: ReportingStore) -> None:
        self._store = store

    async def handle(self, event: Event, _: Delivery) -> None:
        await self._store.apply(event)
