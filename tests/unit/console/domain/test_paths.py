"""What a person typed stays one segment of the path the console calls (domain.paths)."""

from urllib.parse import unquote

import httpx
import pytest

from services.console.domain.paths import path


def test_plain_segments_are_joined_as_they_are() -> None:
    assert path("issues", "5b0c-1", "accept") == "/issues/5b0c-1/accept"
    assert path("tree", 411900) == "/tree/411900"


@pytest.mark.parametrize("typed", ["?x", "a#b", "../principals", "..", ".", "\x00", "a b", "令牌"])
def test_anything_typed_stays_in_its_segment(typed: str) -> None:
    built = path("issues", typed, "routing")
    url = httpx.URL("http://intake" + built)  # what the client sends: no NUL refused, no dots
    assert url.query == b"" and url.fragment == ""
    assert url.raw_path.decode().split("/")[1:] == ["issues", built.split("/")[2], "routing"]
    assert unquote(built.split("/")[2]) == typed
