"""Intake's front door on the real platform: every channel, direct handling, the whole loop
from report to close through intake's endpoints, and every forbidden case."""

import asyncio
import json

import httpx
import pytest

from devkit.processes import Platform
from services.contracts.vocabulary import Channel
from services.runtime.topic_reader import read_topic
from tests.e2e.conftest import Client

PLACE = {"region_code": "411905003"}  # a township of the sample city; no point: never merged
TOWNSHIP = "411905003-township_office"
CITY_LIGHTING = "411900-urban_management"


@pytest.fixture(scope="module")
def staff(city: Platform) -> dict[str, Client]:
    url = city["intake"].url
    return {
        "operator": Client(url, city.token("operator")),
        "lighting": Client(url, city.token("office", office_id=CITY_LIGHTING)),
        "grid": Client(url, city.token("grid_worker", region_code=PLACE["region_code"])),
        "supervisor": Client(url, city.token("supervisor", region_code="411900", level="city")),
    }


def office(city: Platform, office_id: str) -> Client:
    """A client acting as `office_id` (whichever office routing chose)."""
    return Client(city["intake"].url, city.token("office", office_id=office_id))


def ok(response: httpx.Response) -> dict[str, object]:
    assert response.status_code in (200, 201), response.text
    body: dict[str, object] = response.json()
    return body


def log_types(city: Platform, issue_id: str, producer: str | None = None) -> list[str]:
    """The types of the issue's events in the log (only `producer`'s, when given)."""
    topic = f"{city.namespace}.huiyin.issues.v1"
    records = asyncio.run(read_topic(city.endpoints.kafka_bootstrap, topic))
    events = [json.loads(r.value) for r in records]
    return [
        e["type"] for e in events if e["issue_id"] == issue_id and producer in (None, e["producer"])
    ]


@pytest.mark.parametrize("channel", [c.value for c in Channel if c is not Channel.OPEN311])
def test_every_channel_is_received_and_dispatched(staff: dict[str, Client], channel: str) -> None:
    operator = staff["operator"]
    created = operator.report(
        "楼下水管爆了", channel=channel, kind="help", category="water_supply",
        location={**PLACE, "address": "中原区建设路 1 号"},
        media_urls=["https://example.org/photo.jpg"],
        reporter_phone="13912345678", reporter_name="张三",
        reporter_type="enterprise" if channel == "enterprise_visit" else "citizen",
        enterprise_id="ent-001" if channel == "enterprise_visit" else None,
    )  # fmt: skip
    view = operator.in_state(created["issue_id"], "assigned")
    assert (view["channel"], view["office_id"], view["level"]) == (channel, TOWNSHIP, "township")
    assert view["location"]["address"] == "中原区建设路 1 号"
    assert view["media_urls"] == ["https://example.org/photo.jpg"]


def test_a_consultation_answered_directly_is_never_dispatched_and_still_visited(
    staff: dict[str, Client], city: Platform
) -> None:
    operator = staff["operator"]
    answer = "携带身份证到任一社保网点即可补办。"
    created = operator.report("请问社保卡怎么补办？", kind="consultation", direct_answer=answer)
    assert created["state"] == "answered"
    issue_id = created["issue_id"]
    ok(operator.act(issue_id, "visit", satisfaction="satisfied", solved=True))
    ok(operator.act(issue_id, "close"))
    assert operator.in_state(issue_id, "closed", assignments=0)["direct_handling"] is True
    assert log_types(city, issue_id) == [
        "IssueReported", "IssueAnswered", "IssueVisited", "IssueClosed",
    ]  # fmt: skip


def test_the_whole_loop_with_a_return_an_extension_and_a_dissatisfied_visit(
    staff: dict[str, Client], city: Platform
) -> None:
    operator = staff["operator"]
    created = operator.report(
        "小区停水两天了", category="water_supply", location=PLACE, reporter_phone="13800000001"
    )
    issue_id = created["issue_id"]
    first = operator.in_state(issue_id, "assigned")["office_id"]
    assert first == TOWNSHIP

    ok(office(city, first).act(issue_id, "return", reason="该小区供水由物业二次加压，不属本街道"))
    view = operator.in_state(issue_id, "assigned", assignments=2)
    assert (view["office_id"], view["level"]) == ("411905-water_affairs", "county")
    center = office(city, view["office_id"])
    ok(center.act(issue_id, "accept"))
    ok(center.act(issue_id, "progress", note="已联系物业检修加压泵"))
    ok(center.act(issue_id, "extension", working_days=2, reason="需更换水泵配件"))
    ok(center.act(issue_id, "resolve", result="水泵已更换，恢复供水"))
    ok(staff["grid"].act(issue_id, "verify", passed=True, note="现场核实已供水"))

    reporter = Client(operator.intake, "unused")
    reporter.headers = {"X-Receipt-Code": created["receipt_code"]}
    answer = ok(reporter.act(issue_id, "visit", satisfaction="dissatisfied", solved=False))
    assert answer["state"] == "reopened"
    view = operator.in_state(issue_id, "assigned", assignments=3)
    assert view["office_id"] == "411905-water_affairs", "a reopened issue goes back to its office"

    ok(center.act(issue_id, "accept"))
    ok(center.act(issue_id, "resolve", result="更换整套加压设备"))
    ok(reporter.act(issue_id, "visit", satisfaction="satisfied", solved=True))
    ok(staff["supervisor"].act(issue_id, "close"))
    final = operator.in_state(issue_id, "closed", assignments=3)
    types = [h["type"] for h in final["history"]]
    for expected in ("IssueReturned", "ProgressNoted", "ExtensionRequested", "IssueVerified",
                     "IssueReopened", "IssueClosed"):  # fmt: skip
        assert expected in types
    assert types.count("IssueVisited") == 2


