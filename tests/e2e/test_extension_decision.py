"""A supervisor decides an extension request the rule referred (延期审批) through intake, on the
real platform: only a supervisor (or an admin) may; the decision names the principal, reaches
supervision through the log and moves the clock once; nothing else awaits afterwards; a request
the rule decided cannot be decided again; supervision itself takes no decision over HTTP."""

import asyncio
import json
from typing import Any

import httpx
import pytest

from devkit.processes import Platform
from services.runtime.topic_reader import read_topic
from tests.e2e.conftest import Client, eventually

PLACE = {"region_code": "411905003"}  # a township of the sample city
TOWNSHIP = "411905003-township_office"


def principal(city: Platform, role: str, **binding: str) -> tuple[str, Client]:
    """A new principal's id and client (the admin adds it through intake)."""
    response = httpx.post(
        f"{city['intake'].url}/principals",
        json={"role": role, "name": f"{role} for tests", **binding},
        headers={"Authorization": f"Bearer {city.admin_token}"},
        timeout=10,
    )
    assert response.status_code == 201, response.text
    created = response.json()
    return str(created["id"]), Client(city["intake"].url, str(created["token"]))


@pytest.fixture(scope="module")
def people(city: Platform) -> dict[str, Any]:
    supervisor_id, supervisor = principal(city, "supervisor", region_code="411900", level="city")
    return {
        "supervisor_id": supervisor_id,
        "supervisor": supervisor,
        "operator": principal(city, "operator")[1],
        "office": principal(city, "office", office_id=TOWNSHIP)[1],
    }


def accepted_issue(people: dict[str, Any]) -> str:
    operator, office = people["operator"], people["office"]
    issue_id = str(operator.report("小区停水", category="water_supply", location=PLACE)["issue_id"])
    assert operator.in_state(issue_id, "assigned")["office_id"] == TOWNSHIP
    assert office.act(issue_id, "accept").status_code == 200
    return issue_id


def request_id(client: Client, issue_id: str) -> str:
    """The id of the issue's latest extension request, once intake's view has it."""

    def probe() -> str | None:
        view = client.issue(issue_id) or {}
        asked = [h for h in view.get("history", []) if h["type"] == "ExtensionRequested"]
        return str(asked[-1]["event_id"]) if asked else None

    return eventually(probe, what=f"{issue_id}'s extension request")


def decisions_on_the_log(city: Platform, issue_id: str) -> list[dict[str, Any]]:
    topic = f"{city.namespace}.huiyin.issues.v1"
    records = asyncio.run(read_topic(city.endpoints.kafka_bootstrap, topic))
    events = [json.loads(r.value) for r in records]
    return [e for e in events if e["issue_id"] == issue_id and e["type"] == "ExtensionDecided"]


def resolve_clock(city: Platform, issue_id: str) -> dict[str, Any]:
    """The issue's resolve clock, once supervision has it (it follows the log)."""

    def probe() -> dict[str, Any] | None:
        url = f"{city['supervision'].url}/issues/{issue_id}/clocks"
        clocks = httpx.get(url, timeout=10).json()
        return next((c for c in clocks if c["clock"] == "resolve"), None)

    return eventually(probe, what=f"{issue_id}'s resolve clock")


