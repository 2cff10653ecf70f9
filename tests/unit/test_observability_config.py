"""The Grafana dashboards and the Prometheus rules ask only for metrics the services expose.

The names come from the real registries (every service's ServiceMetrics, supervision's and
reporting's domain metrics), so renaming a metric without its panels or rules fails here.
"""

import json
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any, cast

import pytest
import yaml

from services.notify.adapters.metrics import NotifyMetrics
from services.reporting.adapters.store import ReportingStore
from services.reporting.entrypoints.metrics import DomainMetrics
from services.runtime.metrics import ServiceMetrics
from services.supervision.adapters.metrics import SupervisionMetrics

DEPLOY = Path(__file__).resolve().parents[2] / "deploy"
DASHBOARDS = sorted((DEPLOY / "grafana" / "dashboards").glob("*.json"))
RULE_FILES = sorted((DEPLOY / "prometheus" / "rules").glob("*.yml"))

# What Prometheus itself adds to what it scrapes and evaluates.
PROMETHEUS_MADE = {"up", "ALERTS", "ALERTS_FOR_STATE"}

SUFFIXES = {
    "counter": ("_total", "_created"),
    "gauge": ("",),
    "histogram": ("_bucket", "_count", "_sum", "_created"),
    "summary": ("_count", "_sum", "_created", ""),
    "info": ("_info",),
    "unknown": ("",),
}

KEYWORDS = {
    "and", "or", "unless", "by", "without", "on", "ignoring", "group_left", "group_right",
    "offset", "bool", "inf", "nan",
}  # fmt: skip


def exposed_names() -> set[str]:
    """Every sample name a Huiyin service serves on /metrics."""
    service = ServiceMetrics("any")
    SupervisionMetrics(service.registry)
    NotifyMetrics(service.registry)
    metrics = [*service.registry.collect(), *DomainMetrics(cast(ReportingStore, None)).collect()]
    return {m.name + suffix for m in metrics for suffix in SUFFIXES[m.type]}


def recorded_names() -> set[str]:
    return {rule["record"] for rule in rules() if "record" in rule}


def rules() -> Iterator[dict[str, Any]]:
    for path in RULE_FILES:
        for group in yaml.safe_load(path.read_text())["groups"]:
            yield from group["rules"]


def metric_names(expr: str) -> set[str]:
    """The metric names a PromQL expression selects (not functions, labels or keywords)."""
    text = re.sub(r'"(?:[^"\\]|\\.)*"|\'(?:[^\'\\]|\\.)*\'', '""', expr)
    text = re.sub(r"\{[^}]*\}", " ", text)
    text = re.sub(r"\[[^\]]*\]", " ", text)
    text = re.sub(r"\b(by|without|on|ignoring|group_left|group_right)\s*\([^)]*\)", " ", text)
    names = set()
    for match in re.finditer(r"(?<![\w.$])([a-zA-Z_:][\w:]*)(\s*\()?", text):
        name, call = match.group(1), match.group(2)
        if not call and name not in KEYWORDS:
            names.add(name)
    return names


def panels(dashboard: dict[str, Any]) -> Iterator[dict[str, Any]]:
    for panel in dashboard["panels"]:
        yield panel
        yield from panel.get("panels", [])


def test_the_name_extraction_reads_promql() -> None:
    expr = (
        "histogram_quantile(0.99, sum by (service, le) (rate(huiyin_handler_seconds_bucket"
        '{job="huiyin", service=~"$service"}[$__rate_interval]))) / on (job) group_left '
        "huiyin:consumer_lag:sum offset 1h and up == 0"
    )
    assert metric_names(expr) == {"huiyin_handler_seconds_bucket", "huiyin:consumer_lag:sum", "up"}


def test_the_registries_expose_the_metrics_the_issue_names() -> None:
    names = exposed_names()
    for name in (
        "huiyin_events_consumed_total",
        "huiyin_events_processed_total",
        "huiyin_events_failed_total",
        "huiyin_events_dead_lettered_total",
        "huiyin_consumer_lag",
        "huiyin_handler_seconds_bucket",
        "huiyin_issues_received_total",
        "huiyin_issues_open",
        "huiyin_issues_flagged",
        "huiyin_issues_overdue",
        "huiyin_issues_time_to_resolve_seconds_bucket",
        "huiyin_issues_time_to_accept_seconds_bucket",
    ):
        assert name in names


@pytest.mark.parametrize("path", DASHBOARDS, ids=lambda p: p.stem)
def test_every_panel_queries_only_metrics_the_services_expose(path: Path) -> None:
    dashboard = json.loads(path.read_text())
    known = exposed_names() | recorded_names() | PROMETHEUS_MADE
    datasource = yaml.safe_load(
        (DEPLOY / "grafana" / "provisioning" / "datasources" / "prometheus.yml").read_text()
    )["datasources"][0]["uid"]
    queried = 0
    for panel in panels(dashboard):
        for target in panel.get("targets", []):
            assert target["datasource"]["uid"] == datasource, panel["title"]
            unknown = metric_names(target["expr"]) - known
            assert not unknown, f"{path.name} '{panel['title']}' asks for {sorted(unknown)}"
            queried += 1
    assert queried >= 10, "a dashboard with hardly any query"


@pytest.mark.parametrize("path", DASHBOARDS, ids=lambda p: p.stem)
def test_each_dashboard_is_one_grafana_dashboard_with_a_stable_uid_and_unique_panels(
    path: Path,
) -> None:
    dashboard = json.loads(path.read_text())
    assert dashboard["uid"].startswith("huiyin-")
    ids = [panel["id"] for panel in panels(dashboard)]
    assert len(ids) == len(set(ids))
    for panel in panels(dashboard):
        grid = panel["gridPos"]
        assert grid["x"] + grid["w"] <= 24, panel["title"]
    assert len({json.loads(p.read_text())["uid"] for p in DASHBOARDS}) == len(DASHBOARDS)


def test_the_alert_and_recording_rules_use_only_metrics_the_services_expose() -> None:
    known = exposed_names() | recorded_names() | PROMETHEUS_MADE
    for rule in rules():
        unknown = metric_names(rule["expr"]) - known
        assert not unknown, f"{rule.get('alert') or rule.get('record')} asks for {unknown}"


def test_the_issue_s_alerts_exist_and_tell_the_ops_team_what_to_do() -> None:
    alerts = {rule["alert"]: rule for rule in rules() if "alert" in rule}
    assert {
        "HuiyinServiceDown",
        "HuiyinConsumerLagGrowing",
        "HuiyinDeadLetters",
        "HuiyinOverdueSpiking",
    } <= set(alerts)
    for name, rule in alerts.items():
        assert rule["annotations"]["summary"] and rule["annotations"]["description"], name
        assert rule["labels"]["severity"] in {"warning", "critical"}, name
