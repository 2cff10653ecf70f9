"""Bulletin periods and due times (week and month boundaries, the local timezone), and the
schedule writing each due bulletin once, atomically, with a clock the test moves."""

import asyncio
from collections.abc import AsyncIterator, Mapping
from datetime import UTC, date, datetime, time
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest

from services.reporting.bulletins.schedule import BulletinSchedule, file_stem, write_atomically
from services.reporting.bulletins.service import Bulletins, BulletinSettings
from services.reporting.domain.period import Due, Period, parse_month
from services.reporting.domain.rankings import Weights

SHANGHAI = ZoneInfo("Asia/Shanghai")
WEEKLY = Due.parse("week", "mon 08:00")
MONTHLY = Due.parse("month", "1 08:00")


def local(year: int, month: int, day: int, hour: int = 0, minute: int = 0) -> datetime:
    return datetime(year, month, day, hour, minute, tzinfo=SHANGHAI)


def test_a_week_is_monday_to_sunday_and_named_by_its_iso_week() -> None:
    week = Period.week_of(date(2026, 11, 18))
    assert (week.start, week.end) == (date(2026, 11, 16), date(2026, 11, 22))
    assert week.label == "2026-W47"
    assert len(week.days) == 7
    across = Period.week_of(date(2027, 1, 1))  # a Friday: its week began in 2026
    assert (across.start, across.end, across.label) == (
        date(2026, 12, 28), date(2027, 1, 3), "2026-W53",
    )  # fmt: skip
    assert across.before() == Period.week_of(date(2026, 12, 21))
    assert Period.week_of(date(2026, 11, 22)) == week == Period.week_of(date(2026, 11, 16))


def test_a_month_is_a_calendar_month() -> None:
    assert parse_month("2028-02") == Period("month", date(2028, 2, 1), date(2028, 2, 29))
    december = parse_month("2026-12")
    assert (december.end, december.label) == (date(2026, 12, 31), "2026-12")
    assert parse_month("2027-01").before() == december
    for bad in ("2026-13", "2026-1", "26-11", "november", "2026-00"):
        with pytest.raises(ValueError, match="YYYY-MM"):
            parse_month(bad)
    for far in ("0000-01", "9999-12", "1899-12", "3000-01"):  # a step past would not be a date
        with pytest.raises(ValueError, match="out of range"):
            parse_month(far)


def test_due_times_are_parsed_or_refused_with_the_reason() -> None:
    assert Due.parse("week", "Wed 09:30") == Due("week", 3, time(9, 30))
    assert Due.parse("month", "1 08:00") == Due("month", 1, time(8))
    for kind, bad, reason in (
        ("week", "someday 08:00", "weekday"),
        ("week", "mon 24:00", "HH:MM"),
        ("month", "31 08:00", "1–28"),
        ("month", "mon 08:00", "day of the month"),
        ("month", "1", "HH:MM"),
    ):
        with pytest.raises(ValueError, match=reason):
            Due.parse(kind, bad)  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="weekday"):
        BulletinSettings(weekly="someday 08:00")


def test_the_next_weekly_due_time_is_monday_8_local_even_when_utc_says_sunday() -> None:
    sunday_utc = datetime(2026, 11, 22, 23, 59, tzinfo=UTC)  # Monday 07:59 in Shanghai
    assert WEEKLY.next(sunday_utc, SHANGHAI) == local(2026, 11, 23, 8)
    assert WEEKLY.latest(sunday_utc, SHANGHAI) == local(2026, 11, 16, 8)
    on_time = local(2026, 11, 23, 8)
    assert WEEKLY.latest(on_time, SHANGHAI) == on_time
    assert WEEKLY.next(on_time, SHANGHAI) == local(2026, 11, 30, 8)
    assert WEEKLY.period(on_time, SHANGHAI) == Period.week_of(date(2026, 11, 16))
    # due on a Wednesday: still the last whole ISO week, not the last seven days
    wednesday = Due.parse("week", "wed 09:30")
    assert wednesday.next(on_time, SHANGHAI) == local(2026, 11, 25, 9, 30)
    assert wednesday.period(local(2026, 11, 25, 9, 30), SHANGHAI).start == date(2026, 11, 16)


def test_the_next_monthly_due_time_crosses_month_and_year_ends() -> None:
    late_november = datetime(2026, 11, 30, 16, 0, tzinfo=UTC)  # 1 December, 00:00 local
    assert MONTHLY.next(late_november, SHANGHAI) == local(2026, 12, 1, 8)
    assert MONTHLY.latest(late_november, SHANGHAI) == local(2026, 11, 1, 8)
    assert MONTHLY.period(local(2026, 12, 1, 8), SHANGHAI) == parse_month("2026-11")
    assert MONTHLY.next(local(2026, 12, 1, 8), SHANGHAI) == local(2027, 1, 1, 8)
    assert MONTHLY.period(local(2027, 1, 1, 8), SHANGHAI) == parse_month("2026-12")
    fifteenth = Due.parse("month", "15 18:00")
    assert fifteenth.latest(local(2026, 3, 10), SHANGHAI) == local(2026, 2, 15, 18)
    assert fifteenth.period(local(2026, 2, 15, 18), SHANGHAI) == parse_month("2026-01")


class Clock:
    def __init__(self, at: datetime) -> None:
        self.at = at

    def __call__(self) -> datetime:
        return self.at


