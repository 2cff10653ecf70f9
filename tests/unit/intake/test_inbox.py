"""An office's inbox in pages: slim items, due soonest first, a cursor that survives change;
each page read as the store's indexes give it (the first `limit + 1` after the cursor in each
place an office holds an issue in), whatever the office holds."""

import base64
import json
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from services.intake.domain.errors import Forbidden, Invalid
from services.intake.domain.inbox import (
    FAR,
    HOLDERS,
    decode_cursor,
    encode_cursor,
    holds,
    inbox_of,
    order_key,
)
from services.intake.domain.rules import Principal, Role
from services.intake.handlers.inbox import TOTAL_CAP, InboxPages

NOW = datetime(2026, 11, 28, 8, 0, tzinfo=UTC)
OFFICE = "o1"


def view(n: int, due_hours: float | None, **fields: Any) -> dict[str, Any]:
    deadlines = {} if due_hours is None else {"resolve": NOW + timedelta(hours=due_hours)}
    return {"_id": f"i{n:02}", "state": "accepted", "category": "c", "office_id": OFFICE,
            "description": "路灯" * 60, "deadlines": deadlines, "flags": {}, **fields}  # fmt: skip


class Store:
    """The store's inbox reads in memory, as its indexes answer them."""

    def __init__(self, views: list[dict[str, Any]]) -> None:
        self.views = views
        self.asked: list[int] = []

    def stored(self) -> list[dict[str, Any]]:
        return [v | {"inbox": inbox_of(v)} for v in self.views]  # as `derive` keeps it

    async def inbox_page(
        self, office_id: str, after: tuple[datetime, str] | None, limit: int
    ) -> list[dict[str, Any]]:
        found: list[dict[str, Any]] = []
        for holder in HOLDERS:
            there = [
                v for v in self.stored()
                if (office_id in v["inbox"][holder] if holder == "co_more"
                    else v["inbox"][holder] == office_id)
                and (after is None or order_key(v) > after)
            ]  # fmt: skip
            found += sorted(there, key=order_key)[: limit + 1]
        self.asked.append(len(found))
        return found

    async def inbox_count(self, office_id: str, cap: int) -> int:
        return min(cap + 1, sum(holds(v, office_id) for v in self.stored()))


async def page_of(
    views: list[dict[str, Any]], cursor: str | None, limit: int, office: str = OFFICE
) -> dict[str, Any]:
    who = Principal(id="p", role=Role.OFFICE, office_id=office)
    return await InboxPages(Store(views), lambda: NOW).page(who, cursor, limit)


async def test_items_are_slim_and_due_soonest_first_without_a_due_time_last() -> None:
    views = [view(1, 5), view(2, None), view(3, -1), view(4, 2)]
    page = await page_of(views, None, 10)
    assert [item["issue_id"] for item in page["items"]] == ["i03", "i04", "i01", "i02"]
    first = page["items"][0]
    assert "history" not in first and len(first["title"]) == 80
    assert first["overdue"] and first["colour"] == "overdue" and first["clock"] == "resolve"
    assert page["next"] is None and page["total"] == 4


async def test_the_cursor_walks_every_item_once_even_when_one_is_added_behind_it() -> None:
    views = [view(n, n % 7) for n in range(23)] + [view(30, None), view(31, None)]
    seen: list[str] = []
    cursor = None
    while True:
        page = await page_of(views, cursor, 10)
        seen += [item["issue_id"] for item in page["items"]]
        if page["next"] is None:
            break
        cursor = page["next"]
        views = [*views, view(90 + len(seen), -50)]  # due before everything shown: not again
    assert len(seen) == len(set(seen)) == 25


