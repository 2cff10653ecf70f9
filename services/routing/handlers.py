"""Routing's use cases, as the log drives them: judge and dispatch a report (or merge it
into the problem it duplicates), re-dispatch on a return, climb on supervision, go back
on a reopening, forget a closed or merged issue in the duplicate index.

Every decision is stored with the id of the event that caused it, and published with an
id derived from that cause: a replay finds the decision already stored and publishes the
same events again, which every consumer drops.

Partitions are handled side by side, and by several instances, so two reports of one
problem can arrive at once. A new problem claims the cell of its place in the duplicate
index with one insert under an id derived from (category, cell): of two reports in one
cell, across instances too, one claims it and the other finds the claim and is merged
into it. A report looks up the claims of the cells its radius reaches by id, so it also
finds a problem that claimed a neighbouring cell. Two reports of one problem in
neighbouring cells at the same moment each claim their own cell; so a claimer looks
around once more after claiming: a rival claim near it makes it give its cell up and
decide again after a short random pause (of two that see each other, both give way and
the pause separates them; of two where only one sees the other, the other keeps its claim).
Its claim is confirmed when it found no rival, and reports wait for a claim to be
confirmed before they merge into it, so nothing is merged into a problem that gives way.

A consumer batch is handled whole (`batch`): one read of the issues it names and one of the
claims near its reports; its reports decided in log order against those claims in memory
(as one event at a time would, the batch's own new problems included); the new problems'
claims taken in one insert and looked around once more in one read; then the batch's writes
as one bulk write per collection (`BatchStore.commit`) and its derived events as one produce
batch. Only when another instance is deciding near the same place at the same moment (a
claim it holds unconfirmed, a cell it took meanwhile, a rival claim near a new one) does the
batch give back the claims it took and go one event at a time, as above.
"""

import asyncio
import random
from collections.abc import Iterable, Sequence
from datetime import datetime
from typing import Protocol

from services.contracts.events import (
    Envelope,
    Event,
    IssueAssigned,
    IssueClosed,
    IssueEscalated,
    IssueMerged,
    IssueMergedPayload,
    IssueReported,
    IssueTriaged,
    derived_event_id,
)
from services.routing.domain.batch import Effects, IssueEffects, Stored
from services.routing.domain.dispatch import assigned_payload, dispatch, fold
from services.routing.domain.duplicates import (
    Claim,
    Merge,
    NewReport,
    OpenIssue,
    cell_of,
    cells_near,
    find_duplicate,
    outlived,
)
from services.routing.domain.judging import Judgement, judge
from services.routing.domain.jurisdiction import City
from services.routing.domain.locating import GridIndex
from services.routing.domain.policy import DuplicatePolicy
from services.routing.domain.state import Assignment, RoutingState
from services.runtime.locks import KeyedLocks


class Store(Protocol):
    """What the use cases need of routing's store (`adapters.store.RoutingStore`)."""

    async def state(self, issue_id: str) -> RoutingState | None: ...

    async def save(
        self, issue_id: str, state: RoutingState, cause: str, claim: str | None = None
    ) -> bool:
        """Stores the state (and the key of the cell the issue claimed, when given)."""
        ...

    async def merge_of(self, issue_id: str) -> IssueMergedPayload | None: ...

    async def record_merge(
        self,
        issue_id: str,
        merge: IssueMergedPayload,
        reported_at: datetime,
        cause: str,
        claim: str | None = None,
    ) -> None:
        """Stores the merge; the claim `claim` of the problem keeps its window open."""
        ...

    async def claims(self, keys: Sequence[str]) -> list[Claim]:
        """The claims of these cells (lookups by id)."""
        ...

    async def claim(self, key: str, problem: OpenIssue) -> Claim | None:
        """Claims the cell for `problem`, unconfirmed, with one insert: None when it did,
        else the claim that holds the cell."""
        ...

    async def confirm(self, key: str, issue_id: str) -> None:
        """Marks the cell's claim confirmed if `issue_id` holds it."""
        ...

    async def release(self, key: str, issue_id: str) -> None:
        """Frees the cell if `issue_id` still holds it."""
        ...

    async def claim_of(self, issue_id: str) -> str | None:
        """The key of the cell the issue claimed when it was opened."""
        ...


