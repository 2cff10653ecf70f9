"""GET /deliveries behind notify's token: 401 for any other, never a 500."""

from datetime import UTC, datetime
from typing import Any, cast

import httpx
from fastapi import FastAPI

from services.notify.adapters.store import DeliveryStore
from services.notify.entrypoints.http import build_router


class NoRecords:
    async def recent(self, *_: Any) -> list[dict[str, Any]]:
        return []

    async def find(self, *_: Any) -> list[dict[str, Any]]:
        return []


async def test_only_the_notify_token_reads_the_deliveries() -> None:
    app = FastAPI()
    store = cast(DeliveryStore, NoRecords())
    app.include_router(build_router(store, "notify-token", lambda: datetime.now(UTC)))
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://t") as client:

        async def status(token: str | None) -> int:
            headers = {b"Authorization": f"Bearer {token}".encode()} if token else {}
            return (await client.get("/deliveries", headers=headers)).status_code

        assert await status("notify-token") == 200
        assert await status(None) == 401 and await status("notify-toke") == 401
        assert await status("令牌") == 401  # not ASCII: compared, not a TypeError (500)
