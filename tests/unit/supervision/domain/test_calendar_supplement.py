"""The calendar supplement: years the library does not know, declared by operators; what it
changes in the working-day arithmetic, and the clear errors of an invalid file."""

from datetime import date, datetime, timedelta
from pathlib import Path

import chinese_calendar
import pytest

from services.supervision.adapters.files import DEFAULT_CALENDAR_PATH, load_supplement
from services.supervision.domain.calendar import SHANGHAI, CalendarOutOfRange, WorkingCalendar
from services.supervision.domain.calendar_supplement import (
    CalendarSupplementError,
    parse_supplement,
)
from services.supervision.settings import SupervisionSettings
from tests.fixtures.calendars import TEST_CALENDAR, fixture_supplement

PLAIN = WorkingCalendar()
SUPPLEMENTED = WorkingCalendar(supplement=fixture_supplement())


def at(y: int, m: int, d: int, h: int = 10) -> datetime:
    return datetime(y, m, d, h, tzinfo=SHANGHAI)


def written(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "calendar.yaml"
    path.write_text(text, encoding="utf-8")
    return path


def problems(tmp_path: Path, text: str) -> CalendarSupplementError:
    with pytest.raises(CalendarSupplementError) as raised:
        load_supplement(written(tmp_path, text))
    return raised.value


def test_the_shipped_supplement_declares_no_year() -> None:
    shipped = load_supplement(DEFAULT_CALENDAR_PATH)
    assert shipped.years == ()
    assert SupervisionSettings().calendar == DEFAULT_CALENDAR_PATH


def test_the_setting_names_the_file(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("HUIYIN_SUPERVISION_CALENDAR", str(TEST_CALENDAR))
    assert SupervisionSettings().calendar == TEST_CALENDAR


def test_the_supplement_extends_the_known_years() -> None:
    assert fixture_supplement().years == (2027, 2028)
    for year in (2027, 2028):
        new_year, monday = date(year, 1, 1), date(year, 1, 3 if year == 2028 else 4)
        assert not SUPPLEMENTED.is_working_day(new_year)
        assert SUPPLEMENTED.is_working_day(monday) and monday.weekday() == 0
        weekend = [monday - timedelta(days=n) for n in (1, 2)]
        assert not any(SUPPLEMENTED.is_working_day(day) for day in weekend)
    # Without the supplement, 2027 is provisional (no longer an error).
    assert PLAIN.is_provisional_year(2027) and not SUPPLEMENTED.is_provisional_year(2027)
    # The library's years are untouched by it.
    assert SUPPLEMENTED.is_working_day(date(2026, 10, 10))  # a swapped Saturday
    assert not SUPPLEMENTED.is_working_day(date(2026, 10, 7))  # National Day week


def test_a_declared_holiday_is_off_and_a_declared_swapped_weekend_day_is_on(
    tmp_path: Path,
) -> None:
    path = written(
        tmp_path,
        "years:\n"
        "  2027:\n"
        "    holidays: [2027-01-01, 2027-02-08..2027-02-12]\n"
        "    workdays: ['2027-02-07']\n",
    )
    calendar = WorkingCalendar(supplement=load_supplement(path))
    assert not any(calendar.is_working_day(date(2027, 2, d)) for d in range(8, 13))
    assert calendar.is_working_day(date(2027, 2, 7)) and date(2027, 2, 7).weekday() == 6
    # Friday 10:00 + 1 working day: the swapped Sunday; + 2: the Monday after the holidays.
    assert calendar.add_working_days(at(2027, 2, 5), 1) == at(2027, 2, 7)
    assert calendar.add_working_days(at(2027, 2, 5), 2) == at(2027, 2, 15)
    assert calendar.working_time_between(at(2027, 2, 5), at(2027, 2, 15)) == timedelta(days=2)


def test_arithmetic_across_the_new_year_works_with_the_supplement_and_raises_without() -> None:
    # Thursday 31 December 2026 + 1 working day: Friday 1 January is off, then a weekend.
    assert SUPPLEMENTED.add_working_days(at(2026, 12, 31), 1) == at(2027, 1, 4)
    assert SUPPLEMENTED.add_working_days(at(2026, 12, 30), 3) == at(2027, 1, 5)
    between = SUPPLEMENTED.working_time_between(at(2026, 12, 30), at(2027, 1, 5))
    assert between == timedelta(days=3)
    assert SUPPLEMENTED.add_working_days(at(2027, 12, 31), 1) == at(2028, 1, 3)
    # Without it, 2027 is provisional: the same here (1 January off, then a weekend).
    assert PLAIN.add_working_days(at(2026, 12, 31), 1) == at(2027, 1, 4)
    assert PLAIN.working_time_between(at(2026, 12, 30), at(2027, 1, 5)) == timedelta(days=3)


def test_a_year_neither_knows_is_provisional_and_only_beyond_the_rule_raises() -> None:
    # 2029: neither the library nor the supplement knows it; New Year's Day by rule is off.
    assert SUPPLEMENTED.is_provisional_year(2029)
    assert SUPPLEMENTED.add_working_days(at(2028, 12, 29), 1) == at(2029, 1, 2)
    assert SUPPLEMENTED.provisional_years(at(2028, 12, 29), at(2029, 1, 2)) == (2029,)
    late = WorkingCalendar(supplement=fixture_supplement())
    with pytest.raises(CalendarOutOfRange) as raised:
        late.add_working_days(at(2100, 12, 31), 1)
    error = raised.value
    assert error.day == date(2101, 1, 1) and error.declared == (2027, 2028)
    message = str(error)
    assert "2101-01-01" in message and "2004-2026" in message and "2027, 2028" in message
    assert "HUIYIN_SUPERVISION_CALENDAR" in message and "chinesecalendar release" in message
    with pytest.raises(CalendarOutOfRange, match="declares no year"):
        PLAIN.is_working_day(date(2101, 1, 1))


def test_calendars_with_different_supplements_differ() -> None:
    assert WorkingCalendar(supplement=fixture_supplement()) == SUPPLEMENTED
    assert SUPPLEMENTED != PLAIN
    assert hash(SUPPLEMENTED) == hash(WorkingCalendar(supplement=fixture_supplement()))


def test_a_year_the_library_knows_may_be_declared_as_the_library_has_it() -> None:
    holidays = [d for d in chinese_calendar.holidays if d.year == 2026 and d.weekday() < 5]
    workdays = [d for d in chinese_calendar.workdays if d.year == 2026 and d.weekday() >= 5]
    agreeing = parse_supplement({"years": {2026: {"holidays": holidays, "workdays": workdays}}})
    assert agreeing.years == (2026,)


def test_a_date_both_off_and_on_is_refused_with_file_year_and_date(tmp_path: Path) -> None:
    error = problems(
        tmp_path, "years:\n  2027:\n    holidays: [2027-01-02]\n    workdays: [2027-01-02]\n"
    )
    assert str(tmp_path / "calendar.yaml") in str(error)
    assert error.problems == (
        ("2027 2027-01-02", "listed both as a holiday (day off) and as a swapped working day"),
    )


def test_a_date_outside_its_year_is_refused(tmp_path: Path) -> None:
    error = problems(tmp_path, "years:\n  2027:\n    holidays: [2027-12-31..2028-01-02]\n")
    assert [where for where, _ in error.problems] == ["2027 2028-01-01", "2027 2028-01-02"]
    assert all("outside its year" in reason for _, reason in error.problems)


def test_a_swapped_working_day_on_a_weekday_is_refused(tmp_path: Path) -> None:
    error = problems(tmp_path, "years:\n  2027:\n    workdays: [2027-01-06]\n")
    assert error.problems == (
        ("2027 2027-01-06", "a swapped working day is a Saturday or Sunday, not a Wednesday"),
    )


def test_a_year_the_library_knows_and_the_supplement_contradicts_is_refused(
    tmp_path: Path,
) -> None:
    error = problems(tmp_path, "years:\n  2026:\n    holidays: [2026-01-01]\n")
    first_where, first_reason = error.problems[0]
    assert first_where == "2026 2026-01-02"  # a holiday in the library (New Year)
    assert "chinesecalendar knows 2026" in first_reason and "a day off" in first_reason
    assert "disagree" in error.problems[-1][1]


@pytest.mark.parametrize(
    ("text", "where", "reason"),
    [
        ("years:\n  2027:\n    holidays: [2027-02-30]\n", "2027 holidays '2027-02-30'",
         "not a date"),
        ("years:\n  2027:\n    holidays: [2027-02-12..2027-02-08]\n",
         "2027 holidays '2027-02-12..2027-02-08'", "must not end before it starts"),
        ("years:\n  2027:\n    holiday: [2027-01-01]\n", "2027", "unknown keys ['holiday']"),
        ("years:\n  twenty: {}\n", "years.twenty", "a number"),
        ("years:\n  2027:\n    holidays: 2027-01-01\n", "2027 holidays", "must be a list"),
        ("yeers: {}\n", "(document)", "unknown keys ['yeers']"),
        ("years: [2027]\n", "years", "must map each year"),
        ("years: {2027: [\n", "(yaml)", ""),
    ],
)  # fmt: skip
def test_a_malformed_file_names_the_place_and_the_reason(
    tmp_path: Path, text: str, where: str, reason: str
) -> None:
    error = problems(tmp_path, text)
    assert error.problems[0][0] == where
    assert reason in error.problems[0][1]
    assert f"invalid calendar supplement {tmp_path / 'calendar.yaml'}" in str(error)


def test_a_missing_file_is_a_clear_error(tmp_path: Path) -> None:
    with pytest.raises(CalendarSupplementError, match=r"nowhere\.yaml"):
        load_supplement(tmp_path / "nowhere.yaml")


def test_an_empty_file_declares_nothing(tmp_path: Path) -> None:
    assert load_supplement(written(tmp_path, "# nothing yet\n")).years == ()
