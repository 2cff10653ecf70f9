"""One clock's schedule: reminders at 50% and 80%, yellow, red, escalate; extensions."""

from datetime import datetime, timedelta
from fractions import Fraction

import pytest
from hypothesis import given
from hypothesis import strategies as st

from services.contracts.vocabulary import ClockKind, Rung, Tier
from services.supervision.domain.calendar import SHANGHAI, WorkingCalendar
from services.supervision.domain.clocks import (
    Clock,
    StepAction,
    escalation_target,
    make_step_id,
    split_step_id,
    working_span,
)
from services.supervision.domain.policy import ClockTerms, Policy, Thresholds

CAL = WorkingCalendar()
POLICY = Policy()
GENERAL = POLICY.terms(ClockKind.RESOLVE, tier=Tier.GENERAL)


def at(y: int, m: int, d: int, h: int = 10, minute: int = 0) -> datetime:
    return datetime(y, m, d, h, minute, tzinfo=SHANGHAI)


MONDAY = at(2026, 11, 23)


def clock(start: datetime = MONDAY, terms: ClockTerms = GENERAL, rung: Rung = Rung.OFFICE) -> Clock:
    return Clock.start(
        clock_id="clk-1", issue_id="iss-1", started_at=start, terms=terms, office_id="o1", rung=rung
    )


def dues(c: Clock) -> dict[str, datetime]:
    return {step.name: step.due_at for step in c.steps(CAL)}


def test_a_general_clock_reminds_at_50_and_80_then_flags_and_escalates() -> None:
    c = clock()  # Monday 2026-11-23 10:00, 3 working days
    assert dues(c) == {
        "reminder-50": at(2026, 11, 24, 22),  # 1.5 working days
        "reminder-80": at(2026, 11, 25, 19, 36),  # 2.4 working days
        "yellow": at(2026, 11, 26),  # the deadline
        "red": at(2026, 11, 27, 22),  # 4.5 working days
        "escalate": at(2026, 11, 27, 22),
    }
    assert c.deadline(CAL) == CAL.add_working_days(c.started_at, 3)
    steps = c.steps(CAL)
    assert [s.action for s in steps] == [
        StepAction.REMIND,
        StepAction.REMIND,
        StepAction.YELLOW,
        StepAction.RED,
        StepAction.ESCALATE,
    ]
    assert [s.step_id for s in steps] == [
        "clk-1:reminder-50",
        "clk-1:reminder-80",
        "clk-1:yellow",
        "clk-1:red",
        "clk-1:escalate",
    ]
    assert [s.threshold for s in steps[:2]] == [0.5, 0.8]
    assert {(s.issue_id, s.clock, s.office_id) for s in steps} == {
        ("iss-1", ClockKind.RESOLVE, "o1")
    }
    assert steps[-1].to_rung is Rung.CENTER
    assert all(s.to_rung is None for s in steps[:-1])


def test_an_accept_clock_over_a_weekend() -> None:
    c = clock(at(2026, 11, 20, 16), POLICY.terms(ClockKind.ACCEPT))  # Friday 16:00, 1 day
    assert dues(c) == {
        "reminder-50": at(2026, 11, 23, 4),  # 8 h of Friday + 4 h of Monday
        "reminder-80": at(2026, 11, 23, 11, 12),
        "yellow": at(2026, 11, 23, 16),
        "red": at(2026, 11, 24, 4),
        "escalate": at(2026, 11, 24, 4),
    }


def test_a_complex_clock_across_the_national_day_break() -> None:
    c = clock(at(2026, 9, 29, 9), POLICY.terms(ClockKind.RESOLVE, tier=Tier.COMPLEX))
    assert c.deadline(CAL) == at(2026, 10, 14, 9)  # Sep 30, Oct 8, 9, 10 (Sat), 12, 13, 14
    assert dues(c)["reminder-50"] == at(2026, 10, 9, 21)  # 3.5 working days


def test_the_steps_ids_are_deterministic_and_reversible() -> None:
    assert make_step_id("ClockStarted:abc", "red") == "ClockStarted:abc:red"
    assert split_step_id("ClockStarted:abc:red") == ("ClockStarted:abc", "red")
    with pytest.raises(ValueError):
        split_step_id("no-colon")
    assert clock().steps(CAL) == clock().steps(CAL)
    assert clock().pending_ids() == tuple(s.step_id for s in clock().steps(CAL))


