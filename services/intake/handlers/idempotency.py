"""`Idempotency-Key`: a retried creating request gets the first answer, and creates nothing.

The key also seeds the ids of what the request creates, so the status view tells whether a
first attempt got as far as the log, and what it answered (`Recall`): a retry whose first
attempt died between publishing and storing its answer, or failed after publishing, gets
that answer (replayed), never a new run on a state its own first attempt moved on. Only a
first attempt that left no trace is run again, with the same seed (so the same ids); while
its trace may still be on its way to the view (a claim younger than `STALE_CLAIM`), a retry
is told "still in progress". A failed attempt's record stays, released: so a key claimed for
the first time has no trace to look for, and its request runs without that look.
"""

import hashlib
import uuid
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime, timedelta
from typing import Any

from services.intake.domain.errors import Conflict, Invalid
from services.intake.handlers.ports import IntakeStore

Answer = tuple[int, Any]
Work = Callable[[uuid.UUID | None], Awaitable[Answer]]
Recall = Callable[[uuid.UUID], Awaitable[Answer | None]]
"""The answer a first attempt seeded so gave, found from its events in the status view (None:
no trace of them)."""

STALE_CLAIM = timedelta(seconds=30)
IN_PROGRESS = "a request with this Idempotency-Key is still in progress; retry"
NAMESPACE = uuid.UUID("6f1c3a52-2d9e-4c53-9a57-1d6c2b0e5f11")


class Idempotency:
    def __init__(self, store: IntakeStore) -> None:
        self._store = store

    async def run(
        self,
        principal_id: str,
        key: str | None,
        request_fingerprint: str,
        work: Work,
        recall: Recall | None = None,
    ) -> tuple[int, Any, bool]:
        """(status, body, replayed). `work` gets a seed for deterministic ids (None: no key);
        `recall` finds the answer of a first attempt that reached the log."""
        if key is None:
            code, body = await work(None)
            return code, body, False
        if not 1 <= len(key) <= 255:
            raise Invalid("must be 1 to 255 characters", "Idempotency-Key")
        scoped = hashlib.sha256(f"{principal_id}\x00{key}".encode()).hexdigest()
        seed = uuid.uuid5(NAMESPACE, scoped)
        now = datetime.now(UTC)
        first = await self._store.claim(scoped, request_fingerprint, now)
        if first is not None:  # a key never claimed before needs no look at the view
            if first["fingerprint"] != request_fingerprint:
                raise Invalid(
                    "already used for a different request",
                    "Idempotency-Key",
                )
            if first["state"] == "done":
                return int(first["status"]), first["body"], True
            # a first attempt may have reached the log and died (a claim left pending) or
            # failed after publishing (its claim released): its events in the view say what
            # it answered
            if (recalled := await self._recall(scoped, seed, recall)) is not None:
                return recalled
            if first["state"] == "released":
                if not await self._store.reclaim(scoped, now):
                    raise Conflict(IN_PROGRESS)  # another retry took it first
            elif now - first["at"] < STALE_CLAIM:
                raise Conflict(IN_PROGRESS)
        # no trace of a first attempt: run it (again) with the same seed, hence the same ids
        try:
            code, body = await work(seed)
        except Conflict:
            # refused by a state its own first attempt may have made, which the view has
            # just caught up with: that attempt's answer, else the refusal
            if (recalled := await self._recall(scoped, seed, recall)) is not None:
                return recalled
            await self._store.forget(scoped)
            raise
        except Exception:
            await self._store.forget(scoped)
            raise
        await self._store.remember(scoped, code, body)
        return code, body, False

    async def _recall(
        self, scoped: str, seed: uuid.UUID, recall: Recall | None
    ) -> tuple[int, Any, bool] | None:
        if recall is None or (answer := await recall(seed)) is None:
            return None
        code, body = answer
        await self._store.remember(scoped, code, body)
        return code, body, True
