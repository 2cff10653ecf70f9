"""What a batch changes in one issue's document (domain/transfers.py)."""

from datetime import timedelta

from services.reporting.domain import cells
from services.reporting.domain.transfers import Stored, change_of, merged
from tests.reporting_events import Story
from tests.unit.reporting.reporting_fold import RULES
from tests.unit.reporting.test_reporting_rankings_lists import T0


def test_known_events_change_nothing_and_new_ones_move_the_difference() -> None:
    story = Story("t1", T0).triage().assign("water").accept(1)
    first = change_of(Stored("t1"), story.events[:2], RULES)
    assert first is not None and first.rev == 1 and len(first.applied) == 2
    assert first.moved == cells.contributions(first.view)  # from nothing
    after = first.after()
    assert change_of(after, story.events[:2], RULES) is None  # copies: nothing to write
    second = change_of(after, story.events, RULES)
    assert (
        second is not None
        and second.rev == 2
        and second.applied == [str(e.event_id) for e in story.events[2:]]
    )
    assert second.moved == cells.difference(first.contributed, second.contributed)
    assert second.marker.startswith("t1|2-")


def test_an_earlier_copy_of_a_known_event_rewrites_its_time() -> None:
    story = Story("t2", T0).triage()
    known = change_of(Stored("t2"), story.events, RULES)
    assert known is not None
    earlier = story.events[0].model_copy(
        update={"occurred_at": story.events[0].occurred_at - timedelta(hours=1)}
    )
    again = change_of(known.after(), [earlier], RULES)
    assert again is not None and again.applied == []  # not new, but earlier
    assert list(again.entries) == [str(earlier.event_id)]


def test_a_batch_moves_each_cell_once_with_every_marker() -> None:
    changes = [
        c
        for n in range(3)
        if (c := change_of(Stored(f"m{n}"), Story(f"m{n}", T0).triage().events, RULES))
    ]
    totals, markers = merged(changes)
    for cell, counters in totals.items():
        assert counters == cells.summed(c.moved[cell] for c in changes if cell in c.moved)
    everywhere = set.intersection(*(set(c.moved) for c in changes))
    for cell in everywhere:
        assert sorted(markers[cell]) == sorted(c.marker for c in changes)
