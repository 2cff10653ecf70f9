"""Reporting's rules: what each event changes in an issue's counted facts. Pure."""

from typing import Any
from zoneinfo import ZoneInfo

from services.contracts.events import Event, IssueAnswered, IssueAssigned, IssueReported
from services.contracts.lifecycle import state_after


def fact_update(event: Event, timezone: ZoneInfo) -> dict[str, Any]:
    """One atomic update of the issue's fact document for this event."""
    fields: dict[str, Any] = {}
    if (state := state_after(event.type)) is not None:
        fields["state"] = state.value
    match event:
        case IssueReported(payload=p):
            fields |= {
                "reported_day": event.occurred_at.astimezone(timezone).date().isoformat(),
                "channel": p.channel.value,
                "kind": p.kind.value,
                "category": p.category,
            }
        case IssueAssigned(payload=p):
            fields |= {"office_id": p.office_id, "level": p.level.value, "assigned": True}
        case IssueAnswered():
            fields["answered_directly"] = True
        case _:
            pass
    fields["last_event_at"] = event.occurred_at
    return {"$set": fields}
