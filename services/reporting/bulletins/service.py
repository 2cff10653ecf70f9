"""Making bulletins: their settings, and one bulletin gathered from the reporting store and
rendered (used by the HTTP routes, the schedule and the command line). Offices and regions
are named as the events named them (see figures.names_in)."""

import asyncio
from collections.abc import AsyncIterator, Callable
from datetime import UTC, date, datetime, time, timedelta
from pathlib import Path
from typing import Any, Protocol
from zoneinfo import ZoneInfo

from pydantic import Field, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from services.reporting.bulletins.figures import (
    BACKLOG_LISTED,
    BulletinFigures,
    Counted,
    figures_from,
    names_in,
)
from services.reporting.bulletins.render import render_html, render_markdown
from services.reporting.domain import cells, lists
from services.reporting.domain.period import Due, Period
from services.reporting.domain.rankings import Weights
from services.reporting.domain.scope import in_region
from services.runtime.mongo import Document

MEDIA_TYPES: dict[str, str] = {
    "md": "text/markdown; charset=utf-8",
    "html": "text/html; charset=utf-8",
}


class BulletinSettings(BaseSettings):
    """HUIYIN_REPORTING_BULLETIN_*: where scheduled bulletins go, for which regions, when."""

    model_config = SettingsConfigDict(env_prefix="HUIYIN_REPORTING_BULLETIN_", extra="ignore")

    dir: Path | None = Field(
        default=None, description="where scheduled bulletins are written; unset: no schedule"
    )
    regions: str = Field(
        default="all", description="comma-separated region codes; `all`: every region"
    )
    weekly: str = Field(default="mon 08:00", description="when the weekly bulletin is due")
    monthly: str = Field(default="1 08:00", description="when the monthly report is due")
    tick_seconds: float = Field(default=30, gt=0, description="how often the schedule looks")
    ranking_limit: int = Field(default=20, ge=1, description="units shown in each ranking")

    @field_validator("weekly")
    @classmethod
    def _weekly(cls, text: str) -> str:
        if text.strip():
            Due.parse("week", text)
        return text

    @field_validator("monthly")
    @classmethod
    def _monthly(cls, text: str) -> str:
        if text.strip():
            Due.parse("month", text)
        return text

    def dues(self) -> list[Due]:
        """The due times that are set (an empty setting turns that bulletin off)."""
        found = []
        if self.weekly.strip():
            found.append(Due.parse("week", self.weekly))
        if self.monthly.strip():
            found.append(Due.parse("month", self.monthly))
        return found

    def region_codes(self) -> list[str | None]:
        codes = [code.strip() for code in self.regions.split(",") if code.strip()]
        return [None if code.lower() == "all" else code for code in codes]


class BulletinSource(Protocol):
    """What a bulletin reads of the store (adapters/store.py: ReportingStore)."""

    async def counted(
        self, start: date | None, end: date | None, region_code: str | None = None
    ) -> dict[str, int]: ...
    async def page(
        self, query: Document, after: tuple[Any, str] | None, size: int
    ) -> list[Document]: ...
    def stream(self, query: Document) -> AsyncIterator[Document]: ...
    async def unsolved_by_day(
        self, region_code: str | None, office_id: str | None, category: str | None
    ) -> dict[str, int]: ...


class Bulletins:
    """Gathers a bulletin's figures from the store and renders them."""

    def __init__(
        self,
        store: BulletinSource,
        settings: BulletinSettings,
        *,
        timezone: ZoneInfo,
        weights: Weights,
        backlog_days: float,
        now: Callable[[], datetime] = lambda: datetime.now(UTC),
    ) -> None:
        self.store = store
        self.settings = settings
        self.timezone = timezone
        self.weights = weights
        self.backlog_days = backlog_days
        self.now = now

    async def figures(self, period: Period, region_code: str | None) -> BulletinFigures:
        """The figures summed from cells (the period's months or days, and each day); the
        oldest backlog cases read in order from the facts (as a list's page), and how many
        there are from the backlog's cells (by day reported, the last day counted exactly)."""
        totals, *days = await asyncio.gather(
            self.store.counted(period.start, period.end, region_code),
            *(self.store.counted(day, day, region_code) for day in period.days),
        )
        period_end = datetime.combine(period.end + timedelta(days=1), time(), self.timezone)
        cutoff = period_end - timedelta(days=self.backlog_days)
        where = {"$or": in_region(region_code)} if region_code else {}
        oldest = await self.store.page(lists.backlog_query(cutoff) | where, None, BACKLOG_LISTED)
        backlog = lists.backlog(oldest, period_end, self.backlog_days)
        names = cells.unit_names(totals, "rname") | cells.unit_names(totals, "oname")
        names |= names_in(oldest)
        offices = cells.units_of(totals, "o")
        counted = Counted(
            totals=cells.rates_of(totals),
            by_channel=cells.prefixed(totals, "channel"),
            daily={day: cells.rates_of(c) for day, c in zip(period.days, days, strict=True)},
            offices={o: cells.unit_rates(c) for o, c in offices.items() if c.get("n", 0) > 0},
            townships={
                t: cells.unit_rates(c)
                for t, c in cells.units_of(totals, "t").items()
                if c.get("n", 0) > 0
            },
            township_names=cells.unit_names(totals, "tname"),
            overdue={o: (c.get("yellow", 0), c.get("red", 0)) for o, c in offices.items()},
        )
        return figures_from(
            counted,
            period=period,
            region_code=region_code,
            region_name=None,
            backlog=backlog,
            generated_at=self.now(),
            timezone=self.timezone,
            weights=self.weights,
            backlog_days=self.backlog_days,
            names=names,
            backlog_total=await self._backlog_total(region_code, cutoff, where),
            ranking_limit=self.settings.ranking_limit,
        )

    @staticmethod
    def rendered(found: BulletinFigures, fmt: str) -> str:
        return render_html(found) if fmt == "html" else render_markdown(found)

    async def _backlog_total(
        self, region_code: str | None, cutoff: datetime, where: Document
    ) -> int:
        """The unsolved issues reported by `cutoff`: whole days from the backlog's cells, the
        day `cutoff` falls in counted over its own facts (read in order, that day only)."""
        by_day = await self.store.unsolved_by_day(region_code, None, None)
        local = cutoff.astimezone(self.timezone)
        last_day = local.date().isoformat()
        whole = sum(n for day, n in by_day.items() if day < last_day)
        day_start = datetime.combine(local.date(), time(), self.timezone)
        last = lists.backlog_query(cutoff, {"$gte": day_start}) | where
        return whole + sum([1 async for _ in self.store.stream(last)])

    async def render(self, period: Period, region_code: str | None, fmt: str) -> str:
        return self.rendered(await self.figures(period, region_code), fmt)
