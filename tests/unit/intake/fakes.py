"""Fakes of intake's ports (type-checked against the protocols)."""

import time
from collections import Counter

from services.intake.domain.throttling import Limit, counter_id
from services.intake.handlers.ports import Throttle


class CountingThrottle:
    """The store's fixed windows, counted in memory."""

    def __init__(self, limit: Limit, now: float | None = None) -> None:
        self.limit = limit
        self.now = time.time() if now is None else now
        self.counts: Counter[str] = Counter()

    async def hit(self, name: str, client: str) -> int:
        key = counter_id(name, client, self.limit.window(self.now))
        self.counts[key] += 1
        return self.limit.wait(self.counts[key], self.now)


_: type[Throttle] = CountingThrottle
