from typing import cast
from urllib.parse import urlencode
from zoneinfo import ZoneInfo

import pytest
from starlette.requests import Request
from structlog.testing import capture_logs

from services.console.adapters.metrics import ConsoleMetrics
from services.console.adapters.services import ApiRefused
from services.console.entrypoints.auth import _safe
from services.console.entrypoints.web import BadForm, Web, local_time
from services.console.handlers import Console

SHANGHAI = ZoneInfo("Asia/Shanghai")


def test_times_from_the_apis_are_shown_on_the_local_wall_clock() -> None:
    assert local_time("2026-11-30T16:00:00Z", SHANGHAI) == "2026-12-01 00:00"
    assert local_time("2026-11-30T16:00:00+00:00", SHANGHAI) == "2026-12-01 00:00"
    assert local_time("2026-11-30T16:00:00", SHANGHAI) == "2026-11-30 16:00"
    assert local_time(None, SHANGHAI) == "" and local_time("soon", SHANGHAI) == "soon"


def test_after_sign_in_only_a_path_of_this_site() -> None:
    assert _safe("/office?page=2") == "/office?page=2"
    assert _safe("//evil.example/") == "" and _safe("https://evil.example/") == ""


def test_a_refusal_is_logged_without_what_the_person_typed() -> None:
    """The desk's 422 from intake echoed the reporter's phone into console.log (api.refused)."""
    web = Web(cast(Console, None), ConsoleMetrics(), "secret", False, 1000)
    request = Request({"type": "http", "method": "POST", "path": "/desk", "headers": [],
                       "query_string": b""})  # fmt: skip
    detail = [{"type": "string_pattern_mismatch", "loc": ["body", "reporter_phone"],
               "msg": "String should match pattern", "input": "13912345678x"}]  # fmt: skip
    with capture_logs() as logged:
        shown = web.refusal(request, ApiRefused(422, detail))
    assert "13912345678" not in shown
    [entry] = [e for e in logged if e["event"] == "api.refused"]
    assert "13912345678" not in str(entry) and "reporter_phone" in entry["detail"]


async def test_a_form_whose_csrf_field_is_not_ascii_is_refused_not_a_500() -> None:
    """`csrf=é` on any POST (the sign-in form first) raised a TypeError in the comparison."""
    web = Web(cast(Console, None), ConsoleMetrics(), "secret", False, 1000)
    for sent in ("é", "令牌", "wrong"):
        body = urlencode({"csrf": sent, "name": "x"}).encode()
        request = posted(body, cookie="hy_csrf=seed")
        with pytest.raises(BadForm):
            await web.form(request)
    right = web.csrf_token(posted(b"", cookie="hy_csrf=seed"))
    form = await web.form(posted(urlencode({"csrf": right}).encode(), cookie="hy_csrf=seed"))
    assert form["csrf"] == right


def posted(body: bytes, cookie: str) -> Request:
    async def receive() -> dict[str, object]:
        return {"type": "http.request", "body": body, "more_body": False}

    headers = [(b"content-type", b"application/x-www-form-urlencoded"),
               (b"cookie", cookie.encode())]  # fmt: skip
    scope = {"type": "http", "method": "POST", "path": "/login", "headers": headers,
             "query_string": b""}  # fmt: skip
    return Request(scope, receive)
