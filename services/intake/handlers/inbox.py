"""An office's inbox in pages (a use case of its own, beside `issues.py`): slim items due
soonest first, each page read in order from the indexes of the office's places on the views
(as lead and as co-office), so that a page costs the same whatever the office holds."""

import asyncio
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any, Protocol

from services.intake.domain.errors import Forbidden, Invalid
from services.intake.domain.inbox import decode_cursor, page_from
from services.intake.domain.rules import Principal, Role

MAX_LIMIT = 200
TOTAL_CAP = 200
"""The first page counts the office's open issues up to this many (more: `total_capped`)."""


class InboxStore(Protocol):
    async def inbox_page(
        self, office_id: str, after: tuple[datetime, str] | None, limit: int
    ) -> list[dict[str, Any]]: ...

    async def inbox_count(self, office_id: str, cap: int) -> int: ...


class InboxPages:
    def __init__(
        self, store: InboxStore, clock: Callable[[], datetime] = lambda: datetime.now(UTC)
    ) -> None:
        self.store = store
        self.clock = clock

    async def page(
        self, who: Principal, cursor: str | None, limit: int, counted: bool = True
    ) -> dict[str, Any]:
        """The page after `cursor` of the open issues the caller's office holds (as lead or
        co-office), `limit` items at most, with the `next` cursor. The first page (no cursor)
        has the `total` too (unless not `counted`), counted up to `TOTAL_CAP` (`total_capped`
        when there are more); later pages have none (None): on the local engine a count reads
        every issue it counts, so an uncapped one would cost what the office holds."""
        if who.role is not Role.OFFICE or who.office_id is None:
            raise Forbidden("the inbox is an office's")
        if not 1 <= limit <= MAX_LIMIT:
            raise Invalid(f"limit is from 1 to {MAX_LIMIT}", "limit")
        after = decode_cursor(cursor) if cursor else None
        total: int | None = None
        if after is None and counted:  # the count beside the page's queries
            found, total = await asyncio.gather(
                self.store.inbox_page(who.office_id, after, limit),
                self.store.inbox_count(who.office_id, TOTAL_CAP),
            )
        else:
            found = await self.store.inbox_page(who.office_id, after, limit)
        page = page_from(found, who.office_id, self.clock(), after, limit)
        return {
            **page,
            "total": None if total is None else min(total, TOTAL_CAP),
            "total_capped": total is not None and total > TOTAL_CAP,
        }
