"""The status view, folded from the log like reporting's facts. Pure.

One document per issue holds:

- `history`: one entry per event it absorbed, keyed by the event's id. Recording an event
  (`record_update`) `$set`s what every copy of the event says alike and `$min`s what copies may
  say differently (its time, its position in the log: a republished copy sits later), so the
  history converges to the same map whatever order and however often the events arrive — the
  consumer's copy, the API's own copy applied at once, a replay, a republish after a crash.
- plain fields derived from the whole history by `derive` (state, office, deadlines, flags…),
  folded over the entries in log order, which the reads match on. They are written with a
  compare-and-set on the history's version (`version_of`): a view derived from a later history
  replaces one derived from an earlier, never the reverse. So the document is a function of
  the set of events alone: no last-write-wins `$set` of state.
"""

from collections.abc import Iterable, Mapping
from datetime import datetime
from typing import Any

from services.contracts.events import Event, ExtensionDecided, IssueReported
from services.contracts.lifecycle import state_after
from services.intake.domain.inbox import inbox_of
from services.intake.domain.masking import mask, masked

VARYING = ("offset", "at")
"""What two copies of one event may say differently (a republish after a crash is a new copy,
later in the log and stamped later): the history keeps the least of each."""

VERSION = ("_n", "_w")
"""The derived fields' version: the number of entries, then minus the sum of their times and
offsets; it grows with every change to the history (entries are only added, times and offsets
only fall)."""


def entry_of(event: Event, offset: int) -> dict[str, Any]:
    """An event as the history keeps it (no reporter id, no text, no media)."""
    entry = {
        "offset": offset,
        "event_id": str(event.event_id),
        "type": event.type,
        "at": event.occurred_at,
        **event.payload.model_dump(mode="json", exclude={"reporter_id", "text", "media_urls"}),
    }
    if isinstance(event, ExtensionDecided) and event.causation_id is not None:
        entry["request_id"] = str(event.causation_id)  # the ExtensionRequested it answers
    return entry


def record_update(event: Event, offset: int) -> dict[str, Any]:
    """The idempotent, order-independent update that records `event` in its issue's history."""
    key = f"history.{event.event_id}"
    entry = entry_of(event, offset)
    same = {f"{key}.{name}": value for name, value in entry.items() if name not in VARYING}
    if isinstance(event, IssueReported):  # the one event that says them: no later one overrides
        same |= reported_fields(event)
    return {"$set": same, "$min": {f"{key}.{name}": entry[name] for name in VARYING}}


def reported_fields(event: IssueReported) -> dict[str, Any]:
    """What only a report says, kept beside the history (never in a public entry)."""
    return {"description": event.payload.text, "media_urls": list(event.payload.media_urls)}


