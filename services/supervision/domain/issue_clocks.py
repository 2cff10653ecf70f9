"""All the clocks of one issue, and the rules that span them. Pure.

`IssueClocks` is one issue's clock history (one document per issue fits the "one
atomic single-document update per effect" rule of design.md). Every operation returns
the new state and the `Timers` to change in the durable timer store: steps to arm
(upsert by `step_id`, due at `due_at`) and step ids to disarm.

Rules kept here:

- At most one open clock per kind. Starting a clock of a kind that is open stops the
  old one (reason "restarted") and disarms its steps: reassignment, escalation and
  reopening each start fresh clocks. Starting a clock id seen before does nothing.
- The second overdue clock: once any clock of the issue is overdue (its yellow step
  fired, or it was stopped after its deadline), every other open clock and every clock
  started later turns red at 100% of its own length instead of 150% (when the policy's
  `red_on_second_overdue` holds); the moved red and escalate steps are re-armed.
- Closing stops everything; starting a clock on a closed issue is an error.
- Firing a step checks it against the current state: `FIRED` once, `DUPLICATE` when it
  had fired, `STALE` when its clock stopped (or never existed), `EARLY` when it was
  moved later (re-arm it at the returned step's `due_at`).
"""

from __future__ import annotations

from collections.abc import Collection, Iterable
from datetime import datetime
from enum import StrEnum
from typing import NamedTuple

from pydantic import AwareDatetime, BaseModel, ConfigDict

from services.contracts.vocabulary import ClockKind, Rung
from services.supervision.domain.calendar import WorkingCalendar
from services.supervision.domain.clocks import Clock, Step, StepAction, split_step_id
from services.supervision.domain.policy import ClockTerms

__all__ = ["Change", "FireOutcome", "Firing", "IssueClocks", "IssueClosedError", "Timers"]


class IssueClosedError(ValueError):
    """A clock cannot start on a closed issue."""


class Timers(NamedTuple):
    """What the durable timer store must change."""

    arm: tuple[Step, ...] = ()
    disarm: tuple[str, ...] = ()


class Change(NamedTuple):
    state: IssueClocks
    timers: Timers


class FireOutcome(StrEnum):
    FIRED = "fired"
    DUPLICATE = "duplicate"
    STALE = "stale"
    EARLY = "early"


class Firing(NamedTuple):
    state: IssueClocks
    outcome: FireOutcome
    step: Step | None
    timers: Timers


