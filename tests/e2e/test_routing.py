"""Routing's rules on the real platform and the sample city (deploy/config/city):
the inverted pyramid, joint and coordinated handling, contact cadres, the return chain,
the five-level ladder, reopenings, and a burst of duplicates."""

import asyncio
import json
from collections import Counter
from typing import Any

import httpx
import pytest
from aiokafka import AIOKafkaProducer

from devkit.processes import Platform
from services.contracts.events import (
    Envelope,
    IssueReopened,
    IssueReopenedPayload,
    SupervisionOrdered,
    SupervisionOrderedPayload,
    encode,
)
from services.contracts.vocabulary import ClockKind
from services.runtime.topic_reader import read_topic
from tests.e2e.conftest import Client, eventually

TOWNSHIP = {"region_code": "411905003"}
MAIN = {"latitude": 34.75, "longitude": 113.62}  # a grid of township 411905003


@pytest.fixture(scope="module")
def operator(city: Platform) -> Client:
    return Client(city["intake"].url, city.token("operator"))


def routing(city: Platform, issue_id: str) -> dict[str, Any]:
    response = httpx.get(f"{city['routing'].url}/issues/{issue_id}/routing", timeout=10)
    assert response.status_code == 200, response.text
    body: dict[str, Any] = response.json()
    return body


def put(city: Platform, *events: Envelope) -> None:
    """Events other services would publish (supervision's orders, intake's reopenings)."""

    async def send() -> None:
        producer = AIOKafkaProducer(bootstrap_servers=city.endpoints.kafka_bootstrap)
        await producer.start()
        try:
            for event in events:
                topic = f"{city.namespace}.huiyin.issues.v1"
                await producer.send_and_wait(topic, encode(event), key=event.issue_id.encode())
        finally:
            await producer.stop()

    asyncio.run(send())


def decisions(city: Platform, issue_id: str, count: int) -> list[dict[str, Any]]:
    def probe() -> list[dict[str, Any]] | None:
        made: list[dict[str, Any]] = routing(city, issue_id)["decisions"]
        return made if len(made) >= count else None

    return eventually(probe, what=f"{count} decisions for {issue_id}")


def test_the_lowest_responsible_office_of_the_located_region(
    operator: Client, city: Platform
) -> None:
    created = operator.report("路灯坏了", category="street_lighting", location=MAIN)
    view = operator.in_state(created["issue_id"], "assigned")
    assert (view["office_id"], view["level"]) == ("411905003-township_enforcement", "township")
    [triaged] = [h for h in view["history"] if h["type"] == "IssueTriaged"]
    assert triaged["region_code"].startswith("411905003")  # the grid of the point
    assert "倒金字塔" in routing(city, created["issue_id"])["decisions"][0]["reason"]


def test_a_complex_issue_gets_a_lead_and_co_offices(operator: Client, city: Platform) -> None:
    created = operator.report("整个小区停水，多个部门都说不归自己管", category="water_supply",
                              location=TOWNSHIP)  # fmt: skip
    view = operator.in_state(created["issue_id"], "assigned")
    assert view["tier"] == "complex"
    assert view["office_id"] == "411905003-township_office"
    assert view["co_office_ids"] and view["office_id"] not in view["co_office_ids"]
    # the assignment names its offices as offices.yaml does, co-offices in their order
    topic = f"{city.namespace}.huiyin.issues.v1"
    log = asyncio.run(read_topic(city.endpoints.kafka_bootstrap, topic))
    [assigned] = [e["payload"] for r in log if (e := json.loads(r.value))["type"] == "IssueAssigned"
                  and e["issue_id"] == created["issue_id"]]  # fmt: skip
    assert assigned["office_name"] == "白阳乡人民政府"
    assert len(assigned["co_office_names"]) == len(assigned["co_office_ids"])
    assert all(assigned["co_office_names"])


def test_structural_issues_go_to_the_working_group_and_enterprises_to_their_cadre(
    operator: Client,
) -> None:
    loan = operator.report("企业融资难，贷款批不下来", category="financing",
                           reporter_type="enterprise", enterprise_id="ent-000001")  # fmt: skip
    view = operator.in_state(loan["issue_id"], "assigned")
    assert (view["tier"], view["office_id"]) == ("structural", "411900-wg_finance")
    flood = operator.report("厂区门前道路积水", category="drainage",
                            reporter_type="enterprise", enterprise_id="ent-000002")  # fmt: skip
    view = operator.in_state(flood["issue_id"], "assigned")
    assert view["office_id"] == "411905-development_reform"  # its contact cadre's office


def test_a_return_chain_climbs_a_level_each_time(operator: Client, city: Platform) -> None:
    issue_id = operator.report("自来水水压低", category="water_supply", location=TOWNSHIP)[
        "issue_id"
    ]
    chain = ["411905003-township_office", "411905-water_affairs", "411900-water_affairs"]
    for n, office_id in enumerate(chain, start=1):
        view = operator.in_state(issue_id, "assigned", assignments=n)
        assert view["office_id"] == office_id
        office = Client(operator.intake, city.token("office", office_id=office_id))
        response = office.act(issue_id, "return", reason=f"第{n}次退单：不属本单位职责")
        assert response.status_code == 200, response.text
    view = operator.in_state(issue_id, "assigned", assignments=4)
    assert view["office_id"] == "411900-hotline_center"
    levels = [d["level"] for d in decisions(city, issue_id, 4)]
    assert levels == ["township", "county", "city", "city"]


