"""Reporting's domain metrics as Prometheus sees them: values, histograms, bounded labels."""

import asyncio
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from prometheus_client import CollectorRegistry, generate_latest
from prometheus_client.core import Metric
from prometheus_client.parser import text_string_to_metric_families
from prometheus_client.registry import Collector

from services.contracts.vocabulary import Channel, ClockKind, Flag, IssueState, Kind, Level
from services.reporting.domain import cells
from services.reporting.domain.facts import FactRules
from services.reporting.entrypoints.metrics import (
    FIELDS,
    NONE,
    OTHER,
    Distribution,
    DomainMetrics,
    DomainSnapshot,
    RebuildMetrics,
    bounded,
    distributions,
    families,
    snapshot_from_cells,
    snapshot_of,
)
from services.reporting.handlers import RebuildStatus

BOUNDS = FactRules(ZoneInfo("Asia/Shanghai")).buckets_hours


class Fixed(Collector):
    def __init__(self, snapshot: DomainSnapshot) -> None:
        self.snapshot = snapshot

    def collect(self) -> Iterator[Metric]:
        yield from families(self.snapshot)


def scrape(snapshot: DomainSnapshot) -> dict[tuple[str, frozenset[tuple[str, str]]], float]:
    registry = CollectorRegistry()
    registry.register(Fixed(snapshot))
    text = generate_latest(registry).decode()
    return {
        (s.name, frozenset(s.labels.items())): s.value
        for family in text_string_to_metric_families(text)
        for s in family.samples
    }


def value(
    samples: dict[tuple[str, frozenset[tuple[str, str]]], float], name: str, **labels: str
) -> float:
    return samples[(name, frozenset(labels.items()))]


def test_buckets_become_cumulative_seconds_whatever_bounds_the_facts_were_labelled_with() -> None:
    dist = Distribution({"1": 2, "4": 1, "24": 3, "+Inf": 1}, hours=100.5)
    assert dist.cumulative((1, 2, 8, 24)) == [
        ("3600.0", 2.0),
        ("7200.0", 2.0),
        ("28800.0", 3.0),  # "4" hours counts from the first bound above it
        ("86400.0", 6.0),
        ("+Inf", 7.0),
    ]
    assert dist.seconds == 100.5 * 3600


def test_the_facts_become_one_distribution_per_bounded_level() -> None:
    facts: list[dict[str, Any]] = [
        {"level": "city", "accept_bucket": "1", "hours_to_accept": 0.5},
        {"level": "city", "accept_bucket": "1", "hours_to_accept": 1.0},
        {"level": "city", "accept_bucket": "24", "hours_to_accept": 20.0},
        {"level": "township", "accept_bucket": "+Inf", "hours_to_accept": 300.0},
        {"level": "township", "accept_bucket": None, "hours_to_accept": None},  # not accepted
        {"level": None, "accept_bucket": "2", "hours_to_accept": 1.5},
        {"level": "411900-urban_management", "accept_bucket": "2", "hours_to_accept": 2.0},
    ]
    by_level = distributions(facts, "accept")
    assert sorted(by_level) == sorted([NONE, OTHER, "city", "township"])
    assert by_level["city"].counts == {"1": 2, "24": 1}
    assert by_level["city"].hours == 21.5
    assert by_level["township"].counts == {"+Inf": 1}


def test_label_values_stay_in_the_vocabulary() -> None:
    assert bounded("web", Channel) == "web"
    assert bounded(None, Level) == NONE
    assert bounded("None", Level) == NONE
    assert bounded("411900-urban_management", Level) == OTHER


