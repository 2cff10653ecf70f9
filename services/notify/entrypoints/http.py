"""GET /deliveries: what was sent to whom, masked; filters by state, kind, channel, issue.

Of one issue: all its records. Otherwise the records of the last `days` days (UTC), read day
by day, so no request reads more than its days hold."""

from collections.abc import Callable
from datetime import datetime
from typing import Annotated, Any

from fastapi import APIRouter, Depends, HTTPException, Query, status

from services.notify.adapters.store import DeliveryStore
from services.notify.domain.config import ChannelName
from services.notify.domain.delivery import State
from services.notify.domain.kinds import KINDS
from services.runtime.auth import bearer_token, same_secret, unauthorized
from services.runtime.mongo import Document

SHOWN = ("issue_id", "event_type", "kind", "audience", "recipient", "channel", "shown",
         "state", "attempts", "urgent", "held", "last_error")  # fmt: skip


def build_router(store: DeliveryStore, token: str | None, now: Callable[[], datetime]) -> APIRouter:
    """The view. With a token configured, only its bearer reads it."""

    async def allowed(given: Annotated[str | None, Depends(bearer_token)]) -> None:
        if token and not same_secret(given, token):
            raise unauthorized("a valid notify token is required")

    router = APIRouter(tags=["deliveries"], dependencies=[Depends(allowed)])

    @router.get("/deliveries", summary="Delivery records, newest first (recipients masked)")
    async def deliveries(
        state: State | None = None,
        kind: str | None = None,
        channel: ChannelName | None = None,
        issue_id: str | None = None,
        limit: Annotated[int, Query(ge=1, le=1000)] = 100,
        days: Annotated[int, Query(ge=1, le=366)] = 7,
    ) -> list[dict[str, Any]]:
        """Newest first: an issue's records, or those of the last `days` days."""
        if kind is not None and kind not in KINDS:
            raise HTTPException(status.HTTP_422_UNPROCESSABLE_ENTITY, f"unknown kind {kind}")
        query: Document = {}
        for name, value in (("state", state), ("kind", kind), ("channel", channel),
                            ("issue_id", issue_id)):  # fmt: skip
            if value is not None:
                query[name] = str(value)
        if issue_id is not None:
            found = await store.find(query, limit)
        else:
            found = await store.recent(query, limit, days, now())
        return [_view(record) for record in found]

    return router


def _view(record: Document) -> dict[str, Any]:
    view: dict[str, Any] = {"id": record["_id"], **{k: record.get(k) for k in SHOWN}}
    for moment in ("created_at", "due_at", "sent_at"):
        value = record.get(moment)
        view[moment] = value.isoformat() if value is not None else None
    return view
