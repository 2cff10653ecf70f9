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
from services.intake.domain.masking import mask, masked


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


def answer_of(problem: dict[str, Any]) -> dict[str, Any]:
    """What a duplicate's reporter sees of the problem it was merged into."""
    answers = [h for h in problem.get("history", {}).values()
               if h["type"] in ("IssueResolved", "IssueAnswered")]  # fmt: skip
    last = max(answers, key=lambda h: int(h["offset"])) if answers else {}
    return {
        "issue_id": problem["_id"], "state": problem["state"],
        "office_id": problem.get("office_id"), "answer": last.get("result") or last.get("answer"),
    }  # fmt: skip


def present(view: dict[str, Any]) -> dict[str, Any]:
    """A status view as the API shows it: its id as `issue_id`, its history in log order."""
    view = dict(view)
    view["issue_id"] = view.pop("_id")
    view["history"] = history_in_order(view.get("history", {}))
    return view


FREE_TEXT = ("description", "note", "result", "answer", "reason")
"""The fields where people type what they like (a report's text, an office's notes and answers)."""


def public_view(view: dict[str, Any]) -> dict[str, Any]:
    """A presented view with personal numbers masked in every free text, for public outputs."""
    view = {key: masked(value) if key in FREE_TEXT else value for key, value in view.items()}
    if location := view.get("location"):
        view["location"] = {**location, "address": masked(location.get("address"))}
    view["history"] = [
        {key: mask(value) if key in FREE_TEXT and isinstance(value, str) else value
         for key, value in entry.items()}
        for entry in view.get("history", [])
    ]  # fmt: skip
    if problem := view.get("problem"):
        view["problem"] = {**problem, "answer": masked(problem.get("answer"))}
    return view
