"""Count cells: which cells a read sums, and what a view contributes. Pure."""

from datetime import date
from typing import Any

from services.reporting.domain import cells
from services.reporting.domain.rates import rates


def test_a_period_is_read_as_whole_months_and_the_days_around_them() -> None:
    found = cells.periods_of(date(2026, 1, 30), date(2026, 3, 2))
    assert found == [("D", "2026-01-30"), ("D", "2026-01-31"), ("M", "2026-02"),
                     ("D", "2026-03-01"), ("D", "2026-03-02")]  # fmt: skip
    assert cells.periods_of(date(2026, 2, 1), date(2026, 2, 28)) == [("M", "2026-02")]


def test_a_region_read_sums_the_path_key_and_the_stem_key() -> None:
    assert cells.region_key_of(None) == ["*"]
    assert cells.region_key_of("411900") == ["p:411900", "s:4119"]
    triaged = {"by_path": True, "region_path": ["411900", "411901"], "region_code": "411901"}
    assert cells.region_keys(triaged) == ["p:411900", "p:411901"]
    direct = {"region_code": "411901002001"}
    assert cells.region_keys(direct) == ["s:41", "s:4119", "s:411901", "s:411901002",
                                         "s:411901002001"]  # fmt: skip


def test_the_cells_of_views_give_the_rates_of_the_views() -> None:
    views: list[dict[str, Any]] = [
        {"reported_day": "2026-10-12", "channel": "hotline", "assigned": True,
         "office_id": "o.1", "category": "c|1", "accepted_on_time": True,
         "satisfaction": "satisfied", "solved": True, "first_resolved_at": 1},
        {"reported_day": "2026-10-13", "channel": "web", "answered_directly": True,
         "category": "c|1", "merged_into": "x"},
    ]  # fmt: skip
    totals: cells.Cells = {}
    for view in views:
        for cell, counters in cells.contributions(view).items():
            cells.add(totals.setdefault(cell, {}), counters)
    ids = cells.scope_cell_ids(cells.periods_of(date(2026, 10, 1), date(2026, 10, 31)), None)
    summed = cells.summed(totals.get(i, {}) for i in ids)
    assert cells.rates_of(summed) == rates(views)
    assert cells.rates_of(cells.narrowed(summed, "o.1", None)) == rates(views[:1])
    assert cells.rates_of(cells.narrowed(summed, None, "c|1")) == rates(views)
    assert cells.units_of(summed, "o")["o.1"]["assigned"] == 1
    stored = cells.as_list(cells.contributions(views[0]))
    assert cells.from_list(stored) == cells.contributions(views[0])
    assert cells.difference(cells.contributions(views[0]), {}) == {
        c: {k: -n for k, n in counters.items()}
        for c, counters in cells.contributions(views[0]).items()
    }
