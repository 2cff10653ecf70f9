"""Missing a deadline within minutes: supervision's clock, shifted.

Intake stamps every event with the real time and supervision starts each clock at its
event's time, so a clock started now falls due one working day later. Shifting
supervision's clock (`HUIYIN_SUPERVISION_TIME_OFFSET_SECONDS`) by one working day less
`lead` seconds makes every accept and return-visit clock fall due `lead` real seconds after
it starts, for every issue of the demo alike (a time *scale* would not: issues reported
later would fall due sooner). The longer resolve clocks do not fall due during the demo.
Reminders (50%, 80%) fire as soon as a clock starts: they lie before the shifted now.
"""

from datetime import UTC, datetime

from services.supervision.adapters.files import load_policy
from services.supervision.domain.calendar import WorkingCalendar


def supervision_offset(lead_seconds: float, now: datetime | None = None) -> float:
    """Seconds to shift supervision's clock so that an accept clock started at `now` falls
    due `lead_seconds` later (on a working day; on a day off, clocks start on the next
    working day, and the lead is measured from now all the same)."""
    policy = load_policy()
    now = now or datetime.now(UTC)
    due = WorkingCalendar(policy.zone).add_working_days(now, policy.clocks.accept)
    return max((due - now).total_seconds() - lead_seconds, 0.0)
