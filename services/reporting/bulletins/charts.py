"""Small inline SVG charts for the bulletins: rates over time, a ranking, overdue by office.
Pure: data in, one self-contained `<svg>` string out (no script, nothing fetched).

Each mark carries a class a reader (or a test) can count: `point` per plotted value, `bar`
per bar; each has a `<title>` with its value, shown on hover.
"""

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal
from html import escape

WIDTH = 720
FONT = "font-family='sans-serif' font-size='12'"
NO_DATA = "无数据 (no data)"


@dataclass(frozen=True)
class Series:
    """One line: a value per x position (None where it has no base)."""

    key: str
    label: str
    colour: str
    values: tuple[float | None, ...]


@dataclass(frozen=True)
class BarGroup:
    """One row of bars: a label and one value per kind of bar."""

    label: str
    values: tuple[float | None, ...]


def _svg(height: int, title: str, body: list[str], kind: str) -> str:
    head = (
        f"<svg xmlns='http://www.w3.org/2000/svg' class='chart {kind}' role='img' "
        f"width='{WIDTH}' height='{height}' viewBox='0 0 {WIDTH} {height}' {FONT}>"
        f"<title>{escape(title)}</title>"
    )
    return "".join([head, *body, "</svg>"])


def _empty(title: str, kind: str) -> str:
    text = f"<text x='{WIDTH // 2}' y='40' text-anchor='middle' fill='#666'>{NO_DATA}</text>"
    return _svg(70, title, [text], kind)


def one_decimal(value: float) -> str:
    """Rounded half up, as a reader rounds (87.25 → 87.3)."""
    return str(Decimal(repr(value)).quantize(Decimal("0.1"), ROUND_HALF_UP))


def percent(value: float | None) -> str:
    """A rate as a reader sees it: a percentage with one decimal, "—" when it has no base."""
    return "—" if value is None else one_decimal(value * 100) + "%"


def line_chart(title: str, x_labels: Sequence[str], series: Sequence[Series]) -> str:
    """Rates (0–1) over the x positions, one line per series, y from 0% to 100%."""
    if not x_labels or all(v is None for s in series for v in s.values):
        return _empty(title, "line")
    left, right, top, bottom, height = 48, 16, 16, 60, 280
    plot_w, plot_h = WIDTH - left - right, height - top - bottom
    step = plot_w / max(len(x_labels) - 1, 1)

    def x(i: int) -> float:
        return left + (i * step if len(x_labels) > 1 else plot_w / 2)

    def y(v: float) -> float:
        return top + plot_h * (1 - v)

    body: list[str] = []
    for tick in (0, 0.25, 0.5, 0.75, 1):
        body.append(
            f"<line x1='{left}' x2='{WIDTH - right}' y1='{y(tick):.1f}' y2='{y(tick):.1f}' "
            f"stroke='#ddd'/><text x='{left - 6}' y='{y(tick) + 4:.1f}' text-anchor='end' "
            f"fill='#666'>{tick * 100:.0f}%</text>"
        )
    every = max(1, round(len(x_labels) / 10))
    for i, label in enumerate(x_labels):
        if i % every == 0 or i == len(x_labels) - 1:
            body.append(
                f"<text x='{x(i):.1f}' y='{top + plot_h + 16}' text-anchor='middle' "
                f"fill='#666'>{escape(label)}</text>"
            )
    for n, s in enumerate(series):
        radius = 3 + 1.5 * (len(series) - 1 - n)  # later series smaller: equal values all show
        body.append(f"<g class='series' data-series='{escape(s.key)}'>")
        run: list[str] = []
        for i, value in enumerate((*s.values, None)):
            if value is not None:
                run.append(f"{x(i):.1f},{y(value):.1f}")
            elif run:
                body.append(
                    f"<polyline fill='none' stroke='{s.colour}' stroke-width='2' "
                    f"points='{' '.join(run)}'/>"
                )
                run = []
        for i, value in enumerate(s.values):
            if value is not None:
                body.append(
                    f"<circle class='point' cx='{x(i):.1f}' cy='{y(value):.1f}' r='{radius:g}' "
                    f"fill='{s.colour}'><title>{escape(x_labels[i])} {escape(s.label)} "
                    f"{percent(value)}</title></circle>"
                )
        body.append("</g>")
    legend_y = height - 18
    for n, s in enumerate(series):
        lx = left + n * 150
        body.append(
            f"<rect x='{lx}' y='{legend_y - 9}' width='12' height='12' fill='{s.colour}'/>"
            f"<text x='{lx + 18}' y='{legend_y + 2}'>{escape(s.label)}</text>"
        )
    return _svg(height, title, body, "line")


def bar_chart(
    title: str,
    groups: Sequence[BarGroup],
    kinds: Sequence[tuple[str, str, str]],
    scale: float | None = None,
    fmt: Callable[[float], str] = lambda v: f"{v:g}",
) -> str:
    """Horizontal bars, one row per group and one bar per kind (`(key, label, colour)`).

    Bars are as long as value / scale (the largest value when `scale` is None); a value of
    None draws a bar of length 0 marked "—"."""
    if not groups:
        return _empty(title, "bars")
    largest = scale or max((v or 0 for g in groups for v in g.values), default=0) or 1
    label_w, value_w, bar_h, gap, top = 220, 60, 14, 8, 12
    row_h = bar_h * len(kinds) + gap
    legend = 24 if len(kinds) > 1 else 0
    height = top + row_h * len(groups) + legend + 8
    span = WIDTH - label_w - value_w - 16
    body: list[str] = []
    for r, group in enumerate(groups):
        y0 = top + r * row_h
        short = group.label if len(group.label) <= 16 else group.label[:15] + "…"
        body.append(
            f"<g class='row'><text x='{label_w - 8}' y='{y0 + row_h / 2:.1f}' text-anchor='end'>"
            f"<title>{escape(group.label)}</title>{escape(short)}</text>"
        )
        for k, ((key, label, colour), value) in enumerate(zip(kinds, group.values, strict=True)):
            length = 0.0 if value is None else span * min(value / largest, 1)
            shown = "—" if value is None else fmt(value)
            by = y0 + k * bar_h
            body.append(
                f"<rect class='bar {escape(key)}' x='{label_w}' y='{by}' width='{length:.1f}' "
                f"height='{bar_h - 2}' fill='{colour}'><title>{escape(group.label)} "
                f"{escape(label)} {shown}</title></rect>"
                f"<text x='{label_w + length + 4:.1f}' y='{by + bar_h - 4}'>{shown}</text>"
            )
        body.append("</g>")
    if legend:
        ly = height - 14
        for n, (_, label, colour) in enumerate(kinds):
            lx = label_w + n * 120
            body.append(
                f"<rect x='{lx}' y='{ly - 9}' width='12' height='12' fill='{colour}'/>"
                f"<text x='{lx + 18}' y='{ly + 2}'>{escape(label)}</text>"
            )
    return _svg(height, title, body, "bars")