class FakeStore:
    """Answers the bulletin's queries with no issues; counts its pages; can be made to fail."""

    def __init__(self) -> None:
        self.queries: list[Mapping[str, Any]] = []
        self.failing = False

    async def page(
        self, query: Mapping[str, Any], after: tuple[Any, str] | None, size: int
    ) -> list[dict[str, Any]]:
        if self.failing:
            raise ConnectionError("the database is away")
        self.queries.append(query)
        return []

    async def stream(self, query: Mapping[str, Any]) -> AsyncIterator[dict[str, Any]]:
        for row in await self.page(query, None, 1000):
            yield row

    async def unsolved_by_day(
        self, region_code: str | None, office_id: str | None, category: str | None
    ) -> dict[str, int]:
        if self.failing:
            raise ConnectionError("the database is away")
        return {}

    async def counted(
        self, start: date | None, end: date | None, region_code: str | None = None
    ) -> dict[str, int]:
        if self.failing:
            raise ConnectionError("the database is away")
        return {}


def schedule(tmp_path: Path, clock: Clock, store: FakeStore, **settings: Any) -> BulletinSchedule:
    own = BulletinSettings(tick_seconds=0.01, **settings)
    bulletins = Bulletins(
        store,
        own,
        timezone=SHANGHAI,
        weights=Weights(1, 1, 1),
        backlog_days=30,
        now=clock,
    )
    return BulletinSchedule(bulletins, tmp_path / "bulletins", own.dues())


def names(paths: list[Path]) -> list[str]:
    return sorted(p.name for p in paths)


async def test_each_due_bulletin_is_written_once_per_region_in_both_formats(
    tmp_path: Path,
) -> None:
    clock, store = Clock(local(2026, 11, 23, 8)), FakeStore()
    sched = schedule(tmp_path, clock, store, regions="411900, all")
    stems = ["monthly-2026-10-411900", "monthly-2026-10-all"]
    stems += ["weekly-2026-W47-411900", "weekly-2026-W47-all"]
    assert names(await sched.run_due()) == [f"{s}.{f}" for s in stems for f in ("html", "md")]
    text = (tmp_path / "bulletins" / "weekly-2026-W47-411900.md").read_text(encoding="utf-8")
    assert text.startswith("# 周通报 (weekly bulletin) · 411900\n")
    assert "2026年第47周（2026-11-16 至 2026-11-22）" in text
    monthly = (tmp_path / "bulletins" / "monthly-2026-10-all.html").read_text(encoding="utf-8")
    assert "月报告 (monthly report) · 全部地区 (all regions)" in monthly
    asked = len(store.queries)
    assert await sched.run_due() == []  # the same due time again: nothing written twice
    clock.at = local(2026, 11, 29, 23, 59)
    assert await sched.run_due() == []
    assert len(store.queries) == asked  # and nothing gathered either
    clock.at = local(2026, 11, 30, 8)
    assert names(await sched.run_due()) == [
        "weekly-2026-W48-411900.html", "weekly-2026-W48-411900.md",
        "weekly-2026-W48-all.html", "weekly-2026-W48-all.md",
    ]  # fmt: skip
    clock.at = local(2026, 12, 1, 8)
    assert names(await sched.run_due()) == [
        "monthly-2026-11-411900.html", "monthly-2026-11-411900.md",
        "monthly-2026-11-all.html", "monthly-2026-11-all.md",
    ]  # fmt: skip
    files = sorted(p.name for p in (tmp_path / "bulletins").iterdir())
    assert len(files) == 16 and not [f for f in files if f.startswith(".")]


async def test_a_half_written_period_is_completed_and_a_kept_file_is_not_rewritten(
    tmp_path: Path,
) -> None:
    clock, store = Clock(local(2026, 11, 23, 9)), FakeStore()
    sched = schedule(tmp_path, clock, store, regions="411900", monthly="")
    directory = tmp_path / "bulletins"
    directory.mkdir()
    kept = directory / f"{file_stem(Period.week_of(date(2026, 11, 16)), '411900')}.md"
    kept.write_text("written before a crash\n", encoding="utf-8")
    assert names(await sched.run_due()) == ["weekly-2026-W47-411900.html"]
    assert kept.read_text(encoding="utf-8") == "written before a crash\n"


async def test_the_running_schedule_follows_the_clock_and_survives_an_outage(
    tmp_path: Path,
) -> None:
    clock, store = Clock(local(2026, 11, 23, 7, 59)), FakeStore()
    sched = schedule(tmp_path, clock, store, regions="411900", monthly="")
    directory = tmp_path / "bulletins"
    await sched.start()
    try:
        for _ in range(500):
            if len(sched.written) == 2:
                break
            await asyncio.sleep(0.01)
        store.failing = True
        clock.at = local(2026, 11, 23, 8)
        await asyncio.sleep(0.2)
        assert not list(directory.glob("weekly-2026-W47-*"))  # the store is away
        store.failing = False
        for _ in range(500):
            if len(list(directory.glob("weekly-2026-W47-*"))) == 2:
                break
            await asyncio.sleep(0.01)
        assert names(sched.written) == [
            "weekly-2026-W46-411900.html", "weekly-2026-W46-411900.md",  # caught up at start
            "weekly-2026-W47-411900.html", "weekly-2026-W47-411900.md",
        ]  # fmt: skip
    finally:
        await sched.stop()


def test_an_atomic_write_replaces_the_file_and_leaves_no_temporary(tmp_path: Path) -> None:
    target = tmp_path / "weekly-2026-W47-all.md"
    write_atomically(target, "first\n")
    write_atomically(target, "second\n")
    assert [p.name for p in tmp_path.iterdir()] == [target.name]
    assert target.read_text(encoding="utf-8") == "second\n"
