"""The office inbox's rows: the mark (yellow, red, overdue) and the page, due soonest first."""

from dataclasses import dataclass
from datetime import datetime
from typing import Any

RUNNING = {"accept": ("assigned", "reopened"), "resolve": ("accepted", "reopened")}
"""The states in which each clock runs (it stops on acceptance, on resolution)."""


@dataclass(frozen=True)
class Row:
    issue_id: str
    state: str
    category: str
    description: str
    due_at: str | None
    clock: str  # which clock the due time is: accept or resolve
    running: bool  # whether that clock runs now (a countdown), else its deadline only
    mark: str  # "red", "yellow", "overdue" or ""
    reminded: bool
    co_handled: bool = False  # the office helps (协办): the lead office acts


def mark_of(item: dict[str, Any], now: datetime) -> str:
    flags = item.get("flags") or {}
    if flags.get("red"):
        return "red"
    if flags.get("yellow"):
        return "yellow"
    due = _parse(item.get("due_at"))
    if item.get("overdue") or (due is not None and due < now):
        return "overdue"
    return ""


def rows(items: list[dict[str, Any]], now: datetime) -> list[Row]:
    """Intake's inbox (already due soonest first) as rows."""
    out = []
    for item in items:
        deadlines = item.get("deadlines") or {}
        state = str(item.get("state", ""))
        clock = clock_of(state, deadlines)
        due = _text(deadlines.get(clock)) or item.get("due_at")
        out.append(
            Row(
                issue_id=str(item["issue_id"]),
                state=state,
                category=str(item.get("category") or ""),
                description=str(item.get("description") or "")[:80],
                due_at=due,
                clock=clock,
                running=state in RUNNING[clock],
                mark=mark_of({**item, "due_at": due, "overdue": False}, now),
                reminded=bool((item.get("flags") or {}).get("reminded")),
            )
        )
    return out


def rows_of_page(items: list[dict[str, Any]]) -> list[Row]:
    """A page of intake's slim inbox items (`/inbox/page`: clock and colour decided there)."""
    return [
        Row(
            issue_id=str(item["issue_id"]),
            state=str(item.get("state") or ""),
            category=str(item.get("category") or ""),
            description=str(item.get("title") or ""),
            due_at=_text(item.get("clock_due_at") or item.get("due_at")),
            clock=str(item.get("clock") or "resolve"),
            running=str(item.get("state") or "") in RUNNING[str(item.get("clock") or "resolve")],
            mark=str(item.get("colour") or ""),
            reminded=bool(item.get("reminded")),
            co_handled=bool(item.get("co_handled")),
        )
        for item in items
    ]


def clock_of(state: str, deadlines: dict[str, Any]) -> str:
    """The clock that matters now: accepting while assigned, resolving once accepted."""
    if state == "assigned" and deadlines.get("accept"):
        return "accept"
    return "resolve" if deadlines.get("resolve") else "accept"


def _text(value: Any) -> str | None:
    if value is None:
        return None
    return value.isoformat() if isinstance(value, datetime) else str(value)


def page(items: list[Row], number: int, size: int) -> tuple[list[Row], int]:
    """Page `number` (from 1) of `size` rows, and how many pages there are."""
    pages = max(1, -(-len(items) // size))
    number = min(max(1, number), pages)
    return items[(number - 1) * size : number * size], pages


def _parse(value: Any) -> datetime | None:
    if not isinstance(value, str):
        return None
    try:
        return datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        return None