def test_the_exposition_counts_what_the_snapshot_holds() -> None:
    samples = scrape(
        DomainSnapshot(
            received={("web", "help"): 3, ("hotline", "complaint"): 2},
            assigned={("web", "help"): 1},
            open={("assigned", "city"): 2, ("received", NONE): 1},
            flagged={"yellow": 2},
            overdue={"accept": 1},
            time_to_accept={"city": Distribution({"1": 1, "4": 1}, hours=2.5)},
            bounds_hours=(1, 4, 24),
        )
    )
    assert value(samples, "huiyin_issues_received_total", channel="web", kind="help") == 3
    assert value(samples, "huiyin_issues_received_total", channel="hotline", kind="complaint") == 2
    # every channel × kind is there, zero until reported, so rate() sees the first report
    assert value(samples, "huiyin_issues_received_total", channel="grid", kind="praise") == 0
    assert value(samples, "huiyin_issues_assigned_total", channel="web", kind="help") == 1
    assert value(samples, "huiyin_issues_open", state="assigned", level="city") == 2
    assert value(samples, "huiyin_issues_open", state="received", level=NONE) == 1
    assert value(samples, "huiyin_issues_flagged", flag="yellow") == 2
    assert value(samples, "huiyin_issues_flagged", flag="red") == 0
    assert value(samples, "huiyin_issues_overdue", clock="accept") == 1
    assert value(samples, "huiyin_issues_overdue", clock="resolve") == 0
    accept = "huiyin_issues_time_to_accept_seconds"
    assert value(samples, f"{accept}_bucket", level="city", le="3600.0") == 1
    assert value(samples, f"{accept}_bucket", level="city", le="14400.0") == 2
    assert value(samples, f"{accept}_bucket", level="city", le="86400.0") == 2
    assert value(samples, f"{accept}_bucket", level="city", le="+Inf") == 2
    assert value(samples, f"{accept}_count", level="city") == 2
    assert value(samples, f"{accept}_sum", level="city") == 2.5 * 3600


def test_every_label_value_comes_from_a_bounded_vocabulary() -> None:
    received: dict[tuple[str, ...], int] = {(c.value, k.value): 1 for c in Channel for k in Kind}
    everything = DomainSnapshot(
        received=received | {(OTHER, OTHER): 1},
        assigned={(c.value, k.value): 1 for c in Channel for k in Kind},
        open={(s.value, lv): 1 for s in IssueState for lv in [*Level, NONE, OTHER]},
        flagged={f.value: 1 for f in Flag},
        overdue={c.value: 1 for c in ClockKind},
        time_to_accept={lv: Distribution({"1": 1}, 1.0) for lv in [*Level, NONE, OTHER]},
        time_to_resolve={lv: Distribution({"+Inf": 1}, 1.0) for lv in [*Level, NONE, OTHER]},
        bounds_hours=BOUNDS,
    )
    allowed = {
        "channel": {*Channel, OTHER},
        "kind": {*Kind, OTHER},
        "state": set(IssueState),
        "level": {*Level, NONE, OTHER},
        "flag": set(Flag),
        "clock": set(ClockKind),
        "le": {str(float(b * 3600)) for b in BOUNDS} | {"+Inf"},
    }
    samples = scrape(everything)
    for _, labels in samples:
        for name, label_value in labels:
            assert label_value in allowed[name], (name, label_value)
    series = len(samples)
    buckets = len(BOUNDS) + 1 + 2  # + _count and _sum
    assert series <= 2 * 12 * 7 + 12 * 7 + 2 + 3 + 2 * 7 * buckets


NOW = datetime(2026, 11, 23, 12, 0, tzinfo=UTC)


def view(**fields: Any) -> dict[str, Any]:
    base: dict[str, Any] = dict.fromkeys(FIELDS)
    return base | {"assigned": False, "open": True, "flags": {}} | fields


