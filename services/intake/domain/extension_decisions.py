"""A supervisor's decision on an extension request (延期审批). Pure: the API checks, then
publishes the event built here.

An office's `ExtensionRequested` is decided by supervision's rule at once, or referred to a
supervisor (then supervision publishes nothing and the request waits). Intake knows which
requests wait from its status view alone: an `ExtensionRequested` that no `ExtensionDecided`
answers yet (an answer names its request as its causation, kept in the view's history as
`request_id`). A decision names its request the same way, and supervision applies the first
decision of a request only: one for a request the rule has just decided changes nothing.
"""

import uuid
from collections.abc import Sequence
from datetime import datetime
from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from services.contracts.events import ExtensionDecided, ExtensionDecidedPayload
from services.intake.domain.actions import Text
from services.intake.domain.errors import Conflict
from services.intake.domain.rules import Principal

__all__ = ["ExtensionDecisionIn", "ExtensionDecisionOut", "awaiting_decision", "decision_event"]


class ExtensionDecisionIn(BaseModel):
    """A supervisor's decision; who decides is the authenticated principal, never the body."""

    model_config = ConfigDict(extra="forbid")

    granted: bool
    working_days: int | None = Field(
        default=None, ge=1, le=30, description="working days granted; default: what was asked"
    )
    reason: Text
    request_id: str | None = Field(
        default=None,
        max_length=64,
        description="the ExtensionRequested event id; default: the latest one awaiting a decision",
    )


class ExtensionDecisionOut(BaseModel):
    issue_id: str
    event_id: str
    request_id: str
    granted: bool
    working_days: int = Field(description="the working days granted (0 when refused)")
    decided_by: str


def awaiting_decision(history: Sequence[dict[str, Any]], request_id: str | None) -> dict[str, Any]:
    """The `ExtensionRequested` entry to decide: the one named, else the latest undecided one.

    `history` is the issue's view history in log order; `Conflict` says why none waits."""
    decided: dict[str, dict[str, Any]] = {}
    for entry in history:
        if entry["type"] == "ExtensionDecided" and entry.get("request_id"):
            decided.setdefault(entry["request_id"], entry)
    requests = [entry for entry in history if entry["type"] == "ExtensionRequested"]
    if request_id is not None:
        named = [entry for entry in requests if entry["event_id"] == request_id]
        if not named:
            raise Conflict(f"this issue has no extension request {request_id}")
        if (decision := decided.get(request_id)) is not None:
            raise Conflict(f"extension request {request_id} is {_decided(decision)}")
        return named[0]
    if not requests:
        raise Conflict("no extension request awaits a decision: the issue has none")
    waiting = [entry for entry in requests if entry["event_id"] not in decided]
    if not waiting:
        latest = requests[-1]
        raise Conflict(
            "no extension request awaits a decision: the latest, "
            f"{latest['event_id']}, is {_decided(decided[latest['event_id']])}",
        )
    return waiting[-1]


def decision_event(
    request: dict[str, Any],
    body: ExtensionDecisionIn,
    who: Principal,
    issue_id: str,
    now: datetime,
    event_id: uuid.UUID,
) -> ExtensionDecided:
    """`ExtensionDecided` caused by the request; a refusal grants 0 working days."""
    days = (body.working_days or int(request["working_days"])) if body.granted else 0
    return ExtensionDecided(
        event_id=event_id,
        issue_id=issue_id,
        occurred_at=now,
        producer="intake",
        causation_id=uuid.UUID(request["event_id"]),
        payload=ExtensionDecidedPayload(
            granted=body.granted, working_days=days, decided_by=who.id, reason=body.reason
        ),
    )


def _decided(decision: dict[str, Any]) -> str:
    verdict = "granted" if decision.get("granted") else "refused"
    return f"already decided: {verdict} by {decision.get('decided_by')}"
