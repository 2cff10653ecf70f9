"""Reporting's domain metrics as Prometheus sees them: values, histograms, bounded labels."""

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

from prometheus_client import CollectorRegistry, generate_latest
from prometheus_client.core import Metric
from prometheus_client.parser import text_string_to_metric_families
from prometheus_client.registry import Collector

from services.contracts.vocabulary import Channel, ClockKind, Flag, IssueState, Kind, Level
from services.reporting.metrics import (
    NONE,
    OTHER,
    TIME_BUCKETS,
    DomainSnapshot,
    bounded,
    distribution,
    durations_by_level,
    families,
)

T0 = datetime(2026, 11, 23, 9, 0, tzinfo=UTC)


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


def test_a_duration_on_a_bound_falls_in_that_bucket_and_the_rest_in_inf() -> None:
    dist = distribution([30, 60, 61, 10**9], bounds=(60, 120))
    assert dist.counts == (2, 1, 1)
    assert dist.cumulative((60, 120)) == [("60", 2.0), ("120", 3.0), ("+Inf", 4.0)]
    assert dist.total == 30 + 60 + 61 + 10**9


def test_durations_are_grouped_by_level_and_skip_unfinished_or_backwards_facts() -> None:
    facts: list[dict[str, Any]] = [
        {"level": "city", "assigned_at": T0, "accepted_at": T0 + timedelta(minutes=30)},
        {"level": "city", "assigned_at": T0, "accepted_at": T0 + timedelta(days=2)},
        {"level": "township", "assigned_at": T0, "accepted_at": T0 + timedelta(seconds=5)},
        {"level": "township", "assigned_at": T0},  # not accepted yet
        {"level": "township", "assigned_at": T0, "accepted_at": T0 - timedelta(seconds=1)},
        {"assigned_at": T0, "accepted_at": T0 + timedelta(hours=1)},  # level unknown
    ]
    by_level = durations_by_level(facts, "assigned_at", "accepted_at")
    assert sorted(by_level) == ["city", NONE, "township"]
    assert sum(by_level["city"].counts) == 2
    assert by_level["city"].total == 1800 + 2 * 86400
    assert sum(by_level["township"].counts) == 1


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
            time_to_accept={"city": distribution([30, 7200])},
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
    assert value(samples, f"{accept}_bucket", level="city", le="60.0") == 1
    assert value(samples, f"{accept}_bucket", level="city", le="3600.0") == 1
    assert value(samples, f"{accept}_bucket", level="city", le="14400.0") == 2
    assert value(samples, f"{accept}_bucket", level="city", le="+Inf") == 2
    assert value(samples, f"{accept}_count", level="city") == 2
    assert value(samples, f"{accept}_sum", level="city") == 7230


def test_every_label_value_comes_from_a_bounded_vocabulary() -> None:
    received: dict[tuple[str, ...], int] = {(c.value, k.value): 1 for c in Channel for k in Kind}
    everything = DomainSnapshot(
        received=received | {(OTHER, OTHER): 1},
        assigned={(c.value, k.value): 1 for c in Channel for k in Kind},
        open={(s.value, lv): 1 for s in IssueState for lv in [*Level, NONE, OTHER]},
        flagged={f.value: 1 for f in Flag},
        overdue={c.value: 1 for c in ClockKind},
        time_to_accept={lv: distribution([1]) for lv in [*Level, NONE, OTHER]},
        time_to_resolve={lv: distribution([1]) for lv in [*Level, NONE, OTHER]},
    )
    allowed = {
        "channel": {*Channel, OTHER},
        "kind": {*Kind, OTHER},
        "state": set(IssueState),
        "level": {*Level, NONE, OTHER},
        "flag": set(Flag),
        "clock": set(ClockKind),
        "le": {str(b) for b in TIME_BUCKETS} | {"+Inf"},
    }
    samples = scrape(everything)
    for _, labels in samples:
        for name, label_value in labels:
            assert label_value in allowed[name], (name, label_value)
    series = len(samples)
    buckets = len(TIME_BUCKETS) + 1 + 2  # + _count and _sum
    assert series <= 2 * 12 * 7 + 12 * 7 + 2 + 3 + 2 * 7 * buckets
