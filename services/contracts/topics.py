"""Topic names and the log's shape. Every event of one issue is keyed by its issue_id."""

ISSUES_TOPIC = "huiyin.issues.v1"
DEAD_LETTER_TOPIC = "huiyin.issues.dlq.v1"
DEFAULT_PARTITIONS = 12
SCHEMA_VERSION = 1


def issues_topic(prefix: str = "") -> str:
    """The facts topic, under an optional namespace prefix (tests and demos use their own)."""
    return f"{prefix}{ISSUES_TOPIC}"


def dead_letter_topic(prefix: str = "") -> str:
    return f"{prefix}{DEAD_LETTER_TOPIC}"