async def test_colours_and_co_handling() -> None:
    red = view(1, 5, flags={"red": True, "yellow": True})
    yellow = view(2, 5, flags={"yellow": True, "reminded": True})
    co = view(3, 5, office_id="lead", co_office_ids=["o9", OFFICE])
    assigned = view(4, 50, state="assigned")
    assigned["deadlines"]["accept"] = NOW - timedelta(hours=1)
    items = {
        i["issue_id"]: i for i in (await page_of([red, yellow, co, assigned], None, 9))["items"]
    }
    assert items["i01"]["colour"] == "red" and items["i02"]["colour"] == "yellow"
    assert items["i02"]["reminded"] and not items["i01"]["reminded"]
    assert items["i03"]["co_handled"] and not items["i01"]["co_handled"]
    # assigned: the accepting clock is the one shown, and it is late
    assert items["i04"]["clock"] == "accept" and items["i04"]["colour"] == "overdue"


def test_a_cursor_not_given_by_the_inbox_is_invalid() -> None:
    with pytest.raises(Invalid):
        decode_cursor("not-a-cursor!")


async def test_only_an_office_has_an_inbox_and_limits_are_bounded() -> None:
    pages = InboxPages(Store([view(1, 1), view(2, 2)]))
    office = Principal(id="p", role=Role.OFFICE, office_id=OFFICE)
    assert [i["issue_id"] for i in (await pages.page(office, None, 1))["items"]] == ["i01"]
    with pytest.raises(Forbidden):
        await pages.page(Principal(id="q", role=Role.OPERATOR), None, 10)
    with pytest.raises(Invalid):
        await pages.page(office, None, 0)


def test_a_cursor_from_before_the_order_key_was_stored_is_refused() -> None:
    old = base64.urlsafe_b64encode(json.dumps([NOW.isoformat(), "i01"]).encode()).decode()
    with pytest.raises(Invalid):
        decode_cursor(old)
    assert decode_cursor(encode_cursor(view(1, 5) | {"_id": "i01"}))[1] == "i01"


def test_an_issue_stands_in_its_offices_inboxes_while_it_is_open() -> None:
    co = ["c1", "c2", "c3", "c4", "c5"]
    held = inbox_of(view(1, 5, co_office_ids=co))
    assert held["office"] == OFFICE and held["due"] == NOW + timedelta(hours=5)
    assert (held["co1"], held["co2"], held["co3"], held["co_more"]) == ("c1", "c2", "c3", co[3:])
    assert all(holds(view(1, 5, co_office_ids=co), office) for office in [OFFICE, *co])
    closed = inbox_of(view(2, None, state="closed", co_office_ids=co))
    assert closed["office"] is closed["co1"] is None and closed["co_more"] == []
    assert closed["due"] == FAR and not holds(view(2, None, state="closed"), OFFICE)


async def test_a_page_reads_the_page_alone_and_the_first_counts_up_to_a_cap() -> None:
    views = [view(n, n % 50, co_office_ids=["o9"] if n % 2 else []) for n in range(TOTAL_CAP + 40)]
    store = Store(views)
    pages = InboxPages(store, lambda: NOW)
    first = await pages.page(Principal(id="p", role=Role.OFFICE, office_id="o9"), None, 20)
    assert first["total"] == TOTAL_CAP // 2 + 20 and not first["total_capped"]
    assert all(item["co_handled"] for item in first["items"])
    second = await pages.page(Principal(id="p", role=Role.OFFICE, office_id=OFFICE), None, 20)
    assert second["total"] == TOTAL_CAP and second["total_capped"]
    later = await pages.page(
        Principal(id="p", role=Role.OFFICE, office_id=OFFICE), second["next"], 20
    )
    assert later["total"] is None and not later["total_capped"]
    assert max(store.asked) == 21  # limit + 1 from each place that holds any
    uncounted = await pages.page(
        Principal(id="p", role=Role.OFFICE, office_id=OFFICE), None, 20, counted=False
    )
    assert uncounted["total"] is None and uncounted["items"] == second["items"]
    small = await page_of([view(1, 1), view(2, 2, co_office_ids=["o9"])], None, 5, office="o9")
    assert small["total"] == 1 and not small["total_capped"]