def test_the_snapshot_counts_received_assigned_open_flagged_and_overdue() -> None:
    late, later = NOW - timedelta(hours=1), NOW + timedelta(hours=1)
    facts = [
        view(channel="web", kind="help", state="received"),
        view(channel="web", kind="help", state="assigned", level="city", assigned=True,
             accept_due=late, resolve_due=later, flags={"yellow": True, "red": False}),
        view(channel="hotline", kind="complaint", state="accepted", level="county",
             assigned=True, accept_due=late, resolve_due=late, accept_bucket="1",
             hours_to_accept=0.5, flags={"yellow": True, "red": True}),
        view(channel="hotline", kind="complaint", state="closed", level="county", open=False,
             assigned=True, accept_due=late, resolve_due=late, flags={"red": True}),
        view(channel="hotline", kind="complaint", state="merged", open=False),
        view(state="assigned", level="city", assigned=True),  # its report not seen yet
    ]  # fmt: skip
    snapshot = snapshot_of(facts, NOW, (1, 24))
    totals: cells.Cells = {}
    for fact in facts:
        for cell, counters in cells.contributions(fact).items():
            cells.add(totals.setdefault(cell, {}), counters)
    from_cells = snapshot_from_cells(lambda i: totals.get(i, {}), NOW, (1, 24))
    assert from_cells.received == snapshot.received
    assert from_cells.assigned == snapshot.assigned
    assert from_cells.open == snapshot.open
    assert from_cells.flagged == snapshot.flagged
    assert from_cells.overdue == snapshot.overdue
    assert from_cells.time_to_accept == snapshot.time_to_accept
    assert snapshot.received == {("web", "help"): 2, ("hotline", "complaint"): 3}
    assert snapshot.assigned == {("web", "help"): 1, ("hotline", "complaint"): 2}
    assert snapshot.open == {
        ("received", NONE): 1,
        ("assigned", "city"): 2,
        ("accepted", "county"): 1,
    }
    assert snapshot.flagged == {"yellow": 2, "red": 1}  # the closed one no longer counts
    # accept: only while assigned; resolve: while assigned or accepted, and only when late
    assert snapshot.overdue == {"accept": 1, "resolve": 1}
    assert snapshot.time_to_accept["county"].counts == {"1": 1}


class SlowStore:
    """A store whose read waits until the test lets it finish."""

    def __init__(self) -> None:
        self.go = asyncio.Event()
        self.reads = 0
        self.rules = FactRules(ZoneInfo("Asia/Shanghai"))

    async def cell(self, cell_id: str) -> dict[str, int]:
        self.reads += cell_id == cells.GLOBAL
        await self.go.wait()
        return cells.contributions(view(channel="web", kind="help", state="received")).get(
            cell_id, {}
        )


async def test_a_slow_read_never_holds_the_scrape_and_is_not_started_twice() -> None:
    store = SlowStore()
    metrics = DomainMetrics(store, lambda: NOW, min_interval=0, wait=0.01)
    await metrics.before_scrape()  # the read is still waiting: the scrape goes on
    assert metrics.snapshot == DomainSnapshot() and metrics.refreshed_at == 0
    await metrics.before_scrape()  # one read at a time
    assert store.reads == 1
    store.go.set()
    await metrics.settle()  # the read finishes in the background
    assert metrics.snapshot.received == {("web", "help"): 1}
    assert metrics.refreshed_at > 0


async def test_a_failed_read_keeps_the_last_snapshot() -> None:
    class Broken:
        rules = FactRules(ZoneInfo("Asia/Shanghai"))

        async def cell(self, cell_id: str) -> dict[str, int]:
            raise ConnectionError("mongo away")

    metrics = DomainMetrics(Broken(), lambda: NOW, min_interval=0)
    kept = DomainSnapshot(received={("web", "help"): 4})
    metrics.snapshot = kept
    await metrics.before_scrape()
    assert metrics.snapshot is kept


def test_a_rebuild_shows_its_progress_as_gauges() -> None:
    status = RebuildStatus()
    registry = CollectorRegistry()
    registry.register(RebuildMetrics(status))
    status.start()
    status.total, status.read, status.issues, status.written, status.cells = 900, 450, 50, 20, 7
    status.events_per_second = 1234.5

    def scraped() -> dict[tuple[str, str], float]:
        text = generate_latest(registry).decode()
        return {
            (sample.name, sample.labels.get("figure", "")): sample.value
            for family in text_string_to_metric_families(text)
            for sample in family.samples
        }

    now = scraped()
    assert now[("huiyin_reporting_rebuild_running", "")] == 1
    assert now[("huiyin_reporting_rebuild", "read")] == 450
    assert now[("huiyin_reporting_rebuild", "total")] == 900
    assert now[("huiyin_reporting_rebuild", "written")] == 20
    assert now[("huiyin_reporting_rebuild", "cells")] == 7
    assert now[("huiyin_reporting_rebuild_events_per_second", "")] == 1234.5
    status.state = "done"
    assert scraped()[("huiyin_reporting_rebuild_running", "")] == 0
