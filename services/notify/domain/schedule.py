"""When to send: quiet hours hold what is not urgent until the morning; retries back off."""

from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from services.notify.domain.config import QuietHours, Retry


def in_quiet_hours(at: datetime, quiet: QuietHours, zone: ZoneInfo) -> bool:
    local = at.astimezone(zone).time()
    if quiet.start <= quiet.end:
        return quiet.start <= local < quiet.end
    return local >= quiet.start or local < quiet.end  # across midnight: 22:00-08:00


def release_at(at: datetime, *, urgent: bool, quiet: QuietHours | None, zone: ZoneInfo) -> datetime:
    """When a message due at `at` may go: at once, or when the quiet hours end."""
    if urgent or quiet is None or not in_quiet_hours(at, quiet, zone):
        return at
    local = at.astimezone(zone)
    morning = datetime.combine(local.date(), quiet.end, tzinfo=zone)
    if morning <= local:
        morning = datetime.combine(local.date() + timedelta(days=1), quiet.end, tzinfo=zone)
    return morning.astimezone(at.tzinfo)


def backoff(attempt: int, retry: Retry) -> timedelta:
    """The pause after the `attempt`-th failed try: doubling from the first, capped."""
    seconds = retry.first_pause_seconds * 2 ** max(attempt - 1, 0)
    return timedelta(seconds=min(seconds, retry.max_pause_seconds))


def is_stale(occurred_at: datetime, now: datetime, stale_after: timedelta) -> bool:
    """A fact too old to tell anyone about (notify started on an old log, a rebuild)."""
    return now - occurred_at > stale_after
