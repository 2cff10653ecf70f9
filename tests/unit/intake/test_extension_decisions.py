"""Intake's side of a supervisor's extension decision, pure: which request awaits a decision,
derived from the status view's history, and the event the decision becomes."""

import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from pydantic import ValidationError

from services.contracts.events import (
    Event,
    ExtensionDecided,
    ExtensionDecidedPayload,
    ExtensionRequested,
    ExtensionRequestedPayload,
)
from services.intake.domain.errors import Refused
from services.intake.domain.extension_decisions import (
    ExtensionDecisionIn,
    awaiting_decision,
    decision_event,
)
from services.intake.domain.rules import Act, Principal, Role, check
from services.intake.domain.view import history_in_order, view_update
from services.intake.entrypoints.errors import status_of

SUPERVISOR = Principal("supervisor:4f2a9c0d1e7b", Role.SUPERVISOR, region_code="411900")
NOW = datetime(2026, 11, 23, 9, tzinfo=UTC)


def requested(days: int, minutes: int = 0) -> ExtensionRequested:
    payload = ExtensionRequestedPayload(office_id="water", working_days=days, reason="pump")
    when = NOW + timedelta(minutes=minutes)
    return ExtensionRequested(issue_id="i1", producer="intake", occurred_at=when, payload=payload)


def decided(request: ExtensionRequested, by: str, granted: bool = True) -> ExtensionDecided:
    payload = ExtensionDecidedPayload(
        granted=granted, working_days=request.payload.working_days if granted else 0,
        decided_by=by, reason="r",
    )  # fmt: skip
    return ExtensionDecided(
        issue_id="i1", producer="supervision", causation_id=request.event_id, payload=payload
    )


def history(*events: Event) -> list[dict[str, Any]]:
    """The status view's history after `events`, as the store keeps it."""
    entries: dict[str, dict[str, Any]] = {}
    for offset, event in enumerate(events):
        update = view_update(event, offset)["$set"]
        entries |= {k.removeprefix("history."): v for k, v in update.items() if "history." in k}
    return history_in_order(entries)


def decision(**fields: Any) -> ExtensionDecisionIn:
    return ExtensionDecisionIn.model_validate({"granted": True, "reason": "暴雨", **fields})


def refusal(events: list[Event], request_id: str | None = None) -> str:
    with pytest.raises(Refused) as refused:
        awaiting_decision(history(*events), request_id)
    assert status_of(refused.value) == 409
    return refused.value.reason


def test_the_view_keeps_which_request_a_decision_answers() -> None:
    asked = requested(5)
    entries = history(asked, decided(asked, "rule"))
    assert entries[-1]["request_id"] == str(asked.event_id)


def test_the_latest_undecided_request_awaits_a_decision() -> None:
    first, second = requested(2), requested(5, minutes=1)
    waiting = awaiting_decision(history(first, decided(first, "rule"), second), None)
    assert waiting["event_id"] == str(second.event_id)
    # Both undecided: the latest by default, or the one named.
    assert awaiting_decision(history(first, second), None)["event_id"] == str(second.event_id)
    named = awaiting_decision(history(first, second), str(first.event_id))
    assert named["event_id"] == str(first.event_id)


def test_no_waiting_request_is_a_conflict_that_says_why() -> None:
    asked = requested(2)
    assert "the issue has none" in refusal([])
    by_rule = refusal([asked, decided(asked, "rule")])
    assert f"the latest, {asked.event_id}, is already decided: granted by rule" in by_rule
    refused = refusal([asked, decided(asked, "supervisor:1", granted=False)], str(asked.event_id))
    assert "already decided: refused by supervisor:1" in refused
    assert "no extension request nope" in refusal([asked], "nope")


def test_a_decision_names_its_request_and_the_principal() -> None:
    asked = requested(5)
    request = awaiting_decision(history(asked), None)
    event_id = uuid.uuid4()
    event = decision_event(request, decision(), SUPERVISOR, "i1", NOW, event_id)
    assert (event.event_id, event.causation_id, event.producer) == (
        event_id, asked.event_id, "intake",
    )  # fmt: skip
    assert (event.payload.granted, event.payload.working_days) == (True, 5)  # what was asked
    assert event.payload.decided_by == "supervisor:4f2a9c0d1e7b"
    fewer = decision_event(request, decision(working_days=3), SUPERVISOR, "i1", NOW, event_id)
    assert fewer.payload.working_days == 3
    no = decision_event(request, decision(granted=False), SUPERVISOR, "i1", NOW, event_id)
    assert (no.payload.granted, no.payload.working_days) == (False, 0)


@pytest.mark.parametrize(
    "body",
    [
        {"reason": "x"},  # granted missing
        {"granted": True, "reason": ""},
        {"granted": True, "reason": "x", "working_days": 0},
        {"granted": True, "reason": "x", "decided_by": "someone else"},  # never from the body
    ],
)
def test_a_bad_decision_body_is_refused(body: dict[str, Any]) -> None:
    with pytest.raises(ValidationError):
        ExtensionDecisionIn.model_validate(body)


@pytest.mark.parametrize("role", list(Role))
def test_only_a_supervisor_or_an_admin_decides(role: Role) -> None:
    who = Principal("x", role, office_id="water", issue_id="i1")
    if role in (Role.SUPERVISOR, Role.ADMIN):
        check(Act.DECIDE_EXTENSION, who, None, "water", "i1")
        return
    with pytest.raises(Refused) as refused:
        check(Act.DECIDE_EXTENSION, who, None, "water", "i1")
    assert status_of(refused.value) == 403 and "allowed: admin, supervisor" in refused.value.reason
