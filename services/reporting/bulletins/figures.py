"""A bulletin's figures (what it says, before it is rendered) from the issue facts (views,
see domain/facts.py): the pure part of gathering.

Scope: the issues reported in the period (local days) in the region — by the one rule,
`contracts.regions.lies_in`, so a city, county, township, village or grid code each work —,
as they stand when the bulletin is made. Overdue counts are those issues flagged yellow / red,
by their current office. Backlog cases (积案) are the region's issues still unsolved
`backlog_days` days or more after they were reported, as of the end of the period.
"""

from collections import Counter
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from services.reporting.bulletins.charts import one_decimal
from services.reporting.domain import lists
from services.reporting.domain.period import Period
from services.reporting.domain.rankings import RankedUnit, Weights, rank_units
from services.reporting.domain.rates import Rates, rates
from services.reporting.domain.scope import lies_in_region

Fact = Mapping[str, Any]


@dataclass(frozen=True)
class DayRates:
    day: date
    rates: Rates


@dataclass(frozen=True)
class Ranked:
    """An office or a township on the ranking; `score` is 0–100, None without a base."""

    rank: int
    unit_id: str
    name: str | None
    score: float | None
    response_rate: float | None
    resolution_rate: float | None
    satisfaction_rate: float | None
    assigned: int


@dataclass(frozen=True)
class Overdue:
    """Issues of the period flagged yellow / red (红黄旗) at an office."""

    office_id: str
    name: str | None
    yellow: int
    red: int


@dataclass(frozen=True)
class BacklogCase:
    """积案: an issue still not resolved long after it was reported."""

    issue_id: str
    office_id: str | None
    office_name: str | None
    region_code: str | None
    category: str | None
    reported_day: date
    age_days: int
    state: str
    flag: str | None


@dataclass(frozen=True)
class BulletinFigures:
    """Everything a bulletin says, for one region (None: every region) and one period."""

    period: Period
    region_code: str | None
    region_name: str | None
    generated_at: datetime
    totals: Rates
    by_channel: tuple[tuple[str, int], ...]
    daily: tuple[DayRates, ...]
    office_ranking: tuple[Ranked, ...]
    township_ranking: tuple[Ranked, ...]
    score_rule: str
    overdue: tuple[Overdue, ...]
    backlog: tuple[BacklogCase, ...]
    backlog_days: float
    backlog_total: int
    """How many backlog cases there are; `backlog` names the oldest BACKLOG_LISTED of them."""


BACKLOG_LISTED = 50
"""A bulletin names the oldest backlog cases, this many at most, and counts them all."""


def names_in(facts: Iterable[Fact]) -> dict[str, str]:
    """Office id → name and region code → name, as the events carried them (routing puts the
    office's name on IssueAssigned and the regions' names on IssueTriaged)."""
    names: dict[str, str] = {}
    for fact in facts:
        if fact.get("office_id") and fact.get("office_name"):
            names[fact["office_id"]] = fact["office_name"]
        path, region_names = fact.get("region_path") or (), fact.get("region_names") or ()
        for code, name in zip(path, region_names, strict=False):
            if name:
                names[code] = name
    return names


def score_rule(weights: Weights) -> str:
    w = weights.as_dict()
    total = sum(w.values())
    parts = " + ".join(
        f"{zh}×{one_decimal(w[name] / total * 100)}%"
        for name, zh in (
            ("response", "响应率"),
            ("resolution", "解决率"),
            ("satisfaction", "满意率"),
        )
    )
    return (
        f"得分 (score) = {parts}（无数据的指标不计，其余按权重折算 "
        "(a rate without a base is left out and the others reweighted)）"
    )


def _ranked(units: list[RankedUnit], names: Mapping[str, str], limit: int) -> tuple[Ranked, ...]:
    return tuple(
        Ranked(
            rank=u.rank,
            unit_id=u.id,
            name=u.name or names.get(u.id),
            score=None if u.score is None else u.score * 100,
            response_rate=u.response_rate,
            resolution_rate=u.resolution_rate,
            satisfaction_rate=u.satisfaction_rate,
            assigned=u.assigned,
        )
        for u in units[:limit]
    )


