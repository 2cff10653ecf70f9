"""What each event of the log does to one issue's clocks, and what supervision says back. Pure.

| event                  | clocks                                                              |
|------------------------|---------------------------------------------------------------------|
| `IssueReported`        | remembers the channel                                               |
| `IssueTriaged`         | remembers category, tier (default general) and region               |
| `IssueAssigned`        | stops every open clock ("reassigned"), starts accept + resolve (by  |
|                        | tier) for the office; unless the open clocks were just started by   |
|                        | this assignment's cause (a reopening or an escalation) for the same |
|                        | office: then it only records the assignment                         |
| `IssueAccepted`        | stops the accept clock (the lead's acceptance, not a co-office's)   |
| `IssueReturned`        | stops the accept clock (the lead's return); the reassignment that   |
|                        | follows starts fresh clocks                                         |
| `ExtensionRequested`   | decided by rule (`extensions`): granted → the clock is extended now |
|                        | and `ExtensionDecided` published; refused → `ExtensionDecided`;     |
|                        | referred → waits for a supervisor (no event)                        |
| `ExtensionDecided`     | a granted decision extends the requested clock, once per decision   |
| `IssueResolved`        | stops accept and resolve, starts the return-visit clock             |
| `IssueVerified`        | nothing: the return-visit clock runs from resolution (a visit may   |
|                        | follow resolution directly; a failed check arrives as a reopening)  |
| `IssueVisited`         | stops the return-visit clock                                        |
| `IssueReopened`        | stops every open clock, starts fresh accept + resolve clocks        |
| `IssueEscalated`       | restarts every open clock, fresh, at the new rung                   |
| `IssueClosed` / merged | stops everything; no clock starts afterwards                        |

Every clock starts and stops at its event's `occurred_at`, so a replay yields the same state.

`recalendar` runs before both: when a year an open clock was computed on provisionally has
since been declared, the clock's steps move to the declared calendar and `ClockRescheduled`
says so (reason "calendar_declared", one deterministic id per clock and declared years).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import datetime
from typing import Any

from services.contracts.events import (
    Event,
    ExtensionDecided,
    ExtensionRequested,
    IssueAccepted,
    IssueAssigned,
    IssueClosed,
    IssueEscalated,
    IssueMerged,
    IssueReopened,
    IssueReported,
    IssueResolved,
    IssueReturned,
    IssueTriaged,
    IssueVisited,
)
from services.contracts.vocabulary import ClockKind
from services.supervision.domain.extension_requests import extension_decided_by, extension_requested
from services.supervision.domain.issue_clocks import FireOutcome, IssueClocks, IssueClosedError
from services.supervision.domain.notices import (
    CALENDAR_DECLARED,
    clock_id_for,
    clock_rescheduled,
    clock_started,
    step_notice,
)
from services.supervision.domain.record import Entry, IssueRecord
from services.supervision.domain.rules import Reaction, Rules

__all__ = ["CLOCK_EVENTS", "context_of", "declared_since", "fire_due", "react", "recalendar"]

ACCEPT, RESOLVE, VISIT = ClockKind.ACCEPT, ClockKind.RESOLVE, ClockKind.RETURN_VISIT

CLOCK_EVENTS = frozenset(
    {
        "IssueAssigned",
        "IssueAccepted",
        "IssueReturned",
        "ExtensionRequested",
        "ExtensionDecided",
        "IssueResolved",
        "IssueVisited",
        "IssueReopened",
        "IssueEscalated",
        "IssueClosed",
        "IssueMerged",
    }
)
"""The events that change clocks (the others are context, or nothing to supervision)."""


def context_of(event: Event) -> dict[str, Any] | None:
    """What a context event tells about its issue (None: not a context event)."""
    match event:
        case IssueReported(payload=p):
            found = {"channel": p.channel.value, "category": p.category}
            found["region_code"] = p.location.region_code
            return {k: v for k, v in found.items() if v is not None}
        case IssueTriaged(payload=p):
            return {"category": p.category, "tier": p.tier.value, "region_code": p.region_code}
    return None


def react(record: IssueRecord, event: Event, rules: Rules) -> Reaction:
    """The record after `event`, and the events supervision publishes because of it."""
    if record.correlation_id is None and event.correlation_id is not None:
        record = record.changed(correlation_id=str(event.correlation_id))
    at = event.occurred_at
    match event:
        case IssueAssigned(payload=p):
            return _assigned(record, event, rules)
        case IssueAccepted(payload=p) | IssueReturned(payload=p):
            clock = record.clocks.open_clock(ACCEPT)
            if clock is None or clock.office_id not in (None, p.office_id):
                return Reaction(record)
            why = "accepted" if isinstance(event, IssueAccepted) else "returned"
            return Reaction(_stop(record, [ACCEPT], at, why, rules))
        case ExtensionRequested():
            return extension_requested(record, event, rules)
        case ExtensionDecided():
            return Reaction(extension_decided_by(record, event, rules))
        case IssueResolved(payload=p):
            record = _stop(record, [ACCEPT, RESOLVE], at, "resolved", rules)
            return _start(record, event, [VISIT], rules, office_id=p.office_id)
        case IssueVisited():
            return Reaction(_stop(record, [VISIT], at, "visited", rules))
        case IssueReopened():
            record = _stop(record, None, at, "reopened", rules)
            record = record.changed(fresh_causes=_causes(event))
            return _start(record, event, [ACCEPT, RESOLVE], rules, office_id=record.office_id)
        case IssueEscalated(payload=p):
            kinds = [c.kind for c in record.clocks.open_clocks()]
            record = _stop(record, None, at, "escalated", rules)
            record = record.changed(rung=p.to_rung, fresh_causes=_causes(event))
            return _start(record, event, kinds, rules, office_id=record.office_id)
        case IssueClosed(payload=p) | IssueMerged(payload=p):
            why = "merged" if isinstance(event, IssueMerged) else f"closed: {p.reason}"
            closed = record.clocks.close(at=at, calendar=rules.calendar, reason=why)
            return Reaction(_with_clocks(record, record.clocks, closed.state, at, why))
    return Reaction(record)


def fire_due(record: IssueRecord, now: datetime, rules: Rules) -> Reaction:
    """Fire every step of the issue due at `now`, in order (a yellow may bring a red due)."""
    state, notices, entries = record.clocks, [], []
    while True:
        due = [s for s in state.pending(rules.calendar) if s.due_at <= now]
        if not due:
            break
        firing = state.fire(due[0].step_id, now=now, calendar=rules.calendar)
        if firing.outcome is not FireOutcome.FIRED or firing.step is None:
            break  # cannot happen for a pending, due step; never loop on it
        step, state = firing.step, firing.state
        notices.append(step_notice(step, now=now, correlation_id=record.correlation_id))
        entries.append(Entry(at=now, what="fired", clock_id=step.clock_id, step=step.name))
    if not notices:
        return Reaction(record)
    return Reaction(record.changed(clocks=state).noted(*entries), tuple(notices))


def declared_since(record: IssueRecord, rules: Rules) -> tuple[int, ...]:
    """The years its open clocks were computed on provisionally that are declared now."""
    if not record.provisional_years:
        return ()
    calendar = rules.calendar
    return tuple(y for y in record.provisional_years if not calendar.is_provisional_year(y))


def recalendar(record: IssueRecord, at: datetime, rules: Rules) -> Reaction:
    """Move the open clocks computed on a year declared since to the declared calendar: the
    record (no longer provisional for those years) and a `ClockRescheduled` per clock whose
    pending due times moved. Nothing when no such year was declared."""
    years = declared_since(record, rules)
    if not years:
        return Reaction(record)
    before = rules.calendar.assuming_provisional(frozenset(record.provisional_years))
    published, entries = [], []
    for clock in record.clocks.open_clocks():
        moved = clock_rescheduled(
            clock,
            years=years,
            before=before,
            after=rules.calendar,
            at=at,
            correlation_id=record.correlation_id,
        )
        if moved is None:
            continue
        published.append(moved)
        p = moved.payload
        declared = ",".join(map(str, years))
        detail = f"{CALENDAR_DECLARED} {declared}: due {p.old_due_at} -> {p.new_due_at}"
        entries.append(Entry(at=at, what="rescheduled", clock_id=clock.clock_id, detail=detail))
    current = record.provisional_in(rules.calendar)
    return Reaction(record.changed(provisional_years=current).noted(*entries), tuple(published))


def _assigned(record: IssueRecord, event: IssueAssigned, rules: Rules) -> Reaction:
    p = event.payload
    same_cause = event.causation_id is not None and str(event.causation_id) in record.fresh_causes
    kept = same_cause and p.office_id == record.office_id and record.is_open
    record = record.changed(
        office_id=p.office_id, co_office_ids=p.co_office_ids, level=p.level, rung=p.rung
    )
    if kept:
        return Reaction(record.noted(Entry(at=event.occurred_at, what="assigned, clocks kept")))
    record = _stop(record, None, event.occurred_at, "reassigned", rules)
    record = record.changed(fresh_causes=_causes(event))
    return _start(record, event, [ACCEPT, RESOLVE], rules, office_id=p.office_id)


def _start(
    record: IssueRecord,
    cause: Event,
    kinds: Iterable[ClockKind],
    rules: Rules,
    *,
    office_id: str | None,
) -> Reaction:
    state, published, entries = record.clocks, [], []
    for kind in kinds:
        clock_id = clock_id_for(cause.event_id, kind)
        try:
            state = state.start(
                clock_id=clock_id,
                started_at=cause.occurred_at,
                terms=rules.terms(record, kind),
                calendar=rules.calendar,
                office_id=office_id,
                rung=record.rung,
            ).state
        except IssueClosedError as closed:
            note = Entry(at=cause.occurred_at, what="ignored", detail=str(closed))
            return Reaction(record.noted(note))
        clock = state.clock(clock_id)
        if clock is None:  # pragma: no cover - start() always adds the clock
            continue
        started = clock_started(
            clock,
            cause=cause.event_id,
            correlation_id=record.correlation_id,
            calendar=rules.calendar,
        )
        published.append(started)
        detail = f"{kind.value} clock, {clock.length} working day(s), by {cause.type}"
        entries.append(
            Entry(at=cause.occurred_at, what="started", clock_id=clock_id, detail=detail)
        )
    return Reaction(record.changed(clocks=state).noted(*entries), tuple(published))


def _stop(
    record: IssueRecord,
    kinds: Sequence[ClockKind] | None,
    at: datetime,
    reason: str,
    rules: Rules,
) -> IssueRecord:
    change = record.clocks.stop(kinds, at=at, reason=reason, calendar=rules.calendar)
    return _with_clocks(record, record.clocks, change.state, at, reason)


def _with_clocks(
    record: IssueRecord, before: IssueClocks, after: IssueClocks, at: datetime, reason: str
) -> IssueRecord:
    if after is before:  # nothing stopped (a first assignment has nothing to stop)
        return record
    still_open = {c.clock_id for c in after.open_clocks()}
    stopped = [
        Entry(at=at, what="stopped", clock_id=c.clock_id, detail=reason)
        for c in before.open_clocks()
        if c.clock_id not in still_open
    ]
    return record.changed(clocks=after).noted(*stopped)


def _causes(event: Event) -> tuple[str, ...]:
    """The ids an assignment following `event` names as its cause."""
    ids = [str(event.event_id)]
    if event.causation_id is not None:
        ids.append(str(event.causation_id))
    return tuple(ids)