class IssueClocks(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    issue_id: str
    clocks: tuple[Clock, ...] = ()
    overdue: bool = False
    closed_at: AwareDatetime | None = None

    def clock(self, clock_id: str) -> Clock | None:
        return next((c for c in self.clocks if c.clock_id == clock_id), None)

    def open_clocks(self) -> tuple[Clock, ...]:
        return tuple(c for c in self.clocks if c.is_open)

    def open_clock(self, kind: ClockKind) -> Clock | None:
        return next((c for c in self.clocks if c.is_open and c.kind is kind), None)

    def pending(self, calendar: WorkingCalendar) -> tuple[Step, ...]:
        """Every step still to fire, by due time (to rebuild the timers of this issue)."""
        steps = [step for c in self.open_clocks() for step in c.pending(calendar)]
        return tuple(sorted(steps, key=lambda step: step.due_at))

    def start(
        self,
        *,
        clock_id: str,
        started_at: datetime,
        terms: ClockTerms,
        calendar: WorkingCalendar,
        office_id: str | None = None,
        rung: Rung = Rung.OFFICE,
    ) -> Change:
        """Start a clock; an open clock of the same kind stops ("restarted")."""
        if self.clock(clock_id) is not None:
            return Change(self, Timers())
        if self.closed_at is not None:
            raise IssueClosedError(f"issue {self.issue_id} is closed: no {terms.kind} clock starts")
        stopped = self.stop([terms.kind], at=started_at, reason="restarted", calendar=calendar)
        state = stopped.state
        clock = Clock.start(
            clock_id=clock_id,
            issue_id=self.issue_id,
            started_at=started_at,
            terms=terms,
            office_id=office_id,
            rung=rung,
            prior_overdue=state.overdue,
        )
        state = state.model_copy(update={"clocks": (*state.clocks, clock)})
        arm = _merge(stopped.timers.arm, clock.pending(calendar))
        return Change(state, Timers(arm=arm, disarm=stopped.timers.disarm))

    def stop(
        self,
        kinds: Collection[ClockKind] | None,
        *,
        at: datetime,
        reason: str,
        calendar: WorkingCalendar,
    ) -> Change:
        """Stop the open clocks of `kinds` (all of them when None)."""
        targets = [c for c in self.open_clocks() if kinds is None or c.kind in kinds]
        if not targets:
            return Change(self, Timers())
        disarm = tuple(step_id for c in targets for step_id in c.pending_ids())
        late = any(at >= c.deadline(calendar) for c in targets)
        state = self._replace(c.stopped(at, reason) for c in targets)
        arm: tuple[Step, ...] = ()
        if late:
            state, arm = state._became_overdue(calendar, except_clock=None)
        return Change(state, Timers(arm=arm, disarm=disarm))

    def close(self, *, at: datetime, calendar: WorkingCalendar, reason: str = "closed") -> Change:
        """Closing (销号) stops every clock; the issue takes no new clock afterwards."""
        change = self.stop(None, at=at, reason=reason, calendar=calendar)
        if self.closed_at is not None:
            return change
        return Change(change.state.model_copy(update={"closed_at": at}), change.timers)

    def extend(
        self,
        kind: ClockKind,
        working_days: int,
        *,
        decision_id: str,
        calendar: WorkingCalendar,
    ) -> Change:
        """Lengthen the open clock of `kind` by a granted extension (once per decision)."""
        clock = self.open_clock(kind)
        if clock is None or decision_id in clock.extension_ids:
            return Change(self, Timers())
        longer = clock.extended(working_days, decision_id)
        return Change(self._replace([longer]), Timers(arm=longer.pending(calendar)))

    def fire(self, step_id: str, *, now: datetime, calendar: WorkingCalendar) -> Firing:
        """Fire one step at `now` if it is still due; see the module doc for outcomes."""
        clock_id, name = split_step_id(step_id)
        clock = self.clock(clock_id)
        step = clock.step(name, calendar) if clock is not None else None
        if clock is None or step is None:
            return Firing(self, FireOutcome.STALE, None, Timers(disarm=(step_id,)))
        if name in clock.fired:
            return Firing(self, FireOutcome.DUPLICATE, step, Timers())
        if not clock.is_open:
            return Firing(self, FireOutcome.STALE, step, Timers(disarm=(step_id,)))
        if step.due_at > now:
            return Firing(self, FireOutcome.EARLY, step, Timers(arm=(step,)))
        state = self._replace([clock.with_fired(name)])
        arm: tuple[Step, ...] = ()
        if step.action is StepAction.YELLOW:
            state, arm = state._became_overdue(calendar, except_clock=clock_id)
        return Firing(state, FireOutcome.FIRED, step, Timers(arm=arm))

    def _became_overdue(
        self, calendar: WorkingCalendar, *, except_clock: str | None
    ) -> tuple[IssueClocks, tuple[Step, ...]]:
        """Mark the issue overdue; other open clocks now turn red at 100%."""
        others = [
            c for c in self.open_clocks() if c.clock_id != except_clock and not c.prior_overdue
        ]
        moved = [c.with_prior_overdue() for c in others]
        state = self._replace(moved).model_copy(update={"overdue": True})
        arm = tuple(
            step
            for before, after in zip(others, moved, strict=True)
            for step in _changed(before.pending(calendar), after.pending(calendar))
        )
        return state, arm

    def _replace(self, updated: Iterable[Clock]) -> IssueClocks:
        by_id = {c.clock_id: c for c in updated}
        clocks = tuple(by_id.get(c.clock_id, c) for c in self.clocks)
        return self.model_copy(update={"clocks": clocks})


def _changed(before: tuple[Step, ...], after: tuple[Step, ...]) -> tuple[Step, ...]:
    old = {step.step_id: step for step in before}
    return tuple(step for step in after if old.get(step.step_id) != step)


def _merge(first: tuple[Step, ...], second: tuple[Step, ...]) -> tuple[Step, ...]:
    latest = {step.step_id: step for step in (*first, *second)}
    return tuple(latest.values())
