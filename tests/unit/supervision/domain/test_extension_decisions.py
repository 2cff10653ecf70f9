"""A supervisor's decision as intake publishes it (its own event id, the request as its
cause, the principal as `decided_by`) reaching supervision's rules through the log. Pure."""

import uuid

from services.contracts.events import ExtensionDecided as Decided
from services.contracts.events import ExtensionDecidedPayload, ExtensionRequested
from services.contracts.vocabulary import ClockKind
from services.supervision.domain.reactions import react
from services.supervision.domain.record import IssueRecord
from services.supervision.domain.rules import Rules
from tests.unit.supervision.domain.test_reactions import RULES, assigned, at, common, record_after
from tests.unit.supervision.domain.test_reactions import request as requested

RESOLVE = ClockKind.RESOLVE


def from_intake(asked: ExtensionRequested, *, granted: bool = True, days: int = 5) -> Decided:
    """What intake publishes: an id from the request and the Idempotency-Key, not supervision's."""
    payload = ExtensionDecidedPayload(
        granted=granted,
        working_days=days if granted else 0,
        decided_by="supervisor:4f2a9c0d1e7b",
        reason="暴雨",
    )
    intake = {**common(at(11, 24, 12), asked.event_id), "producer": "intake"}
    return Decided(event_id=uuid.uuid4(), payload=payload, **intake)


def applied(record: IssueRecord, event: Decided, rules: Rules = RULES) -> IssueRecord:
    reaction = react(record, event, rules)
    assert reaction.publish == ()  # a decision through the log publishes nothing more
    return reaction.record


def resolve_days(record: IssueRecord) -> int:
    clock = record.clocks.open_clock(RESOLVE)
    assert clock is not None
    return clock.extended_days


def test_an_intake_decision_on_a_referred_request_extends_once() -> None:
    asked = requested(5)
    record, _ = record_after(assigned(), asked)
    decision = from_intake(asked)
    after = applied(record, decision)
    assert resolve_days(after) == 5 and after.awaiting() is None
    decided = after.request(str(asked.event_id))
    assert decided is not None
    assert (decided.decision_id, decided.decided_by, decided.granted_days) == (
        str(decision.event_id), "supervisor:4f2a9c0d1e7b", 5,
    )  # fmt: skip
    assert applied(after, decision) == after  # the same event again
    second = applied(after, from_intake(asked, days=9))  # another supervisor, too late
    assert second == after and resolve_days(second) == 5


def test_an_intake_refusal_extends_nothing_and_closes_the_request() -> None:
    asked = requested(5)
    record, _ = record_after(assigned(), asked)
    after = applied(record, from_intake(asked, granted=False))
    assert resolve_days(after) == 0 and after.awaiting() is None
    assert "refused by supervisor:4f2a9c0d1e7b" in after.history[-1].what


def test_a_decision_on_a_request_the_rule_already_decided_changes_nothing() -> None:
    asked = requested(2)  # the rule grants it at once
    record, published = record_after(assigned(), asked)
    assert published[-1].payload.decided_by == "rule" and resolve_days(record) == 2
    assert applied(record, from_intake(asked, days=5)) == record
    assert applied(record, from_intake(asked, granted=False)) == record
