"""One supervision clock and the steps it fires. Pure: no broker, no database, no wall clock.

A clock runs `working_days` (+ granted extensions) of working time from `started_at`
(see `calendar` for the time model). Its steps sit at percentages of that length:

| step           | action   | where (default policy)                     | event the handler emits |
|----------------|----------|--------------------------------------------|-------------------------|
| `reminder-50`  | remind   | 50%                                        | `ReminderSent`          |
| `reminder-80`  | remind   | 80%                                        | `ReminderSent`          |
| `yellow`       | yellow   | 100%: the deadline, the clock is overdue   | `IssueFlagged` yellow   |
| `red`          | red      | 150%, or 100% after an earlier overdue one | `IssueFlagged` red      |
| `escalate`     | escalate | with red, one rung up the ladder           | `SupervisionOrdered`    |

Step ids are `f"{clock_id}:{name}"`: the same step keeps its id when an extension or
the second-overdue rule moves it, so a durable timer is upserted by id, and a firing
seen twice is recognisable. The caller chooses `clock_id` (for instance the
deterministic id of the `ClockStarted` event), so a replay rebuilds the same ids.

An extension lengthens the clock: with e working days granted the clock is n + e
working days long from the same start; its deadline moves by exactly e working days
and every unfired step is placed again at its percentage of the new length (all move
later). Fired steps stay fired. A clock whose steps reach a year no calendar knows yet runs on
the provisional rule (`provisional_years`), and is recomputed when the year is declared.
No step is placed on the top rung's escalation: a
clock already at the principal leaders (`Rung.PRINCIPAL`) flags red and stops there.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from enum import StrEnum
from fractions import Fraction

from pydantic import AwareDatetime, BaseModel, ConfigDict, Field, NonNegativeInt, PositiveInt

from services.contracts.vocabulary import ClockKind, Rung
from services.supervision.domain.calendar import WORKING_DAY, WorkingCalendar
from services.supervision.domain.policy import ClockTerms, Thresholds

__all__ = [
    "Clock",
    "Step",
    "StepAction",
    "escalation_target",
    "make_step_id",
    "split_step_id",
    "working_span",
]

_LADDER = tuple(Rung)
_DAY_US = WORKING_DAY // timedelta(microseconds=1)


class StepAction(StrEnum):
    REMIND = "remind"
    YELLOW = "yellow"
    RED = "red"
    ESCALATE = "escalate"


def make_step_id(clock_id: str, name: str) -> str:
    return f"{clock_id}:{name}"


def split_step_id(step_id: str) -> tuple[str, str]:
    """`(clock_id, step name)` of a step id (a clock id may itself contain colons)."""
    clock_id, sep, name = step_id.rpartition(":")
    if not sep or not clock_id or not name:
        raise ValueError(f"not a step id: {step_id!r}")
    return clock_id, name


def working_span(working_days: int, percent: int) -> timedelta:
    """`percent`% of `working_days` of working time, exact to the microsecond."""
    return timedelta(microseconds=working_days * _DAY_US * percent // 100)


def escalation_target(rung: Rung, rungs: int) -> Rung | None:
    """The rung `rungs` levels above `rung`, capped at the top; None when already at the top."""
    index = _LADDER.index(rung)
    if index == len(_LADDER) - 1:
        return None
    return _LADDER[min(index + rungs, len(_LADDER) - 1)]


class Step(BaseModel):
    """One thing a clock will do at `due_at`; everything the handler needs to publish it."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    step_id: str
    name: str
    action: StepAction
    percent: PositiveInt = Field(description="where the step sits, in % of the clock's length")
    due_at: AwareDatetime
    clock_id: str
    issue_id: str
    clock: ClockKind
    office_id: str | None = None
    to_rung: Rung | None = Field(default=None, description="for escalate: the rung to order")
    reason: str

    @property
    def threshold(self) -> float:
        """The step's place as a fraction of the clock (`ReminderSent.threshold`)."""
        return self.percent / 100


