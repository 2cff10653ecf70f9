"""The status view: how each event changes what a reporter or an office may see. Pure."""

from typing import Any

from services.contracts.events import (
    ClockStarted,
    Event,
    ExtensionDecided,
    IssueAssigned,
    IssueFlagged,
    IssueMerged,
    IssueReported,
    IssueTriaged,
    ReminderSent,
    SupervisionOrdered,
)
from services.contracts.lifecycle import state_after


def view_update(event: Event, offset: int) -> dict[str, Any]:
    """The status view's change for one event (at `offset` in its partition), as one update."""
    entry = {
        "offset": offset,
        "event_id": str(event.event_id),
        "type": event.type,
        "at": event.occurred_at,
        **event.payload.model_dump(mode="json", exclude={"reporter_id", "text", "media_urls"}),
    }
    if isinstance(event, ExtensionDecided) and event.causation_id is not None:
        entry["request_id"] = str(event.causation_id)  # the ExtensionRequested it answers
    fields: dict[str, Any] = {"updated_at": event.occurred_at}
    if (state := state_after(event.type)) is not None:
        fields["state"] = state.value
    match event:
        case IssueReported(payload=p):
            fields |= {
                "reported_at": event.occurred_at,
                "channel": p.channel.value,
                "kind": p.kind.value,
                "category": p.category,
                "region_code": p.location.region_code,
                "direct_handling": p.direct_handling,
                "description": p.text,
                "media_urls": list(p.media_urls),
                "location": p.location.model_dump(mode="json"),
            }
        case IssueTriaged(payload=p):
            fields |= {
                "category": p.category,
                "tier": p.tier.value,
                "region_code": p.region_code,
                "region_path": list(p.region_path),  # who belongs: see scope.py
            }
        case IssueAssigned(payload=p):
            fields |= {
                "office_id": p.office_id,
                "co_office_ids": list(p.co_office_ids),
                "level": p.level.value,
                "rung": p.rung.value,
            }
        case ClockStarted(payload=p):
            fields[f"deadlines.{p.clock.value}"] = p.due_at
        case ReminderSent():
            fields["flags.reminded"] = True
        case IssueFlagged(payload=p):
            fields[f"flags.{p.flag.value}"] = True
        case SupervisionOrdered():
            fields["flags.supervised"] = True
        case ExtensionDecided(payload=p) if p.granted:
            fields["flags.extended"] = True
        case IssueMerged(payload=p):
            fields["merged_into"] = p.into_issue_id
        case _:
            pass
    fields[f"history.{event.event_id}"] = entry
    return {"$set": fields}


def history_in_order(history: dict[str, dict[str, Any]]) -> list[dict[str, Any]]:
    """The history map (keyed by event id, so a replay cannot double it) in log order."""
    return sorted(history.values(), key=lambda entry: int(entry["offset"]))
