"""What supervision says on the log: the events it publishes, each with a deterministic id. Pure.

A replay after a crash rebuilds the same ids, so every consumer drops the copies:

| event              | id                                                   | causation        |
|--------------------|------------------------------------------------------|------------------|
| `ClockStarted`     | `derived_event_id(cause, "clock:<kind>")` = clock id | the cause        |
| a fired step       | `derived_event_id(clock id, step id)`                | the clock        |
| `ExtensionDecided` | `derived_event_id(request, "extension-decided")`     | the request      |
| `ClockRescheduled` | `derived_event_id(clock id, "rescheduled:<years>")`  | the clock        |

A fired step becomes `ReminderSent` (催办), `IssueFlagged` yellow or red (黄旗/红旗), or
`SupervisionOrdered` (督办, routing escalates it one rung up the ladder).
"""

from __future__ import annotations

import uuid
from datetime import datetime

from services.contracts.events import (
    ClockRescheduled,
    ClockRescheduledPayload,
    ClockStarted,
    ClockStartedPayload,
    Envelope,
    ExtensionDecided,
    ExtensionDecidedPayload,
    IssueFlagged,
    IssueFlaggedPayload,
    ReminderSent,
    ReminderSentPayload,
    SupervisionOrdered,
    SupervisionOrderedPayload,
    derived_event_id,
)
from services.contracts.vocabulary import ClockKind, Flag
from services.supervision.domain.calendar import WorkingCalendar
from services.supervision.domain.clocks import Clock, Step, StepAction

__all__ = [
    "CALENDAR_DECLARED",
    "PRODUCER",
    "clock_id_for",
    "clock_rescheduled",
    "clock_started",
    "decision_id_for",
    "extension_decided",
    "step_event_id",
    "step_notice",
]

PRODUCER = "supervision"
CALENDAR_DECLARED = "calendar_declared"


def clock_id_for(cause: uuid.UUID, kind: ClockKind) -> str:
    """The id of the clock of `kind` that the event `cause` starts (and of its ClockStarted)."""
    return str(derived_event_id(cause, f"clock:{kind.value}"))


def step_event_id(step_id: str) -> uuid.UUID:
    clock_id = step_id.rpartition(":")[0]
    return derived_event_id(uuid.UUID(clock_id), step_id)


def decision_id_for(request_id: str) -> uuid.UUID:
    return derived_event_id(uuid.UUID(request_id), "extension-decided")


def _uuid(value: str | None) -> uuid.UUID | None:
    return uuid.UUID(value) if value else None


def clock_started(
    clock: Clock, *, cause: uuid.UUID, correlation_id: str | None, calendar: WorkingCalendar
) -> ClockStarted:
    return ClockStarted(
        event_id=uuid.UUID(clock.clock_id),
        issue_id=clock.issue_id,
        occurred_at=clock.started_at,
        producer=PRODUCER,
        causation_id=cause,
        correlation_id=_uuid(correlation_id),
        payload=ClockStartedPayload(
            clock=clock.kind,
            office_id=clock.office_id,
            working_days=clock.length,
            started_at=clock.started_at,
            due_at=clock.deadline(calendar),
            provisional=bool(clock.provisional_years(calendar)),
        ),
    )


def clock_rescheduled(
    clock: Clock,
    *,
    years: tuple[int, ...],
    before: WorkingCalendar,
    after: WorkingCalendar,
    at: datetime,
    correlation_id: str | None,
) -> ClockRescheduled | None:
    """The event saying that `years` were declared and the clock's due times moved (None
    when nothing it still has to do moved). Its id depends on the clock and the years only,
    so a second reload or a replay yields the same event."""
    old = {step.name: step.due_at for step in clock.pending(before)}
    new = {step.name: step.due_at for step in clock.pending(after)}
    old_due, new_due = clock.deadline(before), clock.deadline(after)
    if old == new and old_due == new_due:
        return None
    label = ",".join(map(str, years))
    return ClockRescheduled(
        event_id=derived_event_id(uuid.UUID(clock.clock_id), f"rescheduled:{label}"),
        issue_id=clock.issue_id,
        occurred_at=at,
        producer=PRODUCER,
        causation_id=uuid.UUID(clock.clock_id),
        correlation_id=_uuid(correlation_id),
        payload=ClockRescheduledPayload(
            clock_id=clock.clock_id,
            clock=clock.kind,
            office_id=clock.office_id,
            reason=CALENDAR_DECLARED,
            years=years,
            old_due_at=old_due,
            new_due_at=new_due,
            steps={name: (old[name], new[name]) for name in new if name in old},
            provisional=bool(clock.provisional_years(after)),
        ),
    )


def step_notice(step: Step, *, now: datetime, correlation_id: str | None) -> Envelope:
    """The event a fired step publishes."""
    common = {
        "event_id": step_event_id(step.step_id),
        "issue_id": step.issue_id,
        "occurred_at": now,
        "producer": PRODUCER,
        "causation_id": uuid.UUID(step.clock_id),
        "correlation_id": _uuid(correlation_id),
    }
    match step.action:
        case StepAction.REMIND:
            payload = ReminderSentPayload(
                clock=step.clock, office_id=step.office_id, threshold=step.threshold
            )
            return ReminderSent(payload=payload, **common)
        case StepAction.YELLOW | StepAction.RED:
            flag = Flag.YELLOW if step.action is StepAction.YELLOW else Flag.RED
            flagged = IssueFlaggedPayload(flag=flag, clock=step.clock, office_id=step.office_id)
            return IssueFlagged(payload=flagged, **common)
        case StepAction.ESCALATE:
            to = step.to_rung.value if step.to_rung is not None else "the next rung"
            ordered = SupervisionOrderedPayload(
                clock=step.clock, office_id=step.office_id, reason=f"{step.reason}; up to {to}"
            )
            return SupervisionOrdered(payload=ordered, **common)
    raise ValueError(f"unknown step action {step.action!r}")  # pragma: no cover


def extension_decided(
    *,
    issue_id: str,
    request_id: str,
    granted: bool,
    working_days: int,
    decided_by: str,
    reason: str,
    at: datetime,
    correlation_id: str | None,
) -> ExtensionDecided:
    return ExtensionDecided(
        event_id=decision_id_for(request_id),
        issue_id=issue_id,
        occurred_at=at,
        producer=PRODUCER,
        causation_id=uuid.UUID(request_id),
        correlation_id=_uuid(correlation_id),
        payload=ExtensionDecidedPayload(
            granted=granted,
            working_days=working_days if granted else 0,
            decided_by=decided_by,
            reason=reason,
        ),
    )
