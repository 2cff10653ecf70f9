from zoneinfo import ZoneInfo

from services.console.entrypoints.auth import _safe
from services.console.entrypoints.web import local_time

SHANGHAI = ZoneInfo("Asia/Shanghai")


def test_times_from_the_apis_are_shown_on_the_local_wall_clock() -> None:
    assert local_time("2026-11-30T16:00:00Z", SHANGHAI) == "2026-12-01 00:00"
    assert local_time("2026-11-30T16:00:00+00:00", SHANGHAI) == "2026-12-01 00:00"
    assert local_time("2026-11-30T16:00:00", SHANGHAI) == "2026-11-30 16:00"
    assert local_time(None, SHANGHAI) == "" and local_time("soon", SHANGHAI) == "soon"


def test_after_sign_in_only_a_path_of_this_site() -> None:
    assert _safe("/office?page=2") == "/office?page=2"
    assert _safe("//evil.example/") == "" and _safe("https://evil.example/") == ""
