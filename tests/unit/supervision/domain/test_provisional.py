"""Provisional clocks (a year no calendar knows yet), and their move when it is declared: pure."""

from datetime import date, datetime

from services.contracts.events import (
    ClockRescheduled,
    ClockStarted,
    IssueAssigned,
    IssueAssignedPayload,
)
from services.contracts.vocabulary import ClockKind, Level, Tier
from services.supervision.adapters.files import load_supplement
from services.supervision.domain.calendar import SHANGHAI
from services.supervision.domain.policy import Policy
from services.supervision.domain.provisional import provisional_holidays, provisional_working_day
from services.supervision.domain.reactions import declared_since, react, recalendar
from services.supervision.domain.record import IssueRecord
from services.supervision.domain.rules import Rules
from tests.fixtures.calendars import DECLARED_2027

PROVISIONAL = Rules.of(Policy())
DECLARED = Rules.of(Policy(), load_supplement(DECLARED_2027))
START = datetime(2026, 12, 20, 10, tzinfo=SHANGHAI)  # a Sunday


def on(year: int, month: int, day: int) -> datetime:
    return datetime(year, month, day, tzinfo=SHANGHAI)


def stored(record: IssueRecord, rules: Rules) -> IssueRecord:
    """The record as the store keeps it: with the provisional years it was computed on."""
    return record.changed(provisional_years=record.provisional_in(rules.calendar))


def structural_issue() -> IssueRecord:
    """Assigned on Sunday 20 December 2026: a 10-working-day resolve clock reaching 2027."""
    record = IssueRecord.new("iss-1").changed(tier=Tier.STRUCTURAL, category="c")
    return stored(react(record, _assigned(), PROVISIONAL).record, PROVISIONAL)


def test_the_rule_is_weekends_and_statutory_holidays() -> None:
    assert date(2027, 1, 1) in provisional_holidays(2027)
    assert provisional_working_day(date(2027, 1, 4)) is True  # a Monday
    assert provisional_working_day(date(2027, 1, 9)) is False  # a Saturday: no swap is known
    assert provisional_working_day(date(2027, 10, 1)) is False  # National Day
    assert provisional_working_day(date(2101, 1, 3)) is None  # beyond the rule


def test_a_clock_reaching_an_unknown_year_is_provisional_and_says_so_on_its_event() -> None:
    record = structural_issue()
    resolve = record.clocks.open_clock(ClockKind.RESOLVE)
    accept = record.clocks.open_clock(ClockKind.ACCEPT)
    assert resolve is not None and accept is not None
    assert resolve.provisional_years(PROVISIONAL.calendar) == (2027,)
    assert accept.provisional_years(PROVISIONAL.calendar) == ()
    assert resolve.deadline(PROVISIONAL.calendar) == on(2027, 1, 5)
    assert record.provisional_years == (2027,)
    assert record.provisional_clocks(PROVISIONAL.calendar) == 1
    fresh = IssueRecord.new("iss-1").changed(tier=Tier.STRUCTURAL)
    started = react(fresh, _assigned(), PROVISIONAL)
    events = [e for e in started.publish if isinstance(e, ClockStarted)]
    by_kind = {e.payload.clock: e.payload.provisional for e in events}
    assert by_kind == {ClockKind.ACCEPT: False, ClockKind.RESOLVE: True}


def _assigned() -> IssueAssigned:
    common = {"issue_id": "iss-1", "producer": "test", "occurred_at": START}
    payload = IssueAssignedPayload(office_id="o1", level=Level.TOWNSHIP, reason="r")
    return IssueAssigned(payload=payload, **common)


def test_nothing_moves_while_the_year_is_still_unknown() -> None:
    record = structural_issue()
    assert declared_since(record, PROVISIONAL) == ()
    assert recalendar(record, on(2026, 12, 28), PROVISIONAL).record is record


def test_declaring_the_year_moves_the_steps_once_with_a_deterministic_event() -> None:
    record = structural_issue()
    assert declared_since(record, DECLARED) == (2027,)
    moved = recalendar(record, on(2026, 12, 28), DECLARED)
    assert len(moved.publish) == 1
    event = moved.publish[0]
    assert isinstance(event, ClockRescheduled)
    p = event.payload
    assert p.clock is ClockKind.RESOLVE and p.reason == "calendar_declared" and p.years == (2027,)
    assert p.old_due_at == p.new_due_at == on(2027, 1, 5)
    assert p.steps["red"] == (on(2027, 1, 12), on(2027, 1, 13))
    assert moved.record.provisional_years == ()
    assert moved.record.history[-1].what == "rescheduled"
    # Again (a replay after a crash before the record was stored): the same event id.
    again = recalendar(record, on(2026, 12, 29), DECLARED)
    assert again.publish[0].event_id == event.event_id
    # Once stored, a second reload finds nothing to move.
    assert recalendar(stored(moved.record, DECLARED), on(2026, 12, 29), DECLARED).publish == ()
