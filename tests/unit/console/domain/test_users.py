import pytest

from services.console.domain.i18n import pick, translate
from services.console.domain.users import Invalid, Role, User, check_new_user


def test_each_role_lands_on_its_screen_and_opens_only_its_screens() -> None:
    office = User("of1", Role.OFFICE, office_id="o")
    assert office.home == "/office"
    assert office.may_open("office") and office.may_open("issue")
    assert not office.may_open("desk") and not office.may_open("admin")
    leader = User("l", Role.LEADER)
    assert leader.home == "/dashboard" and not leader.may_open("issue")


@pytest.mark.parametrize(
    ("name", "password", "role", "office", "field"),
    [
        ("a", "long enough", Role.OPERATOR, None, "name"),
        ("op 1", "long enough", Role.OPERATOR, None, "name"),
        ("op1", "short", Role.OPERATOR, None, "password"),
        ("of1", "long enough", Role.OFFICE, None, "office_id"),
    ],
)
def test_a_new_user_that_cannot_be_names_the_field(
    name: str, password: str, role: Role, office: str | None, field: str
) -> None:
    with pytest.raises(Invalid) as raised:
        check_new_user(name, password, role, office)
    assert raised.value.field == field


def test_a_good_new_user() -> None:
    check_new_user("of-1.a_b", "long enough", Role.OFFICE, "411900-urban_management")


def test_chinese_first_english_on_request() -> None:
    assert pick(None) == "zh-CN" and pick("fr") == "zh-CN" and pick("en") == "en"
    assert translate("nav.desk", "zh-CN") == "话务受理"
    assert translate("nav.desk", "en") == "Operator desk"
    assert translate("assigned", "zh-CN") == "已派单"
    assert translate("nope", "en") == "nope" and translate("nope", "en", "d") == "d"
