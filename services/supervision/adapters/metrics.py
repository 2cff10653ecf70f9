"""Supervision's own metrics, in the service's registry next to the runtime's."""

from collections.abc import Callable

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram

__all__ = ["SupervisionMetrics"]


class SupervisionMetrics:
    def __init__(self, registry: CollectorRegistry) -> None:
        self.fired = Counter(
            "huiyin_supervision_steps_fired",
            "Clock steps fired (reminders, flags, escalations)",
            ["action"],
            registry=registry,
        )
        self.lag = Histogram(
            "huiyin_supervision_firing_lag_seconds",
            "How long after its due instant a step fired",
            registry=registry,
            buckets=(0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 300),
        )
        self.loaded = Counter(
            "huiyin_supervision_timers_loaded",
            "Timers read from the store on partition assignment",
            registry=registry,
        )
        self.firing_failed = Counter(
            "huiyin_supervision_firings_failed",
            "Firings that raised and were scheduled again",
            registry=registry,
        )
        self.provisional = Gauge(
            "huiyin_supervision_provisional_clocks",
            "Open clocks whose steps reach a year no calendar knows yet (computed on the "
            "provisional rule): declare the year in the calendar supplement",
            registry=registry,
        )
        self._timers = Gauge(
            "huiyin_supervision_timers",
            "Issues with a timer in this instance's in-memory schedule",
            registry=registry,
        )
        self._partitions = Gauge(
            "huiyin_supervision_partitions_owned",
            "Partitions whose timers this instance fires",
            registry=registry,
        )
        self._loading = Gauge(
            "huiyin_supervision_partitions_loading",
            "Owned partitions whose timers are still being loaded",
            registry=registry,
        )

    def watch(
        self,
        timers: Callable[[], float],
        partitions: Callable[[], float],
        loading: Callable[[], float],
    ) -> None:
        self._timers.set_function(timers)
        self._partitions.set_function(partitions)
        self._loading.set_function(loading)
