"""Playing a day: the stories side by side, a progress display, and at the end (or on
Ctrl-C) the day's rates from reporting's API next to what the simulator counted itself.

On a terminal the progress is rich's live display; otherwise (a log, CI, systemd) a plain
line every few seconds. Both show the simulator's own count in the terms of the table
(`reading`), and the last line and the table's right column are one reading, taken once
every actor has stopped.
"""

import asyncio
import contextlib
import json
import time
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Any

import httpx
from rich.console import Console, Group
from rich.live import Live
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table
from rich.text import Text

from devkit.simulator.day import Day, DaySettings, arrivals

FLOW = ("received", "answered_directly", "assigned", "accepted", "resolved", "visited",
        "satisfied", "solved", "closed", "flagged", "abandoned", "returned", "extended",
        "reopened", "merged")  # fmt: skip
"""The progress figures: the table's (issue counts, `Day.own_figures`) and what the people
did besides (`Tally`)."""
EVERY = 5.0
"""Seconds between progress lines when stdout is not a terminal."""
FINAL = "at the end, counted by the simulator (the table's right column)"
RATES = ("direct_handling_rate", "response_rate", "completion_rate", "on_time_rate",
         "resolution_rate", "satisfaction_rate", "reopen_rate", "duplicate_rate")  # fmt: skip
RANKED = ("response_rate", "resolution_rate", "satisfaction_rate")
COUNTS = ("received", "answered_directly", "assigned", "resolved", "visited", "satisfied",
          "solved", "reopened", "merged")  # fmt: skip


@dataclass
class Summary:
    start: date
    end: date
    rates: dict[str, Any]
    own: dict[str, int]
    tally: dict[str, int]
    rankings: list[dict[str, Any]] | str
    errors: list[str]

    def as_json(self) -> str:
        return json.dumps(self.__dict__, default=str, ensure_ascii=False, indent=2)


async def play(settings: DaySettings, console: Console, stop: asyncio.Event) -> Summary:
    async with httpx.AsyncClient(base_url=settings.intake, timeout=30) as client:
        day = Day(settings, client)
        await day.prepare()
        plans = day.plans()
        baseline = await rates_of(settings, *_today(settings))
        day.started = time.monotonic()
        timeline = zip(plans, arrivals(settings), strict=True)
        stories = [asyncio.create_task(day.story(plan, at)) for plan, at in timeline]
        await _show(day, stories, stop, console)
        await _stop_everyone(day, stories)
        # the one reading the last progress line and the table's right column both show
        own, tally = day.own_figures(), day.tally.as_dict()
        start, end = (min(day.days), max(day.days)) if day.days else _today(settings)
        expected = {key: baseline.get(key, 0) + value for key, value in own.items() if start == end}
        rates = await settled_rates(settings, start, end, expected)
        rankings = await office_ranking(settings, start, end)
        return Summary(start, end, rates, own, tally, rankings, day.errors)


async def _stop_everyone(day: Day, stories: list[asyncio.Task[None]]) -> None:
    """Cancel the stories, the offices' inbox work and the supervisor's pending decisions,
    and wait until each has stopped: nothing counts after this."""
    offices = [o.task for o in day.offices.values() if o.task is not None]
    everyone = [*stories, *offices, *day.decisions]
    for task in everyone:
        task.cancel()
    await asyncio.gather(*everyone, return_exceptions=True)


def reading(own: Mapping[str, int], tally: Mapping[str, int]) -> dict[str, int]:
    """The progress figures from the simulator's issue counts and its tally: where both
    have a figure (resolved, visited, reopened…), the issue count, as in the table."""
    both = {**tally, **own}
    return {name: both[name] for name in FLOW}


def progress_line(label: str, figures: Mapping[str, int]) -> str:
    """`label | received 12  answered_directly 6  …`: plain text, one line, for logs."""
    return f"{label} | " + "  ".join(f"{name} {value}" for name, value in figures.items())


def parse_progress_line(line: str) -> tuple[str, dict[str, int]]:
    """The label and the figures of a `progress_line`."""
    label, _, figures = line.partition(" | ")
    pairs = (pair.split(" ") for pair in figures.split("  "))
    return label, {name: int(value) for name, value in pairs}


def _plain(console: Console, line: str) -> None:
    """One line as it is: no markup, no colours guessed from numbers, never wrapped."""
    console.print(line, markup=False, highlight=False, soft_wrap=True)


def _now(day: Day) -> dict[str, int]:
    return reading(day.own_figures(), day.tally.as_dict())


