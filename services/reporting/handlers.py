"""Reporting counts every event."""

from zoneinfo import ZoneInfo

from services.contracts.events import Event
from services.reporting.domain import fact_update
from services.reporting.store import ReportingStore
from services.runtime.consumer import Delivery


class ReportingHandlers:
    def __init__(self, store: ReportingStore, timezone: ZoneInfo) -> None:
        self._store = store
        self._timezone = timezone

    async def handle(self, event: Event, _: Delivery) -> None:
        await self._store.apply(event, fact_update(event, self._timezone))
