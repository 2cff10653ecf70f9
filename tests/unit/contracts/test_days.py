"""The days and instants a request may name (contracts.days): a day near the edges of
Python's or BSON's calendar is refused where it is read, never stepped past an edge later."""

from datetime import UTC, date, datetime, timedelta, timezone

import pytest
from pydantic import TypeAdapter, ValidationError

from services.contracts.days import EARLIEST, LATEST, Day, Instant, checked_day, in_range

DAYS = TypeAdapter(Day)
INSTANTS = TypeAdapter(Instant)


def test_the_years_a_request_may_name() -> None:
    assert in_range(EARLIEST) and in_range(LATEST) and in_range(date(2026, 11, 28))
    assert not in_range(EARLIEST - timedelta(days=1))
    assert not in_range(LATEST + timedelta(days=1))
    assert not in_range(date.max) and not in_range(date.min)


def test_an_instant_is_judged_by_its_own_calendar_day() -> None:
    west = timezone(timedelta(hours=-12))
    assert not in_range(datetime(9999, 12, 31, 23, 59, tzinfo=west))  # year 10000 in UTC
    assert not in_range(datetime(1, 1, 1, tzinfo=timezone(timedelta(hours=14))))  # year 0
    assert in_range(datetime(2999, 12, 31, 23, 59, tzinfo=west))
    # inside the years, any offset stays far from the edges of what BSON holds
    assert datetime(2999, 12, 31, 23, 59, tzinfo=west).astimezone(UTC).year == 3000


@pytest.mark.parametrize("text", ["9999-12-31", "0001-01-01", "1899-12-31", "3000-01-01"])
def test_a_day_out_of_range_is_a_validation_error_with_the_reason(text: str) -> None:
    with pytest.raises(ValidationError, match="out of range"):
        DAYS.validate_python(text)
    with pytest.raises(ValueError, match="out of range"):
        checked_day(date.fromisoformat(text))


@pytest.mark.parametrize(
    "text", ["9999-12-31T23:59:59-12:00", "0001-01-01T00:00:00+14:00", "9999-12-31T23:59:59"]
)
def test_an_instant_out_of_range_is_a_validation_error_with_the_reason(text: str) -> None:
    with pytest.raises(ValidationError, match="out of range"):
        INSTANTS.validate_python(text)


def test_days_and_instants_in_range_pass_unchanged() -> None:
    assert DAYS.validate_python("2026-11-28") == date(2026, 11, 28)
    at = INSTANTS.validate_python("2026-11-28T08:00:00+08:00")
    assert at == datetime(2026, 11, 28, 0, 0, tzinfo=UTC)
