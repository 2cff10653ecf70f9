"""An office's inbox in pages (a use case of its own, beside `issues.py`): slim items due
soonest first, read by the office's indexed equality."""

from datetime import UTC, datetime
from typing import Any, Protocol

from services.intake.domain.errors import Forbidden, Invalid
from services.intake.domain.inbox import page_of
from services.intake.domain.rules import Principal, Role

MAX_LIMIT = 200


class InboxStore(Protocol):
    async def inbox_items(self, office_id: str) -> list[dict[str, Any]]: ...


class InboxPages:
    def __init__(self, store: InboxStore) -> None:
        self.store = store

    async def page(self, who: Principal, cursor: str | None, limit: int) -> dict[str, Any]:
        """The page after `cursor` of the open issues the caller's office holds (as lead or
        co-office), `limit` items at most, with the `next` cursor and the `total`."""
        if who.role is not Role.OFFICE or who.office_id is None:
            raise Forbidden("the inbox is an office's")
        if not 1 <= limit <= MAX_LIMIT:
            raise Invalid(f"limit is from 1 to {MAX_LIMIT}", "limit")
        views = await self.store.inbox_items(who.office_id)
        return page_of(views, who.office_id, datetime.now(UTC), cursor, limit)
