from services.console.domain.actions import action_body, actions_now
from services.console.domain.users import Role


def names(role: Role, state: str, holds: bool = True) -> list[str]:
    return [form.action for form in actions_now(role, state, holds)]


def test_an_office_sees_what_it_may_do_in_each_state() -> None:
    assert names(Role.OFFICE, "assigned") == ["accept", "return"]
    assert names(Role.OFFICE, "accepted") == ["progress", "extension", "resolve", "return"]
    assert names(Role.OFFICE, "resolved") == []


def test_an_office_acts_only_on_what_it_holds_now() -> None:
    assert names(Role.OFFICE, "assigned", holds=False) == []


def test_others_see_their_own_actions_and_an_admin_sees_all_of_them() -> None:
    assert names(Role.SUPERVISOR, "resolved") == ["verify"]
    assert names(Role.OPERATOR, "answered") == ["visit"]
    assert names(Role.LEADER, "resolved") == []
    assert names(Role.ADMIN, "resolved") == ["verify", "visit"]


def test_a_form_becomes_the_body_intake_expects() -> None:
    assert action_body("accept", {"csrf": "x"}) == {}
    assert action_body("extension", {"working_days": "3", "reason": "r"}) == {
        "working_days": 3,
        "reason": "r",
    }
    assert action_body("visit", {"satisfaction": "satisfied", "solved": "on"}) == {
        "satisfaction": "satisfied",
        "solved": True,
    }
    assert action_body("visit", {"satisfaction": "dissatisfied"})["solved"] is False


def test_a_bad_number_is_passed_on_so_intake_names_the_field() -> None:
    assert action_body("extension", {"working_days": "two", "reason": "r"})["working_days"] == "two"
