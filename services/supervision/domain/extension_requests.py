"""Extension requests (延期) as they change one issue's record. Pure.

A request is decided by rule at once (`extensions.decide_extension`, on the open resolve
clock, else the open accept clock, at the request's instant):

- granted: the clock is lengthened now, and `ExtensionDecided(granted, decided_by="rule")`
  is published; when that event comes back through the log it changes nothing more;
- refused (no running clock): `ExtensionDecided(granted=False)` is published;
- referred: the request waits in the record for a supervisor. The supervisor decides
  through intake (`POST /issues/{id}/extension-decision`, role supervisor or admin), which
  publishes `ExtensionDecided` with the request as its cause and the principal's id as
  `decided_by`; it is applied here when it comes through the log.

A request is decided once: the first decision of a request is applied (its event id is the
clock's extension id), any later one (a second supervisor, or a supervisor who answered a
request the rule had just decided) is dropped unchanged. A decision extends only the clock
the request was about: if that clock has been stopped or restarted since, the decision is
recorded and extends nothing.
"""

from __future__ import annotations

from services.contracts.events import ExtensionDecided, ExtensionRequested
from services.contracts.vocabulary import ClockKind
from services.supervision.domain.extensions import RULE, decide_extension
from services.supervision.domain.notices import extension_decided
from services.supervision.domain.record import Entry, ExtensionRequest, IssueRecord
from services.supervision.domain.rules import Reaction, Rules

__all__ = ["extension_decided_by", "extension_requested"]

ACCEPT, RESOLVE = ClockKind.ACCEPT, ClockKind.RESOLVE


def extension_requested(record: IssueRecord, event: ExtensionRequested, rules: Rules) -> Reaction:
    p, at = event.payload, event.occurred_at
    clock = record.clocks.open_clock(RESOLVE) or record.clocks.open_clock(ACCEPT)
    decision = decide_extension(
        clock, p.working_days, at=at, rule=rules.policy.extensions, calendar=rules.calendar
    )
    request = ExtensionRequest(
        request_id=str(event.event_id),
        office_id=p.office_id,
        working_days=p.working_days,
        reason=p.reason,
        requested_at=at,
        clock_id=clock.clock_id if clock else None,
        clock=clock.kind if clock else None,
        verdict=decision.verdict,
    )
    note = Entry(
        at=at,
        what=f"extension {decision.verdict.value}",
        clock_id=request.clock_id,
        detail=f"{p.working_days} working day(s) asked: {decision.reason}",
    )
    record = record.noted(note)
    if not decision.decided:
        return Reaction(record.with_request(request))
    decided = extension_decided(
        issue_id=record.issue_id,
        request_id=request.request_id,
        granted=decision.granted,
        working_days=decision.working_days,
        decided_by=RULE,
        reason=decision.reason,
        at=at,
        correlation_id=record.correlation_id,
    )
    record = record.with_request(
        request.model_copy(
            update={
                "decision_id": str(decided.event_id),
                "decided_by": RULE,
                "granted_days": decision.working_days,
            }
        )
    )
    if decision.granted and clock is not None:
        extended = record.clocks.extend(
            clock.kind,
            decision.working_days,
            decision_id=str(decided.event_id),
            calendar=rules.calendar,
        )
        record = record.changed(clocks=extended.state)
    return Reaction(record, (decided,))


def extension_decided_by(record: IssueRecord, event: ExtensionDecided, rules: Rules) -> IssueRecord:
    p, at, decision_id = event.payload, event.occurred_at, str(event.event_id)
    request = record.request(str(event.causation_id) if event.causation_id else None)
    if request is not None and request.decision_id is not None:
        return record  # decided already (the rule's own decision, or an earlier one)
    kind = request.clock if request is not None and request.clock is not None else RESOLVE
    clock = record.clocks.open_clock(kind)
    if request is not None:
        granted_days = p.working_days if p.granted else 0
        decided = {"decision_id": decision_id, "decided_by": p.decided_by}
        record = record.with_request(
            request.model_copy(update={**decided, "granted_days": granted_days})
        )
    what = f"extension {'granted' if p.granted else 'refused'} by {p.decided_by}"
    if (
        not p.granted
        or clock is None
        or (request is not None and request.clock_id != clock.clock_id)
    ):
        detail = p.reason if not p.granted or clock is not None else "no running clock to extend"
        return record.noted(Entry(at=at, what=what, detail=detail))
    extended = record.clocks.extend(
        kind, p.working_days, decision_id=decision_id, calendar=rules.calendar
    )
    note = Entry(at=at, what=what, clock_id=clock.clock_id, detail=f"+{p.working_days}: {p.reason}")
    return record.changed(clocks=extended.state).noted(note)
