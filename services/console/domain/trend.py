"""The trend of a period's rates per day, as a small line chart drawn on the server: points of
polylines in an SVG box (no script, no library). Pure."""

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import date
from typing import Any

SERIES = (
    ("response_rate", "#1f5fa8", ""),
    ("completion_rate", "#2e7d32", "6 3"),
    ("satisfaction_rate", "#b3261e", "2 3"),
)
"""(rate, colour, dash pattern): told apart by colour and by dash."""
WIDTH, HEIGHT = 560, 200
LEFT, RIGHT, TOP, BOTTOM = 40, 10, 10, 28


@dataclass(frozen=True)
class Line:
    rate: str
    colour: str
    dash: str
    points: str  # "x,y x,y …" (days without a value are skipped)
    dots: tuple[tuple[str, str], ...] = ()  # each point, marked (a lone day shows too)


@dataclass(frozen=True)
class Trend:
    days: tuple[date, ...]
    lines: tuple[Line, ...]
    rows: tuple[tuple[date, dict[str, float | None], int], ...]  # the table: day, rates, received
    x_ticks: tuple[tuple[float, str], ...]
    y_ticks: tuple[tuple[float, str], ...]
    width: int = WIDTH
    height: int = HEIGHT
    left: int = LEFT
    bottom_y: int = HEIGHT - BOTTOM
    right_x: int = WIDTH - RIGHT


def x_of(i: int, n: int) -> float:
    span = WIDTH - LEFT - RIGHT
    return LEFT + (span * i / (n - 1) if n > 1 else span / 2)


def y_of(value: float) -> float:
    return TOP + (HEIGHT - TOP - BOTTOM) * (1 - max(0.0, min(1.0, value)))


def trend_of(per_day: Sequence[tuple[date, Mapping[str, Any]]]) -> Trend:
    """Each day's `/rates` answer, in day order, as lines and a table."""
    days = tuple(day for day, _ in per_day)
    n = len(days)
    lines = []
    for rate, colour, dash in SERIES:
        points = [
            f"{x_of(i, n):.1f},{y_of(float(v)):.1f}"
            for i, (_, rates) in enumerate(per_day)
            if (v := rates.get(rate)) is not None
        ]
        dots = tuple((x, y) for x, y in (p.split(",", 1) for p in points))
        lines.append(Line(rate, colour, dash, " ".join(points), dots))
    rows = tuple(
        (day, {rate: rates.get(rate) for rate, _, _ in SERIES}, int(rates.get("received") or 0))
        for day, rates in per_day
    )
    every = max(1, n // 7)
    x_ticks = tuple(
        (x_of(i, n), f"{d.month}/{d.day}") for i, d in enumerate(days) if i % every == 0
    )
    y_ticks = tuple((y_of(v / 100), f"{v}%") for v in (0, 50, 100))
    return Trend(days, tuple(lines), rows, x_ticks, y_ticks)
