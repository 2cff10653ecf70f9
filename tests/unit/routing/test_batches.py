"""A consumer batch handled whole gives the answers one event at a time gives, writes once
(one commit), and publishes once; a replay publishes the same events and changes nothing;
another instance deciding near the same place sends the batch one event at a time."""

import random
from collections.abc import Sequence
from datetime import timedelta

import pytest

from services.contracts.events import (
    Envelope,
    Event,
    IssueAssigned,
    IssueClosed,
    IssueClosedPayload,
    IssueMerged,
    IssueReported,
    IssueReturned,
    IssueReturnedPayload,
)
from services.routing.domain.batch import Effects
from services.routing.domain.duplicates import Claim, OpenIssue, cell_of
from services.routing.domain.jurisdiction import City
from services.routing.domain.locating import GridIndex
from services.routing.handlers import RoutingHandlers
from tests.unit.routing.fakes import FakePublisher, FakeStore
from tests.unit.routing.test_handlers import MAIN, T0, answers, located, rival_north


def closed(issue_id: str) -> IssueClosed:
    return IssueClosed(issue_id=issue_id, producer="intake", payload=IssueClosedPayload())


def burst(seed: int, count: int = 40) -> list[Event]:
    """Reports around MAIN (a few hundred metres), hours apart now and then, some closed."""
    rng = random.Random(seed)
    events: list[Event] = []
    for n in range(count):
        lat = MAIN[0] + rng.uniform(-0.004, 0.004)
        lon = MAIN[1] + rng.uniform(-0.004, 0.004)
        events.append(located(f"i-{seed}-{n}", lat, lon, hours=n * rng.choice([0, 0.5, 30])))
        if rng.random() < 0.15:
            events.append(closed(f"i-{seed}-{rng.randrange(n + 1)}"))
    return events


def ids(published: list[Envelope]) -> list[str]:
    return [str(e.event_id) for e in published]


async def one_at_a_time(city: City, grids: GridIndex, events: list[Event]) -> FakePublisher:
    publisher = FakePublisher()
    handlers = RoutingHandlers(city, grids, FakeStore(), publisher)
    for event in events:
        await handlers.one(event)
    return publisher


async def test_a_batch_answers_as_one_event_at_a_time_does(city: City, grids: GridIndex) -> None:
    for seed in range(6):
        events = burst(seed)
        store, publisher = FakeStore(), FakePublisher()
        await RoutingHandlers(city, grids, store, publisher).batch(events)
        alone = await one_at_a_time(city, grids, events)
        assert answers(publisher) == answers(alone), seed
        assert ids(publisher.published) == ids(alone.published), seed
        assert store.commits == 1
        assert any(isinstance(e, IssueMerged) for e in publisher.published)


async def test_a_batch_split_in_two_answers_the_same(city: City, grids: GridIndex) -> None:
    events = burst(7)
    store, publisher = FakeStore(), FakePublisher()
    handlers = RoutingHandlers(city, grids, store, publisher)
    await handlers.batch(events[:17])
    await handlers.batch(events[17:])
    alone = await one_at_a_time(city, grids, events)
    assert answers(publisher) == answers(alone)
    assert store.commits == 2


async def test_a_replayed_batch_publishes_the_same_events_and_changes_nothing(
    city: City, grids: GridIndex
) -> None:
    events = burst(8)
    store, publisher = FakeStore(), FakePublisher()
    handlers = RoutingHandlers(city, grids, store, publisher)
    await handlers.batch(events)
    first = list(publisher.published)
    states, merges, claims = dict(store.states), dict(store.merges), dict(store.claimed)
    publisher.published.clear()
    await handlers.batch(events)
    assert ids(publisher.published) == ids(first)
    assert (store.states, store.merges, store.claimed) == (states, merges, claims)


async def test_a_return_in_the_batch_of_its_report_is_folded_after_it(
    city: City, grids: GridIndex
) -> None:
    report = located("i-r", *MAIN)
    store, publisher = FakeStore(), FakePublisher()
    handlers = RoutingHandlers(city, grids, store, publisher)
    alone = await one_at_a_time(city, grids, [report])
    office = next(e for e in alone.published if isinstance(e, IssueAssigned)).payload.office_id
    returned = IssueReturned(
        issue_id="i-r", producer="intake",
        payload=IssueReturnedPayload(office_id=office, reason="not ours"),
    )  # fmt: skip
    await handlers.batch([report, returned])
    alone = await one_at_a_time(city, grids, [report, returned])
    assert ids(publisher.published) == ids(alone.published)
    assigned = [e for e in publisher.published if isinstance(e, IssueAssigned)]
    assert len(assigned) == 2 and assigned[1].payload.office_id != office
    assert store.states["i-r"].has_applied(str(returned.event_id))


async def test_a_claim_another_instance_has_not_confirmed_sends_the_batch_one_at_a_time(
    city: City, grids: GridIndex
) -> None:
    key = cell_of("street_lighting", *MAIN, city.policy.duplicates).key
    store, publisher = FakeStore(), FakePublisher()
    store.claimed[key] = Claim(key, OpenIssue("i-other", "street_lighting", *MAIN, T0), False)
    await RoutingHandlers(city, grids, store, publisher).batch([located("i-w", *MAIN)])
    assert store.commits == 0
    assert answers(publisher) == {"i-w": "i-other"}  # waited, then merged (the last round)


