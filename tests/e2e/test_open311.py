"""Open311 GeoReport v2 over HTTP, in JSON and XML, against the spec's names and errors."""

from xml.etree import ElementTree

import httpx
import pytest

from devkit.processes import Platform
from tests.e2e.conftest import Client, eventually

REQUEST_FIELDS = {
    "service_request_id", "status", "status_notes", "service_name", "service_code",
    "description", "agency_responsible", "service_notice", "requested_datetime",
    "updated_datetime", "expected_datetime", "address", "address_id", "zipcode", "lat", "long",
    "media_url",
}  # fmt: skip
SERVICE_FIELDS = {"service_code", "service_name", "description", "metadata", "type", "keywords",
                  "group"}  # fmt: skip


@pytest.fixture(scope="module")
def api_key(city: Platform) -> str:
    return city.token("operator")


@pytest.fixture(scope="module")
def base(city: Platform) -> str:
    return f"{city['intake'].url}/open311/v2"


def test_service_list_and_definition_in_both_formats(base: str) -> None:
    services = httpx.get(f"{base}/services.json").json()
    assert {s["service_code"] for s in services} >= {"street_lighting", "water_supply"}
    assert all(set(s) == SERVICE_FIELDS for s in services)
    xml = httpx.get(f"{base}/services.xml")
    assert xml.headers["content-type"].startswith("text/xml")
    root = ElementTree.fromstring(xml.content)
    assert root.tag == "services"
    assert {s.findtext("service_code") for s in root.findall("service")} == {
        s["service_code"] for s in services
    }
    definition = httpx.get(f"{base}/services/water_supply.json").json()
    assert definition["service_code"] == "water_supply"
    attribute = definition["attributes"][0]
    assert {"variable", "code", "datatype", "required", "order", "description", "values"} <= set(
        attribute
    )
    xml_definition = ElementTree.fromstring(httpx.get(f"{base}/services/water_supply.xml").content)
    assert xml_definition.tag == "service_definition"
    assert xml_definition.find("attributes/attribute/values/value/key") is not None


def test_post_a_request_then_read_it_back_as_json_and_xml(
    base: str, api_key: str, city: Platform
) -> None:
    form = {
        "api_key": api_key, "service_code": "street_lighting", "lat": "34.7466",
        "long": "113.6253", "address_string": "金水路 12 号", "description": "路灯不亮",
        "media_url": "https://example.org/lamp.jpg", "first_name": "李", "last_name": "四",
        "phone": "13700000009",
    }  # fmt: skip
    created = httpx.post(f"{base}/requests.json", data=form)
    assert created.status_code == 200, created.text
    [answer] = created.json()
    assert set(answer) == {"service_request_id", "service_notice", "account_id"}
    request_id = answer["service_request_id"]

    operator = Client(city["intake"].url, api_key)
    operator.in_state(request_id, "assigned")
    one = eventually(
        lambda: (
            (r := httpx.get(f"{base}/requests/{request_id}.json").json())[0]["expected_datetime"]
            and r
        ),
        what="expected_datetime from the running clock",
    )[0]
    assert set(one) == REQUEST_FIELDS
    assert (one["status"], one["service_code"], one["agency_responsible"]) == (
        "open", "street_lighting", "411905003-township_enforcement",
    )  # fmt: skip
    assert (one["lat"], one["long"], one["address"]) == (34.7466, 113.6253, "金水路 12 号")
    assert one["requested_datetime"] < one["expected_datetime"]

    xml = ElementTree.fromstring(httpx.get(f"{base}/requests/{request_id}.xml").content)
    assert xml.tag == "service_requests"
    assert xml.findtext("request/service_request_id") == request_id
    assert xml.findtext("request/status") == "open"

    listed = httpx.get(f"{base}/requests.json", params={"service_code": "street_lighting",
                                                        "status": "open"}).json()  # fmt: skip
    assert request_id in {r["service_request_id"] for r in listed}
    closed = httpx.get(f"{base}/requests.json", params={"status": "closed"}).json()
    assert request_id not in {r["service_request_id"] for r in closed}
    by_id = httpx.get(f"{base}/requests.json", params={"service_request_id": request_id}).json()
    assert [r["service_request_id"] for r in by_id] == [request_id]
    token = httpx.get(f"{base}/tokens/{request_id}.json").json()
    assert token == [{"service_request_id": request_id, "token": request_id}]


