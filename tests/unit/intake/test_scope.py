"""Where a supervisor or grid worker belongs: `scope.within` on region paths and codes, and the
rules that use it (acting, seeing, binding a new principal). Pure."""

import pytest
from hypothesis import given
from hypothesis import strategies as st

from services.contracts.vocabulary import IssueState
from services.intake.domain.errors import Refused
from services.intake.domain.rules import (
    Act,
    Action,
    Checked,
    Principal,
    Role,
    binding_problem,
    check,
    may_see,
)
from services.intake.domain.scope import level_of, place_of, within
from services.intake.entrypoints.errors import status_of

CITY = "411900"
GRID = "411905003001002"  # a grid of village 411905003001, township 411905003, county 411905
PATH = (CITY, "411905", "411905003", "411905003001", GRID)

county_digits = st.integers(1, 99).map(lambda n: f"4119{n:02d}")
levels_below = st.lists(st.integers(1, 999).map(lambda n: f"{n:03d}"), min_size=0, max_size=3)


@st.composite
def region_paths(draw: st.DrawFn) -> tuple[str, ...]:
    """A path from the city down: a county, then townships, villages, grids (3 digits each)."""
    codes = [CITY, draw(county_digits)]
    for part in draw(levels_below):
        codes.append(codes[-1] + part)
    return tuple(codes)


def test_a_path_lies_within_each_region_on_it_and_no_other() -> None:
    for region in PATH:
        assert within(PATH, region)
    assert not within(PATH, "411901")  # another county
    assert not within(PATH, "411905004")  # another township of the same county
    assert not within(PATH, "411905003001003")  # a sibling grid
    assert not within((CITY, "411905", "411905003"), GRID), "a township issue is not the grid's"


def test_no_region_or_the_city_covers_every_issue_even_one_of_unknown_place() -> None:
    for place in (PATH, GRID, None, "", ()):
        assert within(place, None)
        assert within(place, CITY)
    assert not within(None, "411905")
    assert not within((), "411905")


def test_a_code_never_triaged_lies_within_the_codes_it_begins_with() -> None:
    answered = "411901002001"  # a village code from the report itself
    assert within(answered, "411901") and within(answered, "411901002")
    assert not within(answered, "411902") and not within(answered, "411901003")


@given(region_paths(), st.data())
def test_within_a_path_is_being_on_it_and_agrees_with_the_code_prefix(
    path: tuple[str, ...], data: st.DataObject
) -> None:
    own = data.draw(st.sampled_from(path))
    assert within(path, own)
    assert within(path[-1], own), "the code fallback agrees with the tree on a tree's path"
    other = data.draw(region_paths())
    for region in other[1:]:
        assert within(path, region) == (region in path) == within(path[-1], region)


@given(region_paths(), region_paths())
def test_within_is_transitive_down_the_tree(path: tuple[str, ...], other: tuple[str, ...]) -> None:
    # whoever is bound above a region sees everything the region's principal sees
    lower = other[-1]
    for upper in other:
        if within(path, lower):
            assert within(path, upper)
            assert within(lower, upper), "and the code fallback says the same"


def test_the_place_of_a_view_prefers_routings_path_then_the_history_then_the_code() -> None:
    assert place_of({"region_path": list(PATH), "region_code": "411901"}) == PATH
    older = {
        "region_code": GRID,
        "history": {
            "a": {"type": "IssueTriaged", "offset": 3, "region_path": list(PATH[:3])},
            "b": {"type": "IssueTriaged", "offset": 9, "region_path": list(PATH)},
            "c": {"type": "IssueTriaged", "offset": 12, "region_path": []},  # before the path
        },
    }
    assert place_of(older) == PATH
    assert place_of({"region_code": "411901002001", "history": {}}) == "411901002001"
    assert place_of({"region_code": None}) is None


def test_levels_of_region_codes() -> None:
    assert [level_of(code) for code in PATH] == ["city", "county", "township", "village", "grid"]
    assert level_of("4119") is None and level_of("41190x") is None and level_of("") is None


COUNTY_SUPERVISOR = Principal("s", Role.SUPERVISOR, region_code="411905", level="county")
GRID_WORKER = Principal("g", Role.GRID_WORKER, region_code=GRID)
ELSEWHERE = (CITY, "411901", "411901002")


@pytest.mark.parametrize(
    ("action", "state"),
    [
        (Action.VERIFY, IssueState.RESOLVED),
        (Action.CLOSE, IssueState.VISITED),
        (Act.DECIDE_EXTENSION, None),
    ],
)
def test_a_supervisor_acts_only_within_their_region(
    action: Checked, state: IssueState | None
) -> None:
    check(action, COUNTY_SUPERVISOR, state, "water", "i1", PATH)
    with pytest.raises(Refused) as refused:
        check(action, COUNTY_SUPERVISOR, state, "water", "i1", ELSEWHERE)
    assert status_of(refused.value) == 403
    assert "outside your region 411905" in refused.value.reason
    city = Principal("c", Role.SUPERVISOR, region_code=CITY)
    check(action, city, state, "water", "i1", ELSEWHERE)
    check(action, city, state, "water", "i1", None)


def test_a_grid_worker_verifies_only_within_their_grid_and_reports_anywhere() -> None:
    check(Action.VERIFY, GRID_WORKER, IssueState.RESOLVED, "water", "i1", PATH)
    for place in (ELSEWHERE, PATH[:3], None):
        with pytest.raises(Refused) as refused:
            check(Action.VERIFY, GRID_WORKER, IssueState.RESOLVED, "water", "i1", place)
        assert status_of(refused.value) == 403 and GRID in refused.value.reason
    unbound = Principal("g0", Role.GRID_WORKER)
    with pytest.raises(Refused, match="bound to no region"):
        check(Action.VERIFY, unbound, IssueState.RESOLVED, "water", "i1", PATH)
    check(Act.REPORT, GRID_WORKER, None, None, "")


def test_outside_the_region_is_refused_before_the_state_is_judged() -> None:
    with pytest.raises(Refused) as refused:
        check(Action.VERIFY, GRID_WORKER, IssueState.ASSIGNED, "water", "i1", ELSEWHERE)
    assert status_of(refused.value) == 403


def test_a_supervisor_sees_only_within_their_region_others_as_before() -> None:
    assert may_see(COUNTY_SUPERVISOR, "i1", "water", [], PATH)
    assert not may_see(COUNTY_SUPERVISOR, "i1", "water", [], ELSEWHERE)
    assert not may_see(COUNTY_SUPERVISOR, "i1", "water", [], None)
    assert may_see(Principal("s", Role.SUPERVISOR), "i1", "water", [], ELSEWHERE)
    assert may_see(GRID_WORKER, "i1", "water", [], ELSEWHERE), "a grid worker sees (reports) all"


@pytest.mark.parametrize(
    ("role", "region", "refused"),
    [
        (Role.GRID_WORKER, None, True),
        (Role.GRID_WORKER, "411905", True),  # a county is too wide for a grid worker
        (Role.GRID_WORKER, CITY, True),
        (Role.GRID_WORKER, "abc", True),
        (Role.GRID_WORKER, GRID, False),
        (Role.GRID_WORKER, "411905003001", False),
        (Role.GRID_WORKER, "411905003", False),
        (Role.SUPERVISOR, None, False),
        (Role.SUPERVISOR, CITY, False),
        (Role.SUPERVISOR, "411905", False),
        (Role.SUPERVISOR, "4119", True),
        (Role.OPERATOR, None, False),
    ],
)
def test_binding_a_new_principal(role: Role, region: str | None, refused: bool) -> None:
    assert (binding_problem(role, region) is not None) is refused
