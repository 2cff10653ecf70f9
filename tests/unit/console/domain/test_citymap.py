"""The city map from the region tree, and the trend chart: laid out the same every time."""

from datetime import date
from typing import Any

from services.console.domain.citymap import (
    STEPS,
    County,
    Township,
    counted_by_township,
    lay_out,
    legend_of,
    step_of,
)
from services.console.domain.trend import trend_of


def city() -> list[County]:
    return [
        County(f"41190{c}", f"县{c}", tuple(Township(f"41190{c}{t:03d}", f"镇{t}")
                                            for t in range(1, 2 + c * 3)))
        for c in (2, 1, 3, 4)
    ]  # fmt: skip


def test_the_layout_is_deterministic_and_cells_do_not_overlap() -> None:
    one, two = lay_out(city(), {"411901001": 8}), lay_out(list(reversed(city())), {"411901001": 8})
    assert one == two
    assert [p.code for p in one.panels] == ["411901", "411902", "411903", "411904"]
    spots = {(c.x, c.y) for c in one.cells}
    assert len(spots) == len(one.cells) == sum(len(c.townships) for c in city())
    assert all(
        0 <= c.x + one.cell_w <= one.width and c.y + one.cell_h <= one.height for c in one.cells
    )
    shaded = {c.code: c.step for c in one.cells}
    assert shaded["411901001"] == 4 and shaded["411901002"] == 0


def test_steps_and_legend() -> None:
    assert [step_of(v, 8) for v in (0, 1, 2, 3, 4, 8)] == [0, 1, 1, 2, 2, 4]
    assert legend_of(0) == (("#f4f1ea", "0"),)
    assert [label for _, label in legend_of(8)] == ["0", "1–2", "3–4", "5–6", "7–8"]
    assert [label for _, label in legend_of(1)] == ["0", "1"]
    for top in range(1, 30):  # the legend says what the cells show
        ranges = dict(legend_of(top))
        for value in range(1, top + 1):
            colour = STEPS[step_of(value, top)]
            low, _, high = ranges[colour].partition("–")
            assert int(low) <= value <= int(high or low)


def test_overdue_counted_per_township() -> None:
    assert counted_by_township(["411901001001", "411901001", "4119", None, "411902003001"]) == {
        "411901001": 2,
        "411902003": 1,
    }


def test_the_trend_skips_days_without_a_value() -> None:
    per_day: list[tuple[date, dict[str, Any]]] = [
        (date(2026, 11, 1), {"response_rate": 0.5, "received": 3}),
        (date(2026, 11, 2), {"response_rate": None, "received": 0}),
        (date(2026, 11, 3), {"response_rate": 1.0, "satisfaction_rate": 1.0, "received": 2}),
    ]
    trend = trend_of(per_day)
    response = next(line for line in trend.lines if line.rate == "response_rate")
    assert len(response.points.split()) == 2
    assert trend.rows[0][2] == 3 and trend.rows[1][1]["response_rate"] is None
    assert [label for _, label in trend.x_ticks] == ["11/1", "11/2", "11/3"]
