"""What a report may say: region codes of the README's lengths, finite coordinates."""

import math

import pytest
from pydantic import ValidationError

from services.contracts.regions import level_of
from services.contracts.vocabulary import Level
from services.intake.domain.reports import LocationIn, PrincipalIn, ReportIn
from services.intake.domain.throttling import Limit, counter_id

BAD_CODES = ["../../etc/passwd", "4119\x0001", "４１１９０１", "411900/../../", "41190", "4119001",
             "4119050030", " 411905", "411905\n", "", "abcdef"]  # fmt: skip
GOOD_CODES = ["411900", "411905", "411905003", "411905003001", "411905003001001"]


@pytest.mark.parametrize("code", BAD_CODES)
def test_a_region_code_that_is_not_one_is_refused_naming_the_field(code: str) -> None:
    with pytest.raises(ValidationError) as refused:
        ReportIn.model_validate(
            {"channel": "hotline", "kind": "complaint", "text": "停水",
             "location": {"region_code": code}}
        )  # fmt: skip
    assert [e["loc"] for e in refused.value.errors()] == [("location", "region_code")]
    with pytest.raises(ValidationError) as refused:
        PrincipalIn.model_validate({"role": "supervisor", "name": "s", "region_code": code})
    assert [e["loc"] for e in refused.value.errors()] == [("region_code",)]


@pytest.mark.parametrize("code", GOOD_CODES)
def test_every_code_the_model_takes_has_a_level(code: str) -> None:
    assert LocationIn(region_code=code).region_code == code and level_of(code) is not None


@pytest.mark.parametrize("value", [math.nan, math.inf, -math.inf])
def test_coordinates_must_be_finite_numbers(value: float) -> None:
    for field in ("latitude", "longitude"):
        with pytest.raises(ValidationError) as refused:
            LocationIn.model_validate({field: value})
        assert {e["loc"] for e in refused.value.errors()} == {(field,)}


@pytest.mark.parametrize(
    "url", ["javascript:alert(1)", "JaVaScRiPt:alert(1)", "data:text/html,<script>x</script>",
            "/etc/passwd", "//evil.example/a.jpg", "http://", "https:// a.jpg", "ftp://x/a.jpg"],
)  # fmt: skip
def test_a_media_url_is_an_absolute_http_link_else_refused_naming_the_field(url: str) -> None:
    """Open311 hands `media_url` to any client, which shows or follows it as it is."""
    with pytest.raises(ValidationError) as refused:
        ReportIn.model_validate(
            {"channel": "hotline", "kind": "complaint", "text": "x", "media_urls": [url]}
        )
    assert [e["loc"] for e in refused.value.errors()] == [("media_urls", 0)]


def test_a_media_url_over_http_or_https_is_kept_as_given() -> None:
    urls = ["https://example.org/photo.jpg", "HTTP://example.org/a b?x=1#y".replace(" ", "%20")]
    report = ReportIn.model_validate(
        {"channel": "hotline", "kind": "complaint", "text": "x", "media_urls": urls}
    )
    assert report.media_urls == urls


def test_a_supervisors_level_is_one_of_the_trees_levels() -> None:
    county = PrincipalIn.model_validate({"role": "supervisor", "name": "s", "level": "county"})
    assert county.level is Level.COUNTY
    with pytest.raises(ValidationError) as refused:
        PrincipalIn.model_validate({"role": "supervisor", "name": "s", "level": "galaxy"})
    assert [e["loc"] for e in refused.value.errors()] == [("level",)]


def test_a_fixed_window_waits_until_its_end_once_over() -> None:
    limit = Limit.parse("120/minute")
    assert (limit.amount, limit.seconds) == (120, 60)
    now = 6_000_030.5  # 30.5 s into a window
    assert limit.wait(120, now) == 0
    assert limit.wait(121, now) == 30
    assert limit.window(now) != limit.window(now + 30)
    assert counter_id("receipts", "10.0.0.1", 1) != counter_id("receipts", "10.0.0.2", 1)
