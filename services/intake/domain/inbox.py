"""An office's inbox in pages: slim items (no history), due soonest first, and a cursor that
names the last item shown (its due time and id), so a page stays right while issues come and go.
"""

import base64
import binascii
import json
from datetime import UTC, datetime
from typing import Any

from services.intake.domain.errors import Invalid

SLIM = {
    "_id": 1, "state": 1, "category": 1, "description": 1, "deadlines": 1, "flags": 1,
    "office_id": 1, "co_office_ids": 1, "region_code": 1, "reported_at": 1,
}  # fmt: skip
"""What an inbox item is made of (the projection of the status view a page reads)."""

TITLE = 80
"""A title is the report's text cut to this many characters."""

FAR = datetime.max.replace(tzinfo=UTC)


def due_of(view: dict[str, Any]) -> datetime | None:
    """The due time an inbox sorts by: the resolving clock's, else the accepting one's."""
    deadlines = view.get("deadlines") or {}
    due = deadlines.get("resolve") or deadlines.get("accept")
    return _aware(due) if isinstance(due, datetime) else None


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


def _key(item: dict[str, Any]) -> tuple[bool, datetime, str]:
    due = item["due_at"]
    return (due is None, due or FAR, item["issue_id"])


def encode_cursor(item: dict[str, Any]) -> str:
    due = item["due_at"]
    raw = json.dumps([due.isoformat() if due else None, item["issue_id"]])
    return base64.urlsafe_b64encode(raw.encode()).decode().rstrip("=")


def decode_cursor(cursor: str) -> tuple[bool, datetime, str]:
    try:
        raw = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4))
        due, issue_id = json.loads(raw)
        at = FAR if due is None else _aware(datetime.fromisoformat(due))
        return (due is None, at, str(issue_id))
    except (ValueError, TypeError, binascii.Error) as error:
        raise Invalid("not a cursor this inbox gave", "cursor") from error


def page_of(
    views: list[dict[str, Any]], office_id: str, now: datetime, cursor: str | None, limit: int
) -> dict[str, Any]:
    """The page after `cursor` (from the start without one): `items`, the `next` cursor (None on
    the last page) and the `total` of open issues the office holds."""
    items = sorted((item_of(view, office_id, now) for view in views), key=_key)
    if cursor:
        after = decode_cursor(cursor)
        items_after = [item for item in items if _key(item) > after]
    else:
        items_after = items
    shown = items_after[:limit]
    more = len(items_after) > limit
    return {
        "items": shown,
        "next": encode_cursor(shown[-1]) if more and shown else None,
        "total": len(items),
    }


def _aware(value: Any) -> Any:
    if isinstance(value, datetime) and value.tzinfo is None:
        return value.replace(tzinfo=UTC)
    return value