def figures(
    *,
    period: Period,
    region_code: str | None,
    region_name: str | None,
    reported: Iterable[Fact],
    unsolved: Iterable[Fact],
    generated_at: datetime,
    timezone: ZoneInfo,
    weights: Weights,
    backlog_days: float,
    names: Mapping[str, str],
    ranking_limit: int = 20,
) -> BulletinFigures:
    """The bulletin's figures counted over issue facts. `reported`: facts of issues reported
    in the period (others are left out); `unsolved`: facts of unsolved issues reported up to
    the end of the period. (The service sums the same from cells: `Counted`.)"""
    first, last = period.start.isoformat(), period.end.isoformat()
    scoped = [
        f
        for f in reported
        if lies_in_region(f, region_code) and first <= (f.get("reported_day") or "") <= last
    ]
    by_day: dict[str, list[Fact]] = {}
    for fact in scoped:
        by_day.setdefault(fact["reported_day"], []).append(fact)
    overdue = Counter(
        (f["office_id"], colour)
        for f in scoped
        if f.get("office_id")
        for colour in ("yellow", "red")
        if (f.get("flags") or {}).get(colour)
    )
    offices: dict[str, list[Fact]] = {}
    townships: dict[str, list[Fact]] = {}
    township_names: dict[str, str | None] = {}
    for fact in scoped:
        if fact.get("office_id"):
            offices.setdefault(fact["office_id"], []).append(fact)
        if town := fact.get("township"):
            townships.setdefault(town, []).append(fact)
            township_names[town] = township_names.get(town) or fact.get("township_name")
    counted = Counted(
        totals=rates(scoped),
        by_channel=Counter(str(f.get("channel")) for f in scoped),
        daily={day: rates(by_day.get(day.isoformat(), [])) for day in period.days},
        offices={o: rates(members) for o, members in offices.items()},
        townships={t: rates(members) for t, members in townships.items()},
        township_names=township_names,
        overdue={o: (overdue[(o, "yellow")], overdue[(o, "red")]) for o, _ in overdue},
    )
    period_end = datetime.combine(period.end + timedelta(days=1), time(), timezone)
    backlog = lists.backlog(
        (f for f in unsolved if lies_in_region(f, region_code)), period_end, backlog_days
    )
    return figures_from(
        counted,
        period=period,
        region_code=region_code,
        region_name=region_name,
        backlog=backlog,
        generated_at=generated_at,
        timezone=timezone,
        weights=weights,
        backlog_days=backlog_days,
        names=names,
        ranking_limit=ranking_limit,
    )


@dataclass(frozen=True)
class Counted:
    """What a bulletin counts in its period and region, by the rates' counters."""

    totals: Rates
    by_channel: Mapping[str, int]
    daily: Mapping[date, Rates]
    offices: Mapping[str, Rates]
    townships: Mapping[str, Rates]
    township_names: Mapping[str, str | None]
    overdue: Mapping[str, tuple[int, int]]  # office → (yellow, red)


def figures_from(
    counted: Counted,
    *,
    period: Period,
    region_code: str | None,
    region_name: str | None,
    backlog: Iterable[Mapping[str, Any]],
    generated_at: datetime,
    timezone: ZoneInfo,
    weights: Weights,
    backlog_days: float,
    names: Mapping[str, str],
    ranking_limit: int = 20,
    backlog_total: int | None = None,
) -> BulletinFigures:
    """The bulletin's figures from its counts and its backlog rows (lists.backlog, oldest
    first: the first BACKLOG_LISTED are named), and how many backlog cases there are (when
    `backlog` holds only the oldest: else it is every one)."""
    listed = list(backlog)
    total = len(listed) if backlog_total is None else backlog_total
    overdue = {o: yr for o, yr in counted.overdue.items() if yr[0] or yr[1]}
    offices = sorted(overdue, key=lambda o: (-overdue[o][1], -overdue[o][0], o))
    channels = {c: n for c, n in counted.by_channel.items() if n > 0}
    return BulletinFigures(
        period=period,
        region_code=region_code,
        region_name=region_name or (names.get(region_code) if region_code else None),
        generated_at=generated_at.astimezone(timezone),
        totals=counted.totals,
        by_channel=tuple(sorted(channels.items(), key=lambda c: (-c[1], c[0]))),
        daily=tuple(DayRates(day, counted.daily.get(day) or rates([])) for day in period.days),
        office_ranking=_ranked(rank_units(counted.offices, {}, weights), names, ranking_limit),
        township_ranking=_ranked(
            rank_units(counted.townships, counted.township_names, weights), names, ranking_limit
        ),
        score_rule=score_rule(weights),
        overdue=tuple(Overdue(o, names.get(o), overdue[o][0], overdue[o][1]) for o in offices),
        backlog=tuple(
            BacklogCase(
                issue_id=row["issue_id"],
                office_id=row["office_id"],
                office_name=names.get(row["office_id"] or ""),
                region_code=row["region_code"],
                category=row["category"],
                reported_day=row["reported_at"].astimezone(timezone).date(),
                age_days=int(row["age_days"]),
                state=row["state"],
                flag="red" if row["red"] else "yellow" if row["yellow"] else None,
            )
            for row in listed[:BACKLOG_LISTED]
        ),
        backlog_days=backlog_days,
        backlog_total=total,
    )
