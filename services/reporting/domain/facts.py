"""An issue's counted facts: what each event records, and the view derived from them. Pure.

One fact document per issue holds two things:

- `log`: one small entry per event it absorbed, keyed by the event's id
  (`log.<event_id> = {type, cause, data}` by `$set`, `log.<event_id>.at` by `$min`). That
  update is idempotent (a copy of an event writes the same keys) and ORDER-INDEPENDENT
  (distinct events write distinct keys; two copies of one event that carry different
  times keep the earlier): whatever order and however often the events arrive — a replay
  after a crash, a double during a rebalance, a rebuild running while the live consumer
  keeps consuming — the log converges to the same map (where single-document updates
  are atomic: on FerretDB v1 they are not, so the store keeps one writer per issue).
- `view`: plain fields derived from the whole log by `derive` (state, office, category,
  region path and names, office name, times, histogram buckets, flags), which the reads
  match and group on. Names travel on the events (routing's), never read from its files.
  It is written by `$max` on `{"_n": number of entries, ...}`: a view derived from more
  entries replaces one derived from fewer, never the reverse, so it too converges (see
  store.py). Being a function of the log alone, it is the same in every replica.

The order of events inside `derive` is (occurred_at, causation depth, lifecycle rank,
event id): an event caused by another that carries the same time comes after it.
"""

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

from services.contracts.events import (
    ClockStarted,
    Event,
    ExtensionDecided,
    IssueAccepted,
    IssueAssigned,
    IssueEscalated,
    IssueFlagged,
    IssueMerged,
    IssueReported,
    IssueResolved,
    IssueReturned,
    IssueTriaged,
    IssueVerified,
    IssueVisited,
    ReminderSent,
    SupervisionOrdered,
)
from services.contracts.lifecycle import FINAL_STATES, state_after
from services.contracts.vocabulary import IssueState

RANK = {
    name: rank
    for rank, name in enumerate((
        "IssueReported", "IssueAnswered", "IssueTriaged", "IssueMerged", "IssueAssigned",
        "ClockStarted", "IssueAccepted", "IssueReturned", "ProgressNoted", "ExtensionRequested",
        "ExtensionDecided", "ReminderSent", "IssueFlagged", "SupervisionOrdered", "IssueEscalated",
        "IssueResolved", "IssueVerified", "IssueVisited", "IssueReopened", "IssueClosed",
    ))
}  # fmt: skip
"""Lifecycle order, to break ties between events of the same time and causation depth."""

FINAL = frozenset(state.value for state in FINAL_STATES)
UNSOLVED = frozenset(
    s.value
    for s in (
        IssueState.RECEIVED,
        IssueState.TRIAGED,
        IssueState.ASSIGNED,
        IssueState.ACCEPTED,
        IssueState.RETURNED,
        IssueState.REOPENED,
    )
)
"""States of an issue nobody has answered or resolved yet (the backlog's states)."""

FLAGS = ("reminded", "yellow", "red", "supervised", "extended")
"""The marks that ride along any open state (domain.md, "The loop"); once set, they stay."""

TOWNSHIP_DEPTH = 2
"""Position of the township in a region path: city (0), county (1), township (2)."""


@dataclass(frozen=True)
class FactRules:
    """What the view depends on besides the log: the local day, the histogram buckets."""

    timezone: ZoneInfo
    buckets_hours: tuple[float, ...] = (1, 2, 4, 8, 24, 48, 72, 120, 168, 240)


def fact_update(event: Event) -> dict[str, Any]:
    """The idempotent, order-independent update that records `event` in its issue's log."""
    key = f"log.{event.event_id}"
    entry = {
        f"{key}.type": event.type,
        f"{key}.cause": str(event.causation_id) if event.causation_id else None,
        f"{key}.data": entry_data(event),
    }
    return {"$set": entry, "$min": {f"{key}.at": event.occurred_at}}


