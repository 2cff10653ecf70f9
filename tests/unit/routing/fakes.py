"""Fakes of routing's ports (`services.routing.handlers.Store` and `Publisher`), in memory."""

from collections.abc import Iterable
from datetime import datetime

from services.contracts.events import Envelope, IssueMergedPayload
from services.routing.domain.duplicates import OpenIssue
from services.routing.domain.state import RoutingState


class FakeStore:
    def __init__(self) -> None:
        self.states: dict[str, RoutingState] = {}
        self.merges: dict[str, IssueMergedPayload] = {}
        self.open: dict[str, OpenIssue] = {}

    async def state(self, issue_id: str) -> RoutingState | None:
        return self.states.get(issue_id)

    async def save(self, issue_id: str, state: RoutingState, cause: str) -> bool:
        self.states[issue_id] = state
        return True

    async def merge_of(self, issue_id: str) -> IssueMergedPayload | None:
        return self.merges.get(issue_id)

    async def record_merge(
        self, issue_id: str, merge: IssueMergedPayload, reported_at: datetime, cause: str
    ) -> None:
        self.merges[issue_id] = merge

    async def open_issue(self, issue: OpenIssue) -> None:
        self.open[issue.issue_id] = issue

    async def close_issue(self, issue_id: str) -> None:
        self.open.pop(issue_id, None)

    async def open_candidates(self, category: str) -> list[OpenIssue]:
        return [issue for issue in self.open.values() if issue.category == category]


class FakePublisher:
    def __init__(self) -> None:
        self.published: list[Envelope] = []

    async def publish(self, *events: Envelope) -> None:
        self.published.extend(events)

    async def publish_all(self, events: Iterable[Envelope]) -> None:
        self.published.extend(events)
