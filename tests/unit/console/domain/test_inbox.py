from datetime import UTC, datetime

from services.console.domain.inbox import mark_of, page, rows

NOW = datetime(2026, 11, 23, 8, 0, tzinfo=UTC)


def item(n: int, **fields: object) -> dict[str, object]:
    return {"issue_id": f"i{n}", "state": "assigned", "deadlines": {"accept": "x"}, **fields}


def test_red_outranks_yellow_outranks_overdue() -> None:
    assert mark_of({"flags": {"red": True, "yellow": True}}, NOW) == "red"
    assert mark_of({"flags": {"yellow": True}, "overdue": True}, NOW) == "yellow"
    assert mark_of({"overdue": True}, NOW) == "overdue"
    assert mark_of({"due_at": "2026-11-23T07:59:00Z"}, NOW) == "overdue"
    assert mark_of({"due_at": "2026-11-23T09:00:00+00:00"}, NOW) == ""
    assert mark_of({"due_at": "not a time"}, NOW) == ""


def test_rows_keep_intakes_order_and_name_the_running_clock() -> None:
    both = {"accept": "2026-11-23T07:00:00Z", "resolve": "2026-11-25T07:00:00Z"}
    found = rows(
        [
            item(1, state="accepted", deadlines=both, flags={"reminded": True}),
            item(2, deadlines=both, due_at=both["resolve"]),
        ],
        NOW,
    )
    assert [r.issue_id for r in found] == ["i1", "i2"]
    assert [r.clock for r in found] == ["resolve", "accept"]
    assert found[0].reminded and not found[1].reminded
    assert found[0].running and found[1].running
    # assigned: the accept clock is the one due (intake's due_at is the resolve clock's)
    assert found[1].due_at == both["accept"] and found[1].mark == "overdue"
    assert found[0].mark == ""


def test_a_stopped_clock_has_no_countdown() -> None:
    accepted = item(1, state="accepted", deadlines={"accept": "a", "resolve": "b"})
    visited = item(2, state="visited", deadlines={"accept": "a", "resolve": "b"})
    assert [r.running for r in rows([accepted, visited], NOW)] == [True, False]


def test_pages() -> None:
    found = rows([item(n) for n in range(7)], NOW)
    first, pages = page(found, 1, 3)
    assert pages == 3 and [r.issue_id for r in first] == ["i0", "i1", "i2"]
    last, _ = page(found, 9, 3)
    assert [r.issue_id for r in last] == ["i6"]
    assert page([], 1, 3) == ([], 1)


def test_a_page_of_intakes_slim_items_keeps_its_clock_colour_and_co_handling() -> None:
    from services.console.domain.inbox import rows_of_page

    items = [
        {"issue_id": "a", "state": "assigned", "category": "c", "title": "路灯", "clock": "accept",
         "clock_due_at": "2026-11-23T07:00:00Z", "colour": "overdue", "reminded": True},
        {"issue_id": "b", "state": "accepted", "clock": "resolve", "colour": "red",
         "co_handled": True},
    ]  # fmt: skip
    a, b = rows_of_page(items)
    assert (a.clock, a.due_at, a.mark, a.reminded, a.running) == (
        "accept",
        "2026-11-23T07:00:00Z",
        "overdue",
        True,
        True,
    )
    assert a.description == "路灯" and not a.co_handled
    assert b.co_handled and b.mark == "red" and b.due_at is None
