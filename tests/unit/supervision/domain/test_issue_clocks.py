"""One issue's clocks: an ignored issue's whole ladder, the second overdue clock, extensions,
fresh clocks on reassignment, closing, and firing twice."""

from datetime import datetime

import pytest

from services.contracts.vocabulary import ClockKind, Rung, Tier
from services.supervision.domain.calendar import SHANGHAI, WorkingCalendar
from services.supervision.domain.clocks import StepAction
from services.supervision.domain.issue_clocks import (
    FireOutcome,
    IssueClocks,
    IssueClosedError,
    Timers,
)
from services.supervision.domain.policy import Policy, Thresholds

CAL = WorkingCalendar()
POLICY = Policy()
ACCEPT = POLICY.terms(ClockKind.ACCEPT)
RESOLVE = POLICY.terms(ClockKind.RESOLVE, tier=Tier.GENERAL)
VISIT = POLICY.terms(ClockKind.RETURN_VISIT)
ASSIGNED = datetime(2026, 11, 23, 10, tzinfo=SHANGHAI)  # Monday


def at(m: int, d: int, h: int = 10, minute: int = 0) -> datetime:
    return datetime(2026, m, d, h, minute, tzinfo=SHANGHAI)


def assigned(rung: Rung = Rung.OFFICE, when: datetime = ASSIGNED, n: int = 1) -> IssueClocks:
    state = IssueClocks(issue_id="iss-1")
    state = state.start(
        clock_id=f"a{n}", started_at=when, terms=ACCEPT, calendar=CAL, office_id="o1", rung=rung
    ).state
    return state.start(
        clock_id=f"r{n}", started_at=when, terms=RESOLVE, calendar=CAL, office_id="o1", rung=rung
    ).state


def fire_all_due(state: IssueClocks, now: datetime) -> tuple[IssueClocks, list[str]]:
    fired = []
    for step in state.pending(CAL):
        if step.due_at <= now:
            firing = state.fire(step.step_id, now=step.due_at, calendar=CAL)
            assert firing.outcome is FireOutcome.FIRED
            state = firing.state
            fired.append(step.step_id)
    return state, fired


def test_starting_clocks_arms_every_step() -> None:
    change = IssueClocks(issue_id="iss-1").start(
        clock_id="a1", started_at=ASSIGNED, terms=ACCEPT, calendar=CAL, office_id="o1"
    )
    assert [s.step_id for s in change.timers.arm] == [
        "a1:reminder-50",
        "a1:reminder-80",
        "a1:yellow",
        "a1:red",
        "a1:escalate",
    ]
    assert change.timers.disarm == ()
    assert change.state.open_clock(ClockKind.ACCEPT) is not None
    again = change.state.start(clock_id="a1", started_at=ASSIGNED, terms=ACCEPT, calendar=CAL)
    assert again == (change.state, Timers())  # a replayed start changes nothing


def test_an_ignored_issue_is_reminded_flagged_red_and_escalated() -> None:
    state = assigned()
    # The accept clock runs out first: reminders Monday 22:00 and Tuesday 05:12, yellow
    # Tuesday 10:00, red and escalation Tuesday 22:00.
    state, fired = fire_all_due(state, at(11, 24, 22))
    accept_steps = ("reminder-50", "reminder-80", "yellow", "red", "escalate")
    assert fired == [*(f"a1:{name}" for name in accept_steps), "r1:reminder-50"]
    assert state.overdue
    escalate = state.clock("a1").step("escalate", CAL)  # type: ignore[union-attr]
    assert escalate is not None and escalate.to_rung is Rung.CENTER


def test_a_second_overdue_clock_turns_red_at_100_percent() -> None:
    state = assigned()
    resolve_red = state.clock("r1").step("red", CAL)  # type: ignore[union-attr]
    assert resolve_red is not None and resolve_red.due_at == at(11, 27, 22)  # 150%
    accept_yellow = state.fire("a1:yellow", now=at(11, 24), calendar=CAL)
    assert accept_yellow.outcome is FireOutcome.FIRED
    moved = {s.step_id: s.due_at for s in accept_yellow.timers.arm}
    assert moved == {"r1:red": at(11, 26), "r1:escalate": at(11, 26)}  # the resolve deadline
    state = accept_yellow.state
    state, fired = fire_all_due(state, at(11, 26))
    assert fired[-3:] == ["r1:yellow", "r1:red", "r1:escalate"]
    red = state.clock("r1").step("red", CAL)  # type: ignore[union-attr]
    assert red is not None and red.percent == 100 and "second overdue" in red.reason


def test_a_clock_started_on_an_overdue_issue_turns_red_at_100_percent() -> None:
    state = assigned()
    state = state.fire("a1:yellow", now=at(11, 24), calendar=CAL).state
    state = state.stop([ClockKind.RESOLVE], at=at(11, 25), reason="resolved", calendar=CAL).state
    change = state.start(clock_id="v1", started_at=at(11, 25), terms=VISIT, calendar=CAL)
    steps = {s.name: s.due_at for s in change.timers.arm}
    assert steps["red"] == steps["yellow"] == at(11, 26)


def test_stopping_a_clock_after_its_deadline_counts_as_overdue() -> None:
    state = assigned()  # the accept clock is due Tuesday 10:00; nothing has fired
    change = state.stop([ClockKind.ACCEPT], at=at(11, 24, 15), reason="accepted", calendar=CAL)
    assert change.state.overdue
    assert {s.step_id: s.due_at for s in change.timers.arm} == {
        "r1:red": at(11, 26),
        "r1:escalate": at(11, 26),
    }
    steps = ("reminder-50", "reminder-80", "yellow", "red", "escalate")
    assert set(change.timers.disarm) == {f"a1:{n}" for n in steps}
    in_time = state.stop([ClockKind.ACCEPT], at=at(11, 23, 15), reason="accepted", calendar=CAL)
    assert not in_time.state.overdue and in_time.timers.arm == ()


