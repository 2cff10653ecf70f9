"""The days and instants a request may name: years 1900 to 2999. Pure.

Python's dates end at years 1 and 9999, BSON's at what a UTC instant can hold, and the reads'
arithmetic (the week or month around a day, the month after the last, an offset to UTC) steps
past either edge from a day near it: `9999-12-31` or `0001-01-01T00:00+14:00` would be a 500.
A day or an instant outside these years is refused where the request is read, as a 422 (or
Open311's 400) naming the field; inside them every such step stays far from the edges.
"""

from datetime import date, datetime
from typing import Annotated, TypeVar

from pydantic import AfterValidator

EARLIEST = date(1900, 1, 1)
LATEST = date(2999, 12, 31)
When = TypeVar("When", date, datetime)
OUT_OF_RANGE = f"out of range: from {EARLIEST.isoformat()} to {LATEST.isoformat()}"


def in_range(value: date | datetime) -> bool:
    """Whether `value` (a day, or an instant by its own calendar day) lies in the years a
    request may name."""
    day = value.date() if isinstance(value, datetime) else value
    return EARLIEST <= day <= LATEST


def checked_day(value: When) -> When:
    """`value` itself, or a ValueError (pydantic's 422 names the field)."""
    if not in_range(value):
        raise ValueError(OUT_OF_RANGE)
    return value


Day = Annotated[date, AfterValidator(checked_day)]
"""A request's day (a query parameter or a field): within EARLIEST…LATEST."""

Instant = Annotated[datetime, AfterValidator(checked_day)]
"""A request's instant: its calendar day within EARLIEST…LATEST."""
