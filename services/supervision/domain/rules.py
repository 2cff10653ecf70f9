"""The rules supervision applies (the policy on the working calendar), and what applying them
to one issue yields. Pure."""

from __future__ import annotations

from dataclasses import dataclass, field

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
    _terms: dict[tuple[object, ...], ClockTerms] = field(
        default_factory=dict, init=False, repr=False, compare=False
    )
    """Memo of `terms`: a pure function of the policy (which never changes) and its key."""

    @classmethod
    def of(cls, policy: Policy, supplement: Supplement | None = None) -> Rules:
        """The policy on the working calendar of its zone (plus the supplement's years)."""
        return cls(policy, WorkingCalendar(policy.zone, supplement))

    def terms(self, record: IssueRecord, kind: ClockKind) -> ClockTerms:
        """The length and steps of a clock of `kind` for this issue (resolve: by its tier)."""
        tier = record.effective_tier if kind is ClockKind.RESOLVE else None
        key = (kind, tier, record.category, record.channel)
        found = self._terms.get(key)
        if found is None:
            if len(self._terms) >= 10_000:  # bounded whatever categories the log names
                self._terms.clear()
            found = self._terms[key] = self.policy.terms(
                kind, tier=tier, category=record.category, channel=record.channel
            )
        return found


@dataclass(frozen=True)
class Reaction:
    """The issue's record after an event or a firing, and the events to publish first."""

    record: IssueRecord
    publish: tuple[Envelope, ...] = ()
