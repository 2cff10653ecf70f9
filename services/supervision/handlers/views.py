"""Supervision's HTTP reads: an issue's clocks and history, the open clocks and the overdue
list, on the rules in force (`domain.views` shapes them). The lists are led by `open: true`
(and the office when given): equalities on indexed fields (`adapters.store`)."""

from collections.abc import Callable
from typing import Any

from services.contracts.vocabulary import ClockKind, Level
from services.supervision.adapters.store import ClockStore
from services.supervision.adapters.timesource import Now
from services.supervision.domain.errors import UnknownIssue
from services.supervision.domain.rules import Rules
from services.supervision.domain.views import clock_view, history_view, open_clocks, overdue_list

__all__ = ["MAX_ROWS", "ClockViews"]

MAX_ROWS = 5000


class ClockViews:
    """The reads of the views, on the rules in force (a calendar reload replaces them)."""

    def __init__(self, store: ClockStore, rules: Callable[[], Rules], now: Now) -> None:
        self._store = store
        self._rules = rules
        self._now = now

    async def clocks(self, issue_id: str) -> list[dict[str, Any]]:
        """Every clock the issue has had, oldest first (none for an issue never seen)."""
        loaded = await self._store.load(issue_id)
        if loaded is None:
            return []
        record, at, calendar = loaded[0], self._now(), self._rules().calendar
        return [clock_view(record, clock, calendar, at) for clock in record.clocks.clocks]

    async def history(self, issue_id: str) -> dict[str, Any]:
        """The issue's clocks, requests and history; `UnknownIssue` for an issue never seen."""
        loaded = await self._store.load(issue_id)
        if loaded is None:
            raise UnknownIssue(issue_id)
        return history_view(loaded[0], self._rules().calendar, self._now())

    async def open(
        self,
        *,
        office_id: str | None,
        region_code: str | None,
        level: Level | None,
        clock: ClockKind | None,
        limit: int,
    ) -> dict[str, Any]:
        match = _match(office_id, region_code, level)
        records = [r async for r in self._store.records(match, limit=limit)]
        at = self._now()
        rows = open_clocks(records, self._rules().calendar, at, kind=clock)
        return {"as_of": at, "count": len(rows), "clocks": rows[:limit]}

    async def overdue(
        self,
        *,
        office_id: str | None,
        region_code: str | None,
        level: Level | None,
        limit: int,
    ) -> dict[str, Any]:
        at = self._now()
        match = _match(office_id, region_code, level) | {"deadline": {"$lte": at}}
        found = [r async for r in self._store.records(match, limit=limit)]
        return overdue_list(found, self._rules().calendar, at)


def _match(office_id: str | None, region_code: str | None, level: Level | None) -> dict[str, Any]:
    match: dict[str, Any] = {"open": True}
    if office_id is not None:
        match["office_id"] = office_id
    if region_code is not None:
        match["region_code"] = region_code
    if level is not None:
        match["level"] = level.value
    return match
