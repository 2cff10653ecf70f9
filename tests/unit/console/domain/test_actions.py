from services.console.domain.actions import action_body, actions_now, extension_awaits
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


def test_a_supervisor_decides_an_extension_only_while_one_awaits() -> None:
    asked = [{"type": "IssueAccepted"}, {"type": "ExtensionRequested"}]
    decided = [*asked, {"type": "ExtensionDecided"}]
    assert extension_awaits(asked) and not extension_awaits(decided)
    assert extension_awaits([*decided, {"type": "ExtensionRequested"}])
    assert names(Role.SUPERVISOR, "accepted") == []
    forms = actions_now(Role.SUPERVISOR, "accepted", extension_awaits=True)
    assert [form.action for form in forms] == ["extension-decision"]
    assert actions_now(Role.OFFICE, "accepted", extension_awaits=True)[-1].action == "return"


def test_an_empty_number_is_left_out() -> None:
    body = action_body("extension-decision", {"granted": "on", "working_days": " ", "reason": "r"})
    assert body == {"granted": True, "reason": "r"}
