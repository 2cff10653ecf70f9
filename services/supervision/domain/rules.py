"""The rules supervision applies (the policy on the working calendar), and what applying them
to one issue yields. Pure."""

from __future__ import annotations

from dataclasses import dataclass

from services.contracts.events import Envelope
from services.contracts.vocabulary import ClockKind
from services.supervision.domain.calendar import Supplement, WorkingCalendar
from services.supervision.domain.policy import ClockTerms, Policy
from services.supervision.domain.record import IssueRecord

__all__ = ["Reaction", "Rules"]


@dataclass(frozen=True)
class Rules:
    policy: Policy
    calendar: WorkingCalendar

    @classmethod
    def of(cls, policy: Policy, supplement: Supplement | None = None) -> Rules:
        """The policy on the working calendar of its zone (plus the supplement's years)."""
        return cls(policy, WorkingCalendar(policy.zone, supplement))

    def terms(self, record: IssueRecord, kind: ClockKind) -> ClockTerms:
        """The length and steps of a clock of `kind` for this issue (resolve: by its tier)."""
        return self.policy.terms(
            kind,
            tier=record.effective_tier if kind is ClockKind.RESOLVE else None,
            category=record.category,
            channel=record.channel,
        )


@dataclass(frozen=True)
class Reaction:
    """The issue's record after an event or a firing, and the events to publish first."""

    record: IssueRecord
    publish: tuple[Envelope, ...] = ()