class BatchStore(Store, Protocol):
    """What a whole consumer batch needs besides (`adapters.store.RoutingStore`)."""

    async def stored(self, issue_ids: Iterable[str]) -> dict[str, Stored]:
        """What is stored of these issues (those found), in one read."""
        ...

    async def take(self, fresh: Sequence[Claim], outlived: Sequence[Claim]) -> list[str]:
        """Frees the outlived claims, then takes the fresh ones (unconfirmed) in one insert:
        the keys of those that were held already."""
        ...

    async def release_all(self, claims: Sequence[Claim]) -> None:
        """Frees each cell its claim's problem still holds."""
        ...

    async def commit(self, effects: Effects) -> None:
        """The claims' writes, then the issues', each as one bulk write."""
        ...


class Publisher(Protocol):
    """Publishes events to the log, returning once Kafka acknowledged them."""

    async def publish(self, *events: Envelope) -> object: ...

    async def publish_all(self, events: Iterable[Envelope]) -> object: ...


class RoutingHandlers:
    def __init__(
        self, city: City, grids: GridIndex, store: BatchStore, publisher: Publisher
    ) -> None:
        self._city = city
        self._grids = grids
        self._store = store
        self._publisher = publisher
        # Not needed for one problem across instances (the claims decide). It makes one
        # instance's reports of a category take turns, so that one instance gives exactly
        # the answers of one sequential pass over its reports, and its own reports never
        # make each other give way or wait (only another instance's can).
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
        if merge is not None or state is not None:
            return merge, state  # decided before: a replay
        where = reported.payload.location
        report = NewReport(
            category=judgement.category, tier=judgement.tier, kind=reported.payload.kind,
            latitude=where.latitude, longitude=where.longitude,
            reported_at=reported.occurred_at,
        )  # fmt: skip
        into, claimed = await self._place(reported.issue_id, report)
        if into is not None:
            key, merge = into
            await self._store.record_merge(
                reported.issue_id, merge, reported.occurred_at, cause, claim=key
            )
            return merge, None
        state = dispatch(judgement, self._city, cause=cause)
        await self._store.save(reported.issue_id, state, cause, claim=claimed)
        return None, state

    async def _place(
        self, issue_id: str, report: NewReport
    ) -> tuple[tuple[str, IssueMergedPayload] | None, str | None]:
        """The claimed problem this report duplicates (with its cell key), or else the key
        of the cell the report claimed as a new problem (None: it claimed none, having no
        place, or its cell being held by a problem it cannot be merged into)."""
        policy = self._city.policy.duplicates
        if report.latitude is None or report.longitude is None:
            return None, None
        lat, lon = report.latitude, report.longitude
        cell = cell_of(report.category, lat, lon, policy).key
        near = [c.key for c in cells_near(report.category, lat, lon, policy)]
        problem = OpenIssue(issue_id, report.category, lat, lon, report.reported_at)
        for attempt in range(CLAIM_ATTEMPTS):
            last = attempt == CLAIM_ATTEMPTS - 1
            held = await self._store.claims(near)
            if any(c.problem.issue_id == issue_id for c in held):
                await self._store.confirm(cell, issue_id)
                return None, cell  # claimed before a crash: this replay opens it
            duplicated = _duplicated(report, held, policy)
            if duplicated is not None:
                into, merge = duplicated
                if into.confirmed or last:
                    return (into.key, merge.payload()), None
                await asyncio.sleep(_pause(attempt))  # it may yet give way: ask again
                continue
            holder = await self._store.claim(cell, problem)
            if holder is not None:
                if _duplicated(report, [holder], policy) is not None:
                    continue  # claimed by another report since the look-up: ask again
                if not outlived(holder.problem, report, policy):
                    return None, None  # held by a problem this report cannot join
                await self._store.release(cell, holder.problem.issue_id)  # take it over
                continue
            rivals = [c for c in await self._store.claims(near) if c.key != cell]
            if last or _duplicated(report, rivals, policy) is None:
                await self._store.confirm(cell, issue_id)
                return None, cell
            await self._store.release(cell, issue_id)  # a rival near: give way, decide again
            await asyncio.sleep(_pause(attempt))
        return None, None

    async def batch(self, events: Sequence[Event]) -> None:
        """A consumer batch of the events routing reacts to, in log order (see the module)."""
        if not events:
            return
        run = _Batch(self, await self._store.stored({e.issue_id for e in events}))
        reports = [e for e in events if isinstance(e, IssueReported)]
        run.read(await self._store.claims(run.near_all(reports)), reports)
        if await run.decide(events) and await self._take(run):
            await self._store.commit(run.effects)
            await self._publisher.publish_all(run.published)
            return
        if run.leftovers:
            await self._store.release_all(run.leftovers)
        for event in events:  # another instance decides near the same place: one at a time
            await self.one(event)

    async def _take(self, run: "_Batch") -> bool:
        """Take the batch's new claims; False (having given them back) when another instance
        took one of those cells meanwhile or claimed near one of them."""
        effects = run.effects
        if not effects.fresh and not effects.outlived:
            return True
        fresh = list(effects.fresh.values())
        held = await self._store.take(fresh, effects.outlived)
        if not held:
            policy = self._city.policy.duplicates
            around = {k for c in fresh for k in run.near_claim(c)}
            now = await self._store.claims(sorted(around))
            foreign = [c for c in now if (c.key, c.problem.issue_id) not in run.seen]
            rivals = [
                claim
                for claim in fresh
                if _duplicated(run.report_of[claim.key], [f for f in foreign if f.key != claim.key],
                               policy) is not None
            ]  # fmt: skip
            if not rivals:
                return True
        await self._store.release_all([c for c in fresh if c.key not in held])
        return False

    async def one(self, event: Event) -> None:
        """One event routing reacts to, on its own."""
        if isinstance(event, IssueReported):
            await self.reported(event)
        elif isinstance(event, IssueClosed | IssueMerged):
            await self.closed(event.issue_id)
        else:
            await self.refold(event)

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
        """Closed or merged: no later report can be its duplicate (its claim is released)."""
        key = await self._store.claim_of(issue_id)
        if key is not None:
            await self._store.release(key, issue_id)

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


