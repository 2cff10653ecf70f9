"""Routing's use cases, as the log drives them: judge and dispatch a report (or merge it
into the problem it duplicates), re-dispatch on a return, climb on supervision, go back
on a reopening, forget a closed or merged issue in the duplicate index.

Every decision is stored with the id of the event that caused it, and published with an
id derived from that cause: a replay finds the decision already stored and publishes the
same events again, which every consumer drops.

Partitions are handled side by side, so two reports of one problem can arrive at once:
the duplicate check and the opening of a new problem run under one lock per category, so
the second report always sees the first one's problem (within one routing instance).
"""

from collections.abc import Iterable
from datetime import datetime
from typing import Protocol

from services.contracts.events import (
    Envelope,
    Event,
    IssueAssigned,
    IssueEscalated,
    IssueMerged,
    IssueMergedPayload,
    IssueReported,
    IssueTriaged,
    derived_event_id,
)
from services.routing.domain.dispatch import assigned_payload, dispatch, fold
from services.routing.domain.duplicates import NewReport, OpenIssue, find_duplicate
from services.routing.domain.judging import Judgement, judge
from services.routing.domain.jurisdiction import City
from services.routing.domain.locating import GridIndex
from services.routing.domain.state import Assignment, RoutingState
from services.runtime.locks import KeyedLocks


class Store(Protocol):
    """What the use cases need of routing's store (`adapters.store.RoutingStore`)."""

    async def state(self, issue_id: str) -> RoutingState | None: ...

    async def save(self, issue_id: str, state: RoutingState, cause: str) -> bool: ...

    async def merge_of(self, issue_id: str) -> IssueMergedPayload | None: ...

    async def record_merge(
        self, issue_id: str, merge: IssueMergedPayload, reported_at: datetime, cause: str
    ) -> None: ...

    async def open_issue(self, issue: OpenIssue) -> None: ...

    async def close_issue(self, issue_id: str) -> None: ...

    async def open_candidates(self, category: str) -> list[OpenIssue]: ...


class Publisher(Protocol):
    """Publishes events to the log, returning once Kafka acknowledged them."""

    async def publish(self, *events: Envelope) -> object: ...

    async def publish_all(self, events: Iterable[Envelope]) -> object: ...


class RoutingHandlers:
    def __init__(self, city: City, grids: GridIndex, store: Store, publisher: Publisher) -> None:
        self._city = city
        self._grids = grids
        self._store = store
        self._publisher = publisher
        self._merging = KeyedLocks()

    async def reported(self, reported: IssueReported) -> None:
        """A report (not answered directly): triaged, then merged or assigned."""
        cause = str(reported.event_id)
        judgement = judge(reported.payload, self._city, self._grids)
        triaged = IssueTriaged(**self._common(reported, "triaged"), payload=judgement.payload())
        async with self._merging.hold(judgement.category):
            merge, state = await self._decide(reported, judgement, cause)
        if merge is not None:
            merged = IssueMerged(**self._common(reported, "merged"), payload=merge)
            await self._publisher.publish(triaged, merged)
        elif state is not None:
            await self._publisher.publish(triaged, *self._decided(reported, state))

    async def _decide(
        self, reported: IssueReported, judgement: Judgement, cause: str
    ) -> tuple[IssueMergedPayload | None, RoutingState | None]:
        """Merge the report into an open problem, or dispatch it as a new one (stored once)."""
        merge = await self._store.merge_of(reported.issue_id)
        state = await self._store.state(reported.issue_id)
        if merge is None and state is None:  # not decided before (else: a replay)
            where = reported.payload.location
            report = NewReport(
                category=judgement.category, tier=judgement.tier, kind=reported.payload.kind,
                latitude=where.latitude, longitude=where.longitude,
                reported_at=reported.occurred_at,
            )  # fmt: skip
            candidates = await self._store.open_candidates(judgement.category)
            found = find_duplicate(report, candidates, self._city.policy.duplicates)
            if found is not None:
                merge = found.payload()
                await self._store.record_merge(
                    reported.issue_id, merge, reported.occurred_at, cause
                )
            else:
                state = dispatch(judgement, self._city, cause=cause)
                await self._store.save(reported.issue_id, state, cause)
                if where.latitude is not None and where.longitude is not None:
                    await self._store.open_issue(
                        OpenIssue(
                            issue_id=reported.issue_id,
                            category=judgement.category,
                            latitude=where.latitude,
                            longitude=where.longitude,
                            last_reported_at=reported.occurred_at,
                        )
                    )
        return merge, state

    async def refold(self, event: Event) -> None:
        """A return, a supervision order or a reopening: folded into the issue's routing."""
        state = await self._store.state(event.issue_id)
        if state is None:
            return  # answered directly or merged: routing holds no dispatch for it
        cause = str(event.event_id)
        if not state.has_applied(cause):
            state = fold(state, event, self._city)
            await self._store.save(event.issue_id, state, cause)
        await self._publisher.publish_all(self._decided(event, state))

    async def closed(self, issue_id: str) -> None:
        """Closed or merged: no later report can be its duplicate."""
        await self._store.close_issue(issue_id)

    def _decided(self, cause: Event, state: RoutingState) -> list[Envelope]:
        """The events of the decisions `cause` led to (none: it changed nothing)."""
        made = [d for d in state.decisions if d.cause == str(cause.event_id)]
        return [
            IssueAssigned(
                **self._common(cause, f"assigned:{n}"), payload=assigned_payload(d, self._city)
            )
            if isinstance(d, Assignment)
            else IssueEscalated(**self._common(cause, f"escalated:{n}"), payload=d.payload())
            for n, d in enumerate(made)
        ]

    @staticmethod
    def _common(cause: Event, effect: str) -> dict[str, object]:
        return {
            "event_id": derived_event_id(cause.event_id, effect),
            "issue_id": cause.issue_id,
            "producer": "routing",
            "causation_id": cause.event_id,
            "correlation_id": cause.correlation_id or cause.event_id,
        }
