"""Intake's rules: what a new report is, and how each event changes the status view.

Pure: no Kafka, no MongoDB, no HTTP.
"""

import secrets
import uuid
from typing import Any

from services.contracts.events import (
    ClockStarted,
    Event,
    IssueAssigned,
    IssueReported,
    IssueTriaged,
)
from services.contracts.lifecycle import state_after

_RECEIPT_ALPHABET = "ABCDEFGHJKLMNPQRSTUVWXYZ23456789"


def new_issue_id() -> str:
    return str(uuid.uuid4())


def new_receipt_code() -> str:
    """What the reporter keeps to look the issue up: short, unambiguous to read aloud."""
    return "".join(secrets.choice(_RECEIPT_ALPHABET) for _ in range(10))


def view_update(event: Event, offset: int) -> dict[str, Any]:
    """The status view's change for one event (at `offset` in its partition), as one update."""
    entry = {
        "offset": offset,
        "event_id": str(event.event_id),
        "type": event.type,
        "at": event.occurred_at,
        **event.payload.model_dump(mode="json", exclude={"reporter_id", "text", "media_urls"}),
    }
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
            }
        case IssueTriaged(payload=p):
            fields |= {"category": p.category, "tier": p.tier.value, "region_code": p.region_code}
        case IssueAssigned(payload=p):
            fields |= {
                "office_id": p.office_id,
                "co_office_ids": list(p.co_office_ids),
                "level": p.level.value,
                "rung": p.rung.value,
            }
        case ClockStarted(payload=p):
            fields[f"deadlines.{p.clock.value}"] = p.due_at
        case _:
            pass
    fields[f"history.{event.event_id}"] = entry
    return {"$set": fields}


def history_in_order(history: dict[str, dict[str, Any]]) -> list[dict[str, Any]]:
    """The history map (keyed by event id, so a replay cannot double it) in log order."""
    return sorted(history.values(), key=lambda entry: int(entry["offset"]))
