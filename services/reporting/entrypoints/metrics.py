"""Domain metrics for Prometheus, read from reporting's count cells (so a replay never
double-counts): issues received and assigned by channel and kind, open by state and level,
flagged by colour, overdue by clock, and the distributions of time to accept and to resolve
(from the facts' own duration buckets, `FactRules.buckets_hours`, as seconds).

One refresh reads five cells by `_id` (domain/cells.py: `G`, and per clock the days and
today's minutes of the due times of open issues), whatever the projection's size:
`snapshot_from_cells`. `snapshot_of` counts the same over issue views (the tests check the
two agree). A scrape waits for a refresh a few seconds at most, then serves the last
snapshot: a slow database makes the domain numbers older, never the scrape fail.

Every label value comes from a bounded vocabulary (services/contracts/vocabulary.py), never
an issue or office id; a value outside it is counted as `other`, an absent one as `none`.
"""

import asyncio
import time
from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from enum import StrEnum
from typing import Any, Protocol

from prometheus_client.core import (
    CounterMetricFamily,
    GaugeMetricFamily,
    HistogramMetricFamily,
    Metric,
)
from prometheus_client.registry import Collector

from services.contracts.vocabulary import Channel, ClockKind, Flag, IssueState, Kind, Level
from services.reporting.domain import cells as cell_rules
from services.reporting.domain.facts import FactRules
from services.runtime.logging import get_logger

log = get_logger(__name__)

NONE = "none"
OTHER = "other"
INF = "+Inf"

# The states in which a clock's work is still to do, so passing its due time is overdue.
RUNNING: dict[ClockKind, list[str]] = {
    ClockKind.ACCEPT: [IssueState.ASSIGNED.value],
    ClockKind.RESOLVE: [IssueState.ASSIGNED.value, IssueState.ACCEPTED.value],
}
TIMED = ("accept", "resolve")  # the durations the facts bucket: hours_to_<x>, <x>_bucket
FIELDS = (
    *("channel", "kind", "assigned", "open", "state", "level", "flags"),
    *(f"{clock.value}_due" for clock in RUNNING),
    *(field for timed in TIMED for field in (f"{timed}_bucket", f"hours_to_{timed}")),
)
"""The view fields a refresh reads of every issue."""


@dataclass(frozen=True)
class Distribution:
    """A histogram as the facts hold it: issues per bucket (its upper bound in hours, as the
    facts label it, or +Inf) and the sum of their durations in hours."""

    counts: Mapping[str, int]
    hours: float

    def cumulative(self, bounds_hours: Iterable[float]) -> list[tuple[str, float]]:
        """Prometheus buckets in seconds: issues at most each bound, then all of them."""
        out = []
        for bound in bounds_hours:
            within = sum(n for le, n in self.counts.items() if le != INF and float(le) <= bound)
            out.append((str(float(bound * 3600)), float(within)))
        return [*out, (INF, float(sum(self.counts.values())))]

    @property
    def seconds(self) -> float:
        return self.hours * 3600


def distributions(facts: Iterable[Mapping[str, Any]], timed: str) -> dict[str, Distribution]:
    """Per level, the issues in each bucket of `timed` and their hours (view fields `level`,
    `<timed>_bucket`, `hours_to_<timed>`; an issue without a bucket is left out)."""
    counts: dict[str, dict[str, int]] = {}
    hours: dict[str, float] = {}
    for fact in facts:
        bucket = fact.get(f"{timed}_bucket")
        if bucket is None:
            continue
        level = bounded(fact.get("level"), Level)
        per_bucket = counts.setdefault(level, {})
        per_bucket[str(bucket)] = per_bucket.get(str(bucket), 0) + 1
        hours[level] = hours.get(level, 0.0) + float(fact.get(f"hours_to_{timed}") or 0.0)
    return {level: Distribution(counts[level], hours[level]) for level in counts}


