"""Reporting's side: rates, rankings, the three lists, and rebuilding the projection."""

import time
from collections.abc import Iterator
from enum import StrEnum
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

from cli.app import app, config, guarded, out
from cli.render import RATE_NAMES, cell, percent, print_json, rows_table


class Period(StrEnum):
    DAY = "day"
    WEEK = "week"
    MONTH = "month"


class Subject(StrEnum):
    OFFICE = "office"
    TOWNSHIP = "township"


class ListKind(StrEnum):
    PROBLEMS = "problems"
    TASKS = "tasks"
    RESULTS = "results"
    BACKLOG = "backlog"


class Target(StrEnum):
    REPORTING = "reporting"


SHOWN = {
    ListKind.PROBLEMS: ("issue_id", "reported_day", "channel", "kind", "category", "state",
                        "office_id"),
    ListKind.TASKS: ("issue_id", "category", "office_id", "level", "state", "assigned_at",
                     "resolve_due"),
    ListKind.RESULTS: ("issue_id", "category", "office_id", "resolved_at", "satisfaction",
                       "solved"),
    ListKind.BACKLOG: ("issue_id", "age_days", "category", "office_id", "state", "returns"),
}  # fmt: skip
"""The columns a terminal shows of each list."""
Date = Annotated[str | None, typer.Option(help="YYYY-MM-DD")]
PeriodOpt = Annotated[Period | None, typer.Option(help="day, week or month around --on")]
Region = Annotated[str | None, typer.Option("--region", help="a region code")]
COUNTS = ("received", "answered_directly", "assigned", "accepted_on_time", "resolved",
          "resolved_on_time", "visited", "solved", "satisfied", "reopened", "merged")  # fmt: skip


def _when(
    period: Period | None, on: str | None, start: str | None, end: str | None
) -> dict[str, Any]:
    return {"period": period.value if period else None, "on": on, "start": start, "end": end}


@app.command()
@guarded
def rates(
    ctx: typer.Context,
    period: PeriodOpt = None,
    on: Date = None,
    start: Date = None,
    end: Date = None,
    office: Annotated[str | None, typer.Option(help="an office id")] = None,
    region: Region = None,
    category: str | None = None,
) -> None:
    """The rates of domain.md for a period (--period/--on or --start/--end) and a scope."""
    params = _when(period, on, start, end) | {
        "office_id": office, "region_code": region, "category": category,
    }  # fmt: skip
    found = config(ctx).reporting.json("GET", "/rates", params=params)
    if config(ctx).json:
        return print_json(out(), found)
    scope = ", ".join(f"{k} {v}" for k, v in found.items() if k in params and v) or "all"
    table = rows_table(
        f"Rates ({scope})",
        [{"figure": n, "value": cell(found.get(n))} for n in COUNTS if n in found]
        + [{"figure": n, "value": percent(found.get(n))} for n in RATE_NAMES if n in found],
        ["figure", "value"],
    )
    out().print(table)


@app.command()
@guarded
def rankings(
    ctx: typer.Context,
    subject: Subject = Subject.OFFICE,
    period: PeriodOpt = None,
    on: Date = None,
    start: Date = None,
    end: Date = None,
    region: Region = None,
    top: Annotated[int, typer.Option(help="show this many")] = 20,
) -> None:
    """Offices or townships ranked on the weighted score of the three rates."""
    params = _when(period, on, start, end) | {"subject": subject.value, "region_code": region}
    found = config(ctx).reporting.json("GET", "/rankings", params=params)
    if config(ctx).json:
        return print_json(out(), found)
    rows = found.get("rows", []) if isinstance(found, dict) else found
    columns = ["rank", "id", "name", "score", "response_rate", "resolution_rate",
               "satisfaction_rate", "assigned", "visited"]  # fmt: skip
    present = [c for c in columns if any(c in row for row in rows)] or columns[:6]
    out().print(rows_table(f"Ranking of {subject.value}s", rows[:top], present))


