"""Rate limits as fixed windows: how many attempts a client may make per window, and how long
it waits once over. Pure: the counters live in the store (`adapters/throttle.py`)."""

import math
from dataclasses import dataclass

from limits import parse


@dataclass(frozen=True)
class Limit:
    amount: int
    seconds: int

    @classmethod
    def parse(cls, text: str) -> "Limit":
        """ "120/minute", "5/second", "1000/hour" (the `limits` library's notation)."""
        item = parse(text)
        return cls(amount=item.amount, seconds=item.get_expiry())

    def window(self, now: float) -> int:
        """The number of the window `now` (seconds since the epoch) falls in."""
        return int(now // self.seconds)

    def wait(self, count: int, now: float) -> int:
        """Seconds to wait after the `count`th attempt of a window (0: within the limit): until
        the window ends, at least one."""
        if count <= self.amount:
            return 0
        end = (self.window(now) + 1) * self.seconds
        return max(1, math.ceil(end - now))


def counter_id(name: str, client: str, window: int) -> str:
    """One counter per limit, client and window."""
    return f"{name}|{client}|{window}"
