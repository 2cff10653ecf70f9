"""Readable tables of what the APIs answer."""

import json
from collections.abc import Iterable, Sequence
from typing import Any

from rich.console import Console
from rich.table import Table

RATE_NAMES = (
    "direct_handling_rate", "response_rate", "completion_rate", "on_time_rate",
    "resolution_rate", "satisfaction_rate", "reopen_rate", "duplicate_rate",
)  # fmt: skip


def percent(value: Any) -> str:
    return "—" if value is None else f"{float(value) * 100:.1f}%"


def cell(value: Any) -> str:
    if value is None:
        return "—"
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, dict | list):
        return json.dumps(value, ensure_ascii=False)
    return str(value)


def print_json(console: Console, data: Any) -> None:
    console.print_json(json.dumps(data, ensure_ascii=False, default=str))


def fields_table(title: str, rows: Iterable[tuple[str, Any]]) -> Table:
    table = Table(title=title, show_header=False, title_justify="left")
    table.add_column("field", style="bold")
    table.add_column("value", overflow="fold")
    for name, value in rows:
        table.add_row(name, cell(value))
    return table


def rows_table(
    title: str, rows: Sequence[dict[str, Any]], columns: Sequence[str] | None = None
) -> Table:
    """A table of `rows` in `columns` (default: the first row's keys); rates as percents."""
    columns = list(columns or (rows[0].keys() if rows else []))
    table = Table(title=title, title_justify="left")
    for name in columns:
        table.add_column(
            name, overflow="fold", justify="right" if name.endswith("rate") else "left"
        )
    for row in rows:
        table.add_row(
            *(percent(row.get(c)) if c.endswith("_rate") else cell(row.get(c)) for c in columns)
        )
    return table
