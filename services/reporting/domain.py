"""Reporting's rules: what each event changes in an issue's counted facts, and the rates
of domain.md ("What gets counted") over a set of such facts. Pure.

One fact document per issue; every update uses idempotent operators only ($set, $min,
$max), so a replayed event changes nothing, and counts are aggregates over documents.
"""

from dataclasses import dataclass
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

from services.contracts.events import (
    ClockStarted,
    Event,
    IssueAccepted,
    IssueAnswered,
    IssueAssigned,
    IssueClosed,
    IssueFlagged,
    IssueMerged,
    IssueReopened,
    IssueReported,
    IssueResolved,
    IssueTriaged,
    IssueVisited,
)
from services.contracts.lifecycle import state_after
from services.contracts.vocabulary import ClockKind, Satisfaction


def fact_update(event: Event, timezone: ZoneInfo) -> dict[str, Any]:
    """One atomic, idempotent update of the issue's fact document for this event."""
    at = event.occurred_at
    fields: dict[str, Any] = {"last_event_at": at}
    first: dict[str, Any] = {}
    last: dict[str, Any] = {}
    if (state := state_after(event.type)) is not None:
        fields["state"] = state.value
    match event:
        case IssueReported(payload=p):
            fields |= {
                "reported_at": at,
                "reported_day": at.astimezone(timezone).date().isoformat(),
                "channel": p.channel.value,
                "kind": p.kind.value,
                "category": p.category,
                "region_code": p.location.region_code,
            }
        case IssueAnswered():
            fields["answered_directly"] = True
        case IssueTriaged(payload=p):
            fields |= {"category": p.category, "tier": p.tier.value, "region_code": p.region_code}
        case IssueMerged(payload=p):
            fields["merged_into"] = p.into_issue_id
        case IssueAssigned(payload=p):
            fields |= {"office_id": p.office_id, "level": p.level.value, "assigned": True}
            first["assigned_at"] = at
        case ClockStarted(payload=p) if p.clock in (ClockKind.ACCEPT, ClockKind.RESOLVE):
            first[f"{p.clock.value}_due"] = p.due_at
        case IssueAccepted():
            first["accepted_at"] = at
        case IssueResolved():
            last["resolved_at"] = at
        case IssueVisited(payload=p):
            fields |= {"satisfaction": p.satisfaction.value, "solved": p.solved}
            last["visited_at"] = at
        case IssueReopened():
            fields[f"reopens.{event.event_id}"] = at
        case IssueFlagged(payload=p):
            fields[f"flags.{p.flag.value}"] = True
        case IssueClosed():
            last["closed_at"] = at
        case _:
            pass
    update: dict[str, Any] = {"$set": fields}
    if first:
        update["$min"] = first
    if last:
        update["$max"] = last
    return update


@dataclass(frozen=True)
class Rates:
    """Counts and rates over a scope and period (a rate is None when its base is zero)."""

    received: int
    answered_directly: int
    assigned: int
    accepted_on_time: int
    resolved: int
    resolved_on_time: int
    visited: int
    solved: int
    satisfied: int
    reopened: int
    merged: int

    @property
    def direct_handling_rate(self) -> float | None:
        return _ratio(self.answered_directly, self.received)

    @property
    def response_rate(self) -> float | None:
        """响应率: assigned issues accepted within the accept clock."""
        return _ratio(self.accepted_on_time, self.assigned)

    @property
    def completion_rate(self) -> float | None:
        """办结率: resolved / assigned."""
        return _ratio(self.resolved, self.assigned)

    @property
    def on_time_rate(self) -> float | None:
        return _ratio(self.resolved_on_time, self.resolved)

    @property
    def resolution_rate(self) -> float | None:
        """解决率: visited issues whose reporter says it was solved."""
        return _ratio(self.solved, self.visited)

    @property
    def satisfaction_rate(self) -> float | None:
        """满意率: (satisfied + basically satisfied) / visited."""
        return _ratio(self.satisfied, self.visited)

    @property
    def reopen_rate(self) -> float | None:
        return _ratio(self.reopened, self.resolved)

    @property
    def duplicate_rate(self) -> float | None:
        return _ratio(self.merged, self.received)

    def as_dict(self) -> dict[str, Any]:
        names = [n for n in dir(type(self)) if n.endswith("_rate")]
        return {**self.__dict__, **{n: getattr(self, n) for n in sorted(names)}}


def rates(facts: list[dict[str, Any]]) -> Rates:
    """The rates of domain.md over these issue facts."""

    def before(done: datetime | None, due: datetime | None) -> bool:
        return done is not None and (due is None or done <= due)

    assigned = [f for f in facts if f.get("assigned")]
    resolved = [f for f in facts if f.get("resolved_at")]
    visited = [f for f in facts if f.get("satisfaction")]
    return Rates(
        received=len(facts),
        answered_directly=sum(1 for f in facts if f.get("answered_directly")),
        assigned=len(assigned),
        accepted_on_time=sum(
            1 for f in assigned if before(f.get("accepted_at"), f.get("accept_due"))
        ),
        resolved=len(resolved),
        resolved_on_time=sum(
            1 for f in resolved if before(f.get("resolved_at"), f.get("resolve_due"))
        ),
        visited=len(visited),
        solved=sum(1 for f in visited if f.get("solved")),
        satisfied=sum(1 for f in visited if f["satisfaction"] != Satisfaction.DISSATISFIED.value),
        reopened=sum(1 for f in facts if f.get("reopens")),
        merged=sum(1 for f in facts if f.get("merged_into")),
    )


def _ratio(part: int, whole: int) -> float | None:
    return None if whole == 0 else round(part / whole, 4)
