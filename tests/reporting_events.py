"""One issue's events as intake, routing and supervision publish them, for reporting's tests.

`Story(...)` starts with the report; each step appends the next event `hours` after the
previous one, with the causation the real producers give (routing's events are caused by
what they answer, a clock by its assignment).
"""

import uuid
from datetime import datetime, timedelta
from typing import Any

from services.contracts.events import (
    ClockStarted,
    ClockStartedPayload,
    Envelope,
    Event,
    ExtensionDecided,
    ExtensionDecidedPayload,
    IssueAccepted,
    IssueAcceptedPayload,
    IssueAnswered,
    IssueAnsweredPayload,
    IssueAssigned,
    IssueAssignedPayload,
    IssueClosed,
    IssueClosedPayload,
    IssueEscalated,
    IssueEscalatedPayload,
    IssueFlagged,
    IssueFlaggedPayload,
    IssueMerged,
    IssueMergedPayload,
    IssueReopened,
    IssueReopenedPayload,
    IssueReported,
    IssueReportedPayload,
    IssueResolved,
    IssueResolvedPayload,
    IssueReturned,
    IssueReturnedPayload,
    IssueTriaged,
    IssueTriagedPayload,
    IssueVisited,
    IssueVisitedPayload,
    Location,
    ReminderSent,
    ReminderSentPayload,
    SupervisionOrdered,
    SupervisionOrderedPayload,
    derived_event_id,
)
from services.contracts.owners import OWNERS
from services.contracts.vocabulary import (
    Channel,
    ClockKind,
    Flag,
    Kind,
    Level,
    Rung,
    Satisfaction,
    Tier,
)

CITY = "411900"


def path_of(region: str) -> tuple[str, ...]:
    """The sample city's path down to `region` (codes grow by 3 digits below the county)."""
    cuts = [6, 9, 12, 15]
    return (CITY, *[region[:n] for n in cuts if n <= len(region)])


class Story:
    def __init__(
        self,
        issue_id: str,
        at: datetime,
        *,
        channel: Channel = Channel.HOTLINE,
        kind: Kind = Kind.COMPLAINT,
        category: str = "street_lighting",
        region: str = "411901001001",
        direct: bool = False,
    ) -> None:
        self.id, self.at, self.region, self.category = issue_id, at, region, category
        self.office: str | None = None
        self.events: list[Event] = []
        payload = IssueReportedPayload(
            channel=channel,
            kind=kind,
            text="路灯不亮",
            category=category,
            location=Location(region_code=region),
            direct_handling=direct,
        )
        self._add(IssueReported, payload, 0)

    def _add(self, model: Any, payload: Any, hours: float, cause: Envelope | None = None) -> Any:
        self.at += timedelta(hours=hours)
        ids: dict[str, Any] = {"event_id": uuid.uuid4()}
        if cause is not None:
            effect = f"{model.__name__}:{len(self.events)}"
            ids = {
                "event_id": derived_event_id(cause.event_id, effect),
                "causation_id": cause.event_id,
            }
        producer = min(OWNERS[model.model_fields["type"].default])
        event = model(
            issue_id=self.id, producer=producer, occurred_at=self.at, payload=payload, **ids
        )
        self.events.append(event)
        return event

    def triage(self, tier: Tier = Tier.GENERAL, hours: float = 0.0) -> "Story":
        names = tuple(f"region-{code}" for code in path_of(self.region))
        payload = IssueTriagedPayload(
            category=self.category, tier=tier, region_code=self.region, reason="test",
            region_path=path_of(self.region), region_names=names,
        )  # fmt: skip
        self._add(IssueTriaged, payload, hours, cause=self.events[0])
        return self

    def assign(
        self, office: str, hours: float = 0.0, level: Level = Level.TOWNSHIP,
        rung: Rung = Rung.OFFICE, accept_days: float = 1, resolve_days: float = 3,
        office_name: str | None = None,
    ) -> "Story":  # fmt: skip
        """Routing names the office on the event (`office-<id>` here; "" as older events)."""
        self.office = office
        name = f"office-{office}" if office_name is None else office_name
        payload = IssueAssignedPayload(
            office_id=office, office_name=name, level=level, rung=rung, reason="test"
        )
        assigned = self._add(IssueAssigned, payload, hours, cause=self.events[-1])
        for clock, days in ((ClockKind.ACCEPT, accept_days), (ClockKind.RESOLVE, resolve_days)):
            clocked = ClockStartedPayload(
                clock=clock, office_id=office, working_days=1, started_at=self.at,
                due_at=self.at + timedelta(days=days),
            )  # fmt: skip
            self._add(ClockStarted, clocked, 0, cause=assigned)
        return self

    def accept(self, hours: float) -> "Story":
        self._add(IssueAccepted, IssueAcceptedPayload(office_id=self._office()), hours)
        return self

    def give_back(self, hours: float) -> "Story":
        payload = IssueReturnedPayload(office_id=self._office(), reason="not ours")
        self._add(IssueReturned, payload, hours)
        return self

    def remind(self, hours: float) -> "Story":
        self._add(ReminderSent, ReminderSentPayload(clock=ClockKind.ACCEPT, threshold=0.5), hours)
        return self

    def flag(self, flag: Flag, hours: float) -> "Story":
        self._add(IssueFlagged, IssueFlaggedPayload(flag=flag, clock=ClockKind.ACCEPT), hours)
        return self

    def supervise_and_escalate(self, office: str, hours: float) -> "Story":
        order = SupervisionOrderedPayload(clock=ClockKind.ACCEPT, reason="red")
        ordered = self._add(SupervisionOrdered, order, hours)
        payload = IssueEscalatedPayload(from_rung=Rung.OFFICE, to_rung=Rung.CENTER, reason="red")
        self._add(IssueEscalated, payload, 0, cause=ordered)
        return self.assign(office, 0, level=Level.COUNTY, rung=Rung.CENTER)

    def extend(self, hours: float) -> "Story":
        payload = ExtensionDecidedPayload(granted=True, working_days=2, decided_by="s", reason="r")
        self._add(ExtensionDecided, payload, hours)
        return self

    def resolve(self, hours: float, result: str = "修好了") -> "Story":
        payload = IssueResolvedPayload(office_id=self._office(), result=result)
        self._add(IssueResolved, payload, hours)
        return self

    def answer(self, hours: float) -> "Story":
        self._add(IssueAnswered, IssueAnsweredPayload(answered_by="op-1", answer="已答复"), hours)
        return self

    def visit(self, satisfaction: Satisfaction, solved: bool, hours: float) -> "Story":
        payload = IssueVisitedPayload(satisfaction=satisfaction, solved=solved)
        self._add(IssueVisited, payload, hours)
        return self

    def reopen(self, hours: float) -> "Story":
        self._add(IssueReopened, IssueReopenedPayload(reason="dissatisfied"), hours)
        return self

    def close(self, hours: float) -> "Story":
        self._add(IssueClosed, IssueClosedPayload(), hours)
        return self

    def merge_into(self, other: "Story", hours: float) -> "Story":
        payload = IssueMergedPayload(into_issue_id=other.id, reason="same lamp")
        self._add(IssueMerged, payload, hours, cause=self.events[0])
        return self

    def _office(self) -> str:
        assert self.office is not None, "assign first"
        return self.office