@pytest.mark.parametrize("fmt", ["json", "xml"])
def test_errors_are_the_specs_list_with_the_right_status(base: str, api_key: str, fmt: str) -> None:
    cases = [
        (
            httpx.post(
                f"{base}/requests.{fmt}",
                data={"service_code": "water_supply", "lat": "1", "long": "1"},
            ),
            403,
        ),
        (
            httpx.post(
                f"{base}/requests.{fmt}", data={"api_key": api_key, "lat": "1", "long": "1"}
            ),
            400,
        ),
        (
            httpx.post(
                f"{base}/requests.{fmt}",
                data={"api_key": api_key, "service_code": "nope", "lat": "1", "long": "1"},
            ),
            404,
        ),
        (
            httpx.post(
                f"{base}/requests.{fmt}", data={"api_key": api_key, "service_code": "water_supply"}
            ),
            400,
        ),
        (httpx.get(f"{base}/requests/no-such-request.{fmt}"), 404),
        (httpx.get(f"{base}/services/nope.{fmt}"), 404),
    ]
    for response, status in cases:
        assert response.status_code == status, response.text
        if fmt == "json":
            [error] = response.json()
            assert set(error) == {"code", "description"}
            assert error["code"] == status and error["description"]
        else:
            root = ElementTree.fromstring(response.content)
            assert root.tag == "errors"
            assert root.findtext("error/code") == str(status)
            assert root.findtext("error/description")


def test_a_retried_post_with_its_idempotency_key_creates_one_request(
    base: str, api_key: str
) -> None:
    form = {"api_key": api_key, "service_code": "noise", "address_string": "文化路 8 号"}
    key = {"Idempotency-Key": "open311-retry-1"}
    first = httpx.post(f"{base}/requests.json", data=form, headers=key).json()
    again = httpx.post(f"{base}/requests.json", data=form, headers=key).json()
    assert first == again
    other = httpx.post(f"{base}/requests.json", data=form).json()
    assert other[0]["service_request_id"] != first[0]["service_request_id"]


@pytest.mark.parametrize("fmt", ["json", "xml"])
@pytest.mark.parametrize(
    "params",
    [{"status": "pending"}, {"start_date": "yesterday"}, {"end_date": "2026-13-40"},
     {"status": "open", "start_date": "not-a-date"},
     # a date at the edge of the calendar, which was a 500 when written to the query as UTC
     {"end_date": "9999-12-31T23:59:59-12:00"}, {"start_date": "0001-01-01T00:00:00+14:00"}],
)  # fmt: skip
def test_bad_query_parameters_answer_the_specs_error_list_with_400(
    base: str, fmt: str, params: dict[str, str]
) -> None:
    response = httpx.get(f"{base}/requests.{fmt}", params=params)
    assert response.status_code == 400, response.text
    if fmt == "json":
        assert response.headers["content-type"].startswith("application/json")
        [error] = response.json()
        assert error["code"] == 400 and list(params)[-1] in error["description"]
    else:
        assert response.headers["content-type"].startswith("text/xml")
        root = ElementTree.fromstring(response.content)
        assert root.tag == "errors" and root.findtext("error/code") == "400"
        assert list(params)[-1] in (root.findtext("error/description") or "")


def test_an_unknown_format_or_a_malformed_token_answers_the_specs_list(base: str) -> None:
    unknown = httpx.get(f"{base}/requests.yaml")
    assert unknown.status_code == 404 and unknown.json()[0]["code"] == 404
    malformed = httpx.get(f"{base}/requests.xml", headers={"Authorization": "Basic abc"})
    assert malformed.status_code == 403
    assert ElementTree.fromstring(malformed.content).findtext("error/code") == "403"


def test_a_region_code_that_is_not_one_is_a_400(base: str, api_key: str) -> None:
    for code in ("../../etc/passwd", "４１１９０５"):
        form = {"api_key": api_key, "service_code": "noise", "address_id": code}
        refused = httpx.post(f"{base}/requests.json", data=form)
        assert refused.status_code == 400, refused.text
        assert "region_code" in refused.json()[0]["description"]


