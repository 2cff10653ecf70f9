"""Topic names and the log's shape. Every event of one issue is keyed by its issue_id."""

ISSUES_TOPIC = "huiyin.issues.v1"
DEAD_LETTER_TOPIC = "huiyin.issues.dlq.v1"
RETRY_TOPIC = "huiyin.issues.retry.{service}.v1"
"""A service's own retry topic: dead letters replayed for that service alone."""
SERVICES = ("intake", "routing", "supervision", "reporting")
"""The services that consume the log (each has a retry topic)."""
KEPT_FOREVER = {"retention.ms": "-1", "retention.bytes": "-1"}
"""The log is the source of truth: its topics never delete a record, by age or by size."""
DEFAULT_PARTITIONS = 12
SCHEMA_VERSION = 1


def issues_topic(prefix: str = "") -> str:
    """The facts topic, under an optional namespace prefix (tests and demos use their own)."""
    return f"{prefix}{ISSUES_TOPIC}"


def dead_letter_topic(prefix: str = "") -> str:
    return f"{prefix}{DEAD_LETTER_TOPIC}"


def retry_topic(service: str, prefix: str = "") -> str:
    """The topic only `service` reads besides the log: where its dead letters are replayed."""
    return f"{prefix}{RETRY_TOPIC.format(service=service)}"
