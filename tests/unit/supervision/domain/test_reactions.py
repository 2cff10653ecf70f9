"""What each event does to one issue's clocks, and what supervision publishes: pure, no broker."""

import uuid
from datetime import datetime
from typing import Any

from services.contracts.events import (
    ClockStarted,
    Event,
    ExtensionDecided,
    ExtensionDecidedPayload,
    ExtensionRequested,
    ExtensionRequestedPayload,
    IssueAccepted,
    IssueAcceptedPayload,
    IssueAssigned,
    IssueAssignedPayload,
    IssueClosed,
    IssueClosedPayload,
    IssueEscalated,
    IssueEscalatedPayload,
    IssueReopened,
    IssueReopenedPayload,
    IssueReported,
    IssueReportedPayload,
    IssueResolved,
    IssueResolvedPayload,
    IssueReturned,
    IssueReturnedPayload,
    IssueTriaged,
    IssueTriagedPayload,
    IssueVisited,
    IssueVisitedPayload,
    derived_event_id,
)
from services.contracts.vocabulary import Channel, ClockKind, Kind, Level, Rung, Satisfaction, Tier
from services.supervision.domain.calendar import SHANGHAI
from services.supervision.domain.notices import clock_id_for, step_event_id
from services.supervision.domain.policy import Policy, parse_policy
from services.supervision.domain.reactions import context_of, fire_due, react
from services.supervision.domain.record import IssueRecord
from services.supervision.domain.rules import Reaction, Rules

RULES = Rules.of(Policy())
ACCEPT, RESOLVE, VISIT = ClockKind.ACCEPT, ClockKind.RESOLVE, ClockKind.RETURN_VISIT
T0 = datetime(2026, 11, 23, 10, tzinfo=SHANGHAI)  # Monday


def at(m: int, d: int, h: int = 10, minute: int = 0) -> datetime:
    return datetime(2026, m, d, h, minute, tzinfo=SHANGHAI)


def common(when: datetime = T0, cause: uuid.UUID | None = None) -> dict[str, Any]:
    return {"issue_id": "iss-1", "producer": "test", "occurred_at": when, "causation_id": cause}


def assigned(
    office: str = "o1", when: datetime = T0, cause: uuid.UUID | None = None
) -> IssueAssigned:
    payload = IssueAssignedPayload(office_id=office, level=Level.TOWNSHIP, reason="r")
    return IssueAssigned(payload=payload, **common(when, cause))


def triaged(tier: Tier, category: str = "street_lighting") -> IssueTriaged:
    payload = IssueTriagedPayload(category=category, tier=tier, region_code="4101", reason="r")
    return IssueTriaged(payload=payload, **common())


def record_after(*events: Event, rules: Rules = RULES) -> tuple[IssueRecord, list[Any]]:
    record, published = IssueRecord.new("iss-1"), list[Any]()
    for event in events:
        if (context := context_of(event)) is not None:
            record = record.changed(**context)
            continue
        reaction = react(record, event, rules)
        record = reaction.record
        published += reaction.publish
    return record, published


def open_kinds(record: IssueRecord) -> list[str]:
    return [c.kind.value for c in record.clocks.open_clocks()]


def test_an_assignment_starts_the_accept_and_the_resolve_clock_by_tier() -> None:
    event = assigned()
    record, published = record_after(triaged(Tier.COMPLEX), event)
    assert [type(e) for e in published] == [ClockStarted, ClockStarted]
    accept, resolve = (e.payload for e in published)
    assert (accept.clock, accept.working_days, accept.due_at) == (ACCEPT, 1, at(11, 24))
    assert (resolve.clock, resolve.working_days, resolve.due_at) == (RESOLVE, 7, at(12, 2))
    assert published[0].event_id == derived_event_id(event.event_id, "clock:accept")
    assert open_kinds(record) == ["accept", "resolve"] and record.office_id == "o1"
    untriaged, _ = record_after(assigned())
    assert untriaged.clocks.open_clock(RESOLVE).working_days == 3  # type: ignore[union-attr]


def test_overrides_by_channel_and_category_reach_the_clocks() -> None:
    policy = parse_policy(
        {
            "overrides": {
                "channels": {"enterprise_visit": {"clocks": {"resolve": {"general": 2}}}},
                "categories": {"water_supply": {"clocks": {"accept": 2}}},
            }
        }
    )
    reported = IssueReported(
        payload=IssueReportedPayload(
            channel=Channel.ENTERPRISE_VISIT, kind=Kind.HELP, text="停水", category="water_supply"
        ),
        **common(),
    )
    record, _ = record_after(
        reported, triaged(Tier.GENERAL, "water_supply"), assigned(), rules=Rules.of(policy)
    )
    lengths = {c.kind.value: c.working_days for c in record.clocks.open_clocks()}
    assert lengths == {"accept": 2, "resolve": 2}


def test_the_leads_acceptance_or_return_stops_the_accept_clock_only() -> None:
    by_co = IssueAccepted(payload=IssueAcceptedPayload(office_id="co-office"), **common())
    record, _ = record_after(assigned(), by_co)
    assert open_kinds(record) == ["accept", "resolve"]
    accepted = IssueAccepted(payload=IssueAcceptedPayload(office_id="o1"), **common(at(11, 23, 11)))
    record, _ = record_after(assigned(), accepted)
    assert open_kinds(record) == ["resolve"]
    returned = IssueReturned(
        payload=IssueReturnedPayload(office_id="o1", reason="not ours"), **common()
    )
    record, _ = record_after(assigned(), returned)
    assert open_kinds(record) == ["resolve"]
    assert record.clocks.clocks[0].stop_reason == "returned"


