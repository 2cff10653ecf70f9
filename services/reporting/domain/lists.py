"""The three lists (三单制) and the backlog-case list (积案), as rows. Pure.

- problem list (问题清单): the distinct problems — every issue not merged into another —
  with how many other reports were merged into it (`merged_reports`).
- task list (任务清单): the problems dispatched to an office — one row per problem with its
  current assignment: lead office, co-offices, level, rung, the deadlines of its (first)
  accept and resolve clocks, its state and flags.
- result list (效果清单): the problems resolved at least once — the office's last result,
  whether the first resolution was on time, and the reporter's last answer (satisfaction,
  solved), with the number of reopenings.
- backlog cases (积案): problems still unsolved (received, triaged, assigned, accepted,
  returned or reopened) that were reported at least `min_age_days` days ago.

Every list is sorted by report time, then issue id. Rows are flat (CSV-ready).
"""

import csv
import io
from collections.abc import Iterable, Mapping, Sequence
from datetime import datetime
from typing import Any

from services.reporting.domain.facts import FLAGS, UNSOLVED

PROBLEM_COLUMNS = [
    "issue_id",
    "reported_at",
    "reported_day",
    "channel",
    "kind",
    "category",
    "tier",
    "region_code",
    "township",
    "state",
    "office_id",
    "answered_directly",
    "merged_reports",
]
TASK_COLUMNS = [
    "issue_id",
    "reported_at",
    "category",
    "region_code",
    "township",
    "office_id",
    "co_office_ids",
    "level",
    "rung",
    "assigned_at",
    "accept_due",
    "resolve_due",
    "accepted_at",
    "first_resolved_at",
    "state",
    "returns",
    "escalations",
    "yellow",
    "red",
    "supervised",
    "extended",
]
RESULT_COLUMNS = [
    "issue_id",
    "reported_at",
    "category",
    "region_code",
    "township",
    "office_id",
    "first_resolved_at",
    "resolved_at",
    "resolved_on_time",
    "result",
    "verified",
    "satisfaction",
    "solved",
    "reopens",
    "state",
]
BACKLOG_COLUMNS = [
    "issue_id",
    "reported_at",
    "age_days",
    "category",
    "region_code",
    "township",
    "office_id",
    "level",
    "rung",
    "state",
    "returns",
    "escalations",
    "yellow",
    "red",
]


PROBLEM_QUERY: dict[str, Any] = {"l_problem": True}
TASK_QUERY: dict[str, Any] = {"l_task": True}
RESULT_QUERY: dict[str, Any] = {"l_result": True}
"""Each list's own condition as a filter on view fields (a page is then never short): an
equality on the list's key (facts.list_keys), which an index answers."""
UNSOLVED_QUERY: dict[str, Any] = {"unsolved": True}


def backlog_query(reported_by: datetime, within: Mapping[str, Any] | None = None) -> dict[str, Any]:
    """The backlog's condition: unsolved, reported at `reported_by` or before (and `within`
    the scope's range of report instants, if any)."""
    return UNSOLVED_QUERY | {"reported_at": {**(within or {}), "$lte": reported_by}}


def problems(facts: Iterable[Mapping[str, Any]], merged: Mapping[str, int]) -> list[dict[str, Any]]:
    """`merged`: how many reports were merged into each issue id."""
    return [
        _row(f, PROBLEM_COLUMNS, merged_reports=merged.get(f["issue_id"], 0))
        for f in _sorted(facts)
        if not f.get("merged_into")
    ]


def tasks(facts: Iterable[Mapping[str, Any]]) -> list[dict[str, Any]]:
    return [
        _row(f, TASK_COLUMNS)
        for f in _sorted(facts)
        if f.get("assigned") and not f.get("merged_into")
    ]


def results(facts: Iterable[Mapping[str, Any]]) -> list[dict[str, Any]]:
    return [
        _row(f, RESULT_COLUMNS)
        for f in _sorted(facts)
        if f.get("first_resolved_at") and not f.get("merged_into")
    ]


def backlog(
    facts: Iterable[Mapping[str, Any]], now: datetime, min_age_days: float
) -> list[dict[str, Any]]:
    rows = []
    for f in _sorted(facts):
        age = age_days(f, now)
        if f.get("state") in UNSOLVED and age is not None and age >= min_age_days:
            rows.append(_row(f, BACKLOG_COLUMNS, age_days=age))
    return rows


def age_days(fact: Mapping[str, Any], now: datetime) -> float | None:
    reported: datetime | None = fact.get("reported_at")
    return None if reported is None else round((now - reported).total_seconds() / 86400, 2)


def as_csv(rows: Sequence[Mapping[str, Any]], columns: Sequence[str], header: bool = True) -> str:
    """The rows as CSV with a header row (unless `header` is false); lists joined by ';',
    times in ISO 8601."""
    out = io.StringIO()
    writer = csv.DictWriter(out, fieldnames=list(columns), extrasaction="ignore")
    if header:
        writer.writeheader()
    for row in rows:
        writer.writerow({c: _cell(row.get(c)) for c in columns})
    return out.getvalue()


FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")
"""How a spreadsheet tells a formula from text: a cell starting so is run when the CSV is
opened (`=HYPERLINK(…)`, `=cmd|…`)."""


def _cell(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, datetime):
        return value.isoformat()
    if isinstance(value, list | tuple):
        return _text(";".join(str(v) for v in value))
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int | float):
        return str(value)
    return _text(str(value))


def _text(text: str) -> str:
    """Text as a spreadsheet shows it, never as a formula it runs: free text (an office's
    result, a category as reported) that starts like a formula gets a leading apostrophe."""
    return f"'{text}" if text.startswith(FORMULA_STARTS) else text


def _row(fact: Mapping[str, Any], columns: Sequence[str], **extra: Any) -> dict[str, Any]:
    flags = fact.get("flags") or {}
    return {
        c: extra[c] if c in extra else flags.get(c) if c in FLAGS else fact.get(c) for c in columns
    }


def _sorted(facts: Iterable[Mapping[str, Any]]) -> list[Mapping[str, Any]]:
    return sorted(
        facts,
        key=lambda f: (f.get("reported_at") is None, f.get("reported_at") or 0, f["issue_id"]),
    )
