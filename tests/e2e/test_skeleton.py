"""One issue through all four services, each its own process, on the real Kafka and MongoDB."""

import httpx
from prometheus_client.parser import text_string_to_metric_families

from devkit.processes import Platform
from tests.e2e.conftest import Client, eventually


def metric(text: str, name: str, **labels: str) -> float:
    for family in text_string_to_metric_families(text):
        for sample in family.samples:
            if sample.name == name and all(sample.labels.get(k) == v for k, v in labels.items()):
                return float(sample.value)
    return 0.0


def test_a_report_is_assigned_clocked_and_counted(platform: Platform, operator: Client) -> None:
    created = operator.report(
        "小区门口的路灯坏了三天", channel="web", kind="help", reporter_phone="13800138000"
    )
    assert created["state"] == "received"
    assert len(created["receipt_code"]) == 10

    view = eventually(lambda: operator.assigned(created["issue_id"]), what="assigned with a clock")
    assert view["office_id"] == "411900-urban_management"
    assert view["category"] == "street_lighting"
    assert view["level"] == "city"
    assert view["deadlines"]["accept"] > view["reported_at"]
    assert [h["type"] for h in view["history"]][:3] == [
        "IssueReported",
        "IssueTriaged",
        "IssueAssigned",
    ]

    routing = httpx.get(f"{platform['routing'].url}/issues/{created['issue_id']}/routing").json()
    assert [d["office_id"] for d in routing["decisions"]] == ["411900-urban_management"]
    assert "street_lighting" in routing["decisions"][0]["reason"]
    [triaged] = [h for h in view["history"] if h["type"] == "IssueTriaged"]
    assert "路灯" in triaged["reason"], "the operator sees why: the keyword that judged it"

    def clocks() -> list[tuple[str, str]] | None:
        url = f"{platform['supervision'].url}/issues/{created['issue_id']}/clocks"
        found = [(c["clock"], c["office_id"]) for c in httpx.get(url).json()]
        return found if len(found) == 2 else None

    office = "411900-urban_management"
    started = eventually(clocks, what="the accept and the resolve clocks")
    assert sorted(started) == [("accept", office), ("resolve", office)]

    reporting = platform["reporting"].url
    eventually(
        lambda: (
            metric(
                httpx.get(f"{reporting}/metrics").text,
                "huiyin_issues_assigned_total",
                channel="web",
                kind="help",
            )
            == 1
        ),
        what="reporting counts the assignment",
    )
    exposition = httpx.get(f"{reporting}/metrics").text
    assert metric(exposition, "huiyin_issues_received_total", channel="web", kind="help") == 1
    assert metric(exposition, "huiyin_issues_open", state="assigned") == 1
    counts = httpx.get(f"{reporting}/counts").json()
    assert (counts["received"], counts["assigned"]) == (1, 1)


def test_every_service_serves_health_and_its_own_metrics(
    platform: Platform, operator: Client
) -> None:
    operator.report()
    for name, service in platform.services.items():
        health = httpx.get(f"{service.url}/healthz").json()
        assert health == {"status": "ok", "service": name, "kafka": True, "mongo": True}
    eventually(
        lambda: (
            metric(
                httpx.get(f"{platform['routing'].url}/metrics").text,
                "huiyin_events_processed_total",
                type="IssueReported",
            )
            == 1
        ),
        what="routing's own processed counter",
    )
    routing = httpx.get(f"{platform['routing'].url}/metrics").text
    assert metric(routing, "huiyin_events_published_total", type="IssueAssigned") == 1
    assert "huiyin_handler_seconds_bucket" in routing


def test_a_bad_report_gets_a_clear_error(platform: Platform, operator: Client) -> None:
    response = httpx.post(
        f"{platform['intake'].url}/issues",
        headers=operator.headers,
        json={"channel": "carrier-pigeon", "kind": "complaint", "text": "x", "colour": "red"},
    )
    assert response.status_code == 422
    problems = {tuple(d["loc"]): d["msg"] for d in response.json()["detail"]}
    assert ("body", "channel") in problems
    assert ("body", "colour") in problems
    missing = httpx.get(f"{platform['intake'].url}/issues/no-such-issue", headers=operator.headers)
    assert missing.status_code == 404
