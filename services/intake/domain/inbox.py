"""An office's inbox in pages: slim items (no history), due soonest first, and a cursor that
names the last item shown (its order key and id), so a page stays right while issues come and go.

The order is kept on the status view itself (`inbox_of`, derived with the view): the office
holding the issue and its co-offices while it is open, and the due time an inbox sorts by. A
page is read in that order from compound indexes (holder, due, id), one query for the lead
office and one per co-office place, each stopping after the page (`page_from` merges them).
"""

import base64
import binascii
import json
from datetime import UTC, datetime
from typing import Any

from services.contracts.lifecycle import FINAL_STATES
from services.contracts.vocabulary import IssueState
from services.intake.domain.errors import Invalid

SLIM = {
    "_id": 1, "state": 1, "category": 1, "description": 1, "deadlines": 1, "flags": 1,
    "office_id": 1, "co_office_ids": 1, "region_code": 1, "reported_at": 1, "inbox": 1,
}  # fmt: skip
"""What an inbox item is made of (the projection of the status view a page reads)."""

TITLE = 80
"""A title is the report's text cut to this many characters."""

FAR = datetime(2200, 1, 1, tzinfo=UTC)
"""The order key of an issue without a due time: after every due one. A date both engines
index as a plain date (the local engine orders dates of 13-digit milliseconds from an index)."""

OPEN_STATES = frozenset(s.value for s in IssueState if s not in FINAL_STATES)

ORDER = (("inbox.due", 1), ("_id", 1))
"""An inbox page's order: due soonest first (no due time last), then by id."""


def due_of(view: dict[str, Any]) -> datetime | None:
    """The due time an inbox sorts by: the resolving clock's, else the accepting one's."""
    deadlines = view.get("deadlines") or {}
    due = deadlines.get("resolve") or deadlines.get("accept")
    return _aware(due) if isinstance(due, datetime) else None


CO_SLOTS = ("co1", "co2", "co3")
"""The co-offices' places on the view, one plain value each (the first three co-offices, which
covers nearly every assignment this city's responsibility list makes), then `co_more` (a list,
read from its index in full and sorted on the local engine) for any beyond."""

HOLDERS = ("office", *CO_SLOTS, "co_more")
"""The fields of `inbox` naming an office that holds the issue: a page is one query per field
(an equality on it, sorted by `ORDER`), merged."""


def inbox_of(view: dict[str, Any]) -> dict[str, Any]:
    """Where a (derived) status view stands in the inboxes: the office holding it and its
    co-offices while it is open (None and [] once it is final), and its order key `due`.
    A co-office is a plain value in its own field: the local engine reads an index in order
    only where the field holds one value (an array there is read in full and sorted), and
    MongoDB serves the same fields from the same indexes."""
    open_ = view.get("state") in OPEN_STATES and view.get("office_id") is not None
    co = list(view.get("co_office_ids") or []) if open_ else []
    slots = {slot: co[i] if i < len(co) else None for i, slot in enumerate(CO_SLOTS)}
    return {
        "office": view.get("office_id") if open_ else None,
        **slots,
        "co_more": co[len(CO_SLOTS) :],
        "due": due_of(view) or FAR,
    }


def holds(view: dict[str, Any], office_id: str) -> bool:
    """Whether the office holds the (open) issue, as lead or co-office."""
    inbox = view.get("inbox") or inbox_of(view)
    return any(
        office_id in (inbox.get(f) or []) if f == "co_more" else inbox.get(f) == office_id
        for f in HOLDERS
    )


def order_key(view: dict[str, Any]) -> tuple[datetime, str]:
    """A view's place in an inbox page (`ORDER`)."""
    inbox = view.get("inbox") or inbox_of(view)
    return _aware(inbox["due"]), str(view["_id"])


def clock_of(state: str, deadlines: dict[str, Any]) -> str:
    """The clock that matters now: accepting while assigned, resolving once accepted."""
    if state == "assigned" and deadlines.get("accept"):
        return "accept"
    return "resolve" if deadlines.get("resolve") else "accept"


def colour_of(flags: dict[str, Any], due: datetime | None, now: datetime) -> str:
    """The clock's colour: a red flag, a yellow flag, overdue, or "" (in time)."""
    if flags.get("red"):
        return "red"
    if flags.get("yellow"):
        return "yellow"
    return "overdue" if due is not None and due < now else ""


def item_of(view: dict[str, Any], office_id: str, now: datetime) -> dict[str, Any]:
    """One inbox item: what a row shows, without the history."""
    deadlines = {k: _aware(v) for k, v in (view.get("deadlines") or {}).items()}
    flags = view.get("flags") or {}
    state = str(view.get("state") or "")
    clock = clock_of(state, deadlines)
    shown = deadlines.get(clock)
    due = due_of(view)
    return {
        "issue_id": str(view["_id"]),
        "category": view.get("category"),
        "title": str(view.get("description") or "")[:TITLE],
        "state": state,
        "region_code": view.get("region_code"),
        "due_at": due,
        "overdue": bool(due and due < now),
        "clock": clock,
        "clock_due_at": shown,
        "colour": colour_of(flags, shown if isinstance(shown, datetime) else due, now),
        "reminded": bool(flags.get("reminded")),
        "co_handled": view.get("office_id") != office_id,
    }


def encode_cursor(view: dict[str, Any]) -> str:
    """The cursor after a view: its order key, opaque."""
    due, issue_id = order_key(view)
    raw = json.dumps({"due": due.isoformat(), "id": issue_id})
    return base64.urlsafe_b64encode(raw.encode()).decode().rstrip("=")


def decode_cursor(cursor: str) -> tuple[datetime, str]:
    """The order key a cursor names (`Invalid` for any other text, an earlier cursor's too)."""
    try:
        raw = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4))
        named = json.loads(raw)
        return _aware(datetime.fromisoformat(named["due"])), str(named["id"])
    except (ValueError, TypeError, KeyError, binascii.Error) as error:
        raise Invalid("not a cursor this inbox gave", "cursor") from error


def page_from(
    found: list[dict[str, Any]], office_id: str, now: datetime,
    after: tuple[datetime, str] | None, limit: int,
) -> dict[str, Any]:  # fmt: skip
    """The page of `limit` items after `after` from what the page's queries found (each the
    first `limit + 1` after it in `ORDER`, so the merge holds the page and tells whether more
    follow): `items` and the `next` cursor (None on the last page)."""
    views = {str(v["_id"]): v for v in found if holds(v, office_id)}
    ordered = sorted(views.values(), key=order_key)
    if after is not None:
        ordered = [v for v in ordered if order_key(v) > after]
    shown = ordered[:limit]
    more = len(ordered) > limit
    return {
        "items": [item_of(v, office_id, now) for v in shown],
        "next": encode_cursor(shown[-1]) if more and shown else None,
    }


def _aware(value: Any) -> Any:
    if isinstance(value, datetime) and value.tzinfo is None:
        return value.replace(tzinfo=UTC)
    return value
