"""Fakes of routing's ports (`services.routing.handlers.Store` and `Publisher`), in memory."""

from collections.abc import Iterable, Sequence
from dataclasses import replace
from datetime import datetime

from services.contracts.events import Envelope, IssueMergedPayload
from services.routing.domain.batch import Effects, Stored
from services.routing.domain.duplicates import Claim, OpenIssue
from services.routing.domain.state import RoutingState


class FakeStore:
    def __init__(self) -> None:
        self.states: dict[str, RoutingState] = {}
        self.merges: dict[str, IssueMergedPayload] = {}
        self.claimed: dict[str, Claim] = {}
        """The claims, by cell key."""
        self.claim_keys: dict[str, str] = {}
        """The cell key each opened issue claimed, by issue id."""
        self.merged_claims: dict[str, str] = {}
        self.commits = 0
        """Batches written whole."""

    @property
    def open(self) -> dict[str, OpenIssue]:
        """The problems holding a claim, by issue id."""
        return {claim.problem.issue_id: claim.problem for claim in self.claimed.values()}

    async def state(self, issue_id: str) -> RoutingState | None:
        return self.states.get(issue_id)

    async def save(
        self, issue_id: str, state: RoutingState, cause: str, claim: str | None = None
    ) -> bool:
        self.states[issue_id] = state
        if claim is not None:
            self.claim_keys[issue_id] = claim
        return True

    async def merge_of(self, issue_id: str) -> IssueMergedPayload | None:
        return self.merges.get(issue_id)

    async def record_merge(
        self,
        issue_id: str,
        merge: IssueMergedPayload,
        reported_at: datetime,
        cause: str,
        claim: str | None = None,
    ) -> None:
        self.merges[issue_id] = merge
        held = self.claimed.get(claim) if claim is not None else None
        if held is not None and held.problem.issue_id == merge.into_issue_id:
            latest = max(held.problem.last_reported_at, reported_at)
            self.claimed[held.key] = replace(
                held, problem=replace(held.problem, last_reported_at=latest)
            )

    async def claims(self, keys: Sequence[str]) -> list[Claim]:
        return [self.claimed[key] for key in keys if key in self.claimed]

    async def claim(self, key: str, problem: OpenIssue) -> Claim | None:
        if key in self.claimed:
            return self.claimed[key]
        self.claimed[key] = Claim(key, problem, confirmed=False)
        return None

    def _holds(self, key: str, issue_id: str) -> bool:
        return key in self.claimed and self.claimed[key].problem.issue_id == issue_id

    async def confirm(self, key: str, issue_id: str) -> None:
        if self._holds(key, issue_id):
            self.claimed[key] = replace(self.claimed[key], confirmed=True)

    async def release(self, key: str, issue_id: str) -> None:
        if self._holds(key, issue_id):
            del self.claimed[key]

    async def claim_of(self, issue_id: str) -> str | None:
        return self.claim_keys.get(issue_id)

    # a consumer batch (`services.routing.handlers.BatchStore`)

    async def stored(self, issue_ids: Iterable[str]) -> dict[str, Stored]:
        found = {}
        for issue_id in issue_ids:
            state, merge = self.states.get(issue_id), self.merges.get(issue_id)
            claim = self.claim_keys.get(issue_id)
            if state is not None or merge is not None or claim is not None:
                found[issue_id] = Stored(state, merge, claim, self.merged_claims.get(issue_id))
        return found

    async def take(self, fresh: Sequence[Claim], outlived: Sequence[Claim]) -> list[str]:
        for held in outlived:
            await self.release(held.key, held.problem.issue_id)
        held_already = []
        for claim in fresh:
            if await self.claim(claim.key, claim.problem) is not None:
                held_already.append(claim.key)
        return held_already

    async def release_all(self, claims: Sequence[Claim]) -> None:
        for held in claims:
            await self.release(held.key, held.problem.issue_id)

    async def commit(self, effects: Effects) -> None:
        self.commits += 1
        for what, key, issue_id, at in effects.claims:
            if what == "confirm":
                await self.confirm(key, issue_id)
            elif what == "extend" and at is not None and self._holds(key, issue_id):
                held = self.claimed[key]
                latest = max(held.problem.last_reported_at, at)
                self.claimed[key] = replace(
                    held, problem=replace(held.problem, last_reported_at=latest)
                )
            elif what == "release":
                await self.release(key, issue_id)
        for issue_id, write in effects.issues.items():
            if write.state is not None:
                self.states[issue_id] = write.state
            if write.merge is not None:
                self.merges[issue_id] = write.merge
            if write.claim is not None:
                self.claim_keys[issue_id] = write.claim
            if write.merged_claim is not None:
                self.merged_claims[issue_id] = write.merged_claim

    async def open_issue(self, issue: OpenIssue) -> None:
        """A test's shortcut: `issue` holds a claim of its own."""
        key = f"test:{issue.issue_id}"
        self.claimed[key] = Claim(key, issue)
        self.claim_keys[issue.issue_id] = key


class FakePublisher:
    def __init__(self) -> None:
        self.published: list[Envelope] = []

    async def publish(self, *events: Envelope) -> None:
        self.published.extend(events)

    async def publish_all(self, events: Iterable[Envelope]) -> None:
        self.published.extend(events)
