"""Where supervision's time comes from: an injected callable returning an aware datetime.

Production uses the system clock. `HUIYIN_SUPERVISION_TIME_OFFSET_SECONDS` shifts it by a
fixed amount (a demo or a process-level test runs the service in a simulated week: the
shifted clock still runs at real speed, so timers keep firing within a second of due);
in-process tests pass their own controllable callable to the composition root.
"""

from collections.abc import Callable
from datetime import UTC, datetime, timedelta

__all__ = ["Now", "system_clock"]

Now = Callable[[], datetime]


def system_clock(offset: timedelta = timedelta(0)) -> Now:
    """The system's UTC clock, shifted by `offset`."""

    def now() -> datetime:
        return datetime.now(UTC) + offset

    return now