@app.command("lists")
@guarded
def lists_(
    ctx: typer.Context,
    kind: ListKind,
    csv: Annotated[
        Path | None, typer.Option(help="write the list as CSV to this file ('-': stdout)")
    ] = None,
    period: PeriodOpt = None,
    on: Date = None,
    start: Date = None,
    end: Date = None,
    office: str | None = None,
    region: Region = None,
    category: str | None = None,
    state: Annotated[str | None, typer.Option(help="the issues' current state")] = None,
    min_age_days: Annotated[float | None, typer.Option(help="backlog: at least this old")] = None,
    limit: Annotated[
        int | None, typer.Option(min=1, help="at most this many rows (default: every page)")
    ] = None,
) -> None:
    """The three lists (problems, tasks, results) and the backlog cases (积案): every page
    (following each page's `next`), or the first `--limit` rows; `--csv` streams them."""
    params = _when(period, on, start, end) | {
        "office_id": office, "region_code": region, "category": category, "state": state,
        "min_age_days": min_age_days if kind is ListKind.BACKLOG else None,
    }  # fmt: skip
    reporting = config(ctx).reporting
    path = f"/lists/{kind.value}"
    if csv is not None:
        lines = reporting.lines(path, params=params | {"format": "csv"})
        if str(csv) == "-":
            for _, line in _limited(lines, limit):
                typer.echo(line)
            return
        written = 0
        with csv.open("w", encoding="utf-8", newline="") as file:
            for written, line in _limited(lines, limit):  # noqa: B007
                file.write(line + "\r\n")  # as the service writes CSV
        out().print(f"wrote {max(written - 1, 0)} rows of the {kind.value} list to {csv}")
        return
    rows: list[dict[str, Any]] = []
    found: dict[str, Any] = {}
    cursor = None
    while True:
        size = min(PAGE, limit - len(rows)) if limit else PAGE
        page = {"page_size": size, "cursor": cursor}
        found = reporting.call("GET", path, params=params | page).json()
        rows.extend(found.get("rows", []))
        cursor = found.get("next")
        if not cursor or (limit is not None and len(rows) >= limit):
            break
    found |= {"rows": rows, "count": len(rows), "next": cursor}
    if config(ctx).json:
        return print_json(out(), found)
    columns = [c for c in SHOWN[kind] if any(c in r for r in rows)] or None
    more = " (more: raise --limit)" if cursor else ""
    title = f"{kind.value}: {len(rows)}{more} (--csv for every column)"
    out().print(rows_table(title, rows, columns))


PAGE = 1000
"""Rows asked per page (the service's largest)."""


def _limited(lines: Iterator[str], limit: int | None) -> Iterator[tuple[int, str]]:
    """The CSV's lines numbered from 1 (the header), up to `limit` rows after the header."""
    for n, line in enumerate(lines, start=1):
        if limit is not None and n > limit + 1:
            return
        yield n, line


@app.command()
@guarded
def rebuild(
    ctx: typer.Context,
    target: Target,
    wait: Annotated[bool, typer.Option(help="follow the progress until it ends")] = True,
) -> None:
    """Rebuild a projection from the log (reporting; needs HUIYIN_REPORTING_ADMIN_TOKEN)."""
    admin = config(ctx).reporting_admin
    status = admin.json("POST", "/admin/rebuild")
    if not wait:
        return print_json(out(), status)
    columns = (TextColumn("rebuilding {task.description}"), BarColumn(), MofNCompleteColumn(),
               TextColumn("applied {task.fields[applied]}"), TimeElapsedColumn())  # fmt: skip
    with Progress(*columns, console=out()) as progress:
        bar = progress.add_task(target.value, total=status.get("total") or None, applied=0)
        while status.get("state") == "running":
            time.sleep(0.5)
            status = admin.json("GET", "/admin/rebuild")
            total = status.get("total") or None
            progress.update(bar, total=total, completed=status.get("read", 0),
                            applied=status.get("applied", 0))  # fmt: skip
    if status.get("state") != "done":
        out().print(f"[red]rebuild {status.get('state')}:[/] {status.get('error')}")
        raise typer.Exit(1)
    out().print(
        f"rebuilt {target.value}: read {status.get('read')}, applied {status.get('applied')}, "
        f"skipped {status.get('skipped')}"
    )
