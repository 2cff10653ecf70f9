"""Notify's delivery metrics. Labels are bounded: the channel (3) and the kind (12)."""

from prometheus_client import CollectorRegistry, Counter


class NotifyMetrics:
    def __init__(self, registry: CollectorRegistry) -> None:
        labels = ["channel", "kind"]
        self.sent = Counter(
            "huiyin_notify_sent", "Messages a channel accepted", labels, registry=registry
        )
        self.failed = Counter(
            "huiyin_notify_failed", "Tries a channel refused or failed", labels, registry=registry
        )
        self.retried = Counter(
            "huiyin_notify_retried", "Failed tries scheduled again", labels, registry=registry
        )
        self.dead = Counter(
            "huiyin_notify_dead", "Messages given up after the last try", labels, registry=registry
        )
        self.skipped = Counter(
            "huiyin_notify_skipped",
            "Messages with nobody to send to (no address, no contact, channel not set up)",
            labels,
            registry=registry,
        )
        self.held = Counter(
            "huiyin_notify_held",
            "Messages held by the quiet hours",
            labels,
            registry=registry,
        )
