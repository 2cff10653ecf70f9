"""An issue's routing as an immutable value: the decisions made so far (its history) and
the counters the rules need. The caller keeps one per issue and folds each event into
it (`services.routing.domain.dispatch.fold`); every fold returns a new value. Pydantic models,
so the value goes to and comes back from a store as plain JSON."""

from __future__ import annotations

from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator

from services.contracts.events import IssueAssignedPayload, IssueEscalatedPayload
from services.contracts.vocabulary import Level, Rung, Tier

RUNGS: tuple[Rung, ...] = tuple(Rung)
"""The five-level ladder, lowest first: office → center → deputy → executive deputy → principal."""


class _Value(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class Assignment(_Value):
    """The issue is handed to a lead office, with co-offices for joint handling."""

    type: Literal["assigned"] = "assigned"
    office_id: str
    co_office_ids: tuple[str, ...] = ()
    level: Level
    rung: Rung = Rung.OFFICE
    reason: str
    cause: str | None = Field(default=None, description="the id of the event that led here")

    @model_validator(mode="after")
    def _lead_is_not_a_co_office(self) -> Assignment:
        if self.office_id in self.co_office_ids:
            raise ValueError("the lead office cannot also be a co-office")
        if len(set(self.co_office_ids)) != len(self.co_office_ids):
            raise ValueError("co-offices repeat")
        return self

    def payload(self) -> IssueAssignedPayload:
        """What `IssueAssigned` carries."""
        return IssueAssignedPayload(
            office_id=self.office_id,
            co_office_ids=self.co_office_ids,
            level=self.level,
            rung=self.rung,
            reason=self.reason,
        )


class Escalation(_Value):
    """督办: the issue moves one rung up the five-level ladder; the lead office keeps it."""

    type: Literal["escalated"] = "escalated"
    from_rung: Rung
    to_rung: Rung
    supervisor_id: str
    supervisor: str
    reason: str
    cause: str | None = None

    @model_validator(mode="after")
    def _one_rung_up(self) -> Escalation:
        if RUNGS.index(self.to_rung) != RUNGS.index(self.from_rung) + 1:
            raise ValueError("an escalation climbs exactly one rung")
        return self

    def payload(self) -> IssueEscalatedPayload:
        """What `IssueEscalated` carries."""
        return IssueEscalatedPayload(
            from_rung=self.from_rung, to_rung=self.to_rung, reason=self.reason
        )


Decision = Annotated[Assignment | Escalation, Field(discriminator="type")]


class RoutingState(_Value):
    category: str
    tier: Tier
    region_code: str
    enterprise_id: str | None = None
    decisions: tuple[Decision, ...] = Field(min_length=1)
    returned_by: tuple[str, ...] = Field(default=(), description="offices that returned it")
    returns_at_level: int = Field(default=0, description="returns since it reached its level")
    reopens: int = Field(default=0, description="reopenings since its office last changed")
    applied: tuple[str, ...] = Field(default=(), description="causes folded in already")

    @model_validator(mode="after")
    def _starts_with_an_assignment(self) -> RoutingState:
        if not isinstance(self.decisions[0], Assignment):
            raise ValueError("the first decision is an assignment")
        return self

    @property
    def lead(self) -> Assignment:
        """The assignment in force."""
        for decision in reversed(self.decisions):
            if isinstance(decision, Assignment):
                return decision
        raise AssertionError("unreachable: the first decision is an assignment")

    @property
    def first(self) -> Assignment:
        """The assignment the issue started with."""
        first = self.decisions[0]
        assert isinstance(first, Assignment)  # checked at construction
        return first

    @property
    def rung(self) -> Rung:
        """How far up the ladder the issue is supervised."""
        for decision in reversed(self.decisions):
            if isinstance(decision, Escalation):
                return decision.to_rung
        return Rung.OFFICE

    @property
    def last(self) -> Assignment | Escalation:
        return self.decisions[-1]

    def has_applied(self, cause: str | None) -> bool:
        return cause is not None and cause in self.applied

    def then(
        self, decision: Assignment | Escalation | None, cause: str | None, **changes: Any
    ) -> RoutingState:
        """A new state: `decision` appended (if any), `cause` remembered, counters changed."""
        if decision is not None:
            changes["decisions"] = (*self.decisions, decision)
        if cause is not None:
            changes["applied"] = (*self.applied, cause)
        return self.model_copy(update=changes)
