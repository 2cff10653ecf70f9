"""Which offices may take an issue: its first lead, the next one after a return, the
one a level up, its co-offices, and who supervises it on each rung of the ladder. Pure
functions over the city; `services.routing.domain.dispatch` turns them into decisions."""

from __future__ import annotations

from collections.abc import Iterable

from services.contracts.vocabulary import Level, Rung, Tier
from services.routing.domain.jurisdiction import City, Office, above
from services.routing.domain.state import RoutingState

JOINT_TIERS = frozenset({Tier.COMPLEX, Tier.STRUCTURAL})
"""Tiers handled jointly: a lead office with co-offices (合力办, 统筹办)."""


def first_lead(
    category: str, tier: Tier, region: str, enterprise_id: str | None, city: City
) -> tuple[Office, str]:
    """The office that takes a new issue, and why: a structural issue's working group or
    coordinating level; else the enterprise's contact cadre's office; else the lowest
    responsible office (倒金字塔); else the lowest coordinator."""
    if tier is Tier.STRUCTURAL:
        return _coordinating(category, region, city)
    note = ""
    if enterprise_id is not None:
        enterprise = city.enterprise(enterprise_id)
        cadre = None if enterprise is None else enterprise.cadre
        office = None if cadre is None else city.office(cadre.office)
        if cadre is not None and office is not None and city.sits_within(office, region):
            return office, (
                f"enterprise {enterprise_id}'s contact cadre {cadre.name} works in "
                f"{label(office)}, which takes it first (一企一策)"
            )
        if office is not None:
            note = f"enterprise {enterprise_id}'s contact cadre sits outside region {region}; "
    pyramid = city.responsible(category, region)
    if pyramid:
        office = pyramid[0]
        return office, (
            f"{note}{tier.value}: the lowest level that handles {category} in region {region} "
            f"is {office.level.value}, where {label(office)} is responsible (倒金字塔)"
        )
    return _fallback(category, region, Level.GRID, city, note)


def _coordinating(category: str, region: str, city: City) -> tuple[Office, str]:
    item = city.category(category)
    if item is not None and item.working_group is not None:
        group = city.nearest(item.working_group, region)
        if group is not None:
            return group, f"structural: the special working group {label(group)} coordinates it"
    level = city.policy.tiers.structural_level
    for office in city.responsible(category, region):
        if not above(level, office.level):
            return office, (
                f"structural: coordinated at {office.level.value} level by {label(office)}"
            )
    return _fallback(category, region, level, city, "structural: ")


def _fallback(
    category: str, region: str, lowest: Level, city: City, note: str
) -> tuple[Office, str]:
    for place in city.ancestors(region):
        coordinator = None if above(lowest, place.level) else city.coordinator(place.code)
        if coordinator is not None:
            return coordinator, (
                f"{note}no office responsible for {category} exists in or above region "
                f"{region}, so the coordinator {label(coordinator)} takes it"
            )
    raise LookupError(f"the city has no coordinator for region {region}")


def next_after_return(
    state: RoutingState, count: int, returned_by: tuple[str, ...], city: City
) -> tuple[Office | None, str]:
    """Who takes the issue after its lead returned it for the `count`-th time at its
    level: the next responsible office of the level, or after `returns_to_climb` returns
    (or when the level has nobody left) the first office a level up. None: nobody left."""
    lead = state.lead
    responsible = city.responsible(state.category, state.region_code)
    open_ = [office for office in responsible if office.id not in returned_by]
    if state.tier is Tier.STRUCTURAL:
        top = city.policy.tiers.structural_level
        open_ = [office for office in open_ if not above(top, office.level)]
    outside = lead.office_id not in {office.id for office in responsible}
    if outside and lead.office_id == state.first.office_id and open_:
        # The cadre's office or the working group that took it first stepped aside:
        # the pyramid decides now.
        return open_[0], f"the responsible office {label(open_[0])} takes it"
    limit = city.policy.dispatch.returns_to_climb
    if count < limit:
        same = [office for office in open_ if office.level == lead.level]
        if same:
            return same[0], f"the next candidate at {lead.level.value} level is {label(same[0])}"
    target, why = climb(state.category, state.region_code, lead.level, returned_by, city)
    if target is not None and count >= limit:
        why = f"returned {count} times at {lead.level.value} level, so {why}"
    return target, why


def climb(
    category: str, region: str, level: Level, refused: Iterable[str], city: City
) -> tuple[Office | None, str]:
    """The first office strictly above `level` that has not returned the issue: one
    responsible for the category there, else the level's coordinator."""
    refused = set(refused)
    for place in city.ancestors(region):
        if not above(place.level, level):
            continue
        for kind in city.duties(category, place.level):
            office = city.office_in(place.code, kind)
            if office is not None and office.id not in refused:
                return office, (
                    f"it goes up to {place.level.value} level, where {label(office)} is responsible"
                )
        coordinator = city.coordinator(place.code)
        if coordinator is not None and coordinator.id not in refused:
            street = " (街道统筹)" if place.level is Level.TOWNSHIP else ""
            return coordinator, (
                f"it goes up to {place.level.value} level, where {label(coordinator)} "
                f"coordinates{street}"
            )
    return None, ""


def co_offices(
    category: str, tier: Tier, lead: Office, refused: Iterable[str], city: City
) -> tuple[str, ...]:
    """协办 of a joint tier: the other kinds responsible at the lead's level, then the
    category's assisting kinds, each the nearest at or above that level; never the lead
    and never an office that returned the issue."""
    if tier not in JOINT_TIERS:
        return ()
    skip = {lead.id, *refused}
    found: list[str] = []
    for kind in (*city.duties(category, lead.level), *city.assists(category)):
        office = city.nearest(kind, lead.region, lowest=lead.level)
        if office is not None and office.id not in skip and office.id not in found:
            found.append(office.id)
    return tuple(found)


def supervisor(rung: Rung, category: str, city: City) -> tuple[str, str]:
    """(id, name) of who supervises on a rung above the office: the city's center, the
    deputy in charge of the category's group, the executive deputy, the principals."""
    ladder = city.policy.ladder
    if rung is Rung.CENTER:
        center = city.office_in(city.root.code, ladder.center)
        if center is None:
            raise LookupError("the city has no center office")
        return center.id, center.name
    if rung is Rung.DEPUTY:
        deputy = ladder.deputies.get(city.group_of(category).id, ladder.default_deputy)
        return deputy.id, deputy.name
    leader = ladder.executive_deputy if rung is Rung.EXECUTIVE_DEPUTY else ladder.principal
    return leader.id, leader.name


def label(office: Office) -> str:
    return f"{office.name} ({office.id})"


def name_of(office_id: str, city: City) -> str:
    office = city.office(office_id)
    return office_id if office is None else label(office)
