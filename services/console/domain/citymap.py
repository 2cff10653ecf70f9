"""The city map without geometries: the region tree routing serves, laid out as a grid of
township cells grouped in county panels (deterministic: codes in order), each cell shaded by
a figure (issues, overdue) in five steps. Pure: the template draws the SVG from these."""

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

COLUMNS = 3  # county panels per row
CELL_COLUMNS = 5  # township cells per panel row
CELL_W, CELL_H, GAP = 30, 22, 3
PANEL_PAD, TITLE_H = 6, 18
STEPS = ("#f4f1ea", "#f3d9a4", "#e9a55b", "#cc5f2c", "#8c2d12")
"""Light to dark: none, then four steps up to the largest figure."""


@dataclass(frozen=True)
class Township:
    code: str
    name: str


@dataclass(frozen=True)
class County:
    code: str
    name: str
    townships: tuple[Township, ...]


@dataclass(frozen=True)
class Cell:
    code: str
    name: str
    county: str
    x: int
    y: int
    value: int
    step: int


@dataclass(frozen=True)
class Panel:
    code: str
    name: str
    x: int
    y: int
    width: int
    height: int


@dataclass(frozen=True)
class CityMap:
    width: int
    height: int
    panels: tuple[Panel, ...]
    cells: tuple[Cell, ...]
    legend: tuple[tuple[str, str], ...]  # (colour, range text)
    cell_w: int = CELL_W
    cell_h: int = CELL_H
    steps: tuple[str, ...] = STEPS


def bounds_of(top: int) -> list[int]:
    """The upper bound of steps 1-4: quarters of the largest figure (at least 1 each)."""
    return [max(1, (top * n) // 4) for n in range(1, 5)]


def step_of(value: int, top: int) -> int:
    """0 for nothing, else the first step whose upper bound holds it."""
    if value <= 0 or top <= 0:
        return 0
    return next((n for n, high in enumerate(bounds_of(top), 1) if value <= high), 4)


def legend_of(top: int) -> tuple[tuple[str, str], ...]:
    """(colour, range) of each step in use, as `step_of` shades."""
    out = [(STEPS[0], "0")]
    if top <= 0:
        return tuple(out)
    low = 1
    for n, high in enumerate(bounds_of(top), 1):
        if high >= low:
            out.append((STEPS[n], f"{low}" if low == high else f"{low}–{high}"))
            low = high + 1
    return tuple(out)


def lay_out(counties: Sequence[County], figures: Mapping[str, int]) -> CityMap:
    """Panels in rows of COLUMNS, each with its townships in rows of CELL_COLUMNS; `figures`
    maps a township code to what shades it."""
    ordered = sorted(counties, key=lambda c: c.code)
    top = max((figures.get(t.code, 0) for c in ordered for t in c.townships), default=0)
    panel_w = 2 * PANEL_PAD + CELL_COLUMNS * (CELL_W + GAP) - GAP
    panels: list[Panel] = []
    cells: list[Cell] = []
    y = 0
    for start in range(0, len(ordered), COLUMNS):
        row = ordered[start : start + COLUMNS]
        tallest = max(-(-max(1, len(c.townships)) // CELL_COLUMNS) for c in row)
        panel_h = TITLE_H + 2 * PANEL_PAD + tallest * (CELL_H + GAP) - GAP
        for n, county in enumerate(row):
            x = n * (panel_w + GAP * 2)
            panels.append(Panel(county.code, county.name, x, y, panel_w, panel_h))
            for i, town in enumerate(sorted(county.townships, key=lambda t: t.code)):
                cx = x + PANEL_PAD + (i % CELL_COLUMNS) * (CELL_W + GAP)
                cy = y + TITLE_H + PANEL_PAD + (i // CELL_COLUMNS) * (CELL_H + GAP)
                value = int(figures.get(town.code, 0))
                cells.append(Cell(town.code, town.name, county.name, cx, cy, value,
                                  step_of(value, top)))  # fmt: skip
        y += panel_h + GAP * 2
    width = min(COLUMNS, max(1, len(ordered))) * (panel_w + GAP * 2) - GAP * 2
    return CityMap(width, max(0, y - GAP * 2), tuple(panels), tuple(cells), legend_of(top))


def counted_by_township(region_codes: Sequence[str | None]) -> dict[str, int]:
    """How many of these region codes lie in each township (its 9-digit prefix)."""
    out: dict[str, int] = {}
    for code in region_codes:
        if code and len(code) >= 9:
            out[code[:9]] = out.get(code[:9], 0) + 1
    return out
