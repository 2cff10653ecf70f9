"""Playing a day: the stories side by side, a progress display, and at the end (or on
Ctrl-C) the day's rates from reporting's API next to what the simulator counted itself."""

import asyncio
import contextlib
import json
import time
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

FLOW = ("reported", "answered", "assigned", "accepted", "resolved", "visited", "closed",
        "flagged", "abandoned", "returned", "extended", "reopened", "merged")  # fmt: skip
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
        for story in stories:
            story.cancel()
        await asyncio.gather(*stories, return_exceptions=True)
        for office in day.offices.values():
            if office.task is not None:
                office.task.cancel()
        for decision in list(day.decisions):
            decision.cancel()
        start, end = (min(day.days), max(day.days)) if day.days else _today(settings)
        expected = {
            key: baseline.get(key, 0) + value
            for key, value in day.own_figures().items()
            if start == end
        }
        rates = await settled_rates(settings, start, end, expected)
        rankings = await top_offices(settings, start, end)
        return Summary(
            start, end, rates, day.own_figures(), day.tally.as_dict(), rankings, day.errors
        )


async def _show(
    day: Day, stories: list[asyncio.Task[None]], stop: asyncio.Event, console: Console
) -> None:
    """The progress display, until every story ends, the day and its grace time are over,
    or Ctrl-C."""
    span = day.settings.span
    progress = Progress(
        TextColumn("[bold]{task.description}"), BarColumn(), MofNCompleteColumn(),
        TimeElapsedColumn(), TextColumn("{task.fields[at]}"), console=console,
    )  # fmt: skip
    reports = progress.add_task("reports", total=day.settings.reports, at="")
    with Live(Group(progress, Text()), console=console, refresh_per_second=4) as live:
        while not stop.is_set():
            progress.update(reports, completed=day.tally.reported, at=day.simulated_time())
            live.update(Group(progress, _flow_table(day)))
            if all(s.done() for s in stories) or day.clock() > span * 1.6:
                break
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(stop.wait(), timeout=0.5)
        live.update(Group(progress, _flow_table(day)))


def _flow_table(day: Day) -> Text:
    tally = day.tally.as_dict()
    flow = Text()
    for name in FLOW:
        flow.append(f"{name} ", style="dim").append(f"{tally[name]:<5}", style="bold")
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
    settings: DaySettings, start: date, end: date, expected: dict[str, int], timeout: float = 30
) -> dict[str, Any]:
    """Reporting's rates once it has counted what the simulator did: at least the expected
    counts, and the same answer twice in a row."""
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


async def top_offices(settings: DaySettings, start: date, end: date) -> list[dict[str, Any]] | str:
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
    return list(rows)[:5]


def print_summary(summary: Summary, settings: DaySettings, console: Console) -> None:
    days = (
        str(summary.start) if summary.start == summary.end else f"{summary.start} to {summary.end}"
    )
    console.print()
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
        top = Table(title="Top 5 offices (GET /rankings?subject=office)")
        for column in ("rank", "office", "score", "response", "resolution", "satisfaction"):
            top.add_column(column, no_wrap=column == "office")
        for row in summary.rankings:
            rates = (_percent(row.get(c)) for c in RANKED)
            office = str(row.get("name") or row.get("id"))
            score = row.get("score")
            shown = "—" if score is None else f"{score:.3f}"
            top.add_row(str(row.get("rank")), office, shown, *rates)
        console.print(top)
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


def _percent(value: Any) -> str:
    return "—" if value is None else f"{float(value) * 100:.1f}%"


def write_summary(summary: Summary, path: Path) -> None:
    path.write_text(summary.as_json(), encoding="utf-8")