async def _show(
    day: Day,
    stories: list[asyncio.Task[None]],
    stop: asyncio.Event,
    console: Console,
    every: float = EVERY,
) -> None:
    """The progress, until every story ends, the day and its grace time are over, or
    Ctrl-C: rich's live display on a terminal, else a plain line every `every` seconds."""
    span = day.settings.span

    def over() -> bool:
        return all(s.done() for s in stories) or day.clock() > span * 1.6

    async def pause(seconds: float) -> None:
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(stop.wait(), timeout=seconds)

    if not console.is_terminal:
        due = 0.0
        while not stop.is_set() and not over():
            if day.clock() >= due:
                elapsed = int(day.clock())
                label = f"{elapsed // 60}:{elapsed % 60:02d} {day.simulated_time()}"
                _plain(console, progress_line(label, _now(day)))
                due = (day.clock() // every + 1) * every
            await pause(min(0.5, every))
        return
    progress = Progress(
        TextColumn("[bold]{task.description}"), BarColumn(), MofNCompleteColumn(),
        TimeElapsedColumn(), TextColumn("{task.fields[at]}"), console=console,
    )  # fmt: skip
    reports = progress.add_task("reports", total=day.settings.reports, at="")
    # transient: the figures printed under it, at the end, are the last reading
    with Live(
        Group(progress, Text()), console=console, refresh_per_second=4, transient=True
    ) as live:
        while not stop.is_set():
            progress.update(reports, completed=day.tally.reported, at=day.simulated_time())
            live.update(Group(progress, _flow(_now(day))))
            if over():
                break
            await pause(0.5)


def _flow(figures: Mapping[str, int]) -> Text:
    flow = Text()
    for name, value in figures.items():
        flow.append(f"{name} ", style="dim").append(f"{value:<5}", style="bold")
    return flow


def _today(settings: DaySettings) -> tuple[date, date]:
    from datetime import datetime
    from zoneinfo import ZoneInfo

    today = datetime.now(ZoneInfo(settings.timezone)).date()
    return today, today


async def rates_of(settings: DaySettings, start: date, end: date) -> dict[str, Any]:
    async with httpx.AsyncClient(base_url=settings.reporting, timeout=20) as client:
        response = await client.get("/rates", params={"start": str(start), "end": str(end)})
        response.raise_for_status()
        found: dict[str, Any] = response.json()
        return found


async def settled_rates(
    settings: DaySettings, start: date, end: date, expected: dict[str, int], timeout: float = 180
) -> dict[str, Any]:
    """Reporting's rates once it has counted what the simulator did: at least the expected
    counts, and the same answer twice in a row (reporting follows the log; on a busy machine
    it may be a minute or more behind the day's last event)."""
    last: dict[str, Any] = {}
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    while True:
        now = await rates_of(settings, start, end)
        caught_up = all(now.get(key, 0) >= value for key, value in expected.items())
        if (caught_up and now == last) or loop.time() > deadline:
            return now
        last = now
        await asyncio.sleep(1.0)


async def office_ranking(
    settings: DaySettings, start: date, end: date
) -> list[dict[str, Any]] | str:
    """Every office ranked, in the API's order and with its ranks (equal scores share one)."""
    params = {"subject": "office", "start": str(start), "end": str(end)}
    async with httpx.AsyncClient(base_url=settings.reporting, timeout=20) as client:
        try:
            response = await client.get("/rankings", params=params)
        except httpx.HTTPError as error:
            return f"rankings unavailable: {error}"
    if response.status_code != 200:
        return f"rankings unavailable: GET /rankings answered {response.status_code}"
    body = response.json()
    rows = body.get("rows", body) if isinstance(body, dict) else body
    return list(rows)


def print_summary(summary: Summary, settings: DaySettings, console: Console) -> None:
    days = (
        str(summary.start) if summary.start == summary.end else f"{summary.start} to {summary.end}"
    )
    console.print()
    _plain(console, progress_line(FINAL, reading(summary.own, summary.tally)))
    table = Table(title=f"The day's figures ({days}, reporting's GET /rates)")
    table.add_column("figure")
    table.add_column("reporting's API", justify="right")
    table.add_column("this run, counted by the simulator", justify="right")
    for name in COUNTS:
        table.add_row(name, str(summary.rates.get(name)), str(summary.own.get(name, "")))
    for name in RATES:
        table.add_row(name, _percent(summary.rates.get(name)), "")
    console.print(table)
    if isinstance(summary.rankings, str):
        console.print(f"[yellow]{summary.rankings}[/]")
    else:
        console.print(ranking_table(summary.rankings))
    if summary.errors:
        console.print(
            f"[yellow]{len(summary.errors)} stories failed; first: {summary.errors[0]}[/]"
        )
    reporting = settings.reporting
    console.print(
        f"""
  rates      {reporting}/rates?start={summary.start}&end={summary.end}
  rankings   {reporting}/rankings?subject=office&start={summary.start}&end={summary.end}
  bulletin   {reporting}/bulletins/weekly?region_code=411900&on={summary.end}&format=html
  metrics    {reporting}/metrics   (Prometheus format; each service serves /metrics)
  dashboards Grafana and Prometheus run under docker compose only (deploy/compose.yaml,
             Grafana on :3000); `make run` has none: read /metrics and the APIs above
  CLI        bin/huiyin rates --start {summary.start} --end {summary.end}"""
    )


def ranking_table(rows: list[dict[str, Any]], first: int = 5, last: int = 3) -> Table:
    """The first and the last offices of the ranking, with the ranks the API gives (equal
    scores share a rank, in the API's order), and how many issues each was scored on."""
    shown: list[dict[str, Any] | None] = list(rows)
    if len(rows) > first + last:
        shown = [*rows[:first], None, *rows[-last:]]
    scores = [r["score"] for r in rows if r.get("score") is not None]
    spread = f"; scores {min(scores):.3f} to {max(scores):.3f}" if scores else ""
    table = Table(
        title=f"{len(rows)} offices ranked (GET /rankings?subject=office{spread})",
        caption="equal scores share a rank",
    )
    columns = ("rank", "office", "score", "response", "resolution", "satisfaction", "assigned",
               "visited")  # fmt: skip
    for column in columns:
        table.add_column(column, justify="left" if column == "office" else "right")
    for row in shown:
        if row is None:
            table.add_row("…", *[""] * (len(columns) - 1))
            continue
        rates = (_percent(row.get(c)) for c in RANKED)
        office = str(row.get("name") or row.get("id"))
        score = row.get("score")
        scored = "—" if score is None else f"{score:.3f}"
        volume = (str(row.get("assigned", "")), str(row.get("visited", "")))
        table.add_row(str(row.get("rank")), office, scored, *rates, *volume)
    return table


def _percent(value: Any) -> str:
    return "—" if value is None else f"{float(value) * 100:.1f}%"


def write_summary(summary: Summary, path: Path) -> None:
    path.write_text(summary.as_json(), encoding="utf-8")