class Clock(BaseModel):
    """One clock of one issue: its terms, what has fired, whether it still runs."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    clock_id: str = Field(min_length=1)
    issue_id: str = Field(min_length=1)
    kind: ClockKind
    office_id: str | None = None
    rung: Rung = Rung.OFFICE
    started_at: AwareDatetime
    working_days: PositiveInt
    thresholds: Thresholds
    escalate_to: Rung | None = None
    extended_days: NonNegativeInt = 0
    extension_ids: tuple[str, ...] = ()
    prior_overdue: bool = Field(
        default=False, description="the issue had another overdue clock: red at 100%"
    )
    fired: tuple[str, ...] = ()
    stopped_at: AwareDatetime | None = None
    stop_reason: str | None = None

    @classmethod
    def start(
        cls,
        *,
        clock_id: str,
        issue_id: str,
        started_at: datetime,
        terms: ClockTerms,
        office_id: str | None = None,
        rung: Rung = Rung.OFFICE,
        prior_overdue: bool = False,
    ) -> Clock:
        return cls(
            clock_id=clock_id,
            issue_id=issue_id,
            kind=terms.kind,
            office_id=office_id,
            rung=rung,
            started_at=started_at,
            working_days=terms.working_days,
            thresholds=terms.thresholds,
            escalate_to=escalation_target(rung, terms.escalation_rungs),
            prior_overdue=prior_overdue,
        )

    @property
    def length(self) -> int:
        """Working days in force: the policy's length plus granted extensions."""
        return self.working_days + self.extended_days

    @property
    def is_open(self) -> bool:
        return self.stopped_at is None

    @property
    def red_percent(self) -> int:
        t = self.thresholds
        return t.yellow if self.prior_overdue and t.red_on_second_overdue else t.red

    def due_at(self, percent: int, calendar: WorkingCalendar) -> datetime:
        """The instant at `percent`% of the clock's current length."""
        return calendar.add_working_time(self.started_at, working_span(self.length, percent))

    def deadline(self, calendar: WorkingCalendar) -> datetime:
        """The end of the clock's length (100%): when the issue is overdue."""
        return self.due_at(100, calendar)

    def last_due(self, calendar: WorkingCalendar) -> datetime:
        """When the clock's last step falls due (red, or escalate with it)."""
        t = self.thresholds
        return self.due_at(max((*t.reminders, t.yellow, self.red_percent)), calendar)

    def provisional_years(self, calendar: WorkingCalendar) -> tuple[int, ...]:
        """The years its steps are computed in that no calendar knows yet (see
        `calendar.provisional`): non-empty means the clock's schedule is provisional."""
        return calendar.provisional_years(self.started_at, self.last_due(calendar))

    def progress(self, at: datetime, calendar: WorkingCalendar) -> Fraction:
        """Working time elapsed at `at` as a fraction of the length (1 = deadline)."""
        elapsed = calendar.working_time_between(self.started_at, at)
        return max(
            Fraction(0), Fraction(elapsed // timedelta(microseconds=1), self.length * _DAY_US)
        )

    def step_names(self) -> tuple[str, ...]:
        """The names of this clock's steps, in firing order (no calendar needed)."""
        t = self.thresholds
        names = [f"reminder-{p}" for p in t.reminders] + ["yellow", "red"]
        if t.escalate_on_red and self.escalate_to is not None:
            names.append("escalate")
        return tuple(names)

    def pending_ids(self) -> tuple[str, ...]:
        """The ids of the steps still to fire (none once stopped), without the calendar."""
        if not self.is_open:
            return ()
        names = (name for name in self.step_names() if name not in self.fired)
        return tuple(make_step_id(self.clock_id, name) for name in names)

    def steps(self, calendar: WorkingCalendar) -> tuple[Step, ...]:
        """Every step under the current terms, in firing order (fired ones included);
        remembered by the calendar under everything they depend on."""
        key = (
            "steps",
            self.clock_id,
            self.issue_id,
            self.kind,
            self.office_id,
            self.started_at,
            self.length,
            self.thresholds,
            self.prior_overdue,
            self.escalate_to,
        )
        return calendar.remembered(key, lambda: self._steps(calendar))

    def _steps(self, calendar: WorkingCalendar) -> tuple[Step, ...]:
        t = self.thresholds
        kind = self.kind.value
        plan = [
            (f"reminder-{p}", StepAction.REMIND, p, f"{p}% of the {kind} clock")
            for p in t.reminders
        ]
        plan.append(("yellow", StepAction.YELLOW, t.yellow, f"the {kind} clock is overdue"))
        red = self.red_percent
        why_red = (
            f"a second overdue clock: {red}% of the {kind} clock"
            if red != t.red
            else f"{red}% of the {kind} clock"
        )
        plan.append(("red", StepAction.RED, red, why_red))
        if t.escalate_on_red and self.escalate_to is not None:
            plan.append(("escalate", StepAction.ESCALATE, red, f"red flag: {why_red}"))
        return tuple(
            Step(  # validated: pydantic-core checks these faster than model_construct copies
                step_id=make_step_id(self.clock_id, name),
                name=name,
                action=action,
                percent=percent,
                due_at=self.due_at(percent, calendar),
                clock_id=self.clock_id,
                issue_id=self.issue_id,
                clock=self.kind,
                office_id=self.office_id,
                to_rung=self.escalate_to if action is StepAction.ESCALATE else None,
                reason=reason,
            )
            for name, action, percent, reason in plan
        )

    def pending(self, calendar: WorkingCalendar) -> tuple[Step, ...]:
        """The steps still to fire: none once the clock is stopped."""
        if not self.is_open:
            return ()
        return tuple(step for step in self.steps(calendar) if step.name not in self.fired)

    def step(self, name: str, calendar: WorkingCalendar) -> Step | None:
        return next((step for step in self.steps(calendar) if step.name == name), None)

    def with_fired(self, name: str) -> Clock:
        if name in self.fired:
            return self
        return self.model_copy(update={"fired": (*self.fired, name)})

    def extended(self, working_days: int, decision_id: str) -> Clock:
        """The clock lengthened by a granted extension (applied once per `decision_id`)."""
        if working_days < 0:
            raise ValueError(f"an extension cannot be negative, got {working_days}")
        if decision_id in self.extension_ids:
            return self
        return self.model_copy(
            update={
                "extended_days": self.extended_days + working_days,
                "extension_ids": (*self.extension_ids, decision_id),
            }
        )

    def with_prior_overdue(self) -> Clock:
        return self if self.prior_overdue else self.model_copy(update={"prior_overdue": True})

    def stopped(self, at: datetime, reason: str) -> Clock:
        if not self.is_open:
            return self
        return self.model_copy(update={"stopped_at": at, "stop_reason": reason})
