"""Domain metrics for Prometheus, read from the projection (so a replay never double-counts).

Labels are bounded sets (channel, kind, state), never an issue or office id.
"""

from collections.abc import Iterator

from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily
from prometheus_client.registry import Collector

from services.contracts.lifecycle import FINAL_STATES
from services.reporting.store import ReportingStore

FINAL = sorted(state.value for state in FINAL_STATES)

Snapshot = dict[str, dict[tuple[str, ...], int]]


class DomainMetrics(Collector):
    def __init__(self, store: ReportingStore) -> None:
        self._store = store
        self._snapshot: Snapshot = {"received": {}, "assigned": {}, "open": {}}

    async def refresh(self) -> None:
        reported = {"channel": {"$exists": True}}
        self._snapshot = {
            "received": await self._store.count_by(reported, "channel", "kind"),
            "assigned": await self._store.count_by(
                reported | {"assigned": True}, "channel", "kind"
            ),
            "open": await self._store.count_by({"state": {"$nin": FINAL}}, "state"),
        }

    def collect(self) -> Iterator[CounterMetricFamily | GaugeMetricFamily]:
        received = CounterMetricFamily(
            "huiyin_issues_received",
            "Issues received, by channel and kind",
            labels=["channel", "kind"],
        )
        for (channel, kind), n in self._snapshot["received"].items():
            received.add_metric([channel, kind], n)
        assigned = CounterMetricFamily(
            "huiyin_issues_assigned",
            "Issues assigned to an office, by channel and kind",
            labels=["channel", "kind"],
        )
        for (channel, kind), n in self._snapshot["assigned"].items():
            assigned.add_metric([channel, kind], n)
        open_ = GaugeMetricFamily(
            "huiyin_issues_open", "Issues not closed, by state", labels=["state"]
        )
        for (state,), n in self._snapshot["open"].items():
            open_.add_metric([state], n)
        yield from (received, assigned, open_)