def entry_data(event: Event) -> dict[str, Any]:
    """What reporting keeps of an event's payload (never text, never a reporter id)."""
    match event:
        case IssueReported(payload=p):
            return {
                "channel": p.channel.value,
                "kind": p.kind.value,
                "category": p.category,
                "region_code": p.location.region_code,
                "reporter_type": p.reporter_type.value,
            }
        case IssueTriaged(payload=p):
            return {
                "category": p.category,
                "tier": p.tier.value,
                "region_code": p.region_code,
                "region_path": list(p.region_path),
                "region_names": list(p.region_names),
            }
        case IssueMerged(payload=p):
            return {"into": p.into_issue_id}
        case IssueAssigned(payload=p):
            return {
                "office_id": p.office_id,
                "office_name": p.office_name,
                "co_office_ids": list(p.co_office_ids),
                "level": p.level.value,
                "rung": p.rung.value,
            }
        case ClockStarted(payload=p):
            return {"clock": p.clock.value, "due_at": p.due_at}
        case IssueAccepted(payload=p) | IssueReturned(payload=p):
            return {"office_id": p.office_id}
        case IssueResolved(payload=p):
            return {"office_id": p.office_id, "result": p.result}
        case IssueVerified(payload=p):
            return {"passed": p.passed}
        case IssueVisited(payload=p):
            return {"satisfaction": p.satisfaction.value, "solved": p.solved}
        case ExtensionDecided(payload=p):
            return {"granted": p.granted}
        case ReminderSent(payload=p) | SupervisionOrdered(payload=p):
            return {"clock": p.clock.value}
        case IssueFlagged(payload=p):
            return {"flag": p.flag.value, "clock": p.clock.value}
        case IssueEscalated(payload=p):
            return {"to_rung": p.to_rung.value}
        case _:
            return {}


def in_order(log: Mapping[str, Mapping[str, Any]]) -> list[tuple[str, Mapping[str, Any]]]:
    """The log's entries as (event id, entry), in the order the events happened."""

    def depth(event_id: str, seen: frozenset[str] = frozenset()) -> int:
        cause = log[event_id].get("cause")
        if cause is None or cause not in log or cause in seen:
            return 0
        return 1 + depth(cause, seen | {event_id})

    def key(item: tuple[str, Mapping[str, Any]]) -> tuple[datetime, int, int, str]:
        event_id, entry = item
        return (entry["at"], depth(event_id), RANK.get(entry["type"], len(RANK)), event_id)

    return sorted(log.items(), key=key)


def bucket_of(hours: float | None, bounds: Iterable[float]) -> str | None:
    """The label of the histogram bucket `hours` falls in: its upper bound, or "+Inf"."""
    if hours is None:
        return None
    return next((label(b) for b in bounds if hours <= b), "+Inf")


def label(bound: float) -> str:
    return f"{bound:g}"


def derive(log: Mapping[str, Mapping[str, Any]], rules: FactRules) -> dict[str, Any]:
    """The issue's plain facts, from every entry of its log. `_n` comes first (see store);
    a fact not known (yet) is absent, so `$exists` means known."""
    v: dict[str, Any] = {"_n": len(log)}
    v |= {"offices": [], "assigned": False, "answered_directly": False}
    v |= dict.fromkeys(("reopens", "returns", "escalations", "visits", "reminders"), 0)
    v["flags"] = dict.fromkeys(FLAGS, False)
    reported: dict[str, Any] = {}
    triaged: dict[str, Any] = {}
    for _, entry in in_order(log):
        _absorb(v, entry, reported, triaged)
    at = v.get("reported_at")
    v["reported_day"] = at.astimezone(rules.timezone).date().isoformat() if at else None
    for name in ("channel", "kind", "reporter_type"):
        v[name] = reported.get(name)
    place = triaged or reported
    v["category"] = place.get("category") or reported.get("category")
    v["tier"] = triaged.get("tier")
    v["region_code"] = place.get("region_code")
    path = triaged.get("region_path") or ([v["region_code"]] if v["region_code"] else [])
    names = triaged.get("region_names") or []
    v["region_path"] = path
    v["by_path"] = bool(triaged.get("region_path"))  # else the path is the code alone
    v["region_names"] = names or None
    v["township"] = path[TOWNSHIP_DEPTH] if len(path) > TOWNSHIP_DEPTH else None
    v["township_name"] = names[TOWNSHIP_DEPTH] if len(names) > TOWNSHIP_DEPTH else None
    v["open"] = v["state"] not in FINAL if v.get("state") else False
    v["hours_to_accept"] = _hours(v.get("assigned_at"), v.get("accepted_at"))
    v["hours_to_resolve"] = _hours(v.get("assigned_at"), v.get("first_resolved_at"))
    v["accept_bucket"] = bucket_of(v["hours_to_accept"], rules.buckets_hours)
    v["resolve_bucket"] = bucket_of(v["hours_to_resolve"], rules.buckets_hours)
    v["accepted_on_time"] = (
        _within(v.get("accepted_at"), v.get("accept_due")) if v["assigned"] else None
    )
    v["resolved_on_time"] = _within(v.get("first_resolved_at"), v.get("resolve_due"))
    v |= list_keys(v)
    return {key: value for key, value in v.items() if value is not None}  # absent, not null


