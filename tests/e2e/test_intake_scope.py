"""No one acts where they don't belong, on the real platform: a county supervisor sees, decides,
verifies and closes within their county and is refused (403 naming their region, nothing
published by intake) elsewhere, lists included; a grid worker verifies within their grid only
and cannot be created without one."""

import asyncio
import json
from typing import Any

import httpx
import pytest

from devkit.processes import Platform
from services.runtime.topic_reader import read_topic
from tests.e2e.conftest import Client

COUNTY = "411905"
HERE = "411905003"  # a township of that county
THERE = "411901001"  # a township of another county
GRID = "411905003001001"  # a grid of a village of HERE
NEXT_GRID = "411905003002001"  # a grid of another village of HERE


def principal(city: Platform, role: str, **binding: str) -> httpx.Response:
    return httpx.post(
        f"{city['intake'].url}/principals",
        json={"role": role, "name": f"{role} for tests", **binding},
        headers={"Authorization": f"Bearer {city.admin_token}"},
        timeout=10,
    )


def client(city: Platform, role: str, **binding: str) -> Client:
    created = principal(city, role, **binding)
    assert created.status_code == 201, created.text
    return Client(city["intake"].url, str(created.json()["token"]))


@pytest.fixture(scope="module")
def operator(city: Platform) -> Client:
    return client(city, "operator")


def intake_events(city: Platform, issue_id: str) -> list[str]:
    """The types of what intake published about the issue, in log order."""
    topic = f"{city.namespace}.huiyin.issues.v1"
    records = asyncio.run(read_topic(city.endpoints.kafka_bootstrap, topic))
    events = [json.loads(r.value) for r in records]
    return [e["type"] for e in events if e["issue_id"] == issue_id and e["producer"] == "intake"]


def accepted(city: Platform, operator: Client, region_code: str) -> tuple[str, Client, str]:
    """A water issue reported at `region_code`, accepted by the office routing chose: its id,
    that office and the reporter's receipt code."""
    created = operator.report(
        "小区停水", category="water_supply", location={"region_code": region_code}
    )
    issue_id = str(created["issue_id"])
    view = operator.in_state(issue_id, "assigned")
    assert region_code in view["region_path"], view["region_path"]
    office = Client(city["intake"].url, city.token("office", office_id=view["office_id"]))
    assert office.act(issue_id, "accept").status_code == 200
    return issue_id, office, str(created["receipt_code"])


def ok(response: httpx.Response) -> dict[str, Any]:
    assert response.status_code == 200, response.text
    body: dict[str, Any] = response.json()
    return body


def refused_outside(response: httpx.Response, region: str) -> None:
    assert response.status_code == 403, response.text
    assert f"outside your region {region}" in response.json()["detail"]


def test_a_county_supervisor_acts_within_the_county_only(city: Platform, operator: Client) -> None:
    supervisor = client(city, "supervisor", region_code=COUNTY, level="county")
    mine, my_office, my_receipt = accepted(city, operator, HERE)
    theirs, their_office, their_receipt = accepted(city, operator, THERE)
    for issue_id, office in ((mine, my_office), (theirs, their_office)):
        asked = office.act(issue_id, "extension", working_days=5, reason="需更换整段管道")
        assert asked.status_code == 200, asked.text

    # seeing: their own county's issue, not the other's, in the status view and in Open311
    assert supervisor.issue(mine) is not None
    seen = httpx.get(f"{city['intake'].url}/issues/{theirs}", headers=supervisor.headers)
    refused_outside(seen, COUNTY)
    open311 = f"{city['intake'].url}/open311/v2"
    both = {"service_request_id": f"{mine},{theirs}"}
    listed = httpx.get(f"{open311}/requests.json", params=both, headers=supervisor.headers)
    assert [r["service_request_id"] for r in listed.json()] == [mine]
    token = supervisor.headers["Authorization"].removeprefix("Bearer ")
    by_key = httpx.get(f"{open311}/requests.json", params={**both, "api_key": token})
    assert [r["service_request_id"] for r in by_key.json()] == [mine]
    one = httpx.get(f"{open311}/requests/{theirs}.json", params={"api_key": token})
    assert one.status_code == 404
    public = httpx.get(f"{open311}/requests.json", params=both).json()
    assert {r["service_request_id"] for r in public} == {mine, theirs}, "the public list"

    # deciding the extension, verifying and closing: within the county only
    before = intake_events(city, theirs)
    decision = {"granted": True, "reason": "同意延期"}
    ok(supervisor.post(f"/issues/{mine}/extension-decision", decision))
    refused_outside(supervisor.post(f"/issues/{theirs}/extension-decision", decision), COUNTY)
    for issue_id, office in ((mine, my_office), (theirs, their_office)):
        ok(office.act(issue_id, "resolve", result="已恢复供水"))
    ok(supervisor.act(mine, "verify", passed=True))
    refused_outside(supervisor.act(theirs, "verify", passed=True), COUNTY)
    for issue_id, receipt in ((mine, my_receipt), (theirs, their_receipt)):
        reporter = Client(operator.intake, "unused")
        reporter.headers = {"X-Receipt-Code": receipt}
        ok(reporter.act(issue_id, "visit", satisfaction="satisfied", solved=True))
    assert ok(supervisor.act(mine, "close"))["state"] == "closed"
    refused_outside(supervisor.act(theirs, "close"), COUNTY)

    after = intake_events(city, theirs)
    assert after == [*before, "IssueResolved", "IssueVisited"], "only the office and reporter"
    assert "ExtensionDecided" in intake_events(city, mine)
    city_supervisor = client(city, "supervisor", region_code="411900", level="city")
    assert ok(city_supervisor.act(theirs, "close"))["state"] == "closed", "the city's may"


def test_a_grid_worker_verifies_within_their_grid_only(city: Platform, operator: Client) -> None:
    grid_worker = client(city, "grid_worker", region_code=GRID)
    mine, my_office, _ = accepted(city, operator, GRID)
    theirs, their_office, _ = accepted(city, operator, NEXT_GRID)
    township, township_office, _ = accepted(city, operator, HERE)  # wider than the grid
    for issue_id, office in (
        (mine, my_office),
        (theirs, their_office),
        (township, township_office),
    ):
        ok(office.act(issue_id, "resolve", result="已修复"))
    before = {issue_id: intake_events(city, issue_id) for issue_id in (theirs, township)}

    assert ok(grid_worker.act(mine, "verify", passed=True, note="现场核实"))["state"] == "verified"
    refused_outside(grid_worker.act(theirs, "verify", passed=True), GRID)
    refused_outside(grid_worker.act(township, "verify", passed=True), GRID)
    assert {issue_id: intake_events(city, issue_id) for issue_id in before} == before

    village_worker = client(city, "grid_worker", region_code=NEXT_GRID[:12])
    assert ok(village_worker.act(theirs, "verify", passed=True))["state"] == "verified"


@pytest.mark.parametrize(
    ("binding", "why"),
    [
        ({}, "a grid worker is bound to a grid, village or township"),
        ({"region_code": COUNTY}, "not '411905'"),
    ],
)
def test_a_grid_worker_is_bound_to_a_grid_village_or_township(
    city: Platform, binding: dict[str, str], why: str
) -> None:
    refused = principal(city, "grid_worker", **binding)
    assert refused.status_code == 422, refused.text
    assert refused.json()["detail"].startswith("region_code: ") and why in refused.json()["detail"]
