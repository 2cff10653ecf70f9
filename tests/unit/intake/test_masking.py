"""Personal numbers are masked in public text, whatever their spelling; other text stays."""

import re

from hypothesis import given
from hypothesis import strategies as st

from services.intake.domain.masking import mask
from services.intake.domain.view import public_view

MOBILES = ["13987654321", "139-8765-4321", "139 8765 4321", "+86 139 8765 4321", "8613987654321"]
LANDLINES = ["0371-12345678", "(010)1234567", "0371 1234567"]
ID_CARDS = ["41010219900101123X", "410102199001011234", "41010219900101123x"]
EMAILS = ["zhang.san@example.com", "a_b+c@mail.qq.com"]


def test_each_spelling_of_a_personal_number_is_masked_inside_chinese_text() -> None:
    for number in MOBILES + LANDLINES + ID_CARDS + EMAILS:
        text = f"来电人{number}反映，门口下水道堵了"
        masked = mask(text)
        assert number not in masked, masked
        assert masked.startswith("来电人") and masked.endswith("反映，门口下水道堵了")
        assert len(masked) == len(text)
        assert not re.search(r"[0-9]{4}", masked), masked


def test_other_numbers_stay_as_written() -> None:
    text = "金水路12号3单元，2026年11月28日起停水48小时，411905003号网格，4号楼"
    assert mask(text) == text
    assert mask("工单 1234567890") == "工单 1234567890"  # ten digits: no phone number


def test_full_width_digits_are_not_taken_for_ascii_ones() -> None:
    assert mask("编号１３９８７６５４３２１") == "编号１３９８７６５４３２１"


@given(
    st.from_regex(r"1[3-9][0-9]{9}", fullmatch=True), st.text(alphabet="路灯不亮，。 ", max_size=20)
)
def test_any_mobile_number_is_masked_and_masking_twice_changes_nothing(
    number: str, around: str
) -> None:
    text = f"{around}{number}{around}"
    once = mask(text)
    assert number not in once and mask(once) == once and len(once) == len(text)


@given(st.text(alphabet=st.characters(blacklist_categories=["Nd"], blacklist_characters="@")))
def test_text_without_digits_or_at_signs_is_unchanged(text: str) -> None:
    assert mask(text) == text


def test_a_public_view_masks_every_free_text_and_keeps_the_rest() -> None:
    view = {
        "issue_id": "i-1", "state": "resolved", "description": "电话13987654321",
        "location": {"address": "联系0371-12345678", "region_code": "411905"},
        "history": [{"type": "IssueResolved", "result": "已回电13987654321", "offset": 3}],
        "problem": {"issue_id": "i-0", "answer": "邮箱 a@b.cn"},
    }  # fmt: skip
    public = public_view(view)
    assert "13987654321" not in str(public) and "12345678" not in str(public)
    assert "a@b.cn" not in str(public)
    assert public["location"]["region_code"] == "411905" and public["state"] == "resolved"
    assert view["description"] == "电话13987654321"  # the original is untouched
