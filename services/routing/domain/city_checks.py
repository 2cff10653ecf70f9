"""Cross-references of the city configuration: every name that points somewhere must
land. Each problem is a path into the configuration and a message; the loader turns the
path into a file and a line."""

from __future__ import annotations

from collections.abc import Iterator

from services.contracts.vocabulary import Level
from services.routing.domain.city import CityConfig, CityRules, Loc, walk_regions

Found = Iterator[tuple[Loc, str]]


def rules_problems(rules: CityRules) -> Found:
    """The hand-written rules: categories, office kinds, responsibility list, policy."""
    kinds = rules.office_kinds
    categories: set[str] = set()
    groups = {group.id for group in rules.categories.groups}
    for g, group in enumerate(rules.categories.groups):
        for i, item in enumerate(group.items):
            at: Loc = ("categories", "groups", g, "items", i)
            if item.id in categories or item.id in groups:
                yield (*at, "id"), f"duplicate category id {item.id!r}"
            categories.add(item.id)
            wg = item.working_group
            if wg is not None and (wg not in kinds or kinds[wg].type != "working_group"):
                yield (*at, "working_group"), f"{wg!r} is not an office kind of type working_group"
    if rules.categories.fallback not in categories:
        yield ("categories", "fallback"), f"unknown category {rules.categories.fallback!r}"

    def kind_at(loc: Loc, kind: str, level: Level) -> Found:
        if kind not in kinds:
            yield loc, f"unknown office kind {kind!r}"
        elif level not in kinds[kind].levels:
            yield loc, f"office kind {kind!r} does not exist at level {level.value}"

    duty = rules.responsibility
    for level, kind in duty.coordinators.items():
        yield from kind_at(("responsibility", "coordinators", level.value), kind, level)
    if Level.CITY not in duty.coordinators:
        yield ("responsibility", "coordinators"), "the city needs a coordinator"
    for category, by_level in duty.duties.items():
        at = ("responsibility", "duties", category)
        if category not in categories:
            yield (*at, "[key]"), f"unknown category {category!r}"
        for level, listed in by_level.items():
            for k, kind in enumerate(listed):
                yield from kind_at((*at, level.value, k), kind, level)
    for category in sorted(categories - set(duty.duties)):
        yield ("responsibility", "duties"), f"category {category!r} has no duty at any level"
    for category, listed in duty.assists.items():
        at = ("responsibility", "assists", category)
        if category not in categories:
            yield (*at, "[key]"), f"unknown category {category!r}"
        for k, kind in enumerate(listed):
            if kind not in kinds:
                yield (*at, k), f"unknown office kind {kind!r}"

    policy = rules.policy
    for r, rule in enumerate(policy.tiers.rules):
        at = ("policy", "tiers", "rules", r, "when")
        for c, category in enumerate(rule.when.categories):
            if category not in categories:
                yield (*at, "categories", c), f"unknown category {category!r}"
        for c, group_id in enumerate(rule.when.groups):
            if group_id not in groups:
                yield (*at, "groups", c), f"unknown category group {group_id!r}"
    yield from kind_at(("policy", "ladder", "center"), policy.ladder.center, Level.CITY)
    for group_id in policy.ladder.deputies:
        if group_id not in groups:
            at = ("policy", "ladder", "deputies", group_id, "[key]")
            yield at, f"unknown category group {group_id!r}"
    for category in policy.duplicates.radius_by_category:
        if category not in categories:
            at = ("policy", "duplicates", "radius_by_category", category, "[key]")
            yield at, f"unknown category {category!r}"


def city_problems(config: CityConfig) -> Found:
    """The city: unique codes, offices in regions of their kind's level, cadres in reach."""
    regions: dict[str, tuple[Level, str | None]] = {}
    for row in walk_regions(config.regions):
        if row.code in regions:
            yield (*row.loc, "code"), f"duplicate region code {row.code!r}"
        regions[row.code] = (row.level, row.parent)

    def ancestors(code: str) -> Iterator[str]:
        at: str | None = code
        while at is not None:
            yield at
            at = regions[at][1]

    offices: dict[str, tuple[str, str]] = {}
    for o, office in enumerate(config.offices):
        at: Loc = ("offices", o)
        if office.id in offices:
            yield (*at, "id"), f"duplicate office id {office.id!r}"
        offices[office.id] = (office.kind, office.region)
        kind = config.office_kinds.get(office.kind)
        if kind is None:
            yield (*at, "kind"), f"unknown office kind {office.kind!r}"
        elif office.region not in regions:
            yield (*at, "region"), f"unknown region {office.region!r}"
        elif regions[office.region][0] not in kind.levels:
            level = regions[office.region][0].value
            yield (*at, "region"), f"a {office.kind} office cannot sit in a {level} region"
    present = {(kind, region) for kind, region in offices.values()}
    root = config.regions.code
    if (config.responsibility.coordinators.get(Level.CITY), root) not in present:
        yield ("offices",), "the city has no office of its coordinator's kind"
    if (config.policy.ladder.center, root) not in present:
        yield ("offices",), "the city has no office of the ladder's center kind"

    seen: set[str] = set()
    for e, enterprise in enumerate(config.enterprises):
        at = ("enterprises", e)
        if enterprise.id in seen:
            yield (*at, "id"), f"duplicate enterprise id {enterprise.id!r}"
        seen.add(enterprise.id)
        if enterprise.region not in regions:
            yield (*at, "region"), f"unknown region {enterprise.region!r}"
            continue
        cadre = enterprise.cadre
        if cadre is None:
            continue
        if cadre.office not in offices:
            yield (*at, "cadre", "office"), f"unknown office {cadre.office!r}"
        elif offices[cadre.office][1] not in set(ancestors(enterprise.region)):
            message = f"office {cadre.office!r} sits neither in nor above the enterprise's region"
            yield (*at, "cadre", "office"), message