def _stored_time(value: Any) -> Any:
    """A time as the database keeps it (milliseconds), so a folded history compares equal
    to the stored one and gives the same version."""
    if isinstance(value, datetime):
        return value.replace(microsecond=value.microsecond // 1000 * 1000)
    return value


def fold_entry(history: dict[str, Any], event: Event, offset: int) -> None:
    """`record_update` done in memory on a history read from the database: the same entry
    (the least of what copies may say differently)."""
    entry = {name: _stored_time(value) for name, value in entry_of(event, offset).items()}
    found = history.get(str(event.event_id))
    if found is not None:
        entry |= {name: min(found[name], entry[name]) for name in VARYING if name in found}
        entry = {**found, **entry}
    history[str(event.event_id)] = entry


def _due(value: Any) -> Any:
    return datetime.fromisoformat(value) if isinstance(value, str) else value


def event_fields(entry: Mapping[str, Any]) -> dict[str, Any]:
    """What one history entry sets in the derived fields (a dotted path → value)."""
    fields: dict[str, Any] = {"updated_at": entry["at"]}
    if (state := state_after(entry["type"])) is not None:
        fields["state"] = state.value
    match entry["type"]:
        case "IssueReported":
            fields |= {
                "reported_at": entry["at"],
                "channel": entry["channel"],
                "kind": entry["kind"],
                "category": entry.get("category"),
                "region_code": (entry.get("location") or {}).get("region_code"),
                "direct_handling": entry.get("direct_handling", False),
                "location": entry.get("location"),
            }
        case "IssueTriaged":
            fields |= {
                "category": entry["category"],
                "tier": entry["tier"],
                "region_code": entry.get("region_code"),
                "region_path": list(entry.get("region_path") or []),  # who belongs: scope.py
            }
        case "IssueAssigned":
            fields |= {
                "office_id": entry["office_id"],
                "co_office_ids": list(entry.get("co_office_ids") or []),
                "level": entry["level"],
                "rung": entry["rung"],
            }
        case "ClockStarted":
            fields[f"deadlines.{entry['clock']}"] = _due(entry["due_at"])
        case "ClockRescheduled":  # the calendar moved the clock's due time
            fields[f"deadlines.{entry['clock']}"] = _due(entry["new_due_at"])
        case "ReminderSent":
            fields["flags.reminded"] = True
        case "IssueFlagged":
            fields[f"flags.{entry['flag']}"] = True
        case "SupervisionOrdered":
            fields["flags.supervised"] = True
        case "ExtensionDecided" if entry.get("granted"):
            fields["flags.extended"] = True
        case "IssueMerged":
            fields["merged_into"] = entry["into_issue_id"]
        case _:
            pass
    return fields


def view_update(event: Event, offset: int) -> dict[str, Any]:
    """What one event alone changes in the status view (its entry and its fields), as one
    `$set`: the document is these folded in log order (`derive`)."""
    entry = entry_of(event, offset)
    fields = event_fields(entry)
    if isinstance(event, IssueReported):
        fields |= {"description": event.payload.text, "media_urls": list(event.payload.media_urls)}
    return {"$set": {**fields, f"history.{event.event_id}": entry}}


def _time(value: Any) -> int:
    return int(value.timestamp() * 1_000_000) if isinstance(value, datetime) else 0


def version_of(history: Mapping[str, Mapping[str, Any]]) -> tuple[int, int]:
    """The history's version: it grows with every change a `record_update` can make."""
    weight = sum(_time(e.get("at")) + int(e.get("offset", 0)) for e in history.values())
    return len(history), -weight


def in_log_order(entries: Iterable[Mapping[str, Any]]) -> list[Mapping[str, Any]]:
    return sorted(entries, key=lambda e: (int(e["offset"]), str(e.get("event_id", ""))))


def fold(entries: Iterable[Mapping[str, Any]]) -> dict[str, Any]:
    """The derived fields after `entries` (any order: they are folded in log order), as nested
    fields: `deadlines` and `flags` are maps."""
    view: dict[str, Any] = {"deadlines": {}, "flags": {}}
    for entry in in_log_order(entries):
        for path, value in event_fields(entry).items():
            head, _, leaf = path.partition(".")
            if leaf:
                view[head][leaf] = value
            else:
                view[head] = value
    return view


def derive(history: Mapping[str, Mapping[str, Any]]) -> dict[str, Any]:
    """The derived fields of a history, with where it stands in the inboxes and its version."""
    view = fold(history.values())
    view["inbox"] = inbox_of(view)
    return {**view, **dict(zip(VERSION, version_of(history), strict=True))}


def state_through(history: Mapping[str, Mapping[str, Any]], event_ids: Iterable[str]) -> str | None:
    """The state the log implies just after the given events (the latest of them in the log):
    what the API answered when it took them. None when none of them is in the history."""
    mine = [history[i] for i in event_ids if i in history]
    if not mine:
        return None
    last = max((int(e["offset"]), str(e["event_id"])) for e in mine)
    before = [e for e in history.values() if (int(e["offset"]), str(e["event_id"])) <= last]
    state = fold(before).get("state")
    return None if state is None else str(state)


def history_in_order(history: dict[str, dict[str, Any]]) -> list[dict[str, Any]]:
    """The history map (keyed by event id, so a replay cannot double it) in log order."""
    return [dict(entry) for entry in in_log_order(history.values())]


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
