"""Supervision's domain errors; `entrypoints.http` maps them to HTTP statuses in one place."""

from __future__ import annotations

__all__ = ["UnknownIssue"]


class UnknownIssue(LookupError):
    """Supervision has never heard of the issue."""

    def __init__(self, issue_id: str) -> None:
        super().__init__(f"supervision knows no issue {issue_id}")
        self.issue_id = issue_id
