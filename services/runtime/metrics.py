"""A service's own health metrics (consumed, processed, failed, lag, handler latency,
HTTP requests and their latency).

Each service gets its own registry, so several can live in one test process. Labels are
bounded: event types, reasons, partitions and route templates, never an issue or office
id or a raw path.
"""

from dataclasses import dataclass, field

from prometheus_client import (
    CollectorRegistry,
    Counter,
    Gauge,
    GCCollector,
    Histogram,
    PlatformCollector,
    ProcessCollector,
    generate_latest,
)


@dataclass
class ServiceMetrics:
    service: str
    registry: CollectorRegistry = field(default_factory=CollectorRegistry)

    def __post_init__(self) -> None:
        r = self.registry
        ProcessCollector(registry=r)
        PlatformCollector(registry=r)
        GCCollector(registry=r)
        self.consumed = Counter(
            "huiyin_events_consumed", "Events read from the log", ["type"], registry=r
        )
        self.processed = Counter(
            "huiyin_events_processed", "Events whose effect is stored", ["type"], registry=r
        )
        self.skipped = Counter(
            "huiyin_events_skipped",
            "Events read and deliberately not applied (duplicate, unknown type)",
            ["reason"],
            registry=r,
        )
        self.failed = Counter(
            "huiyin_events_failed", "Handler attempts that raised", ["type"], registry=r
        )
        self.dead_lettered = Counter(
            "huiyin_events_dead_lettered",
            "Events sent to the dead-letter topic",
            ["reason"],
            registry=r,
        )
        self.published = Counter(
            "huiyin_events_published", "Events this service published", ["type"], registry=r
        )
        self.lag = Gauge(
            "huiyin_consumer_lag",
            "Records behind the partition's high watermark",
            ["partition"],
            registry=r,
        )
        self.handler_seconds = Histogram(
            "huiyin_handler_seconds",
            "Time to apply one event",
            ["type"],
            registry=r,
            buckets=(0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5),
        )

        self.http_requests = Counter(
            "huiyin_http_requests",
            "HTTP requests answered, by route template, method and status",
            ["route", "method", "status"],
            registry=r,
        )
        self.http_seconds = Histogram(
            "huiyin_http_request_seconds",
            "Time to answer an HTTP request, by route template, method and status",
            ["route", "method", "status"],
            registry=r,
            buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10),
        )

    def render(self) -> bytes:
        return generate_latest(self.registry)
