"""A real Prometheus (Debian's package) scrapes the four running services: the domain metrics
and the services' own, the repository's rules evaluated on them, every dashboard query."""

import json
import signal
from collections.abc import Iterator
from pathlib import Path

import pytest

from devkit.infra import REPO, Endpoints
from devkit.processes import CONSOLE, SERVICES, Platform
from devkit.prometheus import PrometheusServer
from tests.e2e.conftest import Client, eventually
from tests.fixtures.calendars import TEST_CALENDAR_ENV

OFFICE = "411900-urban_management"  # where the city sends a broken street light
REPORTS = {("hotline", "complaint"): 3, ("web", "help"): 2, ("miniapp", "suggestion"): 1}


SCRAPED = (*SERVICES, CONSOLE)
"""Every deployable Prometheus scrapes (HuiyinServiceDown counts the console too)."""


@pytest.fixture
def platform(servers: Endpoints, namespace: str, tmp_path: Path) -> Iterator[Platform]:
    """The services and the console as their own OS processes (as conftest's, console too)."""
    running = Platform(servers, namespace, tmp_path / "logs", TEST_CALENDAR_ENV, console=True)
    running.start()
    try:
        yield running
    finally:
        running.stop()


@pytest.fixture
def prometheus(platform: Platform, tmp_path: Path) -> Iterator[PrometheusServer]:
    targets = {name: f"127.0.0.1:{platform[name].port}" for name in SCRAPED}
    server = PrometheusServer(tmp_path / "prometheus", targets).start()
    try:
        yield server
    finally:
        server.stop()


def by(prometheus: PrometheusServer, promql: str, label: str) -> dict[str, float]:
    return {s["metric"].get(label, ""): float(s["value"][1]) for s in prometheus.query(promql)}


def scalar(prometheus: PrometheusServer, promql: str) -> float | None:
    result = prometheus.query(promql)
    return float(result[0]["value"][1]) if result else None


def test_prometheus_scrapes_the_reports_made_per_channel_and_every_service_s_health(
    platform: Platform, operator: Client, prometheus: PrometheusServer
) -> None:
    def targets_up() -> dict[str, str] | None:
        active = prometheus.api("targets")["activeTargets"]
        health = {t["labels"]["service"]: t["health"] for t in active}
        return health if health == dict.fromkeys(SCRAPED, "up") else None

    eventually(targets_up, what="the services and the console scraped")

    issues = [
        operator.report("小区路灯不亮", channel=channel, kind=kind)["issue_id"]
        for (channel, kind), n in REPORTS.items()
        for _ in range(n)
    ]
    for issue in issues:
        operator.in_state(issue, "assigned")
    office = Client(platform["intake"].url, platform.token("office", office_id=OFFICE))
    for issue in issues[:2]:
        assert office.act(issue, "accept").status_code == 200
        operator.in_state(issue, "accepted")

    received = 'sum by (channel) (huiyin_issues_received_total{job="huiyin"})'
    expected = {"hotline": 3.0, "web": 2.0, "miniapp": 1.0}
    eventually(
        lambda: {k: v for k, v in by(prometheus, received, "channel").items() if v} == expected,
        what="reports per channel in Prometheus",
    )
    kinds = by(prometheus, 'sum by (kind) (huiyin_issues_received_total{channel="web"})', "kind")
    assert kinds["help"] == 2 and sum(kinds.values()) == 2
    eventually(
        lambda: scalar(prometheus, "sum(huiyin_issues_time_to_accept_seconds_count)") == 2,
        what="two acceptances in the time-to-accept histogram",
    )
    assert scalar(prometheus, "sum(huiyin_issues_assigned_total)") == 6
    open_ = by(prometheus, "sum by (state) (huiyin_issues_open)", "state")
    assert {k: v for k, v in open_.items() if v} == {"assigned": 4, "accepted": 2}
    assert by(prometheus, "sum by (level) (huiyin_issues_open)", "level") == {"city": 6}
    assert by(prometheus, "huiyin_issues_overdue", "clock") == {"accept": 0, "resolve": 0}
    p90 = "histogram_quantile(0.9, sum by (le) (huiyin_issues_time_to_accept_seconds_bucket))"
    assert 0 <= (scalar(prometheus, p90) or -1) <= 3600, "both accepted within the hour"

    # The services' own metrics, by the `service` label the scrape gives them.
    processed = 'sum by (service) (huiyin_events_processed_total{type="IssueReported"})'
    eventually(
        lambda: by(prometheus, processed, "service") == dict.fromkeys(SERVICES, 6.0),
        what="every service processed the six reports",
    )
    published = by(prometheus, "sum by (type) (huiyin_events_published_total)", "type")
    assert published["IssueReported"] == 6 and published["IssueAssigned"] == 6
    assert by(prometheus, "huiyin:consumer_lag:sum", "service").keys() == set(SERVICES)
    assert scalar(prometheus, "sum(huiyin_events_dead_lettered_total)") is None

    # The repository's rules load and evaluate without error on the real series.
    def rules_evaluated() -> list[dict[str, str]] | None:
        rules = [r for g in prometheus.api("rules")["groups"] for r in g["rules"]]
        return rules if all(r["health"] == "ok" for r in rules) else None

    rules = eventually(rules_evaluated, what="every rule evaluated, none failing")
    assert {r["name"] for r in rules} >= {"HuiyinServiceDown", "huiyin:consumer_lag:sum"}
    assert scalar(prometheus, 'count(ALERTS{alertname="HuiyinServiceDown"})') is None

    # Every panel of both dashboards is a query the real Prometheus runs.
    for path in sorted((REPO / "deploy" / "grafana" / "dashboards").glob("*.json")):
        for panel in json.loads(path.read_text())["panels"]:
            for target in panel.get("targets", []):
                expr = target["expr"].replace("$__rate_interval", "1m").replace("$__range", "1h")
                prometheus.query(expr.replace("$service", ".*"))  # raises on an error

    # A service that stops answering shows as down, and the alert takes notice.
    platform["routing"].kill(signal.SIGKILL)
    eventually(
        lambda: by(prometheus, 'up{job="huiyin"}', "service").get("routing") == 0,
        what="routing down in `up`",
    )
    alert = 'ALERTS{alertname="HuiyinServiceDown", service="routing"}'
    eventually(lambda: prometheus.query(alert), what="HuiyinServiceDown pending for routing")
