"""One issue as supervision remembers it: what the log said about it, and its clocks. Pure.

An `IssueRecord` is the whole of supervision's state for one issue and is stored as one
document (see `store`), so every effect is one atomic single-document write:

- the context the clocks need, from earlier events of the same partition: the channel
  (`IssueReported`), the category, tier and region (`IssueTriaged`, default tier general),
  and the office, co-offices, level and rung of the latest assignment (`IssueAssigned`,
  `IssueEscalated`);
- its `IssueClocks` (every clock it ever had, open or stopped, with the steps fired);
- its extension requests (延期) and how each was decided;
- a history of what happened to its clocks, with instants (when each step fired).
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from pydantic import AwareDatetime, BaseModel, ConfigDict, NonNegativeInt, model_validator

from services.contracts.vocabulary import Channel, ClockKind, Level, Rung, Tier
from services.supervision.domain.calendar import WorkingCalendar
from services.supervision.domain.extensions import ExtensionVerdict
from services.supervision.domain.issue_clocks import IssueClocks

__all__ = ["CONTEXT_FIELDS", "Entry", "ExtensionRequest", "IssueRecord"]

CONTEXT_FIELDS = frozenset({"channel", "category", "tier", "region_code", "partition"})
"""Fields an event may set on its own, without reading the record (`ClockStore.remember`)."""


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class ExtensionRequest(_Model):
    """An office's request for more time, and what became of it."""

    request_id: str
    office_id: str
    working_days: int
    reason: str
    requested_at: AwareDatetime
    clock_id: str | None = None
    clock: ClockKind | None = None
    verdict: ExtensionVerdict
    decision_id: str | None = None
    decided_by: str | None = None
    granted_days: NonNegativeInt = 0

    @property
    def awaiting_supervisor(self) -> bool:
        return self.verdict is ExtensionVerdict.REFERRED and self.decision_id is None


class Entry(_Model):
    """One line of an issue's clock history."""

    at: AwareDatetime
    what: str
    clock_id: str | None = None
    step: str | None = None
    detail: str = ""


class IssueRecord(BaseModel):
    model_config = ConfigDict(extra="ignore", frozen=True)

    issue_id: str
    partition: int | None = None
    channel: Channel | None = None
    category: str | None = None
    tier: Tier | None = None
    region_code: str | None = None
    office_id: str | None = None
    co_office_ids: tuple[str, ...] = ()
    level: Level | None = None
    rung: Rung = Rung.OFFICE
    correlation_id: str | None = None
    fresh_causes: tuple[str, ...] = ()
    clocks: IssueClocks
    requests: tuple[ExtensionRequest, ...] = ()
    history: tuple[Entry, ...] = ()
    provisional_years: tuple[int, ...] = ()
    """The undeclared years its open clocks were last computed on (as stored; see `store`)."""

    @model_validator(mode="before")
    @classmethod
    def _no_clocks_yet(cls, data: Any) -> Any:
        """A document that only remembered context has no clocks yet."""
        if isinstance(data, dict) and data.get("clocks") is None and "issue_id" in data:
            return {**data, "clocks": {"issue_id": data["issue_id"]}}
        return data

    @classmethod
    def new(cls, issue_id: str) -> IssueRecord:
        return cls(issue_id=issue_id, clocks=IssueClocks(issue_id=issue_id))

    @property
    def is_open(self) -> bool:
        return bool(self.clocks.open_clocks())

    @property
    def effective_tier(self) -> Tier:
        return self.tier or Tier.GENERAL

    def next_due(self, calendar: WorkingCalendar) -> datetime | None:
        """When the earliest step still to fire falls due (None: nothing to fire)."""
        pending = self.clocks.pending(calendar)
        return pending[0].due_at if pending else None

    def provisional_in(self, calendar: WorkingCalendar) -> tuple[int, ...]:
        """The years no calendar knows that its open clocks' steps reach, on `calendar`."""
        return self.provisional(calendar)[0]

    def provisional_clocks(self, calendar: WorkingCalendar) -> int:
        """How many of its open clocks run on a provisional calendar."""
        return self.provisional(calendar)[1]

    def provisional(self, calendar: WorkingCalendar) -> tuple[tuple[int, ...], int]:
        """Both at once (`provisional_in`, `provisional_clocks`): each clock looked at once."""
        each = [c.provisional_years(calendar) for c in self.clocks.open_clocks()]
        years = {year for found in each for year in found}
        return tuple(sorted(years)), sum(1 for found in each if found)

    def earliest_deadline(self, calendar: WorkingCalendar) -> datetime | None:
        deadlines = [c.deadline(calendar) for c in self.clocks.open_clocks()]
        return min(deadlines, default=None)

    def request(self, request_id: str | None) -> ExtensionRequest | None:
        return next((r for r in self.requests if r.request_id == request_id), None)

    def awaiting(self, request_id: str | None = None) -> ExtensionRequest | None:
        """The request a supervisor may decide: the one named, else the latest referred."""
        waiting = [r for r in self.requests if r.awaiting_supervisor]
        if request_id is not None:
            waiting = [r for r in waiting if r.request_id == request_id]
        return waiting[-1] if waiting else None

    def fired_at(self) -> dict[str, datetime]:
        """When each fired step fired, by step id."""
        return {
            f"{e.clock_id}:{e.step}": e.at
            for e in self.history
            if e.what == "fired" and e.clock_id is not None
        }

    def changed(self, **fields: Any) -> IssueRecord:
        return self.model_copy(update=fields)

    def noted(self, *entries: Entry) -> IssueRecord:
        if not entries:
            return self
        return self.model_copy(update={"history": (*self.history, *entries)})

    def with_request(self, request: ExtensionRequest) -> IssueRecord:
        kept = tuple(r for r in self.requests if r.request_id != request.request_id)
        return self.model_copy(update={"requests": (*kept, request)})
