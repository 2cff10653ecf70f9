"""Domain metrics for Prometheus, read from reporting's projection (so a replay never
double-counts): issues received and assigned by channel and kind, open by state and level,
flagged by colour, overdue by clock, and the distributions of time to accept and to resolve.

Every label value comes from a bounded vocabulary (services/contracts/vocabulary.py), never
an issue or office id; a value outside it is counted as `other`, an absent one as `none`.
"""

from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from enum import StrEnum
from typing import Any

from prometheus_client.core import (
    CounterMetricFamily,
    GaugeMetricFamily,
    HistogramMetricFamily,
    Metric,
)
from prometheus_client.registry import Collector

from services.contracts.lifecycle import FINAL_STATES
from services.contracts.vocabulary import Channel, ClockKind, Flag, IssueState, Kind, Level
from services.reporting.store import ReportingStore

FINAL = sorted(state.value for state in FINAL_STATES)
NONE = "none"
OTHER = "other"

# Upper bounds in seconds: minutes (direct work, demos), hours, then the working-day clocks
# (1 working day to accept; 3, 7 or 10 to resolve; more calendar days over holidays).
TIME_BUCKETS: tuple[float, ...] = tuple(
    float(s)
    for s in (
        *(60, 300, 900, 3600, 4 * 3600, 8 * 3600),
        *(day * 86400 for day in (1, 2, 3, 5, 7, 10, 14, 21, 30)),
    )
)

# The states in which a clock's work is still to do, so passing its due time is overdue.
RUNNING: dict[ClockKind, list[str]] = {
    ClockKind.ACCEPT: [IssueState.ASSIGNED.value],
    ClockKind.RESOLVE: [IssueState.ASSIGNED.value, IssueState.ACCEPTED.value],
}


@dataclass(frozen=True)
class Distribution:
    """A histogram: how many observations fall in each bucket (the last is +Inf), and their sum."""

    counts: tuple[int, ...]
    total: float

    def cumulative(self, bounds: tuple[float, ...]) -> list[tuple[str, float]]:
        running, out = 0, []
        for le, n in zip([*map(str, bounds), "+Inf"], self.counts, strict=True):
            running += n
            out.append((le, float(running)))
        return out


def distribution(
    seconds: Iterable[float], bounds: tuple[float, ...] = TIME_BUCKETS
) -> Distribution:
    counts = [0] * (len(bounds) + 1)
    total = 0.0
    for s in seconds:
        counts[next((i for i, le in enumerate(bounds) if s <= le), len(bounds))] += 1
        total += s
    return Distribution(tuple(counts), total)


def durations_by_level(
    facts: Iterable[Mapping[str, Any]], start: str, end: str
) -> dict[str, Distribution]:
    """Seconds from `start` to `end` of each fact having both, grouped by its level."""
    seconds: dict[str, list[float]] = {}
    for fact in facts:
        began, done = fact.get(start), fact.get(end)
        if isinstance(began, datetime) and isinstance(done, datetime) and done >= began:
            level = bounded(fact.get("level"), Level)
            seconds.setdefault(level, []).append((done - began).total_seconds())
    return {level: distribution(values) for level, values in seconds.items()}


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
        "Open issues past a clock's due time with its work not done",
        labels=["clock"],
    )
    for clock in RUNNING:
        overdue.add_metric([clock.value], snapshot.overdue.get(clock.value, 0))
    out: list[Metric] = [received, assigned, open_, flagged, overdue]
    for name, doc, by_level in (
        (
            "huiyin_issues_time_to_accept_seconds",
            "From assignment to acceptance, by level",
            snapshot.time_to_accept,
        ),
        (
            "huiyin_issues_time_to_resolve_seconds",
            "From report to resolution, by level",
            snapshot.time_to_resolve,
        ),
    ):
        histogram = HistogramMetricFamily(name, doc, labels=["level"])
        for level, dist in sorted(by_level.items()):
            histogram.add_metric([level], dist.cumulative(TIME_BUCKETS), dist.total)
        out.append(histogram)
    return out


class DomainMetrics(Collector):
    """Reads a snapshot from the store before each scrape (`refresh`), serves it (`collect`)."""

    def __init__(
        self, store: ReportingStore, now: Callable[[], datetime] = lambda: datetime.now(UTC)
    ) -> None:
        self._store = store
        self._now = now
        self.snapshot = DomainSnapshot()

    async def refresh(self) -> None:
        count_by = self._store.count_by
        reported: dict[str, Any] = {"channel": {"$exists": True}}
        open_: dict[str, Any] = {"state": {"$nin": FINAL}}
        now = self._now()
        flagged = {
            flag.value: _total(await count_by(open_ | {f"flags.{flag.value}": True}, "state"))
            for flag in Flag
        }
        overdue = {
            clock.value: _total(
                await count_by(
                    {"state": {"$in": states}, f"{clock.value}_due": {"$lt": now}}, "state"
                )
            )
            for clock, states in RUNNING.items()
        }
        accepted = await self._store.facts({"accepted_at": {"$exists": True}})
        resolved = await self._store.facts({"resolved_at": {"$exists": True}})
        self.snapshot = DomainSnapshot(
            received=_labelled(await count_by(reported, "channel", "kind"), Channel, Kind),
            assigned=_labelled(
                await count_by(reported | {"assigned": True}, "channel", "kind"), Channel, Kind
            ),
            open=_labelled(await count_by(open_, "state", "level"), IssueState, Level),
            flagged=flagged,
            overdue=overdue,
            time_to_accept=durations_by_level(accepted, "assigned_at", "accepted_at"),
            time_to_resolve=durations_by_level(resolved, "reported_at", "resolved_at"),
        )

    def collect(self) -> Iterator[Metric]:
        yield from families(self.snapshot)


def _labelled(counts: Counts, *vocabularies: type[StrEnum]) -> dict[tuple[str, ...], int]:
    out: dict[tuple[str, ...], int] = {}
    for key, n in counts.items():
        labels = tuple(bounded(v, vocab) for v, vocab in zip(key, vocabularies, strict=True))
        out[labels] = out.get(labels, 0) + n
    return out


def _total(counts: Counts) -> int:
    return sum(counts.values())