def test_resolution_starts_the_return_visit_clock_and_the_visit_stops_it() -> None:
    resolved = IssueResolved(
        payload=IssueResolvedPayload(office_id="o1", result="fixed"), **common(at(11, 24))
    )
    record, published = record_after(assigned(), resolved)
    assert open_kinds(record) == ["return_visit"]
    assert published[-1].payload.clock is VISIT and published[-1].payload.due_at == at(11, 25)
    visited = IssueVisited(
        payload=IssueVisitedPayload(satisfaction=Satisfaction.SATISFIED, solved=True), **common()
    )
    record = react(record, visited, RULES).record
    assert open_kinds(record) == []
    assert [e.what for e in record.history].count("stopped") == 3


def test_a_reopening_starts_fresh_clocks_that_its_reassignment_keeps() -> None:
    reopened = IssueReopened(payload=IssueReopenedPayload(reason="no"), **common(at(11, 25)))
    record, _ = record_after(assigned(), reopened)
    fresh = {c.clock_id for c in record.clocks.open_clocks()}
    assert fresh == {clock_id_for(reopened.event_id, k) for k in (ACCEPT, RESOLVE)}
    back = react(record, assigned(cause=reopened.event_id, when=at(11, 25, 1)), RULES)
    assert back.publish == () and {c.clock_id for c in back.record.clocks.open_clocks()} == fresh
    elsewhere = react(record, assigned("o2", cause=reopened.event_id), RULES)
    assert len(elsewhere.publish) == 2 and not fresh & {
        c.clock_id for c in elsewhere.record.clocks.open_clocks()
    }


def test_an_escalation_restarts_the_open_clocks_one_rung_up() -> None:
    accepted = IssueAccepted(payload=IssueAcceptedPayload(office_id="o1"), **common())
    escalated = IssueEscalated(
        payload=IssueEscalatedPayload(from_rung=Rung.OFFICE, to_rung=Rung.CENTER, reason="red"),
        **common(at(11, 25)),
    )
    record, _ = record_after(assigned(), accepted, escalated)
    [resolve] = record.clocks.open_clocks()
    assert (resolve.kind, resolve.rung, resolve.started_at) == (RESOLVE, Rung.CENTER, at(11, 25))
    assert resolve.escalate_to is Rung.DEPUTY and record.rung is Rung.CENTER


def test_closing_stops_everything_and_later_clocks_are_refused() -> None:
    closed = IssueClosed(payload=IssueClosedPayload(), **common(at(11, 24)))
    record, _ = record_after(assigned(), closed)
    assert open_kinds(record) == [] and record.clocks.closed_at == at(11, 24)
    late = react(record, assigned(when=at(11, 25)), RULES)
    assert late.publish == () and late.record.history[-1].what == "ignored"


def request(days: int) -> ExtensionRequested:
    payload = ExtensionRequestedPayload(office_id="o1", working_days=days, reason="rain")
    return ExtensionRequested(payload=payload, **common(at(11, 24)))


def test_a_short_extension_is_granted_by_rule_once() -> None:
    asked = request(2)
    record, published = record_after(assigned(), asked)
    decided = published[-1]
    assert isinstance(decided, ExtensionDecided) and decided.payload.granted
    assert decided.event_id == derived_event_id(asked.event_id, "extension-decided")
    resolve = record.clocks.open_clock(RESOLVE)
    assert resolve is not None and resolve.deadline(RULES.calendar) == at(11, 30)
    assert react(record, decided, RULES).record.clocks == record.clocks  # its echo: nothing more


def test_a_referred_request_waits_for_a_supervisor_whose_decision_extends_once() -> None:
    asked = request(5)
    record, published = record_after(assigned(), asked)
    assert not any(isinstance(e, ExtensionDecided) for e in published)
    waiting = record.awaiting()
    assert waiting is not None and waiting.request_id == str(asked.event_id)
    decision = ExtensionDecided(
        event_id=derived_event_id(asked.event_id, "extension-decided"),
        payload=ExtensionDecidedPayload(
            granted=True, working_days=5, decided_by="supervisor", reason="ok"
        ),
        **common(at(11, 24, 12), asked.event_id),
    )
    after = react(record, decision, RULES).record
    assert after.clocks.open_clock(RESOLVE).extended_days == 5  # type: ignore[union-attr]
    assert after.awaiting() is None
    assert react(after, decision, RULES).record.clocks == after.clocks


def test_a_request_without_a_running_clock_is_refused() -> None:
    record, published = record_after(request(1))
    assert published[0].payload.granted is False and record.requests[0].verdict == "refused"


def test_firing_walks_the_ladder_in_order_and_never_twice() -> None:
    record, _ = record_after(assigned())
    fired = fire_due(record, at(11, 24, 22), RULES)
    events: list[Any] = list(fired.publish)
    kinds = [(e.type, e.payload.clock.value) for e in events]
    assert kinds == [
        ("ReminderSent", "accept"),
        ("ReminderSent", "accept"),
        ("IssueFlagged", "accept"),
        ("IssueFlagged", "accept"),
        ("SupervisionOrdered", "accept"),
        ("ReminderSent", "resolve"),
    ]
    assert len({e.event_id for e in events}) == len(events)
    accept_id = record.clocks.clocks[0].clock_id
    assert fired.publish[0].event_id == step_event_id(f"{accept_id}:reminder-50")
    assert fire_due(fired.record, at(11, 24, 22), RULES) == Reaction(fired.record)
    assert fired.record.fired_at()[f"{accept_id}:yellow"] == at(11, 24, 22)