class TakenMeanwhile(FakeStore):
    """Another instance takes the cell between the batch's read and its insert."""

    def __init__(self, claim: Claim) -> None:
        super().__init__()
        self.meanwhile: Claim | None = claim

    async def take(self, fresh: Sequence[Claim], outlived: Sequence[Claim]) -> list[str]:
        if self.meanwhile is not None:
            self.claimed[self.meanwhile.key], self.meanwhile = self.meanwhile, None
        return await super().take(fresh, outlived)


async def test_a_cell_taken_meanwhile_sends_the_batch_one_at_a_time(
    city: City, grids: GridIndex
) -> None:
    key = cell_of("street_lighting", *MAIN, city.policy.duplicates).key
    other = Claim(key, OpenIssue("i-other", "street_lighting", *MAIN, T0), confirmed=True)
    store, publisher = TakenMeanwhile(other), FakePublisher()
    far = (MAIN[0] + 0.05, MAIN[1])
    events: list[Event] = [located("i-far", *far), located("i-8", *MAIN, hours=1)]
    await RoutingHandlers(city, grids, store, publisher).batch(events)
    assert store.commits == 0
    assert answers(publisher) == {"i-far": "assigned", "i-8": "i-other"}
    assert {c.problem.issue_id for c in store.claimed.values()} == {"i-other", "i-far"}


class RivalAfterTake(FakeStore):
    """Another instance claims a neighbouring cell for the same problem just after the batch
    took its own; it is confirmed once the batch gives way."""

    def __init__(self, rival: Claim) -> None:
        super().__init__()
        self.rival: Claim | None = rival

    async def take(self, fresh: Sequence[Claim], outlived: Sequence[Claim]) -> list[str]:
        taken = await super().take(fresh, outlived)
        if self.rival is not None:
            self.claimed[self.rival.key] = self.rival
        return taken

    async def release(self, key: str, issue_id: str) -> None:
        await super().release(key, issue_id)
        if self.rival is not None and key != self.rival.key:
            await self.confirm(self.rival.key, self.rival.problem.issue_id)
            self.rival = None


async def test_a_rival_near_a_new_claim_sends_the_batch_one_at_a_time(
    city: City, grids: GridIndex
) -> None:
    rival = rival_north(city)
    store, publisher = RivalAfterTake(rival), FakePublisher()
    await RoutingHandlers(city, grids, store, publisher).batch([located("i-13", *MAIN)])
    assert store.commits == 0
    assert answers(publisher) == {"i-13": "i-rival"}
    assert set(store.open) == {"i-rival"} and store.states == {}


async def test_a_problem_whose_window_closed_gives_its_cell_up_in_a_batch(
    city: City, grids: GridIndex
) -> None:
    window = city.policy.duplicates.window_hours
    store, publisher = FakeStore(), FakePublisher()
    handlers = RoutingHandlers(city, grids, store, publisher)
    await handlers.batch([located("i-9", *MAIN)])
    events: list[Event] = [
        located("i-10", *MAIN, hours=window + 1),
        located("i-11", *MAIN, hours=window + 2),
        closed("i-9"),
    ]
    await handlers.batch(events)
    assert answers(publisher) == {"i-9": "assigned", "i-10": "assigned", "i-11": "i-10"}
    assert set(store.open) == {"i-10"} and store.commits == 2
    await handlers.batch([closed("i-10")])
    assert store.open == {}


def test_the_burst_has_reports_hours_apart() -> None:
    events = [e for e in burst(0) if isinstance(e, IssueReported)]
    assert max(e.occurred_at for e in events) - min(e.occurred_at for e in events) > timedelta(
        hours=24
    )


class Crash(FakeStore):
    """The process dies once: after taking the batch's claims, or after writing its issues
    (before the other writes on the claims)."""

    def __init__(self, where: str) -> None:
        super().__init__()
        self.where: str | None = where

    async def take(self, fresh: Sequence[Claim], outlived: Sequence[Claim]) -> list[str]:
        held = await super().take(fresh, outlived)
        if self.where == "after take":
            self.where = None
            raise RuntimeError("killed after taking the claims")
        return held

    async def commit(self, effects: Effects) -> None:
        if self.where == "after issues":
            self.where = None
            await super().commit(Effects(issues=effects.issues))
            raise RuntimeError("killed between the issues and the claims")
        await super().commit(effects)


@pytest.mark.parametrize("where", ["after take", "after issues"])
async def test_a_batch_replayed_after_a_crash_between_its_writes_answers_the_same(
    city: City, grids: GridIndex, where: str
) -> None:
    for seed in (9, 10, 11):
        events = burst(seed)
        store, publisher = Crash(where), FakePublisher()
        handlers = RoutingHandlers(city, grids, store, publisher)
        with pytest.raises(RuntimeError):
            await handlers.batch(events)
        assert publisher.published == []
        await handlers.batch(events)  # the replay
        alone = FakeStore()
        published = FakePublisher()
        one_by_one = RoutingHandlers(city, grids, alone, published)
        for event in events:
            await one_by_one.one(event)
        assert answers(publisher) == answers(published), (where, seed)
        assert ids(publisher.published) == ids(published.published)
        assert store.claimed == alone.claimed, (where, seed)
