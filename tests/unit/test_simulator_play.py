"""The demo day's printer: in a log (no terminal) a plain progress line every few seconds, the
last line one reading with the table's right column, and the offices' ranks as the API gives
them."""

import asyncio
import io
import time
from datetime import date

import httpx
from rich.console import Console

from devkit.simulator.day import Day, DaySettings
from devkit.simulator.play import (
    COUNTS,
    FINAL,
    FLOW,
    Summary,
    _show,
    parse_progress_line,
    print_summary,
    ranking_table,
)

SETTINGS = DaySettings("http://intake.invalid", "http://reporting.invalid", "", reports=4)


def a_log() -> tuple[Console, io.StringIO]:
    out = io.StringIO()
    return Console(file=out, force_terminal=False, width=100), out


def cells(line: str) -> list[str]:
    return [cell.strip() for cell in line.replace("┃", "│").split("│")[1:-1]]


async def test_without_a_terminal_a_plain_progress_line_comes_every_few_seconds() -> None:
    console, out = a_log()
    async with httpx.AsyncClient() as client:
        day = Day(SETTINGS, client)
        day.started = time.monotonic()

        async def story(n: int) -> None:
            await asyncio.sleep(0.3 * n)
            day.tally.reported += 1

        stories = [asyncio.create_task(story(n)) for n in range(1, 5)]
        await _show(day, stories, asyncio.Event(), console, every=0.25)
    lines = out.getvalue().splitlines()
    assert len(lines) >= 4, lines  # a line every 0.25 s of a 1.2 s day: no live display
    parsed = [parse_progress_line(line) for line in lines]
    assert all(label.startswith("0:0") and "simulated" in label for label, _ in parsed)
    assert all(list(figures) == list(FLOW) for _, figures in parsed)
    received = [figures["received"] for _, figures in parsed]
    assert received == sorted(received) and received[0] < 4
    assert "\x1b" not in out.getvalue()  # plain text, no terminal codes


def a_summary() -> Summary:
    own = {"received": 40, "answered_directly": 19, "assigned": 21, "visited": 30,
           "satisfied": 29, "solved": 26, "resolved": 14, "reopened": 1, "merged": 2}  # fmt: skip
    tally = {"reported": 40, "answered": 19, "assigned": 21, "accepted": 17, "resolved": 15,
             "visited": 11, "closed": 28, "flagged": 2, "abandoned": 1, "returned": 2,
             "extended": 3, "reopened": 2, "merged": 2, "satisfied": 0, "solved": 0}  # fmt: skip
    rates = {**own, "received": 40, "visited": 30, "response_rate": 0.9}
    rankings = [
        {"rank": 1, "id": "o-a", "name": "A 局", "score": 1.0, "response_rate": 1.0,
         "resolution_rate": 1.0, "satisfaction_rate": 1.0, "assigned": 5, "visited": 4},
        {"rank": 1, "id": "o-b", "name": "B 局", "score": 1.0, "response_rate": 1.0,
         "resolution_rate": 1.0, "satisfaction_rate": 1.0, "assigned": 2, "visited": 2},
        {"rank": 3, "id": "o-c", "name": "C 局", "score": 0.6667, "response_rate": 0.5,
         "resolution_rate": 0.5, "satisfaction_rate": 1.0, "assigned": 2, "visited": 2},
    ]  # fmt: skip
    return Summary(date(2026, 11, 23), date(2026, 11, 23), rates, own, tally, rankings, [])


def test_the_last_line_is_the_reading_the_tables_right_column_shows() -> None:
    console, out = a_log()
    print_summary(a_summary(), SETTINGS, console)
    lines = out.getvalue().splitlines()
    [final] = [line for line in lines if line.startswith(FINAL)]
    _, figures = parse_progress_line(final)
    table = lines.index(final) + 1
    rows = {c[0]: c for c in map(cells, lines[table:]) if c and c[0] in COUNTS}
    assert set(rows) == set(COUNTS)
    for name in COUNTS:
        assert rows[name][2] == str(figures[name]), (name, rows[name], figures[name])
    # issue counts where the tally counts actions: resolved twice is one issue resolved
    assert (figures["resolved"], figures["visited"], figures["reopened"]) == (14, 30, 1)


def test_the_ranking_shows_the_apis_ranks_ties_included_and_the_spread() -> None:
    console, out = a_log()
    rankings = a_summary().rankings
    assert not isinstance(rankings, str)
    console.print(ranking_table(rankings))
    text = out.getvalue()
    ranked = [c for c in map(cells, text.splitlines()) if c and c[0].isdigit()]
    assert [(c[0], c[1]) for c in ranked] == [("1", "A 局"), ("1", "B 局"), ("3", "C 局")]
    assert [c[2] for c in ranked] == ["1.000", "1.000", "0.667"]
    assert "3 offices ranked" in text and "scores 0.667 to 1.000" in text


def test_a_long_ranking_shows_its_first_five_and_last_three() -> None:
    rows = [
        {"rank": n, "id": f"o{n}", "name": None, "score": 1 - n / 100, "response_rate": None,
         "resolution_rate": None, "satisfaction_rate": None, "assigned": 1, "visited": 0}
        for n in range(1, 21)
    ]  # fmt: skip
    console, out = a_log()
    console.print(ranking_table(rows))
    lines = map(cells, out.getvalue().splitlines())
    shown = [c[1] for c in lines if c and (c[0] == "…" or c[0].isdigit())]
    assert shown == ["o1", "o2", "o3", "o4", "o5", "", "o18", "o19", "o20"]
