"""One asyncio lock per key, held only while someone uses it.

Why: FerretDB v1 (the local MongoDB-wire server) reads, changes and writes a document back
on every update, so of two concurrent updates of one document one can be lost (measured:
35 of 40 concurrent `$set`s of distinct fields on one document lost). MongoDB applies a
single-document update atomically and needs none of this. Within one process, writers of
the same document take turns through these locks; across processes, only a rebalance lets
two instances briefly write one issue's documents.
"""

import asyncio
from collections.abc import AsyncIterator, Hashable
from contextlib import asynccontextmanager


class KeyedLocks:
    def __init__(self) -> None:
        self._locks: dict[Hashable, asyncio.Lock] = {}
        self._users: dict[Hashable, int] = {}

    @asynccontextmanager
    async def hold(self, key: Hashable) -> AsyncIterator[None]:
        """Hold the lock of `key` (created on first use, dropped when nobody waits)."""
        lock = self._locks.setdefault(key, asyncio.Lock())
        self._users[key] = self._users.get(key, 0) + 1
        try:
            async with lock:
                yield
        finally:
            self._users[key] -= 1
            if not self._users[key]:
                del self._users[key], self._locks[key]

    def __len__(self) -> int:
        return len(self._locks)
