from services.console.domain.refusals import LOGGED_CHARS, detail_of, loggable, readable


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


def test_a_logged_422_names_the_fields_and_never_the_values_sent() -> None:
    """FastAPI echoes what was sent as `input` (and in `ctx`): a reporter's phone or name the
    desk passed on must not reach the console's log with the refusal."""
    detail = [
        {"type": "string_pattern_mismatch", "loc": ["body", "reporter_phone"],
         "msg": "String should match pattern '^\\\\+?[0-9][0-9\\\\- ]{4,30}$'",
         "input": "13912345678x", "ctx": {"pattern": "…"}},
        {"type": "string_too_long", "loc": ["body", "reporter_name"],
         "msg": "String should have at most 100 characters", "input": "欧阳小明" * 30},
        {"type": "model_attributes_type", "loc": ["body"], "msg": "Input should be a valid "
         "dictionary", "input": {"reporter_phone": "13912345678", "text": "x"}},
    ]  # fmt: skip
    logged = loggable(detail)
    assert "13912345678" not in logged and "欧阳小明" not in logged
    assert logged.startswith("reporter_phone: String should match pattern")
    assert "reporter_name: String should have at most 100 characters" in logged
    assert logged.endswith("?: Input should be a valid dictionary")


def test_a_logged_reason_in_words_is_kept_and_cut() -> None:
    assert loggable("the issue is visited") == "the issue is visited"
    assert len(loggable("x" * 5000)) == LOGGED_CHARS and loggable(None) == ""
