"""Which fact of the log becomes which kind of message, and what the message may say.

The mapping of event types to kinds is fixed here (it is what the facts mean); who receives
each kind, how urgent it is and its words are configuration (`config.MessageRule`). The
values a template may use come from the event and notify's own view of the issue: never a
reporter's contact or another person's data (the receipt code is added at sending time, for
the reporter only).
"""

from dataclasses import dataclass, field

from services.contracts.events import (
    ClockStarted,
    Event,
    ExtensionRequested,
    IssueAnswered,
    IssueAssigned,
    IssueFlagged,
    IssueReopened,
    IssueReported,
    IssueResolved,
    ReminderSent,
    SupervisionOrdered,
)
from services.contracts.vocabulary import ClockKind, Flag

KINDS = (
    "receipt",
    "answered",
    "resolved",
    "return_visit",
    "assigned",
    "co_assigned",
    "reminder",
    "yellow_flag",
    "red_flag",
    "supervision_ordered",
    "reopened",
    "extension_requested",
)
"""Every kind of message (a bounded metric label)."""

CLOCK_ZH = {ClockKind.ACCEPT: "签收", ClockKind.RESOLVE: "办结", ClockKind.RETURN_VISIT: "回访"}


@dataclass(frozen=True)
class Trigger:
    """What an event asks to be said: the kind, the office it names, template values."""

    kind: str
    office_id: str | None = None
    values: dict[str, str] = field(default_factory=dict)


def triggers(event: Event) -> list[Trigger]:
    """The kinds of message an event causes (usually one, none for most events)."""
    match event:
        case IssueReported():
            return [Trigger("receipt")] if event.payload.reporter_id else []
        case IssueAnswered():
            return [Trigger("answered")]
        case IssueResolved():
            return [Trigger("resolved", event.payload.office_id)]
        case ClockStarted() if event.payload.clock is ClockKind.RETURN_VISIT:
            return [Trigger("return_visit")]
        case IssueAssigned():
            p = event.payload
            return [
                Trigger("assigned", p.office_id, {"office_name": p.office_name}),
                Trigger("co_assigned", p.office_id, {"office_name": p.office_name}),
            ]
        case ReminderSent():
            reminder = event.payload
            percent = f"{round(reminder.threshold * 100)}%"
            clock = reminder.clock
            values = {"clock": CLOCK_ZH[clock], "clock_en": clock.value, "percent": percent}
            return [Trigger("reminder", reminder.office_id, values)]
        case IssueFlagged():
            kind = "red_flag" if event.payload.flag is Flag.RED else "yellow_flag"
            clock = event.payload.clock
            values = {"clock": CLOCK_ZH[clock], "clock_en": clock.value}
            return [Trigger(kind, event.payload.office_id, values)]
        case SupervisionOrdered():
            clock = event.payload.clock
            values = {"clock": CLOCK_ZH[clock], "clock_en": clock.value}
            return [Trigger("supervision_ordered", event.payload.office_id, values)]
        case IssueReopened():
            return [Trigger("reopened")]
        case ExtensionRequested():
            request = event.payload
            values = {"days": str(request.working_days)}
            return [Trigger("extension_requested", request.office_id, values)]
        case _:
            return []