def bounded(value: object, vocabulary: type[StrEnum]) -> str:
    """The label value: one of the vocabulary's, `none` when absent, `other` otherwise."""
    if value is None or value == "None":
        return NONE
    return str(value) if str(value) in vocabulary._value2member_map_ else OTHER


Counts = Mapping[tuple[str, ...], int]


@dataclass(frozen=True)
class DomainSnapshot:
    """The domain's numbers at one instant, as read from the issue facts."""

    received: Counts = field(default_factory=dict)  # (channel, kind)
    assigned: Counts = field(default_factory=dict)  # (channel, kind)
    open: Counts = field(default_factory=dict)  # (state, level)
    flagged: Mapping[str, int] = field(default_factory=dict)  # flag
    overdue: Mapping[str, int] = field(default_factory=dict)  # clock
    time_to_accept: Mapping[str, Distribution] = field(default_factory=dict)  # level
    time_to_resolve: Mapping[str, Distribution] = field(default_factory=dict)  # level
    bounds_hours: tuple[float, ...] = ()  # the histograms' bucket bounds


def families(snapshot: DomainSnapshot) -> list[Metric]:
    """The Prometheus metric families of a snapshot. Counters carry every channel × kind
    (zeros too), so a rate sees an issue's first report on a new pair."""
    received = CounterMetricFamily(
        "huiyin_issues_received", "Issues received, by channel and kind", labels=["channel", "kind"]
    )
    assigned = CounterMetricFamily(
        "huiyin_issues_assigned",
        "Issues assigned to an office, by channel and kind",
        labels=["channel", "kind"],
    )
    for family, counts in ((received, snapshot.received), (assigned, snapshot.assigned)):
        for channel in [*Channel, OTHER]:
            for kind in [*Kind, OTHER]:
                n = counts.get((str(channel), str(kind)), 0)
                if n or (channel != OTHER and kind != OTHER):
                    family.add_metric([str(channel), str(kind)], n)
    open_ = GaugeMetricFamily(
        "huiyin_issues_open",
        "Issues not closed or merged, by state and level (none: not assigned yet)",
        labels=["state", "level"],
    )
    for (state, level), n in sorted(snapshot.open.items()):
        open_.add_metric([state, level], n)
    flagged = GaugeMetricFamily(
        "huiyin_issues_flagged", "Open issues carrying a yellow or red flag", labels=["flag"]
    )
    for flag in Flag:
        flagged.add_metric([flag.value], snapshot.flagged.get(flag.value, 0))
    overdue = GaugeMetricFamily(
        "huiyin_issues_overdue",
        "Open issues past a clock's (first) due time with its work not done",
        labels=["clock"],
    )
    for clock in RUNNING:
        overdue.add_metric([clock.value], snapshot.overdue.get(clock.value, 0))
    out: list[Metric] = [received, assigned, open_, flagged, overdue]
    for name, doc, by_level in (
        (
            "huiyin_issues_time_to_accept_seconds",
            "From the first assignment to acceptance, by level",
            snapshot.time_to_accept,
        ),
        (
            "huiyin_issues_time_to_resolve_seconds",
            "From the first assignment to the first resolution, by level",
            snapshot.time_to_resolve,
        ),
    ):
        histogram = HistogramMetricFamily(name, doc, labels=["level"])
        for level, dist in sorted(by_level.items()):
            histogram.add_metric([level], dist.cumulative(snapshot.bounds_hours), dist.seconds)
        out.append(histogram)
    return out