def test_supervision_climbs_the_ladder_one_rung_at_a_time(operator: Client, city: Platform) -> None:
    issue_id = operator.report("井盖丢失", category="drainage", location=TOWNSHIP)["issue_id"]
    office_id = operator.in_state(issue_id, "assigned")["office_id"]
    orders = [
        SupervisionOrdered(issue_id=issue_id, producer="supervision",
                           payload=SupervisionOrderedPayload(clock=ClockKind.RESOLVE,
                                                             office_id=office_id, reason="red"))
        for _ in range(2)
    ]  # fmt: skip
    put(city, orders[0], orders[0], orders[1])  # the first one delivered twice
    made = decisions(city, issue_id, 3)
    assert [(d["type"], d.get("to_rung")) for d in made] == [
        ("assigned", None), ("escalated", "center"), ("escalated", "deputy"),
    ]  # fmt: skip

    def escalated_twice() -> dict[str, Any] | None:
        view = operator.issue(issue_id)
        kinds = [h["type"] for h in view["history"]] if view else []
        return view if kinds.count("IssueEscalated") == 2 else None

    view = eventually(escalated_twice, what="two escalations in intake's view")
    assert view["office_id"] == office_id, "the lead office keeps the issue"


def test_the_second_reopening_climbs_a_level(operator: Client, city: Platform) -> None:
    issue_id = operator.report("下水道反复堵塞", category="drainage", location=TOWNSHIP)["issue_id"]
    first = operator.in_state(issue_id, "assigned")["office_id"]
    dissatisfied = IssueReopenedPayload(reason="回访不满意")
    reopen = [IssueReopened(issue_id=issue_id, producer="intake", payload=dissatisfied)
              for _ in range(2)]  # fmt: skip
    put(city, reopen[0])
    assert operator.in_state(issue_id, "assigned", assignments=2)["office_id"] == first
    put(city, reopen[1])
    view = operator.in_state(issue_id, "assigned", assignments=3)
    assert view["office_id"] != first and view["level"] == "county"


def test_fifty_reports_of_one_broken_water_main_are_one_problem_with_fifty_reporters(
    operator: Client, city: Platform
) -> None:
    burst = [
        operator.report(f"建设路水管爆了，水流成河（第{n}位市民）", category="water_supply",
                        location={"latitude": 34.8201 + n * 1e-5, "longitude": 113.7102})
        for n in range(50)
    ]  # fmt: skip
    ids = [b["issue_id"] for b in burst]
    settled = {i: operator.settled(i, "assigned", "merged") for i in ids}
    # the reports come in on several partitions at once: whichever routing took first is
    # the problem, and every other one is merged into it
    [problem] = [i for i, view in settled.items() if view["state"] == "assigned"]
    duplicates = [b for b in burst if b["issue_id"] != problem]
    for created in duplicates:
        view = settled[created["issue_id"]]
        [merged] = [h for h in view["history"] if h["type"] == "IssueMerged"]
        assert merged["into_issue_id"] == problem
        assert not [h for h in view["history"] if h["type"] == "IssueAssigned"]
    held = routing(city, problem)
    assert sorted(held["merged_reporters"]) == sorted(d["issue_id"] for d in duplicates)
    topic = f"{city.namespace}.huiyin.issues.v1"
    events = [json.loads(r.value) for r in
              asyncio.run(read_topic(city.endpoints.kafka_bootstrap, topic))]  # fmt: skip
    assigned = Counter(e["issue_id"] for e in events if e["type"] == "IssueAssigned"
                       and e["issue_id"] in ids)  # fmt: skip
    assert set(assigned) == {problem}, "one problem, one task"

    # the problem's office resolves it once; every merged reporter gets the answer and a visit
    held_by = Client(
        operator.intake, city.token("office", office_id=held["decisions"][0]["office_id"])
    )
    assert held_by.act(problem, "accept").status_code == 200
    assert held_by.act(problem, "resolve", result="抢修完毕，已恢复供水").status_code == 200
    for created in duplicates[:3]:
        reporter = Client(operator.intake, "unused")
        reporter.headers = {"X-Receipt-Code": created["receipt_code"]}
        own = httpx.get(f"{operator.intake}/receipts/{created['receipt_code']}").json()
        expected = {"issue_id": problem, "state": "resolved", "office_id": held_by_id(held)}
        assert own["problem"] == {**expected, "answer": "抢修完毕，已恢复供水"}
        visited = reporter.act(created["issue_id"], "visit", satisfaction="satisfied", solved=True)
        assert visited.status_code == 200, visited.text
        assert visited.json()["state"] == "visited"


def held_by_id(held: dict[str, Any]) -> str:
    return str(held["decisions"][0]["office_id"])


def test_the_tree_offices_and_rules_are_readable(city: Platform) -> None:
    base = city["routing"].url
    root = httpx.get(f"{base}/tree").json()
    assert (root["code"], root["level"], len(root["children"])) == ("411900", "city", 6)
    township = httpx.get(f"{base}/tree/411905003").json()
    assert [a["level"] for a in township["ancestors"]] == ["county", "city"]  # nearest first
    assert {c["level"] for c in township["children"]} == {"village"}
    office = httpx.get(f"{base}/offices/411905003-township_office").json()
    assert (office["level"], office["region"]) == ("township", "411905003")
    rules = httpx.get(f"{base}/rules").json()
    assert {"categories", "responsibility", "policy"} <= set(rules)
    assert httpx.get(f"{base}/tree/999").status_code == 404