def list_keys(v: Mapping[str, Any]) -> dict[str, Any]:
    """The keys the lists select on by equality (indexed: the engine answers them from an
    index): which of the three lists the issue is in, unsolved (the backlog), the month."""
    listed = not v.get("merged_into")
    day = v.get("reported_day")
    return {
        "l_problem": listed,
        "l_task": listed and bool(v.get("assigned")),
        "l_result": listed and v.get("first_resolved_at") is not None,
        "unsolved": v.get("state") in UNSOLVED,
        "reported_month": day[:7] if day else None,
    }


def _absorb(
    v: dict[str, Any], entry: Mapping[str, Any], reported: dict[str, Any], triaged: dict[str, Any]
) -> None:
    kind, at, data = entry["type"], entry["at"], entry.get("data") or {}
    v["last_event_at"] = at
    if (state := state_after(kind)) is not None:
        v["state"] = state.value
    match kind:
        case "IssueReported":
            reported.update(data)
            v["reported_at"] = at
        case "IssueAnswered":
            v["answered_directly"] = True
            v.setdefault("answered_at", at)
        case "IssueTriaged":
            triaged.update(data)
        case "IssueMerged":
            v["merged_into"] = data["into"]
        case "IssueAssigned":
            v |= {k: data[k] for k in ("office_id", "co_office_ids", "level", "rung")}
            v["office_name"] = data.get("office_name") or None  # empty on older events
            v["assigned"] = True
            v.setdefault("assigned_at", at)
            if data["office_id"] not in v["offices"]:
                v["offices"].append(data["office_id"])
        case "ClockStarted" if data["clock"] in ("accept", "resolve"):
            due = f"{data['clock']}_due"
            v.setdefault(due, data["due_at"])
        case "IssueAccepted":
            v.setdefault("accepted_at", at)
        case "IssueReturned":
            v["returns"] += 1
        case "ExtensionDecided":
            v["flags"]["extended"] = v["flags"]["extended"] or bool(data["granted"])
        case "IssueResolved":
            v.setdefault("first_resolved_at", at)
            v["resolved_at"], v["result"] = at, data["result"]
        case "IssueVerified":
            v["verified"] = data["passed"]
        case "IssueVisited":
            v["satisfaction"], v["solved"] = data["satisfaction"], data["solved"]
            v["visited_at"] = at
            v["visits"] += 1
        case "IssueReopened":
            v["reopens"] += 1
        case "IssueClosed":
            v["closed_at"] = at
        case "ReminderSent":
            v["reminders"] += 1
            v["flags"]["reminded"] = True
        case "IssueFlagged":
            v["flags"][data["flag"]] = True
        case "SupervisionOrdered":
            v["flags"]["supervised"] = True
        case "IssueEscalated":
            v["escalations"] += 1
            v["escalated_to"] = data["to_rung"]
        case _:
            pass


def _hours(start: datetime | None, end: datetime | None) -> float | None:
    if start is None or end is None:
        return None
    return round(max((end - start).total_seconds(), 0.0) / 3600, 3)


def _within(done: datetime | None, due: datetime | None) -> bool | None:
    if done is None:
        return None
    return due is None or done <= due
