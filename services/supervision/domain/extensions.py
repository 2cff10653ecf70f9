"""Extension requests (延期) decided by rule. Pure.

The rule (`policy.extensions`, see `policy.ExtensionRule`) grants a request by itself
only when all of these hold; otherwise it refers the request to a supervisor, whose
decision arrives later as an `ExtensionDecided` event like the rule's own:

- the clock is of a kind the rule covers (default: the resolve clock);
- the clock has had fewer granted extensions than `auto_grant_times` (default: 1);
- the request is for at most `auto_grant_max_working_days` (default: 3);
- the clock is not overdue yet, unless `auto_grant_when_overdue`.

A request for a clock that does not run (none open, or already stopped) is refused:
there is nothing to extend. A referral produces no event: the request waits for a
supervisor. A grant becomes `ExtensionDecided(granted=True, decided_by=RULE)` and then
`IssueClocks.extend`.
"""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum

from pydantic import BaseModel, ConfigDict, NonNegativeInt

from services.supervision.domain.calendar import WorkingCalendar
from services.supervision.domain.clocks import Clock
from services.supervision.domain.policy import ExtensionRule

__all__ = ["RULE", "ExtensionDecision", "ExtensionVerdict", "decide_extension"]

RULE = "rule"
"""`decided_by` of an extension the rule decided."""


class ExtensionVerdict(StrEnum):
    GRANTED = "granted"
    REFERRED = "referred"
    REFUSED = "refused"


class ExtensionDecision(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    verdict: ExtensionVerdict
    working_days: NonNegativeInt
    reason: str

    @property
    def granted(self) -> bool:
        return self.verdict is ExtensionVerdict.GRANTED

    @property
    def decided(self) -> bool:
        """Whether the rule decided (an `ExtensionDecided` event follows) or referred."""
        return self.verdict is not ExtensionVerdict.REFERRED


def decide_extension(
    clock: Clock | None,
    requested_days: int,
    *,
    at: datetime,
    rule: ExtensionRule,
    calendar: WorkingCalendar,
) -> ExtensionDecision:
    """Decide a request for `requested_days` more working days on `clock`, made at `at`."""
    if requested_days <= 0:
        raise ValueError(
            f"an extension request is for at least 1 working day, got {requested_days}"
        )
    if clock is None or not clock.is_open:
        return _decision(ExtensionVerdict.REFUSED, 0, "no running clock to extend")
    refer = _reason_to_refer(clock, requested_days, at, rule, calendar)
    if refer is not None:
        return _decision(ExtensionVerdict.REFERRED, 0, f"left to a supervisor: {refer}")
    return _decision(
        ExtensionVerdict.GRANTED,
        requested_days,
        f"granted by rule: up to {rule.auto_grant_max_working_days} working days, "
        f"{rule.auto_grant_times} time(s) per {clock.kind.value} clock",
    )


def _reason_to_refer(
    clock: Clock, requested_days: int, at: datetime, rule: ExtensionRule, calendar: WorkingCalendar
) -> str | None:
    if clock.kind not in rule.auto_grant_clocks:
        return f"the rule does not extend the {clock.kind.value} clock"
    if len(clock.extension_ids) >= rule.auto_grant_times:
        return f"the clock already had {len(clock.extension_ids)} extension(s)"
    if requested_days > rule.auto_grant_max_working_days:
        return (
            f"{requested_days} working days is more than the rule grants "
            f"({rule.auto_grant_max_working_days})"
        )
    if not rule.auto_grant_when_overdue and at >= clock.deadline(calendar):
        return "the clock is already overdue"
    return None


def _decision(verdict: ExtensionVerdict, days: int, reason: str) -> ExtensionDecision:
    return ExtensionDecision(verdict=verdict, working_days=days, reason=reason)
