"""What supervision shows: an issue's clock history, open clocks, overdue lists. Pure.

A clock is `provisional` when its steps reach a year no calendar knows yet (`provisional_years`):
its due times follow the provisional rule and move when the year is declared.

A clock's `flag` is the worst flag it has raised (red over yellow); `overdue` says its
deadline has passed at the instant asked about (it may not have fired yet).
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable
from datetime import datetime
from typing import Any

from services.contracts.vocabulary import ClockKind
from services.supervision.domain.calendar import WorkingCalendar
from services.supervision.domain.clocks import Clock
from services.supervision.domain.record import IssueRecord

__all__ = ["clock_view", "history_view", "open_clocks", "overdue_list"]


def clock_view(
    record: IssueRecord, clock: Clock, calendar: WorkingCalendar, now: datetime
) -> dict[str, Any]:
    """One clock as the views show it (`clock` and `office_id` as in `ClockStarted`)."""
    fired_at = record.fired_at()
    deadline = clock.deadline(calendar)
    provisional = clock.provisional_years(calendar)
    steps = [
        {
            "step": step.name,
            "action": step.action.value,
            "percent": step.percent,
            "due_at": step.due_at,
            "fired_at": fired_at.get(step.step_id),
            "fired": step.name in clock.fired,
        }
        for step in clock.steps(calendar)
    ]
    flag = "red" if "red" in clock.fired else "yellow" if "yellow" in clock.fired else None
    return {
        "clock_id": clock.clock_id,
        "issue_id": record.issue_id,
        "clock": clock.kind.value,
        "office_id": clock.office_id,
        "rung": clock.rung.value,
        "started_at": clock.started_at,
        "working_days": clock.working_days,
        "extended_days": clock.extended_days,
        "due_at": deadline,
        "running": clock.is_open,
        "stopped_at": clock.stopped_at,
        "stop_reason": clock.stop_reason,
        "overdue": clock.is_open and now >= deadline,
        "flag": flag,
        "provisional": bool(provisional),
        "provisional_years": list(provisional),
        "steps": steps,
    }


def history_view(record: IssueRecord, calendar: WorkingCalendar, now: datetime) -> dict[str, Any]:
    """Everything supervision knows of one issue's clocks."""
    return {
        "issue_id": record.issue_id,
        "office_id": record.office_id,
        "region_code": record.region_code,
        "level": record.level.value if record.level else None,
        "rung": record.rung.value,
        "tier": record.effective_tier.value,
        "category": record.category,
        "overdue_before": record.clocks.overdue,
        "closed_at": record.clocks.closed_at,
        "clocks": [clock_view(record, c, calendar, now) for c in record.clocks.clocks],
        "extension_requests": [r.model_dump(mode="json") for r in record.requests],
        "history": [e.model_dump(mode="json") for e in record.history],
    }


def open_clocks(
    records: Iterable[IssueRecord],
    calendar: WorkingCalendar,
    now: datetime,
    kind: ClockKind | None = None,
    overdue_only: bool = False,
) -> list[dict[str, Any]]:
    """The open clocks of `records`, earliest deadline first, with the issue's context."""
    rows = []
    for record in records:
        for clock in record.clocks.open_clocks():
            if kind is not None and clock.kind is not kind:
                continue
            row = clock_view(record, clock, calendar, now)
            if overdue_only and not row["overdue"]:
                continue
            del row["steps"]
            row |= {
                "region_code": record.region_code,
                "level": record.level.value if record.level else None,
                "tier": record.effective_tier.value,
                "category": record.category,
                "next_step": next(
                    ({"step": s.name, "due_at": s.due_at} for s in clock.pending(calendar)), None
                ),
            }
            if row["overdue"]:
                row["overdue_hours"] = round((now - row["due_at"]).total_seconds() / 3600, 1)
            rows.append(row)
    return sorted(rows, key=lambda row: (row["due_at"], row["clock_id"]))


def overdue_list(
    records: Iterable[IssueRecord], calendar: WorkingCalendar, now: datetime
) -> dict[str, Any]:
    """The overdue open clocks, and how many each office and each flag has."""
    rows = open_clocks(records, calendar, now, overdue_only=True)
    return {
        "as_of": now,
        "count": len(rows),
        "by_office": dict(Counter(row["office_id"] or "-" for row in rows).most_common()),
        "by_flag": dict(Counter(row["flag"] or "none" for row in rows)),
        "clocks": rows,
    }
