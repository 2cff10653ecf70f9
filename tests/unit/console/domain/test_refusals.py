from services.console.domain.refusals import detail_of, readable


def test_a_422_names_each_field_in_the_language_of_the_page() -> None:
    detail = [{"loc": ["body", "reporter_phone"], "msg": "String should match pattern"}]
    assert (
        readable(422, detail, "zh-CN") == "请检查填写内容： 联系电话: String should match pattern"
    )
    assert (
        readable(422, detail, "en") == "Please check the form: Phone: String should match pattern"
    )


def test_a_nested_field_and_an_unknown_one() -> None:
    detail = [{"loc": ["body", "location", "region_code"], "msg": "too long"}, {"msg": "x"}]
    assert "地区: too long" in readable(422, detail, "zh-CN")
    assert "?: x" in readable(422, detail, "zh-CN")


def test_a_409_and_a_403_keep_the_services_reason() -> None:
    assert readable(409, "the issue is visited", "en") == "Not in this state: the issue is visited"
    assert readable(403, "not your office", "zh-CN") == "无权办理： not your office"


def test_an_unexpected_status_says_a_service_did_not_answer() -> None:
    assert readable(503, "intake: ConnectError", "en") == (
        "A service did not answer (503) intake: ConnectError"
    )


def test_detail_of_an_error_body() -> None:
    assert detail_of({"detail": "no"}) == "no"
    assert detail_of("plain") == "plain"