def snapshot_of(
    facts: Iterable[Mapping[str, Any]], now: datetime, bounds_hours: tuple[float, ...]
) -> DomainSnapshot:
    """The domain's numbers over these issue views (fields `FIELDS`)."""
    received: dict[tuple[str, ...], int] = {}
    assigned: dict[tuple[str, ...], int] = {}
    open_: dict[tuple[str, ...], int] = {}
    flagged = dict.fromkeys((flag.value for flag in Flag), 0)
    overdue = dict.fromkeys((clock.value for clock in RUNNING), 0)
    facts = list(facts)
    for fact in facts:
        if fact.get("channel") is not None:
            pair = (bounded(fact["channel"], Channel), bounded(fact.get("kind"), Kind))
            received[pair] = received.get(pair, 0) + 1
            if fact.get("assigned"):
                assigned[pair] = assigned.get(pair, 0) + 1
        if not fact.get("open"):
            continue
        where = (bounded(fact.get("state"), IssueState), bounded(fact.get("level"), Level))
        open_[where] = open_.get(where, 0) + 1
        flags = fact.get("flags") or {}
        for flag in flagged:
            flagged[flag] += bool(flags.get(flag))
        for clock, states in RUNNING.items():
            due = fact.get(f"{clock.value}_due")
            if fact.get("state") in states and isinstance(due, datetime) and _aware(due) < now:
                overdue[clock.value] += 1
    return DomainSnapshot(
        received=received,
        assigned=assigned,
        open=open_,
        flagged=flagged,
        overdue=overdue,
        time_to_accept=distributions(facts, "accept"),
        time_to_resolve=distributions(facts, "resolve"),
        bounds_hours=bounds_hours,
    )


def snapshot_from_cells(
    cells: Callable[[str], Mapping[str, int]], now: datetime, bounds_hours: tuple[float, ...]
) -> DomainSnapshot:
    """The domain's numbers from the cells (`cells(id)`: a cell's counters, see cell_ids)."""
    counted = cells(cell_rules.GLOBAL)

    def pairs(prefix: str) -> dict[tuple[str, ...], int]:
        found = cell_rules.prefixed(counted, prefix)
        return {tuple(k.split(":")): n for k, n in found.items() if n > 0}

    utc = now.astimezone(UTC)
    today, minute = utc.date().isoformat(), utc.strftime("%H%M")
    overdue = {}
    for clock in RUNNING:
        days = cell_rules.prefixed(cells(f"Due|{clock.value}"), "d")
        minutes = cell_rules.prefixed(cells(f"Due|{clock.value}|{today}"), "m")
        overdue[clock.value] = sum(n for d, n in days.items() if d < today) + sum(
            n for m, n in minutes.items() if m < minute
        )
    flagged = cell_rules.prefixed(counted, "flagged")
    timed: dict[str, dict[str, Distribution]] = {}
    for name in TIMED:
        by_level: dict[str, dict[str, int]] = {}
        for key, n in cell_rules.prefixed(counted, name).items():
            level, _, bucket = key.partition(":")
            if n > 0:
                by_level.setdefault(level, {})[bucket] = n
        millis = cell_rules.prefixed(counted, f"{name}_ms")
        timed[name] = {
            level: Distribution(c, millis.get(level, 0) / 1000) for level, c in by_level.items()
        }
    return DomainSnapshot(
        received=pairs("received"),
        assigned=pairs("assigned"),
        open=pairs("open"),
        flagged={flag.value: flagged.get(flag.value, 0) for flag in Flag},
        overdue=overdue,
        time_to_accept=timed["accept"],
        time_to_resolve=timed["resolve"],
        bounds_hours=bounds_hours,
    )


def cell_ids(now: datetime) -> list[str]:
    """The cells a refresh reads."""
    today = now.astimezone(UTC).date().isoformat()
    per_clock = [f"Due|{c.value}{suffix}" for c in RUNNING for suffix in ("", f"|{today}")]
    return [cell_rules.GLOBAL, *per_clock]


class FactFields(Protocol):
    """What the domain metrics read of the store (adapters/store.py: ReportingStore)."""

    @property
    def rules(self) -> FactRules: ...

    async def cell(self, cell_id: str) -> dict[str, int]: ...


