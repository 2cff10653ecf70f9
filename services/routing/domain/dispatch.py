"""Dispatch: who handles a judged issue, at which level, and where it goes when an
office returns it, when supervision is ordered, or when it is reopened. Pure.

- Inverted pyramid (倒金字塔): the lowest level whose responsible office exists in the
  report's chain of regions leads.
- Joint tiers (complex 合力办, structural 统筹办) get co-offices: the other responsible
  kinds at the lead's level and the category's assisting kinds, never the lead itself.
- Structural issues go to the category's special working group (专班) or up to the
  policy's coordinating level.
- An enterprise's issue goes first to its contact cadre's office (一企一策), unless it is
  structural: then the working group (or the coordinating level) comes first.
- A return (退单) goes to the next candidate at the same level; the n-th return at a level
  climbs one level, where a responsible office or the level's coordinator (街道统筹) takes it.
- Supervision (督办) climbs the five-level ladder one rung, never down or sideways.
- A reopening (重办) goes back to the same office; the n-th climbs a level.
"""

from __future__ import annotations

from collections.abc import Iterable

from services.contracts.events import (
    Event,
    IssueAssignedPayload,
    IssueReopened,
    IssueReturned,
    SupervisionOrdered,
)
from services.routing.domain.candidates import (
    climb,
    co_offices,
    first_lead,
    label,
    name_of,
    next_after_return,
    supervisor,
)
from services.routing.domain.judging import Judgement
from services.routing.domain.jurisdiction import City, Office
from services.routing.domain.state import RUNGS, Assignment, Escalation, RoutingState


def dispatch(judgement: Judgement, city: City, *, cause: str | None = None) -> RoutingState:
    """The first assignment of a judged report that was not merged."""
    j = judgement
    lead, why = first_lead(j.category, j.tier, j.region_code, j.enterprise_id, city)
    co = co_offices(j.category, j.tier, lead, (), city)
    assignment = Assignment(
        office_id=lead.id,
        co_office_ids=co,
        level=lead.level,
        reason=why + _co_text(co, city),
        cause=cause,
    )
    return RoutingState(
        category=j.category,
        tier=j.tier,
        region_code=j.region_code,
        enterprise_id=j.enterprise_id,
        decisions=(assignment,),
        applied=(cause,) if cause else (),
    )


def on_returned(
    state: RoutingState, office_id: str, reason: str, city: City, *, cause: str | None = None
) -> RoutingState:
    """退单: the lead returned it (next candidate, or a level up after repeated returns),
    or a co-office stepped out (the lead keeps it). Anyone else's return changes nothing."""
    if state.has_applied(cause):
        return state
    lead = state.lead
    returned_by = (*state.returned_by, office_id)
    if office_id != lead.office_id:
        if office_id not in lead.co_office_ids:
            return state.then(None, cause)
        co = tuple(other for other in lead.co_office_ids if other != office_id)
        why = f"co-office {name_of(office_id, city)} returned it ({reason}); the lead stays"
        changes = {"co_office_ids": co, "reason": why, "cause": cause, "rung": state.rung}
        stays = lead.model_copy(update=changes)
        return state.then(stays, cause, returned_by=returned_by)

    count = state.returns_at_level + 1
    head = f"{name_of(office_id, city)} returned it ({reason})"
    target, why = next_after_return(state, count, returned_by, city)
    if target is None:
        # Nobody is left above; the city's coordinator is the end of the line.
        target = city.coordinator(city.root.code)
        if target is None or target.id == lead.office_id:
            return state.then(None, cause, returned_by=returned_by, returns_at_level=count)
        why = f"no candidate is left, so the city's coordinator {label(target)} takes it"
    assignment = _assign(state, target, f"{head}; {why}", cause, returned_by, city)
    returns = count if target.level == lead.level else 0
    return state.then(assignment, cause, returned_by=returned_by, returns_at_level=returns)


def on_supervision_ordered(
    state: RoutingState,
    reason: str,
    city: City,
    *,
    office_id: str | None = None,
    cause: str | None = None,
) -> RoutingState:
    """督办 / escalation: one rung up the five-level ladder. At the top nothing changes;
    nor when `office_id` names an office that no longer has the issue (a stale clock)."""
    if state.has_applied(cause):
        return state
    current = state.rung
    lead = state.lead
    stale = office_id is not None and office_id not in (lead.office_id, *lead.co_office_ids)
    if current is RUNGS[-1] or stale:
        return state.then(None, cause)
    to = RUNGS[RUNGS.index(current) + 1]
    supervisor_id, supervised_by = supervisor(to, state.category, city)
    escalation = Escalation(
        from_rung=current,
        to_rung=to,
        supervisor_id=supervisor_id,
        supervisor=supervised_by,
        reason=(
            f"supervision ordered ({reason}): up the ladder from {current.value} to "
            f"{to.value}, supervised by {supervised_by}; {state.lead.office_id} keeps it"
        ),
        cause=cause,
    )
    return state.then(escalation, cause)


def on_reopened(
    state: RoutingState, reason: str, city: City, *, cause: str | None = None
) -> RoutingState:
    """重办: back to the same office; the n-th reopening climbs one level."""
    if state.has_applied(cause):
        return state
    lead = state.lead
    reopens = state.reopens + 1
    if reopens >= city.policy.dispatch.reopens_to_climb:
        target, why = climb(state.category, state.region_code, lead.level, state.returned_by, city)
        if target is not None:
            why = f"reopened {reopens} times ({reason}); {why}"
            assignment = _assign(state, target, why, cause, state.returned_by, city)
            return state.then(assignment, cause, reopens=0, returns_at_level=0)
    why = f"reopened ({reason}): back to its office {name_of(lead.office_id, city)}"
    again = lead.model_copy(update={"reason": why, "cause": cause, "rung": state.rung})
    return state.then(again, cause, reopens=reopens)


def fold(state: RoutingState, event: Event, city: City) -> RoutingState:
    """Fold one event of the log into the routing state; events routing does not react to
    leave it as it is. Folding the same event twice changes nothing."""
    cause = str(event.event_id)
    if isinstance(event, IssueReturned):
        payload = event.payload
        return on_returned(state, payload.office_id, payload.reason, city, cause=cause)
    if isinstance(event, SupervisionOrdered):
        ordered = event.payload
        return on_supervision_ordered(
            state, ordered.reason, city, office_id=ordered.office_id, cause=cause
        )
    if isinstance(event, IssueReopened):
        return on_reopened(state, event.payload.reason, city, cause=cause)
    return state


def assigned_payload(assignment: Assignment, city: City) -> IssueAssignedPayload:
    """What `IssueAssigned` carries: the assignment with its offices' names from the city's
    configuration, so that readers of the log need not read routing's files to name them."""

    def name(office_id: str) -> str:
        office = city.office(office_id)
        return "" if office is None else office.name

    return assignment.payload().model_copy(
        update={
            "office_name": name(assignment.office_id),
            "co_office_names": tuple(name(o) for o in assignment.co_office_ids),
        }
    )


def _assign(
    state: RoutingState,
    target: Office,
    why: str,
    cause: str | None,
    refused: Iterable[str],
    city: City,
) -> Assignment:
    co = co_offices(state.category, state.tier, target, refused, city)
    return Assignment(
        office_id=target.id,
        co_office_ids=co,
        level=target.level,
        rung=state.rung,
        reason=why + _co_text(co, city),
        cause=cause,
    )


def _co_text(co: tuple[str, ...], city: City) -> str:
    if not co:
        return ""
    return "; co-offices (协办): " + ", ".join(name_of(office_id, city) for office_id in co)
