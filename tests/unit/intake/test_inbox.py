"""An office's inbox in pages: slim items, due soonest first, a cursor that survives change."""

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from services.intake.domain.errors import Forbidden, Invalid
from services.intake.domain.inbox import decode_cursor, page_of
from services.intake.domain.rules import Principal, Role
from services.intake.handlers.inbox import InboxPages

NOW = datetime(2026, 11, 28, 8, 0, tzinfo=UTC)
OFFICE = "o1"


def view(n: int, due_hours: float | None, **fields: Any) -> dict[str, Any]:
    deadlines = {} if due_hours is None else {"resolve": NOW + timedelta(hours=due_hours)}
    return {"_id": f"i{n:02}", "state": "accepted", "category": "c", "office_id": OFFICE,
            "description": "路灯" * 60, "deadlines": deadlines, "flags": {}, **fields}  # fmt: skip


def test_items_are_slim_and_due_soonest_first_without_a_due_time_last() -> None:
    views = [view(1, 5), view(2, None), view(3, -1), view(4, 2)]
    page = page_of(views, OFFICE, NOW, None, 10)
    assert [item["issue_id"] for item in page["items"]] == ["i03", "i04", "i01", "i02"]
    first = page["items"][0]
    assert "history" not in first and len(first["title"]) == 80
    assert first["overdue"] and first["colour"] == "overdue" and first["clock"] == "resolve"
    assert page["next"] is None and page["total"] == 4


def test_the_cursor_walks_every_item_once_even_when_one_is_added_behind_it() -> None:
    views = [view(n, n % 7) for n in range(23)] + [view(30, None), view(31, None)]
    seen: list[str] = []
    cursor = None
    while True:
        page = page_of(views, OFFICE, NOW, cursor, 10)
        seen += [item["issue_id"] for item in page["items"]]
        if page["next"] is None:
            break
        cursor = page["next"]
        views = [*views, view(90 + len(seen), -50)]  # due before everything shown: not again
    assert len(seen) == len(set(seen)) == 25


def test_colours_and_co_handling() -> None:
    red = view(1, 5, flags={"red": True, "yellow": True})
    yellow = view(2, 5, flags={"yellow": True, "reminded": True})
    co = view(3, 5, office_id="lead")
    assigned = view(4, 50, state="assigned")
    assigned["deadlines"]["accept"] = NOW - timedelta(hours=1)
    items = {
        i["issue_id"]: i
        for i in page_of([red, yellow, co, assigned], OFFICE, NOW, None, 9)["items"]
    }
    assert items["i01"]["colour"] == "red" and items["i02"]["colour"] == "yellow"
    assert items["i02"]["reminded"] and not items["i01"]["reminded"]
    assert items["i03"]["co_handled"] and not items["i01"]["co_handled"]
    # assigned: the accepting clock is the one shown, and it is late
    assert items["i04"]["clock"] == "accept" and items["i04"]["colour"] == "overdue"


def test_a_cursor_not_given_by_the_inbox_is_invalid() -> None:
    with pytest.raises(Invalid):
        decode_cursor("not-a-cursor!")


class Store:
    def __init__(self, views: list[dict[str, Any]]) -> None:
        self.views = views

    async def inbox_items(self, office_id: str) -> list[dict[str, Any]]:
        return [v for v in self.views if office_id in (v["office_id"], *v.get("co", ()))]


async def test_only_an_office_has_an_inbox_and_limits_are_bounded() -> None:
    pages = InboxPages(Store([view(1, 1), view(2, 2)]))
    office = Principal(id="p", role=Role.OFFICE, office_id=OFFICE)
    assert [i["issue_id"] for i in (await pages.page(office, None, 1))["items"]] == ["i01"]
    with pytest.raises(Forbidden):
        await pages.page(Principal(id="q", role=Role.OPERATOR), None, 10)
    with pytest.raises(Invalid):
        await pages.page(office, None, 0)
