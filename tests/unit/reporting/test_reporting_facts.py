"""Reporting's facts: any order and any number of copies of an issue's events give the
same document (log and view), and the view says what happened to the issue."""

from datetime import UTC, datetime, timedelta

from hypothesis import given, settings
from hypothesis import strategies as st

from services.contracts.events import Event
from services.contracts.vocabulary import Flag, Level, Satisfaction
from services.reporting.domain.facts import bucket_of, fact_update
from tests.reporting_events import Story
from tests.unit.reporting.reporting_fold import fold, view

T0 = datetime(2026, 11, 23, 1, 0, tzinfo=UTC)  # 09:00 in Shanghai


def a_hard_life() -> list[Event]:
    """Returned, reminded, flagged, supervised and escalated, extended, resolved, visited
    dissatisfied, reopened, resolved again, visited satisfied, closed."""
    story = (
        Story("hard", T0).triage().assign("street-a", 0.5)
        .give_back(2).assign("street-b", 0.1)
        .remind(12).flag(Flag.YELLOW, 12).flag(Flag.RED, 12).supervise_and_escalate("district-x", 0)
        .accept(1).extend(2).resolve(20, "first try")
        .visit(Satisfaction.DISSATISFIED, False, 5).reopen(0)
        .assign("district-x", 0.1, level=Level.COUNTY).accept(1).resolve(10, "fixed for good")
        .visit(Satisfaction.BASICALLY_SATISFIED, True, 3).close(1)
    )  # fmt: skip
    return story.events


EVENTS = a_hard_life()
EXPECTED = fold(EVENTS)


@settings(max_examples=200, deadline=None)
@given(
    order=st.permutations(range(len(EVENTS))),
    copies=st.lists(st.integers(0, len(EVENTS) - 1), max_size=10),
)
def test_any_order_and_any_copies_give_the_same_document(
    order: list[int], copies: list[int]
) -> None:
    deliveries = [EVENTS[i] for i in order] + [EVENTS[i] for i in copies]
    assert fold(deliveries) == EXPECTED


def test_a_copy_published_again_later_keeps_the_first_time() -> None:
    first = EVENTS[1]
    again = first.model_copy(update={"occurred_at": first.occurred_at + timedelta(minutes=5)})
    assert fold([*EVENTS, again]) == EXPECTED
    assert fold([again, *EVENTS]) == EXPECTED


def test_the_view_tells_the_story() -> None:
    v = EXPECTED["view"]
    assert (v["state"], v["open"]) == ("closed", False)
    assert (v["office_id"], v["level"], v["rung"]) == ("district-x", "county", "office")
    assert v["offices"] == ["street-a", "street-b", "district-x"]
    assert (v["returns"], v["reopens"], v["escalations"], v["visits"]) == (1, 1, 1, 2)
    assert v["flags"] == {
        "reminded": True, "yellow": True, "red": True, "supervised": True, "extended": True
    }  # fmt: skip
    assert (v["satisfaction"], v["solved"], v["result"]) == (
        "basically_satisfied", True, "fixed for good"
    )  # fmt: skip
    assert v["region_path"] == ["411900", "411901", "411901001", "411901001001"]
    assert (v["township"], v["township_name"]) == ("411901001", "region-411901001")
    assert v["reported_day"] == "2026-11-23"
    # first assignment at T0+0.5h; first accept 2+0.1+36+1 = 39.1 h later
    assert v["hours_to_accept"] == 39.1 and v["accept_bucket"] == "48"
    assert v["accepted_on_time"] is False  # its first accept clock was one day
    # first resolution 39.1 + 2 + 20 = 61.1 h after the first assignment, within 3 days
    assert v["hours_to_resolve"] == 61.1 and v["resolve_bucket"] == "72"
    assert v["resolved_on_time"] is True


def test_an_issue_answered_directly_is_never_assigned() -> None:
    story = Story("direct", T0, direct=True).answer(0.2).visit(Satisfaction.SATISFIED, True, 4)
    v = view(story.events)
    assert (v["answered_directly"], v["assigned"], v["state"]) == (True, False, "visited")
    assert v["region_path"] == ["411901001001"]  # never triaged: only the reported region
    assert "accepted_on_time" not in v and "hours_to_accept" not in v  # absent: not known


def test_a_merged_report_points_at_its_problem() -> None:
    problem = Story("p", T0).triage()
    duplicate = Story("d", T0).merge_into(problem, 0.1)
    v = view(duplicate.events)
    assert (v["merged_into"], v["state"], v["open"]) == ("p", "merged", False)


def test_an_event_caused_by_another_at_the_same_time_comes_after_it() -> None:
    story = (
        Story("tie", T0)
        .triage()
        .assign("o", 1)
        .resolve(1)
        .visit(Satisfaction.DISSATISFIED, False, 1)
        .reopen(1)
        .assign("o", 0)
    )  # the re-assignment carries the reopening's time
    assert view(story.events)["state"] == "assigned"


def test_the_update_uses_idempotent_operators_only() -> None:
    assert set(fact_update(EVENTS[0])) <= {"$set", "$min"}


def test_buckets_are_upper_bounds() -> None:
    bounds = (1, 2, 4)
    assert [bucket_of(h, bounds) for h in (0, 1, 1.01, 4, 4.5)] == ["1", "1", "2", "4", "+Inf"]
    assert bucket_of(None, bounds) is None
