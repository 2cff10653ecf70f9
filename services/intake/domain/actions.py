"""What each outside action says, as events. Pure: the API checks, then publishes these."""

import uuid
from datetime import datetime
from typing import Annotated, Any, Literal

from pydantic import AfterValidator, BaseModel, ConfigDict, Field

from services.contracts.events import (
    Event,
    ExtensionRequested,
    ExtensionRequestedPayload,
    IssueAccepted,
    IssueAcceptedPayload,
    IssueClosed,
    IssueClosedPayload,
    IssueReopened,
    IssueReopenedPayload,
    IssueResolved,
    IssueResolvedPayload,
    IssueReturned,
    IssueReturnedPayload,
    IssueVerified,
    IssueVerifiedPayload,
    IssueVisited,
    IssueVisitedPayload,
    ProgressNoted,
    ProgressNotedPayload,
    derived_event_id,
)
from services.contracts.vocabulary import Satisfaction
from services.intake.domain.masking import mask
from services.intake.domain.rules import Action, Principal

Text = Annotated[str, Field(min_length=1, max_length=2000), AfterValidator(mask)]
"""A person's words on an action: personal numbers masked as they are read (they go on the log)."""


class Body(BaseModel):
    model_config = ConfigDict(extra="forbid")


class AcceptIn(Body):
    pass


class ReturnIn(Body):
    reason: Text


class ProgressIn(Body):
    note: Text


class ExtensionIn(Body):
    working_days: int = Field(ge=1, le=30)
    reason: Text


class ResolveIn(Body):
    result: Text


class VerifyIn(Body):
    passed: bool
    note: Annotated[str, Field(max_length=2000), AfterValidator(mask)] = ""


class VisitIn(Body):
    satisfaction: Satisfaction
    solved: bool


class CloseIn(Body):
    reason: Literal["done"] = "done"


ActionIn = AcceptIn | ReturnIn | ProgressIn | ExtensionIn | ResolveIn | VerifyIn | VisitIn | CloseIn

BODIES: dict[Action, type[Body]] = {
    Action.ACCEPT: AcceptIn,
    Action.RETURN: ReturnIn,
    Action.PROGRESS: ProgressIn,
    Action.EXTENSION: ExtensionIn,
    Action.RESOLVE: ResolveIn,
    Action.VERIFY: VerifyIn,
    Action.VISIT: VisitIn,
    Action.CLOSE: CloseIn,
}


def action_events(
    action: Action,
    body: Body,
    who: Principal,
    issue_id: str,
    office_id: str | None,
    now: datetime,
    event_id: uuid.UUID,
    reporter_id: str | None = None,
    problem_id: str | None = None,
) -> list[Event]:
    """The events one accepted action produces (a dissatisfied visit also reopens the issue)."""
    common = {"issue_id": issue_id, "producer": "intake", "occurred_at": now, "event_id": event_id}
    office = who.office_id or office_id or ""
    match body:
        case AcceptIn():
            return [IssueAccepted(payload=IssueAcceptedPayload(office_id=office), **common)]
        case ReturnIn(reason=reason):
            returned = IssueReturnedPayload(office_id=office, reason=reason)
            return [IssueReturned(payload=returned, **common)]
        case ProgressIn(note=note):
            noted = ProgressNotedPayload(office_id=office, note=note)
            return [ProgressNoted(payload=noted, **common)]
        case ExtensionIn(working_days=days, reason=reason):
            asked = ExtensionRequestedPayload(office_id=office, working_days=days, reason=reason)
            return [ExtensionRequested(payload=asked, **common)]
        case ResolveIn(result=result):
            resolved = IssueResolvedPayload(office_id=office, result=result)
            return [IssueResolved(payload=resolved, **common)]
        case VerifyIn(passed=passed, note=note):
            checked = IssueVerifiedPayload(verified_by=who.id, passed=passed, note=note)
            verified = IssueVerified(payload=checked, **common)
            if passed:
                return [verified]
            return [verified, _reopened(common, "the result failed verification on the ground")]
        case VisitIn(satisfaction=satisfaction, solved=solved):
            answer = IssueVisitedPayload(
                satisfaction=satisfaction, solved=solved, reporter_id=reporter_id
            )
            visited = IssueVisited(payload=answer, **common)
            if satisfaction is not Satisfaction.DISSATISFIED:
                return [visited]
            reason = "the reporter was dissatisfied at the return visit"
            # a duplicate's reporter reopens the problem it was merged into
            return [visited, _reopened({**common, "issue_id": problem_id or issue_id}, reason)]
        case CloseIn(reason=reason):
            return [IssueClosed(payload=IssueClosedPayload(reason=reason), **common)]
    raise ValueError(f"no events for {action}")


def _reopened(common: dict[str, Any], reason: str) -> IssueReopened:
    """重办: derived from the visit or verification that failed, with a deterministic id."""
    cause = common["event_id"]
    return IssueReopened(
        payload=IssueReopenedPayload(reason=reason),
        **{**common, "event_id": derived_event_id(cause, "reopened"), "causation_id": cause},
    )
