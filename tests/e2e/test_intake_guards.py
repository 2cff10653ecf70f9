"""What an outsider could try at intake's front door: region codes that are no codes, a
receipt look-up that shows someone's phone number, and guessing receipt codes wherever one is
checked — limited per client across every intake instance."""

import time

import httpx
import pytest

from devkit.processes import Platform, ServiceProcess, free_port
from tests.e2e.conftest import Client

BAD_CODES = ["../../etc/passwd", "4119\x0005", "４１１９０５", "411900/../../", "41190"]
GUESSES = 150
LIMIT = 120  # the default HUIYIN_INTAKE_PUBLIC_RATE_LIMIT, 120/minute


@pytest.fixture(scope="module")
def operator(city: Platform) -> Client:
    return Client(city["intake"].url, city.token("operator"))


@pytest.mark.parametrize("code", BAD_CODES)
def test_a_region_code_that_is_not_one_is_a_422_naming_the_field(
    city: Platform, operator: Client, code: str
) -> None:
    body = {"channel": "hotline", "kind": "complaint", "text": "停水",
            "location": {"region_code": code}}  # fmt: skip
    refused = operator.post("/issues", body)
    assert refused.status_code == 422, refused.text
    assert [e["loc"] for e in refused.json()["detail"]] == [["body", "location", "region_code"]]
    principal = httpx.post(
        f"{city['intake'].url}/principals",
        json={"role": "supervisor", "name": "s", "region_code": code},
        headers={"Authorization": f"Bearer {city.admin_token}"},
    )
    assert principal.status_code == 422, principal.text
    assert [e["loc"] for e in principal.json()["detail"]] == [["body", "region_code"]]


def test_the_receipt_look_up_masks_personal_numbers_staff_see_them(operator: Client) -> None:
    text = "来电人13987654321反映门口下水道堵了"
    created = operator.report(text, category="drainage")
    looked_up = httpx.get(f"{operator.intake}/receipts/{created['receipt_code']}").json()
    assert looked_up["issue_id"] == created["issue_id"]
    assert "13987654321" not in str(looked_up) and "下水道堵了" in looked_up["description"]
    assert operator.issue(created["issue_id"])["description"] == text  # type: ignore[index]


def test_receipt_guesses_count_against_one_limit_everywhere_and_on_every_instance(
    city: Platform, operator: Client
) -> None:
    """Runs last in this module: it spends the minute's wrong receipt codes of 127.0.0.1 (a
    right one, as in the look-up above, counts nothing). The guesses alternate between two
    intake instances: they share one count."""
    issue_id = operator.report("路灯不亮", category="street_lighting")["issue_id"]
    other = ServiceProcess("intake", free_port(), city["intake"].env, city.log_dir / "intake-2.log")
    other.start()
    try:
        other.wait_healthy()
        instances = [city["intake"].url, other.url]
        if time.time() % 60 > 40:  # the guesses must fall in one fixed window of a minute
            time.sleep(61 - time.time() % 60)
        answers = [
            httpx.get(
                f"{instances[n % 2]}/issues/{issue_id}", headers={"X-Receipt-Code": f"WRONG{n:05d}"}
            )
            for n in range(GUESSES)
        ]
        looked_up = httpx.get(f"{instances[0]}/receipts/WRONG99999")
        acted = httpx.post(
            f"{instances[1]}/issues/{issue_id}/visit",
            json={"satisfaction": "satisfied", "solved": True},
            headers={"X-Receipt-Code": "WRONG99998"},
        )
    finally:
        other.stop()
    codes = [a.status_code for a in answers]
    assert codes[:LIMIT] == [401] * LIMIT and codes[LIMIT:] == [429] * (GUESSES - LIMIT), codes
    assert 0 < int(answers[-1].headers["Retry-After"]) <= 60
    assert (looked_up.status_code, acted.status_code) == (429, 429), (looked_up.text, acted.text)
    assert "Retry-After" in looked_up.headers
