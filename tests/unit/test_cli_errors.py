"""The CLI shows an API's refusal as status, field and reason."""

import httpx

from cli.http import ApiError, reasons_of


def refusal(status: int, **kwargs: object) -> ApiError:
    response = httpx.Response(status, **kwargs)  # type: ignore[arg-type]
    return ApiError(status, response.reason_phrase, reasons_of(response))


def test_an_invalid_body_names_each_field_and_its_reason() -> None:
    detail = [
        {"loc": ["body", "reason"], "msg": "Field required", "type": "missing"},
        {"loc": ["body", "location", "latitude"], "msg": "Input should be ≤ 90", "type": "x"},
    ]
    shown = refusal(422, json={"detail": detail}).render()
    assert shown.splitlines() == [
        "422 Unprocessable Entity",
        "  reason: Field required",
        "  location.latitude: Input should be ≤ 90",
    ]


def test_a_refusal_with_a_reason_is_one_line() -> None:
    shown = refusal(403, json={"detail": "a operator may not accept an issue"}).render()
    assert shown == "403 Forbidden: a operator may not accept an issue"


def test_an_answer_that_is_not_json_is_shown_as_text() -> None:
    assert refusal(502, text="bad gateway").render() == "502 Bad Gateway: bad gateway"
