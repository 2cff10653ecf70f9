"""The console's own health on /metrics: the process, pages served by status, refusals
from the services shown to people (by status)."""

from prometheus_client import (
    CollectorRegistry,
    Counter,
    GCCollector,
    PlatformCollector,
    ProcessCollector,
    generate_latest,
)


class ConsoleMetrics:
    def __init__(self) -> None:
        self.registry = r = CollectorRegistry()
        ProcessCollector(registry=r)
        PlatformCollector(registry=r)
        GCCollector(registry=r)
        self.responses = Counter(
            "huiyin_console_responses", "Responses served, by status class", ["status"],
            registry=r,
        )  # fmt: skip
        self.refusals = Counter(
            "huiyin_console_refusals", "Refusals of the services shown to people, by status",
            ["status"], registry=r,
        )  # fmt: skip

    def render(self) -> bytes:
        return generate_latest(self.registry)