def test_a_supervisor_decides_a_referred_request_through_intake_once(
    city: Platform, people: dict[str, Any]
) -> None:
    supervisor, office, operator = people["supervisor"], people["office"], people["operator"]
    issue_id = accepted_issue(people)
    path = f"/issues/{issue_id}/extension-decision"
    asked = office.act(issue_id, "extension", working_days=5, reason="需更换整段管道")
    assert asked.status_code == 200, asked.text
    request = request_id(operator, issue_id)
    due_before = resolve_clock(city, issue_id)["due_at"]

    decision = {"granted": True, "reason": "管道工程量大，同意延期"}
    for client in (office, operator):  # wrong role: refused, nothing published
        refused = client.post(path, decision)
        assert refused.status_code == 403, refused.text
        assert "allowed: admin, supervisor" in refused.json()["detail"]
    assert supervisor.post("/issues/no-such-issue/extension-decision", decision).status_code == 404
    for bad, field in (
        ({"reason": "x"}, "granted"),
        ({**decision, "working_days": 0}, "working_days"),
        ({**decision, "decided_by": "局长"}, "decided_by"),  # who decides is the token's
    ):
        invalid = supervisor.post(path, bad)
        assert invalid.status_code == 422, invalid.text
        assert field in json.dumps(invalid.json()["detail"])
    assert decisions_on_the_log(city, issue_id) == []

    key = {"Idempotency-Key": f"decide-{issue_id}"}
    answer = supervisor.post(path, decision, **key)
    assert answer.status_code == 200, answer.text
    body = answer.json()
    assert (body["request_id"], body["granted"], body["working_days"]) == (request, True, 5)
    assert body["decided_by"] == people["supervisor_id"]
    retried = supervisor.post(path, decision, **key)
    assert retried.json() == body and retried.headers["Idempotent-Replayed"] == "true"

    # Supervision reads it from the log and moves the resolve clock by five working days.
    clock = eventually(
        lambda: (c := resolve_clock(city, issue_id))["extended_days"] == 5 and c,
        what="the resolve clock extended by the supervisor's decision",
    )
    assert clock["due_at"] > due_before
    history = httpx.get(f"{city['supervision'].url}/issues/{issue_id}/clock-history").json()
    decided = next(r for r in history["extension_requests"] if r["request_id"] == request)
    assert decided["decided_by"] == people["supervisor_id"]
    on_the_log = decisions_on_the_log(city, issue_id)
    assert [(e["event_id"], e["causation_id"], e["producer"]) for e in on_the_log] == [
        (body["event_id"], request, "intake")
    ]

    again = supervisor.post(path, {"granted": False, "reason": "重复审批"})
    assert again.status_code == 409
    assert f"already decided: granted by {people['supervisor_id']}" in again.json()["detail"]
    assert resolve_clock(city, issue_id)["extended_days"] == 5


def test_a_request_the_rule_decided_awaits_no_supervisor(
    city: Platform, people: dict[str, Any]
) -> None:
    supervisor, office, operator = people["supervisor"], people["office"], people["operator"]
    issue_id = accepted_issue(people)
    path = f"/issues/{issue_id}/extension-decision"
    nothing = supervisor.post(path, {"granted": True, "reason": "x"})
    assert nothing.status_code == 409 and "the issue has none" in nothing.json()["detail"]

    assert office.act(issue_id, "extension", working_days=2, reason="雨天").status_code == 200
    eventually(
        lambda: any(
            h["type"] == "ExtensionDecided" and h["decided_by"] == "rule"
            for h in (operator.issue(issue_id) or {}).get("history", [])
        ),
        what="the rule's grant in intake's view",
    )
    late = supervisor.post(path, {"granted": False, "reason": "不同意"})
    assert late.status_code == 409, late.text
    assert "already decided: granted by rule" in late.json()["detail"]
    assert [e["payload"]["decided_by"] for e in decisions_on_the_log(city, issue_id)] == ["rule"]
    assert resolve_clock(city, issue_id)["extended_days"] == 2


def test_supervision_takes_no_decision_over_http(city: Platform, people: dict[str, Any]) -> None:
    issue_id = accepted_issue(people)
    people["office"].act(issue_id, "extension", working_days=5, reason="需更换整段管道")
    body = {"granted": True, "decided_by": "anyone", "reason": "x"}
    url = f"{city['supervision'].url}/issues/{issue_id}/extension-decision"
    assert httpx.post(url, json=body, timeout=10).status_code == 404
    assert decisions_on_the_log(city, issue_id) == []