def test_forbidden_cases_are_refused_and_publish_nothing(
    staff: dict[str, Client], city: Platform
) -> None:
    operator, lighting = staff["operator"], staff["lighting"]
    issue_id = operator.report("水管漏水", category="water_supply", location=PLACE)["issue_id"]
    water = office(city, operator.in_state(issue_id, "assigned")["office_id"])
    other = operator.report("另一件路灯的事", category="street_lighting")
    before = log_types(
        city, issue_id, producer="intake"
    )  # supervision may still be starting clocks

    refusals = [
        (lighting.act(issue_id, "accept"), 403, "not assigned to your office"),  # wrong office
        (operator.act(issue_id, "accept"), 403, "operator may not accept"),  # wrong role
        (water.act(issue_id, "resolve", result="x"), 409, "only when accepted"),  # wrong state
        (water.act(issue_id, "close"), 403, "may not close"),
        (staff["grid"].act(issue_id, "verify", passed=True), 409, "that is assigned"),
        (water.post("/issues", {"channel": "web", "kind": "help", "text": "x"}), 403, "office"),
    ]
    reporter = Client(operator.intake, "unused")
    reporter.headers = {"X-Receipt-Code": other["receipt_code"]}  # someone else's receipt
    refusals.append((reporter.act(issue_id, "visit", satisfaction="satisfied", solved=True),
                     403, "only on their own issue"))  # fmt: skip
    refusals.append((httpx.get(f"{operator.intake}/issues/{issue_id}", headers=reporter.headers),
                     403, "may not see"))  # fmt: skip
    refusals.append((httpx.get(f"{operator.intake}/issues/{issue_id}", headers=lighting.headers),
                     403, "may not see"))  # fmt: skip
    for response, code, reason in refusals:
        assert response.status_code == code, response.text
        assert reason in response.json()["detail"]
    nobody = httpx.get(f"{operator.intake}/issues/{issue_id}")
    assert nobody.status_code == 401
    assert log_types(city, issue_id, producer="intake") == before, "a refusal publishes nothing"


def test_an_office_inbox_lists_what_it_holds_due_first(staff: dict[str, Client]) -> None:
    operator, lighting = staff["operator"], staff["lighting"]
    ids = [
        operator.report(f"第{n}盏路灯不亮", category="street_lighting")["issue_id"]
        for n in range(3)
    ]
    for issue_id in ids:
        operator.in_state(issue_id, "assigned")
    inbox = httpx.get(f"{lighting.intake}/inbox", headers=lighting.headers).json()
    mine = [item for item in inbox if item["issue_id"] in ids]
    assert len(mine) == 3
    assert all(item["office_id"] == CITY_LIGHTING for item in inbox)
    dues = [item["due_at"] for item in inbox]
    # due soonest first; an issue whose clock has not reached intake yet (no due time) last
    assert dues == sorted(dues, key=lambda due: (due is None, due or ""))
    assert all(item["overdue"] is False for item in mine)


def test_a_retried_report_with_the_same_idempotency_key_creates_one_issue(
    staff: dict[str, Client], city: Platform
) -> None:
    operator = staff["operator"]
    body = {"channel": "web", "kind": "complaint", "text": "夜间施工噪音"}
    first = operator.post("/issues", body, **{"Idempotency-Key": "retry-me-1"})
    again = operator.post("/issues", body, **{"Idempotency-Key": "retry-me-1"})
    assert first.status_code == again.status_code == 201
    assert first.json() == again.json()
    assert again.headers["Idempotent-Replayed"] == "true"
    changed = operator.post(
        "/issues", {**body, "text": "别的事"}, **{"Idempotency-Key": "retry-me-1"}
    )
    assert changed.status_code == 422
    assert log_types(city, first.json()["issue_id"]).count("IssueReported") == 1