class _Batch:
    """One consumer batch decided in memory, in log order: what is stored of its issues and
    the claims near its reports as read at its start, changed as its events are decided; the
    effects to write and the events to publish."""

    def __init__(self, handlers: RoutingHandlers, stored: dict[str, Stored]) -> None:
        self.h = handlers
        self.policy = handlers._city.policy.duplicates
        self.stored = stored
        self.view: dict[str, Claim] = {}
        self.effects = Effects()
        self.published: list[Envelope] = []
        self.report_of: dict[str, NewReport] = {}
        """The report of each new claim, by cell key (to look around it again)."""
        self.judged: dict[str, Judgement] = {}
        self.seen: set[tuple[str, str]] = set()
        """The claims this batch decided with: those read at its start and its new ones."""
        self._named: set[str] = set()
        self.leftovers: list[Claim] = []
        self.released: dict[str, Claim] = {}
        """Claims given up by a closing in this batch (freed when the batch commits)."""

    def read(self, claims: Sequence[Claim], reports: Sequence[IssueReported]) -> None:
        """The claims near the batch's reports. Those a crashed run of this batch took for
        its reports (unconfirmed, held by a report not decided yet) are given up first, so
        the batch decides again from where it began (`leftovers`)."""
        undecided = {r.issue_id for r in reports if not self._now(r.issue_id).decided}
        self.leftovers = [c for c in claims if not c.confirmed and c.problem.issue_id in undecided]
        self.effects.outlived += self.leftovers
        mine = {c.key for c in self.leftovers}
        self.view = {c.key: c for c in claims if c.key not in mine}
        self.seen = {(c.key, c.problem.issue_id) for c in claims}

    def judge(self, reported: IssueReported) -> Judgement:
        cause = str(reported.event_id)
        if cause not in self.judged:
            self.judged[cause] = judge(reported.payload, self.h._city, self.h._grids)
        return self.judged[cause]

    def near_all(self, reports: Sequence[IssueReported]) -> list[str]:
        keys: dict[str, None] = {}
        for reported in reports:
            category = self.judge(reported).category
            where = reported.payload.location
            if where.latitude is not None and where.longitude is not None:
                near = cells_near(category, where.latitude, where.longitude, self.policy)
                keys.update((c.key, None) for c in near)
        return list(keys)

    def near_claim(self, claim: Claim) -> list[str]:
        p = claim.problem
        return [c.key for c in cells_near(p.category, p.latitude, p.longitude, self.policy)]

    def write(self, issue_id: str) -> IssueEffects:
        found = self.effects.issues.get(issue_id)
        if found is None:
            known = issue_id in self.stored
            found = IssueEffects(stored=known, new=not known and self._read(issue_id))
            self.effects.issues[issue_id] = found
        return found

    def _read(self, issue_id: str) -> bool:
        """Whether this batch read the issue (so, not finding it, knows it is new)."""
        return issue_id in self._named

    async def decide(self, events: Sequence[Event]) -> bool:
        """Every event in order; False when one needs another instance to settle first."""
        self._named = {e.issue_id for e in events}
        for event in events:
            if isinstance(event, IssueReported):
                if not self.reported(event):
                    return False
            elif isinstance(event, IssueClosed | IssueMerged):
                self.closed(event.issue_id)
            else:
                self.refold(event)
        return True

    def _now(self, issue_id: str) -> Stored:
        return self.stored.get(issue_id) or Stored()

    def reported(self, reported: IssueReported) -> bool:
        h, issue_id, cause = self.h, reported.issue_id, str(reported.event_id)
        judgement = self.judge(reported)
        triaged = IssueTriaged(**h._common(reported, "triaged"), payload=judgement.payload())
        before = self._now(issue_id)
        if before.decided:  # a replay: the same events again
            if before.merge is not None:
                merged = IssueMerged(**h._common(reported, "merged"), payload=before.merge)
                self.published += [triaged, merged]
                if before.merged_claim is not None:  # the extension may not be stored
                    into_id, at = before.merge.into_issue_id, reported.occurred_at
                    self.effects.claims.append(("extend", before.merged_claim, into_id, at))
            elif before.state is not None:
                self.published += [triaged, *h._decided(reported, before.state)]
                if before.claim is not None:  # its claim's confirmation may not be stored
                    self.effects.claims.append(("confirm", before.claim, issue_id, None))
            return True
        where = reported.payload.location
        report = NewReport(
            category=judgement.category, tier=judgement.tier, kind=reported.payload.kind,
            latitude=where.latitude, longitude=where.longitude,
            reported_at=reported.occurred_at,
        )  # fmt: skip
        placed = self._place(issue_id, report)
        if placed is None:
            return False
        into, claimed = placed
        if into is not None:
            key, merge = into
            write = self.write(issue_id)
            write.merge, write.merged_claim = merge, key
            write.caused(cause)
            problem = self.write(merge.into_issue_id)
            problem.reporters[issue_id] = reported.occurred_at
            problem.caused(cause)
            self.effects.claims.append(("extend", key, merge.into_issue_id, reported.occurred_at))
            self._extend(key, reported.occurred_at)
            self.stored[issue_id] = Stored(merge=merge, merged_claim=key)
            self.published += [triaged, IssueMerged(**h._common(reported, "merged"), payload=merge)]
            return True
        state = dispatch(judgement, h._city, cause=cause)
        write = self.write(issue_id)
        write.state, write.claim = state, claimed
        write.caused(cause)
        self.stored[issue_id] = Stored(state=state, claim=claimed)
        self.published += [triaged, *h._decided(reported, state)]
        return True

    def _extend(self, key: str, at: datetime) -> None:
        held = self.view.get(key)
        if held is not None and at > held.problem.last_reported_at:
            problem = OpenIssue(**{**held.problem.__dict__, "last_reported_at": at})
            self.view[key] = Claim(key, problem, held.confirmed)

    def _place(
        self, issue_id: str, report: NewReport
    ) -> tuple[tuple[str, IssueMergedPayload] | None, str | None] | None:
        """As `RoutingHandlers._place`, against the batch's claims; None when it must wait
        for another instance (a claim near it not confirmed yet)."""
        if report.latitude is None or report.longitude is None:
            return None, None
        lat, lon = report.latitude, report.longitude
        cell = cell_of(report.category, lat, lon, self.policy).key
        near = [c.key for c in cells_near(report.category, lat, lon, self.policy)]
        held = [self.view[k] for k in near if k in self.view]
        if any(c.problem.issue_id == issue_id for c in held):
            self.effects.claims.append(("confirm", cell, issue_id, None))
            return None, cell  # claimed before a crash: this replay opens it
        duplicated = _duplicated(report, held, self.policy)
        if duplicated is not None:
            into, merge = duplicated
            if not into.confirmed:
                return None  # another instance's claim, not settled yet
            return (into.key, merge.payload()), None
        holder = self.view.get(cell)
        if holder is not None:
            if not outlived(holder.problem, report, self.policy):
                return None, None  # held by a problem this report cannot join
            if self.effects.fresh.pop(cell, None) is None:
                self.effects.outlived.append(holder)
        elif cell in self.released:  # closed in this batch: freed before it is taken again
            gone = self.released.pop(cell)
            if self.effects.fresh.pop(cell, None) is None:
                self.effects.outlived.append(gone)
        problem = OpenIssue(issue_id, report.category, lat, lon, report.reported_at)
        claim = Claim(cell, problem, confirmed=False)
        self.effects.fresh[cell] = claim
        self.seen.add((cell, issue_id))
        self.report_of[cell] = report
        self.view[cell] = Claim(cell, problem, confirmed=True)  # confirmed with the batch
        self.effects.claims.append(("confirm", cell, issue_id, None))
        return None, cell

    def refold(self, event: Event) -> None:
        state = self._now(event.issue_id).state
        if state is None:
            return  # answered directly or merged: routing holds no dispatch for it
        cause = str(event.event_id)
        if not state.has_applied(cause):
            state = fold(state, event, self.h._city)
            write = self.write(event.issue_id)
            write.state = state
            write.caused(cause)
            before = self._now(event.issue_id)
            self.stored[event.issue_id] = Stored(state, before.merge, before.claim)
        self.published += self.h._decided(event, state)

    def closed(self, issue_id: str) -> None:
        key = self._now(issue_id).claim
        if key is None:
            return
        self.effects.claims.append(("release", key, issue_id, None))
        held = self.view.get(key)
        if held is not None and held.problem.issue_id == issue_id:
            self.released[key] = self.view.pop(key)


CLAIM_ATTEMPTS = 8
"""Rounds of look-up and claim before a report gives up waiting for rivals to settle."""


def _pause(attempt: int) -> float:
    """A random pause, longer each round, so two rivals that gave way do not meet again."""
    return random.uniform(0.01, 0.05) * (attempt + 1)


def _duplicated(
    report: NewReport, claims: Sequence[Claim], policy: DuplicatePolicy
) -> tuple[Claim, Merge] | None:
    """The claim of the problem this report duplicates, and the merge into it."""
    found = find_duplicate(report, (c.problem for c in claims), policy)
    if found is None:
        return None
    return next(c for c in claims if c.problem.issue_id == found.into_issue_id), found
