"""Who may do which outside action on an issue in which state. Pure."""

from dataclasses import dataclass
from enum import StrEnum

from services.contracts.vocabulary import IssueAction, IssueState
from services.intake.domain.errors import Conflict, Forbidden
from services.intake.domain.scope import GRID_WORKER_LEVELS, Place, level_of, within

S = IssueState


class Role(StrEnum):
    OPERATOR = "operator"
    OFFICE = "office"
    SUPERVISOR = "supervisor"
    GRID_WORKER = "grid_worker"
    REPORTER = "reporter"
    ADMIN = "admin"


@dataclass(frozen=True)
class Principal:
    """Who is acting. An office principal is bound to one office; a supervisor to a region
    (none or the city: everywhere) and a level; a grid worker to a grid, village or township;
    a reporter to one issue (by its receipt code)."""

    id: str
    role: Role
    office_id: str | None = None
    region_code: str | None = None
    level: str | None = None
    issue_id: str | None = None


def binding_problem(role: Role, region_code: str | None) -> str | None:
    """Why `region_code` cannot bind a new principal of `role` (None: it can). A grid worker
    must be bound to a grid, village or township; a supervisor's region, if any, must be a
    region code (none, or the city: everywhere)."""
    level = level_of(region_code) if region_code else None
    if role is Role.GRID_WORKER and level not in GRID_WORKER_LEVELS:
        return (
            "a grid worker is bound to a grid, village or township code (15, 12 or 9 digits), "
            f"not {region_code!r}"
        )
    if role is Role.SUPERVISOR and region_code and level is None:
        return f"{region_code!r} is not a region code (city, county, township, village, grid)"
    return None


Action = IssueAction
"""The outside actions on an issue: the contracts' words, the last segment of their routes."""


class Act(StrEnum):
    """What the same rules check beside the outside actions: a report, the answer an operator
    gives at once (直办), a supervisor's extension decision."""

    REPORT = "report"
    ANSWER = "answer"
    DECIDE_EXTENSION = "decide-extension"


Checked = Action | Act
"""What `check` judges."""


@dataclass(frozen=True)
class Rule:
    roles: frozenset[Role]
    states: frozenset[IssueState]
    assigned_office_only: bool = False
    regional: bool = True  # a supervisor or grid worker acts only within their region


def _rule(roles: set[Role], states: set[IssueState], office: bool = False) -> Rule:
    return Rule(frozenset(roles | {Role.ADMIN}), frozenset(states), office)


REGIONAL_ROLES = frozenset({Role.SUPERVISOR, Role.GRID_WORKER})


R = Role
RULES: dict[Checked, Rule] = {
    Act.REPORT: Rule(
        frozenset({R.OPERATOR, R.GRID_WORKER, R.SUPERVISOR, R.ADMIN}), frozenset(), regional=False
    ),  # no region before routing judges it
    Act.ANSWER: _rule({R.OPERATOR}, set()),
    Action.ACCEPT: _rule({R.OFFICE}, {S.ASSIGNED}, office=True),
    Action.RETURN: _rule({R.OFFICE}, {S.ASSIGNED, S.ACCEPTED}, office=True),
    Action.PROGRESS: _rule({R.OFFICE}, {S.ACCEPTED}, office=True),
    Action.EXTENSION: _rule({R.OFFICE}, {S.ACCEPTED}, office=True),
    Action.RESOLVE: _rule({R.OFFICE}, {S.ACCEPTED}, office=True),
    Action.VERIFY: _rule({R.GRID_WORKER, R.SUPERVISOR}, {S.RESOLVED}),
    Action.VISIT: _rule({R.OPERATOR, R.REPORTER}, {S.RESOLVED, S.VERIFIED, S.ANSWERED}),
    Action.CLOSE: _rule({R.OPERATOR, R.SUPERVISOR}, {S.VISITED}),
    Act.DECIDE_EXTENSION: _rule({R.SUPERVISOR}, set()),  # any state: what waits is checked
}
"""Who may do what, from which state (admins may do everything anyone may)."""


def check(
    action: Checked,
    who: Principal,
    state: IssueState | None,
    office_id: str | None,
    issue_id: str,
    place: Place = None,
) -> None:
    """Raise `Forbidden` (who) or `Conflict` (when) unless `who` may do `action` on an issue in
    `state`, held by `office_id`, at `place` (see `scope.place_of`; None: no region known).

    `state` is None for actions that create an issue."""
    rule = RULES[action]
    if who.role not in rule.roles:
        allowed = ", ".join(sorted(r.value for r in rule.roles))
        raise Forbidden(f"a {who.role.value} may not {action.value} an issue (allowed: {allowed})")
    if who.role is Role.REPORTER and who.issue_id != issue_id:
        raise Forbidden("a reporter acts only on their own issue")
    if rule.assigned_office_only and who.role is Role.OFFICE and who.office_id != office_id:
        raise Forbidden("this issue is not assigned to your office")
    if rule.regional and who.role in REGIONAL_ROLES:
        if who.role is Role.GRID_WORKER and not who.region_code:
            raise Forbidden("a grid worker bound to no region acts nowhere: ask an admin")
        if not within(place, who.region_code):
            raise Forbidden(f"this issue lies outside your region {who.region_code}")
    if rule.states and state not in rule.states:
        allowed = ", ".join(sorted(s.value for s in rule.states))
        now = state.value if state else "not yet reported"
        raise Conflict(f"cannot {action.value} an issue that is {now} (only when {allowed})")


DONE = frozenset({S.RESOLVED, S.VERIFIED, S.VISITED, S.CLOSED})


def acting_state(state: IssueState, problem_state: IssueState | None) -> IssueState:
    """A duplicate (重复件) follows the problem it was merged into: once the problem is
    resolved, its reporter too gets the answer and the return visit."""
    if state is S.MERGED and problem_state in DONE:
        return S.RESOLVED
    return state


def may_see(
    who: Principal,
    issue_id: str,
    office_id: str | None,
    co_office_ids: list[str],
    place: Place = None,
) -> bool:
    """A reporter sees only their own issue; an office sees what is assigned to it (as lead or
    co-office); a supervisor what lies within their region; operators, grid workers (who
    report anywhere, and verify only within their region) and admins see every issue."""
    if who.role is Role.REPORTER:
        return who.issue_id == issue_id
    if who.role is Role.OFFICE:
        return who.office_id == office_id or who.office_id in co_office_ids
    if who.role is Role.SUPERVISOR:
        return within(place, who.region_code)
    return True