@pytest.mark.parametrize("fmt", ["json", "xml"])
@pytest.mark.parametrize(
    ("fields", "named"),
    [({"lat": "abc", "long": "1"}, "location.latitude"),
     ({"lat": "1", "long": "nan"}, "location.longitude"),
     ({"address_string": "x", "attribute[kind]": "bogus"}, "kind"),
     ({"address_string": "x", "media_url": "javascript:alert(document.cookie)"}, "media_urls")],
)  # fmt: skip
def test_a_bad_form_field_is_a_400_naming_it_in_the_format_asked_for(
    base: str, api_key: str, fmt: str, fields: dict[str, str], named: str
) -> None:
    """The form's values are parsed by the report's model: a refusal names the field (not
    "could not convert string to float"), and a media_url any client would follow as it is
    must be an http(s) link."""
    form = {"api_key": api_key, "service_code": "noise", **fields}
    refused = httpx.post(f"{base}/requests.{fmt}", data=form)
    assert refused.status_code == 400, refused.text
    if fmt == "json":
        description = refused.json()[0]["description"]
    else:
        description = ElementTree.fromstring(refused.content).findtext("error/description") or ""
    assert description.startswith(f"{named}"), description


def test_a_replayed_post_says_so_like_the_native_api(base: str, api_key: str) -> None:
    form = {"api_key": api_key, "service_code": "noise", "address_string": "文化路 9 号"}
    key = {"Idempotency-Key": "open311-replayed-1"}
    first = httpx.post(f"{base}/requests.xml", data=form, headers=key)
    again = httpx.post(f"{base}/requests.xml", data=form, headers=key)
    assert "Idempotent-Replayed" not in first.headers
    assert again.headers["Idempotent-Replayed"] == "true" and again.content == first.content


SECRETS = ["13987654321", "0371-12345678", "41010219900101123X", "zhang.san@example.com"]


def test_public_reads_mask_personal_numbers_and_skip_withheld_reports(
    base: str, api_key: str, city: Platform
) -> None:
    operator = Client(city["intake"].url, api_key)
    text = (
        "来电人13987654321（座机0371-12345678，身份证41010219900101123X，"
        "zhang.san@example.com）反映路灯不亮"
    )
    shown = operator.report(text, category="street_lighting")["issue_id"]
    withheld = operator.report("家暴求助，请勿公开", category="street_lighting", public=False)
    hidden = withheld["issue_id"]
    operator.in_state(hidden, "assigned")
    for fmt in ("json", "xml"):
        public = httpx.get(f"{base}/requests/{shown}.{fmt}").text
        assert "路灯不亮" in public and not any(s in public for s in SECRETS), public
        listed = httpx.get(f"{base}/requests.{fmt}", params={"service_code": "street_lighting"})
        assert shown in listed.text and hidden not in listed.text
        assert not any(s in listed.text for s in SECRETS)
        assert httpx.get(f"{base}/requests/{hidden}.{fmt}").status_code == 404
        assert httpx.get(f"{base}/tokens/{hidden}.{fmt}").status_code == 404
    staff = httpx.get(f"{base}/requests/{shown}.json", params={"api_key": api_key}).json()
    assert staff[0]["description"] == text
    staff_list = httpx.get(f"{base}/requests.json", params={"api_key": api_key}).text
    assert hidden in staff_list
    assert operator.issue(shown)["description"] == text  # type: ignore[index]


def test_a_token_is_read_within_the_callers_scope_like_the_list(
    base: str, api_key: str, city: Platform
) -> None:
    operator = Client(city["intake"].url, api_key)
    there = operator.report("路灯不亮", category="street_lighting",
                            location={"region_code": "411901001"})["issue_id"]  # fmt: skip
    view = operator.in_state(there, "assigned")
    assert "411905" not in view["region_path"]
    supervisor = city.token("supervisor", region_code="411905")
    scoped = {"api_key": supervisor}
    assert httpx.get(f"{base}/tokens/{there}.json", params=scoped).status_code == 404
    listed = httpx.get(f"{base}/requests.json", params={**scoped, "service_request_id": there})
    assert listed.json() == []
    assert httpx.get(f"{base}/tokens/{there}.json", params={"api_key": api_key}).is_success
