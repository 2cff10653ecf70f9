"""`Idempotency-Key`: a retried creating request gets the first answer, and creates nothing.

The key also seeds the ids of what the request creates, so even a retry after a crash
between publishing and answering republishes the same ids (which consumers drop).
"""

import hashlib
import uuid
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime, timedelta
from typing import Any

from services.intake.domain.errors import Conflict, Invalid
from services.intake.handlers.ports import IntakeStore

Work = Callable[[uuid.UUID | None], Awaitable[tuple[int, Any]]]

STALE_CLAIM = timedelta(seconds=30)
NAMESPACE = uuid.UUID("6f1c3a52-2d9e-4c53-9a57-1d6c2b0e5f11")


class Idempotency:
    def __init__(self, store: IntakeStore) -> None:
        self._store = store

    async def run(
        self, principal_id: str, key: str | None, request_fingerprint: str, work: Work
    ) -> tuple[int, Any, bool]:
        """(status, body, replayed). `work` gets a seed for deterministic ids (None: no key)."""
        if key is None:
            code, body = await work(None)
            return code, body, False
        if not 1 <= len(key) <= 255:
            raise Invalid("must be 1 to 255 characters", "Idempotency-Key")
        scoped = hashlib.sha256(f"{principal_id}\x00{key}".encode()).hexdigest()
        seed = uuid.uuid5(NAMESPACE, scoped)
        now = datetime.now(UTC)
        first = await self._store.claim(scoped, request_fingerprint, now)
        if first is not None:
            if first["fingerprint"] != request_fingerprint:
                raise Invalid(
                    "already used for a different request",
                    "Idempotency-Key",
                )
            if first["state"] == "done":
                return int(first["status"]), first["body"], True
            if now - first["at"] < STALE_CLAIM:
                raise Conflict("a request with this Idempotency-Key is still in progress; retry")
            # the first attempt died mid-way: redo it with the same seed, hence the same ids
        try:
            code, body = await work(seed)
        except Exception:
            await self._store.forget(scoped)
            raise
        await self._store.remember(scoped, code, body)
        return code, body, False
