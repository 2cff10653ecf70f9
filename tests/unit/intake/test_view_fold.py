"""Intake's status view, folded from the log: any order and any copies of an issue's events
give the same document (a copy republished later in the log, stamped later, changes nothing),
and the view says what the log says."""

import asyncio
import uuid
from datetime import timedelta
from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st

from services.contracts.events import ClockRescheduled, ClockRescheduledPayload, Event
from services.contracts.vocabulary import ClockKind
from services.intake.domain.view import state_through
from tests.unit.intake.fakes import FakeStore
from tests.unit.reporting.test_reporting_facts import EVENTS, T0

Delivery = tuple[Event, int]
IN_ORDER: list[Delivery] = [(event, offset) for offset, event in enumerate(EVENTS)]


def document(deliveries: list[Delivery]) -> dict[str, Any]:
    store = FakeStore()

    async def apply_all() -> None:
        for event, offset in deliveries:
            await store.apply(event, offset)

    asyncio.run(apply_all())
    return store.views["hard"]


EXPECTED = document(IN_ORDER)


@settings(max_examples=200, deadline=None)
@given(
    order=st.permutations(range(len(EVENTS))),
    copies=st.lists(st.integers(0, len(EVENTS) - 1), max_size=10),
    later=st.integers(1, 1000),
)
def test_any_order_and_any_copies_give_the_same_document(
    order: list[int], copies: list[int], later: int
) -> None:
    again = [
        (EVENTS[i].model_copy(update={"occurred_at": EVENTS[i].occurred_at + timedelta(hours=1)}),
         len(EVENTS) + later + n)
        for n, i in enumerate(copies)
    ]  # fmt: skip
    assert document([IN_ORDER[i] for i in order] + again) == EXPECTED
    assert document(again + [IN_ORDER[i] for i in reversed(order)]) == EXPECTED


def test_the_view_tells_the_story() -> None:
    v = EXPECTED
    assert v["state"] == "closed"
    assert (v["office_id"], v["level"]) == ("district-x", "county")
    assert v["flags"] == {
        "reminded": True, "yellow": True, "red": True, "supervised": True, "extended": True
    }  # fmt: skip
    assert v["region_path"] == ["411900", "411901", "411901001", "411901001001"]
    assert v["description"] == "路灯不亮"
    assert v["reported_at"] == T0
    assert len(v["history"]) == len(EVENTS)


def test_a_rescheduled_clock_moves_the_deadline_shown() -> None:
    started = next(e for e in EVENTS if e.type == "ClockStarted")
    old = started.payload.due_at
    moved = ClockRescheduled(
        issue_id="hard", producer="supervision",
        payload=ClockRescheduledPayload(
            clock_id="c1", clock=ClockKind.ACCEPT, reason="calendar_declared", years=(2027,),
            old_due_at=old, new_due_at=old + timedelta(days=2),
        ),
    )  # fmt: skip
    upto = EVENTS.index(started) + 1
    view = document([*IN_ORDER[:upto], (moved, 1000)])
    assert view["deadlines"]["accept"] == old + timedelta(days=2)
    assert document([(moved, 1000), *reversed(IN_ORDER[:upto])]) == view


def test_the_state_through_an_action_is_the_state_just_after_it_in_the_log() -> None:
    history = EXPECTED["history"]
    accepted = [e for e in EVENTS if e.type == "IssueAccepted"]
    assert state_through(history, [str(accepted[0].event_id)]) == "accepted"
    assert state_through(history, [str(uuid.uuid4())]) is None
