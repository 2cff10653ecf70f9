"""The in-memory schedule of owned partitions: ordering, moves, loads, ownership."""

from datetime import UTC, datetime, timedelta

from hypothesis import given
from hypothesis import strategies as st

from services.supervision.domain.timetable import PartitionTimers, Timetable, from_micros, micros

T0 = datetime(2026, 11, 23, 2, tzinfo=UTC)


def later(seconds: float) -> datetime:
    return T0 + timedelta(seconds=seconds)


def test_due_issues_come_out_earliest_first_across_partitions() -> None:
    table = Timetable()
    table.own([0, 1])
    table.set("a", 0, later(30))
    table.set("b", 1, later(10))
    table.set("c", 0, later(20))
    table.set("d", 1, later(99))
    assert table.pop_due(later(50), limit=10) == [("b", 1), ("c", 0), ("a", 0)]
    assert table.next_due() == micros(later(99))
    assert len(table) == 1


def test_moving_a_timer_leaves_no_ghost_and_none_removes_it() -> None:
    table = Timetable()
    table.own([0])
    table.set("a", 0, later(10))
    table.set("a", 0, later(40))  # an extension moved it
    assert table.pop_due(later(20), limit=10) == []
    table.set("a", 0, None)
    assert table.pop_due(later(50), limit=10) == [] and len(table) == 0


def test_a_load_never_overwrites_what_the_owner_set() -> None:
    table = Timetable()
    table.own([0])
    table.set("a", 0, later(40))
    table.offer("a", 0, later(5))  # read from the store before the handler moved it
    table.offer("b", 0, later(6))
    assert table.pop_due(later(10), limit=10) == [("b", 0)]


def test_timers_of_partitions_not_owned_are_ignored_and_dropped_ones_vanish() -> None:
    changes: list[int] = []
    table = Timetable(on_change=lambda: changes.append(1))
    table.own([0])
    assert table.set("x", 3, later(1)) is False and table.offer("x", 3, later(1)) is False
    table.set("a", 0, later(1))
    table.drop([0])
    assert table.pop_due(later(10), limit=10) == [] and table.owned == frozenset()
    assert changes


def test_a_retry_never_postpones_an_earlier_timer() -> None:
    table = Timetable()
    table.own([0])
    table.set("a", 0, later(5))
    table.retry("a", 0, later(60))
    assert table.next_due() == micros(later(5))
    table.retry("b", 0, later(7))
    assert table.pop_due(later(10), limit=1) == [("a", 0)]


def test_the_limit_leaves_the_rest_in_the_schedule() -> None:
    table = Timetable()
    table.own([0])
    for n in range(5):
        table.set(f"i{n}", 0, later(n))
    assert [i for i, _ in table.pop_due(later(10), limit=2)] == ["i0", "i1"]
    assert len(table) == 3


@given(st.lists(st.tuples(st.integers(0, 20), st.integers(0, 1000)), max_size=200))
def test_the_heap_agrees_with_the_map_whatever_the_moves(moves: list[tuple[int, int]]) -> None:
    part, truth = PartitionTimers(), {}
    for issue, due in moves:
        part.set(f"i{issue}", due)
        truth[f"i{issue}"] = due
    popped = []
    while (top := part.pop()) is not None:
        popped.append(top)
    assert popped == sorted((due, issue) for issue, due in truth.items())


def test_micros_round_trip_exactly() -> None:
    instant = datetime(2026, 11, 24, 5, 12, 0, 123456, tzinfo=UTC)
    assert from_micros(micros(instant)) == instant
