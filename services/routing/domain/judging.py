"""研判: what a report is about (category), how it must be handled (tier) and where it
is (region). Pure: the city and its grid index are passed in; every answer says why."""

from __future__ import annotations

from dataclasses import dataclass

from services.contracts.events import IssueReportedPayload, IssueTriagedPayload
from services.contracts.vocabulary import Level, Tier
from services.routing.domain.jurisdiction import City, Region
from services.routing.domain.locating import GridIndex
from services.routing.domain.policy import TierCondition


@dataclass(frozen=True)
class Judgement:
    """The outcome of judging one report; `reason` is what an operator reads."""

    category: str
    tier: Tier
    region_code: str
    level: Level
    enterprise_id: str | None
    reasons: tuple[str, ...]
    region_path: tuple[Region, ...] = ()
    """The regions from the city down to `region_code`."""

    @property
    def reason(self) -> str:
        return "; ".join(self.reasons)

    def payload(self) -> IssueTriagedPayload:
        """What `IssueTriaged` carries."""
        return IssueTriagedPayload(
            category=self.category,
            tier=self.tier,
            region_code=self.region_code,
            reason=self.reason,
            region_path=tuple(region.code for region in self.region_path),
            region_names=tuple(region.name for region in self.region_path),
        )


def judge(report: IssueReportedPayload, city: City, grids: GridIndex) -> Judgement:
    category, why_category = categorise(report, city)
    tier, why_tier = tier_of(report, category, city)
    region, why_region = locate(report, city, grids)
    return Judgement(
        category=category,
        tier=tier,
        region_code=region.code,
        level=region.level,
        enterprise_id=report.enterprise_id,
        reasons=(why_category, why_tier, why_region),
        region_path=tuple(reversed(city.ancestors(region.code))),
    )


def categorise(report: IssueReportedPayload, city: City) -> tuple[str, str]:
    """The report's own category when the catalogue knows it, else one inferred from the
    text by the keyword rules, else the catalogue's fallback."""
    given = report.category
    if given and city.category(given) is not None:
        return given, f"category {given} given by the report"
    prefix = f"the given category {given!r} is not in the catalogue, so " if given else ""
    inferred = infer_category(report.text, city)
    if inferred is not None:
        category, keyword = inferred
        return category, f"{prefix}category {category} inferred from the keyword {keyword!r}"
    fallback = city.config.categories.fallback
    return fallback, f"{prefix}no keyword matched, so the fallback category {fallback}"


def infer_category(text: str, city: City) -> tuple[str, str] | None:
    """(category, keyword) for the longest configured keyword in the text, or None."""
    for keyword, category in city.keywords:
        if keyword in text:
            return category, keyword
    return None


def tier_of(report: IssueReportedPayload, category: str, city: City) -> tuple[Tier, str]:
    """分类分级: the first configured rule that matches, else the default tier."""
    tiers = city.policy.tiers
    group = city.group_of(category).id
    for rule in tiers.rules:
        if matches(rule.when, report, category, group):
            return rule.tier, f"tier {rule.tier.value} by the rule {rule.name!r}"
    return tiers.default, f"tier {tiers.default.value}: no tier rule matched"


def matches(when: TierCondition, report: IssueReportedPayload, category: str, group: str) -> bool:
    return (
        (not when.categories or category in when.categories)
        and (not when.groups or group in when.groups)
        and (not when.kinds or report.kind in when.kinds)
        and (not when.channels or report.channel in when.channels)
        and (not when.reporter_types or report.reporter_type in when.reporter_types)
        and (not when.keywords or any(keyword in report.text for keyword in when.keywords))
    )


def locate(report: IssueReportedPayload, city: City, grids: GridIndex) -> tuple[Region, str]:
    """The region from the report's code; else the grid its point lies in; else the
    enterprise's registered region; else the whole city."""
    notes: list[str] = []
    where = report.location
    if where.region_code:
        region = city.region(where.region_code)
        if region is not None:
            return region, f"region {region.code} ({region.name}) given by the report"
        notes.append(f"unknown region code {where.region_code!r}")
    if where.latitude is not None and where.longitude is not None:
        point = f"({where.latitude}, {where.longitude})"
        code = grids.locate(latitude=where.latitude, longitude=where.longitude)
        region = None if code is None else city.region(code)
        if region is not None:
            return region, _join(notes, f"the point {point} lies in grid {code} ({region.name})")
        notes.append(f"the point {point} lies outside every grid")
    enterprise = city.enterprise(report.enterprise_id) if report.enterprise_id else None
    if enterprise is not None:
        region = city.region(enterprise.region)
        if region is not None:
            why = f"the enterprise's registered region {region.code} ({region.name})"
            return region, _join(notes, why)
    return city.root, _join(notes, f"no usable location, so the whole city {city.root.code}")


def _join(notes: list[str], final: str) -> str:
    return "; ".join([*notes, final])
