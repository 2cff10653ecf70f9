"""What an outsider could try at intake's front door: region codes that are no codes, a
receipt look-up that shows someone's phone number, and guessing receipt codes wherever one is
checked — limited per client across every intake instance."""

import asyncio
import time

import httpx
import pytest
from aiokafka import AIOKafkaProducer

from devkit.processes import Platform, ServiceProcess, free_port
from services.contracts.dead_letter import DeadLetter
from services.contracts.events import IssueAssigned, IssueAssignedPayload, encode
from services.contracts.vocabulary import Level
from services.runtime.topic_reader import read_topic
from tests.e2e.conftest import Client, eventually

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


def test_a_principal_bound_to_an_office_or_region_the_city_lacks_is_a_422(city: Platform) -> None:
    admin = {"Authorization": f"Bearer {city.admin_token}"}
    cases = [({"role": "office", "office_id": "fake-office"}, "office_id"),
             ({"role": "supervisor", "region_code": "411999"}, "region_code")]  # fmt: skip
    for fields, field in cases:
        refused = httpx.post(
            f"{city['intake'].url}/principals", json={"name": "n", **fields}, headers=admin
        )
        assert refused.status_code == 422, refused.text
        assert refused.json()["detail"].startswith(f"{field}: "), refused.text


def test_an_assignment_to_an_office_the_city_lacks_is_dead_lettered_not_shown(
    city: Platform, operator: Client
) -> None:
    created = operator.report("路灯不亮", category="street_lighting",
                              location={"region_code": "411905003"})  # fmt: skip
    issue_id = created["issue_id"]
    real = operator.in_state(issue_id, "assigned")["office_id"]
    payload = IssueAssignedPayload(office_id="fake-office", level=Level.CITY, reason="forged")
    forged = IssueAssigned(issue_id=issue_id, producer="routing", payload=payload)
    asyncio.run(_produce(city, encode(forged), issue_id))

    def letter() -> list[DeadLetter]:
        topic = f"{city.namespace}.huiyin.issues.dlq.v1"
        records = asyncio.run(read_topic(city.endpoints.kafka_bootstrap, topic))
        letters = [DeadLetter.model_validate_json(r.value) for r in records]
        return [d for d in letters if d.service == "intake" and d.key == issue_id]

    (dead,) = eventually(letter, timeout=90, what="intake dead-letters the forged assignment")
    assert "fake-office" in dead.error and dead.reason == "unknown_office"
    view = operator.issue(issue_id)
    assert view is not None and view["office_id"] == real
    assert str(forged.event_id) not in {h["event_id"] for h in view["history"]}


async def _produce(city: Platform, value: bytes, key: str) -> None:
    producer = AIOKafkaProducer(bootstrap_servers=city.endpoints.kafka_bootstrap, acks="all")
    await producer.start()
    try:
        await producer.send_and_wait(f"{city.namespace}.huiyin.issues.v1", value, key=key.encode())
    finally:
        await producer.stop()
