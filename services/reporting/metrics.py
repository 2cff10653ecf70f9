"""Domain metrics for Prometheus, read from reporting's projection (so a replay never
double-counts): issues received and assigned by channel and kind, open by state and level,
flagged by colour, overdue by clock, and the distributions of time to accept and to resolve
(from the facts' own duration buckets, `FactRules.buckets_hours`, as seconds).

Per scrape: seven $match/$group counts, and two reads of three fields of the accepted and
resolved issues (FerretDB v1 cannot $sum a field, and a histogram needs its durations' sum).

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

from services.contracts.vocabulary import Channel, ClockKind, Flag, IssueState, Kind, Level
from services.reporting.store import ReportingStore

NONE = "none"
OTHER = "other"
INF = "+Inf"

# The states in which a clock's work is still to do, so passing its due time is overdue.
RUNNING: dict[ClockKind, list[str]] = {
    ClockKind.ACCEPT: [IssueState.ASSIGNED.value],
    ClockKind.RESOLVE: [IssueState.ASSIGNED.value, IssueState.ACCEPTED.value],
}
TIMED = ("accept", "resolve")  # the durations the facts bucket: hours_to_<x>, <x>_bucket


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
        reported: dict[str, Any] = {"channel": {"$ne": None}}
        open_: dict[str, Any] = {"open": True}
        now = self._now()
        flagged = {
            flag.value: _total(await count_by(open_ | {f"flags.{flag.value}": True}, "state"))
            for flag in Flag
        }
        overdue = {
            clock.value: _total(
                await count_by(
                    open_ | {"state": {"$in": states}, f"{clock.value}_due": {"$lt": now}},
                    "state",
                )
            )
            for clock, states in RUNNING.items()
        }
        times = {
            timed: distributions(
                await self._store.fields(
                    {f"{timed}_bucket": {"$ne": None}},
                    *("level", f"{timed}_bucket", f"hours_to_{timed}"),
                ),
                timed,
            )
            for timed in TIMED
        }
        self.snapshot = DomainSnapshot(
            received=_labelled(await count_by(reported, "channel", "kind"), Channel, Kind),
            assigned=_labelled(
                await count_by(reported | {"assigned": True}, "channel", "kind"), Channel, Kind
            ),
            open=_labelled(await count_by(open_, "state", "level"), IssueState, Level),
            flagged=flagged,
            overdue=overdue,
            time_to_accept=times["accept"],
            time_to_resolve=times["resolve"],
            bounds_hours=self._store.rules.buckets_hours,
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
