"""Reporting's domain metrics read from its projection on the real MongoDB-wire server:
every event applied twice and in shuffled order still counts each issue once.

Monday 12 October 2026 from 09:00 in Shanghai; the metrics are read 40 hours later.

  a  hotline complaint, township street-1: accepted after 2 h, resolved 5 h later
  b  web help, township street-2: never accepted, flagged yellow (accept clock 24 h: overdue)
  c  web help, county: accepted after 30 h
  d  hotline complaint: merged into a (not open)
  e  grid report: answered directly at intake (open, no level)
  f  hotline complaint, township: accepted after 1 h, resolved 2 h later, closed
  g  miniapp consultation, township: accepted after 1 h, resolve clock of 1 day (overdue)
"""

import random
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from prometheus_client import CollectorRegistry, generate_latest
from prometheus_client.parser import text_string_to_metric_families

from services.contracts.events import Event
from services.contracts.vocabulary import Channel, Flag, Kind, Level
from services.reporting.adapters.store import ReportingStore
from services.reporting.domain.facts import FactRules
from services.reporting.entrypoints.metrics import DomainMetrics
from services.reporting.handlers import ReportingHandlers
from services.runtime.mongo import make_mongo_client
from services.runtime.settings import PlatformSettings
from tests.reporting_events import Story

SHANGHAI = ZoneInfo("Asia/Shanghai")
T0 = datetime(2026, 10, 12, 9, 0, tzinfo=SHANGHAI)
HOUR = 3600.0


def stories() -> list[Story]:
    a = Story("a", T0).triage().assign("street-1").accept(2).resolve(5)
    b = (
        Story("b", T0, channel=Channel.WEB, kind=Kind.HELP)
        .triage()
        .assign("street-2")
        .flag(Flag.YELLOW, 25)
    )
    c = (
        Story("c", T0, channel=Channel.WEB, kind=Kind.HELP)
        .triage()
        .assign("county-a", level=Level.COUNTY)
        .accept(30)
    )
    d = Story("d", T0).merge_into(a, 1)
    e = Story("e", T0, channel=Channel.GRID, kind=Kind.REPORT, direct=True).answer(0.5)
    f = Story("f", T0).triage().assign("street-1").accept(1).resolve(2).close(1)
    g = (
        Story("g", T0, channel=Channel.MINIAPP, kind=Kind.CONSULTATION)
        .triage()
        .assign("street-3", resolve_days=1)
        .accept(1)
    )
    return [a, b, c, d, e, f, g]


def exposition(metrics: DomainMetrics) -> dict[tuple[str, frozenset[tuple[str, str]]], float]:
    registry = CollectorRegistry()
    registry.register(metrics)
    text = generate_latest(registry).decode()
    return {
        (s.name, frozenset(s.labels.items())): s.value
        for family in text_string_to_metric_families(text)
        for s in family.samples
        if s.name.startswith("huiyin_issues_")  # not when and how fast it was read
    }


async def test_the_domain_metrics_count_each_issue_once_whatever_the_replays(
    settings: PlatformSettings,
) -> None:
    events: list[Event] = [event for story in stories() for event in story.events]
    twice = events * 2
    random.Random(7).shuffle(twice)
    client = make_mongo_client(settings)
    try:
        store = ReportingStore(client[settings.database("reporting")], FactRules(SHANGHAI))
        await store.ensure_indexes()
        for event in twice:
            await ReportingHandlers(store).apply(event)
        metrics = DomainMetrics(store, now=lambda: T0 + timedelta(hours=40))
        await metrics.refresh()
        first = exposition(metrics)
        for event in events:  # a third copy of everything changes nothing
            await ReportingHandlers(store).apply(event)
        await metrics.refresh()
        assert exposition(metrics) == first
    finally:
        await client.close()

    def at(name: str, **labels: str) -> float:
        return first.get((name, frozenset(labels.items())), 0.0)

    received = "huiyin_issues_received_total"
    assert at(received, channel="hotline", kind="complaint") == 3
    assert at(received, channel="web", kind="help") == 2
    assert at(received, channel="grid", kind="report") == 1
    assert at(received, channel="miniapp", kind="consultation") == 1
    assert sum(v for (name, _), v in first.items() if name == received) == 7
    assigned = "huiyin_issues_assigned_total"
    assert at(assigned, channel="hotline", kind="complaint") == 2
    assert at(assigned, channel="web", kind="help") == 2
    assert sum(v for (name, _), v in first.items() if name == assigned) == 5

    open_ = {dict(labels)["state"] + "/" + dict(labels)["level"]: v
             for (name, labels), v in first.items() if name == "huiyin_issues_open"}  # fmt: skip
    assert open_ == {
        "resolved/township": 1,  # a
        "assigned/township": 1,  # b
        "accepted/county": 1,  # c
        "answered/none": 1,  # e
        "accepted/township": 1,  # g
    }
    assert at("huiyin_issues_flagged", flag="yellow") == 1
    assert at("huiyin_issues_flagged", flag="red") == 0
    assert at("huiyin_issues_overdue", clock="accept") == 1  # b
    assert at("huiyin_issues_overdue", clock="resolve") == 1  # g

    accept = "huiyin_issues_time_to_accept_seconds"
    assert at(f"{accept}_count", level="township") == 3  # a, f, g (f closed: still counted)
    assert at(f"{accept}_sum", level="township") == 4 * HOUR
    assert at(f"{accept}_bucket", level="township", le=str(1 * HOUR)) == 2  # f, g
    assert at(f"{accept}_bucket", level="township", le=str(2 * HOUR)) == 3
    assert at(f"{accept}_count", level="county") == 1
    assert at(f"{accept}_bucket", level="county", le=str(24 * HOUR)) == 0
    assert at(f"{accept}_bucket", level="county", le=str(48 * HOUR)) == 1
    resolve = "huiyin_issues_time_to_resolve_seconds"
    assert at(f"{resolve}_count", level="township") == 2  # a (7 h), f (3 h)
    assert at(f"{resolve}_sum", level="township") == 10 * HOUR
    assert at(f"{resolve}_bucket", level="township", le=str(4 * HOUR)) == 1
    assert at(f"{resolve}_bucket", level="township", le=str(8 * HOUR)) == 2
