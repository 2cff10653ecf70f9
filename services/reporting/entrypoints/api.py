"""Reporting's API: counts, rates, rankings, open issues, durations, backlog age.

Bad query parameters answer 422 with the field and the reason (FastAPI's shape, errors.py).
"""

from collections.abc import Callable
from datetime import UTC, date, datetime
from enum import StrEnum
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query
from pydantic import BaseModel

from services.reporting.adapters.store import ReportingStore
from services.reporting.domain.durations import age_buckets, histogram
from services.reporting.domain.facts import FLAGS, UNSOLVED
from services.reporting.domain.lists import age_days
from services.reporting.domain.rankings import (
    RankedUnit,
    Weights,
    named,
    office_name,
    office_of,
    rank,
)
from services.reporting.domain.rates import rates
from services.reporting.domain.scope import Scope, ScopeError
from services.reporting.entrypoints.query import period, region, scope

DIMENSIONS = [
    "reported_day",
    "office_id",
    "level",
    "region_code",
    "township",
    "category",
    "channel",
    "kind",
    "state",
    "tier",
]

BY = f"comma-separated dimensions, of {', '.join(DIMENSIONS)}"


class Counts(BaseModel):
    day: date | None
    received: int
    assigned: int
    received_by_channel: dict[str, int]
    rows: list[dict[str, Any]] | None = None


class Subject(StrEnum):
    OFFICE = "office"
    TOWNSHIP = "township"


def build_router(
    store: ReportingStore,
    weights: Weights,
    backlog_buckets_days: tuple[float, ...],
    now: Callable[[], datetime] = lambda: datetime.now(UTC),
) -> APIRouter:
    router = APIRouter(tags=["reporting"])

    @router.get("/counts", summary="Issues received and assigned; counters by any dimensions")
    async def counts(
        day: date | None = None,
        by: Annotated[str | None, Query(description=BY)] = None,
    ) -> Counts:
        match = {"channel": {"$ne": None}} | ({"reported_day": day.isoformat()} if day else {})
        by_channel = await store.count_by(match, "channel")
        assigned = await store.count_by(match | {"assigned": True}, "channel")
        rows = None
        if by:
            keys = [k.strip() for k in by.split(",")]
            if unknown := [k for k in keys if k not in DIMENSIONS]:
                raise ScopeError("by", f"unknown dimension {unknown[0]!r}; one of {DIMENSIONS}")
            counted = await store.count_by(match, *keys)
            rows = [
                {k: _known(v) for k, v in zip(keys, key, strict=True)} | {"n": n}
                for key, n in counted.items()
            ]
            rows.sort(key=lambda r: tuple(str(r[k]) for k in keys))
        return Counts(
            day=day,
            received=sum(by_channel.values()),
            assigned=sum(assigned.values()),
            received_by_channel={channel: n for (channel,), n in by_channel.items()},
            rows=rows,
        )

    @router.get("/rates", summary="The rates of domain.md for a scope and period")
    async def get_rates(where: Annotated[Scope, Depends(scope)]) -> dict[str, Any]:
        """Issues reported in the period (local days, inclusive), in one scope."""
        return where.described() | rates(await store.facts(where.query())).as_dict()

    @router.get("/rankings", summary="Offices or townships ranked on a weighted score")
    async def rankings(
        days: Annotated[tuple[date | None, date | None], Depends(period)],
        region_code: Annotated[str | None, Depends(region)],
        subject: Subject = Subject.OFFICE,
    ) -> dict[str, Any]:
        where = Scope(start=days[0], end=days[1], region_code=region_code)
        facts = await store.facts(where.query())
        if subject is Subject.OFFICE:
            ranked = named(rank(facts, office_of, weights, office_name))
        else:
            ranked = rank(
                facts, lambda f: f.get("township"), weights, lambda f: f.get("township_name")
            )
        return {
            "subject": subject.value,
            **where.described(),
            "weights": weights.as_dict(),
            "rows": [_ranked(row) for row in ranked],
        }

    @router.get("/open", summary="Open issues by state, level and flag")
    async def open_issues(where: Annotated[Scope, Depends(scope)]) -> dict[str, Any]:
        match = where.query() | {"open": True}
        by_state = await store.count_by(match, "state")
        by_level = await store.count_by(match, "level")
        by_flag = {
            f: sum((await store.count_by(match | {f"flags.{f}": True}, "state")).values())
            for f in FLAGS
        }
        return where.described() | {
            "open": sum(by_state.values()),
            "by_state": {s: n for (s,), n in sorted(by_state.items())},
            "by_level": {_known(lvl): n for (lvl,), n in sorted(by_level.items())},
            "by_flag": by_flag,
        }

    @router.get("/durations", summary="Time to accept and to resolve, as histograms")
    async def durations(where: Annotated[Scope, Depends(scope)]) -> dict[str, Any]:
        """Hours from the first assignment to the first accept and to the first resolution."""
        bounds = store.rules.buckets_hours
        out = where.described() | {"unit": "hours"}
        for name in ("accept", "resolve"):
            field = f"{name}_bucket"
            counted = await store.count_by(where.query() | {field: {"$ne": None}}, field)
            out[f"time_to_{name}"] = histogram({b: n for (b,), n in counted.items()}, bounds)
        return out

    @router.get("/backlog-age", summary="Unsolved issues by age (days since reported)")
    async def backlog_age(where: Annotated[Scope, Depends(scope)]) -> dict[str, Any]:
        facts = await store.facts(where.query() | {"state": {"$in": sorted(UNSOLVED)}})
        at = now()
        ages = [a for f in facts if (a := age_days(f, at)) is not None]
        return where.described() | {
            "as_of": at,
            "unsolved": len(ages),
            "buckets": age_buckets(ages, backlog_buckets_days),
        }

    return router


def _known(value: str) -> str:
    """count_by's "None" (the fact is absent: an issue answered directly has no level)."""
    return "none" if value == "None" else value


def _ranked(row: RankedUnit) -> dict[str, Any]:
    return dict(row.__dict__)