class DomainMetrics(Collector):
    """Serves the last snapshot (`collect`); `refresh` reads a new one from the store, and
    `before_scrape` starts one (at most every `min_interval` s) and waits `wait` s for it."""

    def __init__(
        self,
        store: FactFields,
        now: Callable[[], datetime] = lambda: datetime.now(UTC),
        *,
        min_interval: float = 5.0,
        wait: float = 3.0,
    ) -> None:
        self._store = store
        self._now = now
        self._min_interval = min_interval
        self._wait = wait
        self._started = -min_interval
        self._task: asyncio.Task[None] | None = None
        self.snapshot = DomainSnapshot()
        self.refreshed_at = 0.0  # Unix time of the last refresh
        self.refresh_seconds = 0.0  # how long it took

    async def refresh(self) -> None:
        started = time.perf_counter()
        now = self._now()
        ids = cell_ids(now)
        found = dict(zip(ids, await asyncio.gather(*map(self._store.cell, ids)), strict=True))
        self.snapshot = snapshot_from_cells(
            lambda i: found.get(i, {}), now, self._store.rules.buckets_hours
        )
        self.refresh_seconds = time.perf_counter() - started
        self.refreshed_at = time.time()

    async def before_scrape(self) -> None:
        running = self._task is not None and not self._task.done()
        if not running and time.monotonic() - self._started >= self._min_interval:
            self._started = time.monotonic()
            self._task = asyncio.create_task(self._refresh_or_log())
        if self._task is not None and not self._task.done():
            await asyncio.wait({self._task}, timeout=self._wait)

    async def settle(self) -> None:
        """Wait for the refresh under way, if any."""
        if self._task is not None:
            await asyncio.wait({self._task})

    async def _refresh_or_log(self) -> None:
        try:
            await self.refresh()
        except Exception as error:  # the last snapshot stays; the next scrape tries again
            log.warning("domain_metrics.refresh_failed", error=repr(error))

    def collect(self) -> Iterator[Metric]:
        yield from families(self.snapshot)
        age = GaugeMetricFamily(
            "huiyin_domain_metrics_refreshed_timestamp_seconds",
            "When the domain metrics were last read from the projection (0: not yet)",
        )
        age.add_metric([], self.refreshed_at)
        took = GaugeMetricFamily(
            "huiyin_domain_metrics_refresh_seconds", "How long the last read of them took"
        )
        took.add_metric([], self.refresh_seconds)
        yield from (age, took)


def _aware(moment: datetime) -> datetime:
    return moment if moment.tzinfo is not None else moment.replace(tzinfo=UTC)


class RebuildProgress(Protocol):
    """What the rebuild metrics read (handlers.RebuildStatus)."""

    state: str
    total: int
    read: int
    skipped: int
    issues: int
    written: int
    cells: int
    events_per_second: float


class RebuildMetrics(Collector):
    """The progress of this service's rebuild of its projection (at start or by POST
    /admin/rebuild), as gauges read from its status at each scrape."""

    def __init__(self, status: RebuildProgress) -> None:
        self._status = status

    def collect(self) -> Iterator[Metric]:
        status = self._status
        running = GaugeMetricFamily(
            "huiyin_reporting_rebuild_running", "1 while a rebuild of the projection runs"
        )
        running.add_metric([], 1 if status.state == "running" else 0)
        yield running
        figures = GaugeMetricFamily(
            "huiyin_reporting_rebuild",
            "The last rebuild's progress: events to read, read, skipped; issues folded; fact "
            "documents and cells written into the new generation",
            labels=["figure"],
        )
        for name in ("total", "read", "skipped", "issues", "written", "cells"):
            figures.add_metric([name], getattr(status, name))
        yield figures
        rate = GaugeMetricFamily(
            "huiyin_reporting_rebuild_events_per_second",
            "The last rebuild's events applied per second since its start",
        )
        rate.add_metric([], status.events_per_second)
        yield rate
