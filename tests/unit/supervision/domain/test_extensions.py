"""Extension requests decided by rule: auto-grant up to N days once, else a supervisor."""

from datetime import datetime

import pytest

from services.contracts.vocabulary import ClockKind, Tier
from services.supervision.domain.calendar import SHANGHAI, WorkingCalendar
from services.supervision.domain.clocks import Clock
from services.supervision.domain.extensions import ExtensionVerdict, decide_extension
from services.supervision.domain.policy import ClockTerms, ExtensionRule, Policy

CAL = WorkingCalendar()
RULE = ExtensionRule()
MONDAY = datetime(2026, 11, 23, 10, tzinfo=SHANGHAI)
TUESDAY = datetime(2026, 11, 24, 10, tzinfo=SHANGHAI)
FRIDAY = datetime(2026, 11, 27, 10, tzinfo=SHANGHAI)  # after the general clock's deadline


def clock(terms: ClockTerms | None = None) -> Clock:
    terms = terms or Policy().terms(ClockKind.RESOLVE, tier=Tier.GENERAL)
    return Clock.start(clock_id="r1", issue_id="iss-1", started_at=MONDAY, terms=terms)


def verdict(
    c: Clock | None, days: int, at: datetime = TUESDAY, rule: ExtensionRule = RULE
) -> ExtensionVerdict:
    return decide_extension(c, days, at=at, rule=rule, calendar=CAL).verdict


def test_the_rule_grants_a_short_extension_once() -> None:
    decision = decide_extension(clock(), 3, at=TUESDAY, rule=RULE, calendar=CAL)
    assert decision.granted and decision.decided and decision.working_days == 3
    assert "rule" in decision.reason
    assert verdict(clock().extended(3, "ext-1"), 1) is ExtensionVerdict.REFERRED


@pytest.mark.parametrize(
    ("days", "at", "expected"),
    [(1, TUESDAY, ExtensionVerdict.GRANTED), (4, TUESDAY, ExtensionVerdict.REFERRED),
     (1, FRIDAY, ExtensionVerdict.REFERRED)],
)  # fmt: skip
def test_longer_or_late_requests_go_to_a_supervisor(
    days: int, at: datetime, expected: ExtensionVerdict
) -> None:
    decision = decide_extension(clock(), days, at=at, rule=RULE, calendar=CAL)
    assert decision.verdict is expected
    if expected is ExtensionVerdict.REFERRED:
        assert not decision.decided and decision.working_days == 0
        assert "supervisor" in decision.reason


def test_the_rule_is_configuration() -> None:
    generous = ExtensionRule(
        auto_grant_max_working_days=5,
        auto_grant_times=2,
        auto_grant_clocks=(ClockKind.RESOLVE, ClockKind.ACCEPT),
        auto_grant_when_overdue=True,
    )
    assert verdict(clock(), 5, FRIDAY, generous) is ExtensionVerdict.GRANTED
    assert verdict(clock().extended(1, "e1"), 1, rule=generous) is ExtensionVerdict.GRANTED
    accept = clock(Policy().terms(ClockKind.ACCEPT))
    assert verdict(accept, 1) is ExtensionVerdict.REFERRED  # not a clock the default rule covers
    assert verdict(accept, 1, rule=generous) is ExtensionVerdict.GRANTED
    assert verdict(clock(), 1, rule=ExtensionRule(auto_grant_max_working_days=0)) is (
        ExtensionVerdict.REFERRED
    )


def test_a_request_without_a_running_clock_is_refused() -> None:
    assert verdict(None, 1) is ExtensionVerdict.REFUSED
    assert verdict(clock().stopped(TUESDAY, "resolved"), 1) is ExtensionVerdict.REFUSED


def test_a_request_is_for_at_least_one_day() -> None:
    with pytest.raises(ValueError):
        decide_extension(clock(), 0, at=TUESDAY, rule=RULE, calendar=CAL)
