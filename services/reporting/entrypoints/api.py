"""Reporting's API: counts, rates, rankings, open issues, durations, backlog age.

Bad query parameters answer 422 with the field and the reason (FastAPI's shape, errors.py).
"""

from collections.abc import Callable
from datetime import UTC, date, datetime
from enum import StrEnum
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query
from pydantic import BaseModel

from services.contracts.days import Day
from services.reporting.adapters.store import ReportingStore
from services.reporting.domain import cells
from services.reporting.domain.durations import counted_age_buckets, histogram
from services.reporting.domain.facts import FLAGS
from services.reporting.domain.rankings import RankedUnit, Weights, named, rank_units
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
        day: Day | None = None,
        by: Annotated[str | None, Query(description=BY)] = None,
    ) -> Counts:
        counted = await store.counted(day, day)  # from cells (no day: every month)
        by_channel = _positive(cells.prefixed(counted, "channel"))
        rows = None
        if by:
            keys = [k.strip() for k in by.split(",")]
            if unknown := [k for k in keys if k not in DIMENSIONS]:
                raise ScopeError("by", f"unknown dimension {unknown[0]!r}; one of {DIMENSIONS}")
            rows = _rows_from_cells(keys, counted, day)
            if rows is None:  # dimensions the cells do not keep: counted over the facts
                match: dict[str, Any] = {"channel": {"$ne": None}}
                match |= {"reported_day": day.isoformat()} if day else {}
                grouped = await store.count_by(match, *keys)
                rows = [
                    {k: _known(v) for k, v in zip(keys, key, strict=True)} | {"n": n}
                    for key, n in grouped.items()
                ]
            rows.sort(key=lambda r: tuple(str(r[k]) for k in keys))
        return Counts(
            day=day,
            received=int(counted.get("r:received", 0)),
            assigned=int(counted.get("r:assigned", 0)),
            received_by_channel=dict(sorted(by_channel.items())),
            rows=rows,
        )

    @router.get("/rates", summary="The rates of domain.md for a scope and period")
    async def get_rates(where: Annotated[Scope, Depends(scope)]) -> dict[str, Any]:
        """Issues reported in the period (local days, inclusive), in one scope (from cells)."""
        counted = await _counted(where)
        return where.described() | cells.rates_of(counted).as_dict()

    @router.get("/rankings", summary="Offices or townships ranked on a weighted score")
    async def rankings(
        days: Annotated[tuple[date | None, date | None], Depends(period)],
        region_code: Annotated[str | None, Depends(region)],
        subject: Subject = Subject.OFFICE,
    ) -> dict[str, Any]:
        where = Scope(start=days[0], end=days[1], region_code=region_code)
        counted = await _counted(where, whole=True)
        kind = "o" if subject is Subject.OFFICE else "t"
        units = {
            unit: cells.unit_rates(c)
            for unit, c in cells.units_of(counted, kind).items()
            if c.get("n", 0) > 0
        }
        ranked = rank_units(units, cells.unit_names(counted, f"{kind}name"), weights)
        if subject is Subject.OFFICE:
            ranked = named(ranked)
        return {
            "subject": subject.value,
            **where.described(),
            "weights": weights.as_dict(),
            "rows": [_ranked(row) for row in ranked],
        }

    @router.get("/open", summary="Open issues by state, level and flag")
    async def open_issues(where: Annotated[Scope, Depends(scope)]) -> dict[str, Any]:
        counted = await _counted(where)
        by_state = _positive(cells.prefixed(counted, "open_state"))
        by_level = _positive(cells.prefixed(counted, "open_level"))
        flags = cells.prefixed(counted, "open_flag")
        return where.described() | {
            "open": int(counted.get("open", 0)),
            "by_state": dict(sorted(by_state.items())),
            "by_level": {_known(lvl): n for lvl, n in sorted(by_level.items())},
            "by_flag": {f: flags.get(f, 0) for f in FLAGS},
        }

    @router.get("/durations", summary="Time to accept and to resolve, as histograms")
    async def durations(where: Annotated[Scope, Depends(scope)]) -> dict[str, Any]:
        """Hours from the first assignment to the first accept and to the first resolution."""
        bounds = store.rules.buckets_hours
        counted = await _counted(where)
        out = where.described() | {"unit": "hours"}
        for name in ("accept", "resolve"):
            out[f"time_to_{name}"] = histogram(cells.prefixed(counted, f"{name}_b"), bounds)
        return out

    async def _counted(where: Scope, whole: bool = False) -> dict[str, int]:
        office = None if whole else where.office_id
        category = None if whole else where.category
        return await store.counted(where.start, where.end, where.region_code, office, category)

    @router.get("/backlog-age", summary="Unsolved issues by age (days since reported)")
    async def backlog_age(where: Annotated[Scope, Depends(scope)]) -> dict[str, Any]:
        """Ages to the day (local days since the day reported), from the backlog's cells."""
        by_day = await store.unsolved_by_day(where.region_code, where.office_id, where.category)
        at = now()
        today = at.astimezone(store.rules.timezone).date()
        by_age: dict[float, int] = {}
        for day, n in by_day.items():
            reported = date.fromisoformat(day)
            if (where.start or reported) <= reported <= (where.end or reported):
                age = float((today - reported).days)
                by_age[age] = by_age.get(age, 0) + n
        return where.described() | {
            "as_of": at,
            "unsolved": sum(by_age.values()),
            "buckets": counted_age_buckets(by_age, backlog_buckets_days),
        }

    return router


ROWS_FROM_CELLS = {"channel": "channel:", "office_id": "o=", "category": "c="}


def _rows_from_cells(
    keys: list[str], counted: dict[str, int], day: date | None
) -> list[dict[str, Any]] | None:
    """`/counts` rows of one dimension the cells keep (channel, office, category, and the
    day asked for), else None."""
    if keys == ["reported_day"] and day is not None:
        received = int(counted.get("r:received", 0))
        return [{"reported_day": day.isoformat(), "n": received}] if received else []
    if len(keys) != 1 or keys[0] not in ROWS_FROM_CELLS:
        return None
    key = keys[0]
    if key == "channel":
        found = _positive(cells.prefixed(counted, "channel"))
    else:
        head, tail = ROWS_FROM_CELLS[key], "|r:received"
        found = {
            cells.unescape(name[len(head) : -len(tail)]): n
            for name, n in counted.items()
            if name.startswith(head) and name.endswith(tail) and n > 0
        }
    rest = int(counted.get("r:received", 0)) - sum(found.values())
    if rest > 0:
        found["none"] = rest  # issues without one (an issue answered at intake: no office)
    return [{key: value, "n": n} for value, n in found.items()]


def _known(value: str) -> str:
    """count_by's "None" (the fact is absent: an issue answered directly has no level)."""
    return "none" if value == "None" else value


def _positive(counts: dict[str, int]) -> dict[str, int]:
    return {k: n for k, n in counts.items() if n > 0}


def _ranked(row: RankedUnit) -> dict[str, Any]:
    return dict(row.__dict__)