def test_an_extension_moves_every_later_step_once() -> None:
    state = assigned()
    state = state.fire("r1:reminder-50", now=at(11, 24, 22), calendar=CAL).state
    before = {s.step_id: s.due_at for s in state.clock("r1").pending(CAL)}  # type: ignore[union-attr]
    change = state.extend(ClockKind.RESOLVE, 2, decision_id="ext-1", calendar=CAL)
    after = {s.step_id: s.due_at for s in change.timers.arm}
    assert after.keys() == before.keys() and "r1:reminder-50" not in after
    assert all(after[i] > before[i] for i in after)
    assert after["r1:yellow"] == at(11, 30)
    replay = change.state.extend(ClockKind.RESOLVE, 2, decision_id="ext-1", calendar=CAL)
    assert replay == (change.state, Timers())
    # A timer armed at the old instant now fires early and is re-armed at the new one.
    early = change.state.fire("r1:yellow", now=at(11, 26), calendar=CAL)
    assert early.outcome is FireOutcome.EARLY
    assert early.timers.arm[0].due_at == at(11, 30)
    assert early.state == change.state


def test_an_extension_without_a_running_clock_changes_nothing() -> None:
    state = IssueClocks(issue_id="iss-1")
    assert state.extend(ClockKind.RESOLVE, 2, decision_id="e", calendar=CAL) == (state, Timers())


def test_reassignment_and_escalation_start_fresh_clocks() -> None:
    state = assigned()
    state, _ = fire_all_due(state, at(11, 24, 22))  # accept clock red → escalation ordered
    # Routing reassigns at the center: supervision starts fresh clocks there.
    after = at(11, 25, 9)
    change = state.start(
        clock_id="a2",
        started_at=after,
        terms=ACCEPT,
        calendar=CAL,
        office_id="o2",
        rung=Rung.CENTER,
    )
    assert change.timers.disarm == ()  # the old accept clock had fired everything
    state = change.state
    change = state.start(
        clock_id="r2",
        started_at=after,
        terms=RESOLVE,
        calendar=CAL,
        office_id="o2",
        rung=Rung.CENTER,
    )
    unfired = ("reminder-80", "yellow", "red", "escalate")  # reminder-50 fired Tuesday 22:00
    assert set(change.timers.disarm) == {f"r1:{n}" for n in unfired}
    state = change.state
    old_resolve = state.clock("r1")
    assert old_resolve is not None and old_resolve.stop_reason == "restarted"
    assert [c.clock_id for c in state.open_clocks()] == ["a2", "r2"]
    fresh = {s.step_id: s for s in change.timers.arm}
    assert fresh["r2:escalate"].to_rung is Rung.DEPUTY
    assert fresh["r2:red"].due_at == fresh["r2:yellow"].due_at  # the issue was overdue before


def test_closing_stops_everything() -> None:
    state = assigned()
    change = state.close(at=at(11, 23, 12), calendar=CAL)
    assert change.state.open_clocks() == () and change.state.closed_at == at(11, 23, 12)
    assert len(change.timers.disarm) == 10 and change.timers.arm == ()
    late = change.state.fire("r1:yellow", now=at(11, 26), calendar=CAL)
    assert late.outcome is FireOutcome.STALE and late.timers.disarm == ("r1:yellow",)
    with pytest.raises(IssueClosedError):
        change.state.start(clock_id="a9", started_at=at(11, 24), terms=ACCEPT, calendar=CAL)
    assert change.state.close(at=at(11, 24), calendar=CAL).state == change.state


def test_firing_twice_is_recognised() -> None:
    state = assigned()
    first = state.fire("a1:reminder-50", now=at(11, 23, 22), calendar=CAL)
    second = first.state.fire("a1:reminder-50", now=at(11, 23, 22, 1), calendar=CAL)
    assert (first.outcome, second.outcome) == (FireOutcome.FIRED, FireOutcome.DUPLICATE)
    assert second.state == first.state and second.timers == Timers()
    assert first.step is not None and first.step.action is StepAction.REMIND
    unknown = state.fire("nope:red", now=at(11, 30), calendar=CAL)
    assert unknown.outcome is FireOutcome.STALE and unknown.step is None


def test_without_the_second_overdue_rule_red_stays_at_150_percent() -> None:
    lenient = RESOLVE.model_copy(update={"thresholds": Thresholds(red_on_second_overdue=False)})
    state = IssueClocks(issue_id="iss-1")
    state = state.start(clock_id="a1", started_at=ASSIGNED, terms=ACCEPT, calendar=CAL).state
    state = state.start(clock_id="r1", started_at=ASSIGNED, terms=lenient, calendar=CAL).state
    firing = state.fire("a1:yellow", now=at(11, 24), calendar=CAL)
    assert firing.timers.arm == ()
    red = firing.state.clock("r1").step("red", CAL)  # type: ignore[union-attr]
    assert red is not None and red.due_at == at(11, 27, 22)


def test_the_issue_document_round_trips() -> None:
    state = assigned().fire("a1:yellow", now=at(11, 24), calendar=CAL).state
    assert IssueClocks.model_validate(state.model_dump(mode="json")) == state
    assert [s.due_at for s in state.pending(CAL)] == sorted(s.due_at for s in state.pending(CAL))