def test_an_extension_moves_the_deadline_and_every_later_unfired_step() -> None:
    before = clock().with_fired("reminder-50")
    after = before.extended(2, decision_id="ext-1")
    assert after.length == 5
    assert after.deadline(CAL) == CAL.add_working_days(before.deadline(CAL), 2)
    assert after.deadline(CAL) == at(2026, 11, 30)
    old = {s.step_id: s.due_at for s in before.pending(CAL)}
    new = {s.step_id: s.due_at for s in after.pending(CAL)}
    assert (
        new.keys()
        == old.keys()
        == {
            "clk-1:reminder-80",
            "clk-1:yellow",
            "clk-1:red",
            "clk-1:escalate",
        }
    )
    assert all(new[step_id] > old[step_id] for step_id in new)
    assert new["clk-1:reminder-80"] == at(2026, 11, 27)  # 80% of 5 working days
    assert new["clk-1:red"] == at(2026, 12, 2, 22)  # 150% of 5 working days
    assert after.extended(2, decision_id="ext-1") == after  # the same decision applies once


def test_the_second_overdue_rule_puts_red_at_100_percent() -> None:
    c = clock().with_prior_overdue()
    assert dues(c)["red"] == dues(c)["yellow"] == dues(c)["escalate"] == at(2026, 11, 26)
    red = c.step("red", CAL)
    assert red is not None and "second overdue" in red.reason
    lenient = Thresholds(red_on_second_overdue=False)
    kept = clock(terms=GENERAL.model_copy(update={"thresholds": lenient})).with_prior_overdue()
    assert dues(kept)["red"] == at(2026, 11, 27, 22)


def test_escalation_goes_one_rung_up_and_stops_at_the_top() -> None:
    assert clock(rung=Rung.DEPUTY).step("escalate", CAL).to_rung is Rung.EXECUTIVE_DEPUTY  # type: ignore[union-attr]
    top = clock(rung=Rung.PRINCIPAL)
    assert "escalate" not in dues(top) and "red" in dues(top)
    assert escalation_target(Rung.OFFICE, 2) is Rung.DEPUTY
    assert escalation_target(Rung.EXECUTIVE_DEPUTY, 3) is Rung.PRINCIPAL
    assert escalation_target(Rung.PRINCIPAL, 1) is None
    quiet = GENERAL.model_copy(update={"thresholds": Thresholds(escalate_on_red=False)})
    assert "escalate" not in dues(clock(terms=quiet))


def test_a_stopped_clock_has_nothing_pending() -> None:
    stopped = clock().stopped(at(2026, 11, 24), "resolved")
    assert stopped.pending(CAL) == () and stopped.pending_ids() == ()
    assert stopped.stopped(at(2026, 11, 25), "again") == stopped


def test_progress_is_the_fraction_of_working_time() -> None:
    c = clock()
    assert c.progress(at(2026, 11, 24, 22), CAL) == Fraction(1, 2)
    assert c.progress(at(2026, 11, 26), CAL) == 1
    assert c.progress(at(2026, 11, 20), CAL) == 0


def test_a_clock_survives_a_round_trip_through_its_document() -> None:
    c = clock().with_fired("reminder-50").extended(1, "ext-1").with_prior_overdue()
    assert Clock.model_validate(c.model_dump(mode="json")) == c


@given(
    st.datetimes(
        min_value=datetime(2004, 1, 1), max_value=datetime(2026, 10, 1), timezones=st.just(SHANGHAI)
    ),
    st.integers(min_value=1, max_value=10),
    st.integers(min_value=0, max_value=3),
)
def test_every_step_sits_at_its_share_of_working_time(start: datetime, n: int, ext: int) -> None:
    c = clock(start, GENERAL.model_copy(update={"working_days": n})).extended(ext, "e")
    steps = c.steps(CAL)
    assert [s.due_at for s in steps] == sorted(s.due_at for s in steps)
    for step in steps:
        assert CAL.working_time_between(start, step.due_at) == working_span(n + ext, step.percent)
        assert CAL.is_working_instant(step.due_at)
    assert c.deadline(CAL) == CAL.add_working_days(start, n + ext)
    assert working_span(n, 50) * 2 == timedelta(days=n)
