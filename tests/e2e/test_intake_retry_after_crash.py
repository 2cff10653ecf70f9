"""A retry always gets the first answer: intake is SIGKILLed (as an OS process) right after
the broker acknowledged a request's events and before it stored the view and the answer
(the test-only fault hook `HUIYIN_INTAKE_FAULT=after_publish`); restarted, the client's retry
with the same Idempotency-Key gets what the first attempt would have answered, replayed, and
the log holds the request's events once."""

from collections.abc import Callable

import httpx
import pytest

from devkit.processes import Platform
from tests.e2e.conftest import Client, eventually
from tests.e2e.test_intake_lifecycle import PLACE, log_types, office

pytestmark = pytest.mark.e2e


def restart_intake(platform: Platform, fault: str = "") -> None:
    intake = platform["intake"]
    intake.kill()
    intake.env = {**intake.env, "HUIYIN_INTAKE_FAULT": fault}
    intake.start()
    intake.wait_healthy()


def dies(send: "httpx.Response | None") -> None:
    raise AssertionError(f"intake answered {send!r} instead of dying after the publish")


def killed_mid_request(platform: Platform, post: Callable[[], httpx.Response]) -> None:
    """Send a request that kills intake right after the broker acknowledged its events."""
    try:
        answered = post()
    except httpx.HTTPError:
        pass
    else:
        dies(answered)
    process = platform["intake"].process
    assert process is not None and process.wait(timeout=20) == -9  # SIGKILL


def retried(send: Callable[[], httpx.Response]) -> httpx.Response:
    """Retry as a client would while intake says the first attempt is still in progress (its
    events on their way to the view)."""

    def answered() -> httpx.Response | None:
        response = send()
        still = response.status_code == 409 and "in progress" in response.text
        return None if still else response

    return eventually(answered, timeout=90, what="the retry answered")


def test_a_retry_after_intake_died_between_publish_and_store_gets_the_first_answer(
    platform: Platform,
) -> None:
    url = platform["intake"].url
    operator = Client(url, platform.token("operator"))
    body = {"channel": "hotline", "kind": "complaint", "text": "路灯不亮",
            "category": "street_lighting", "location": PLACE}  # fmt: skip
    report_key = {"Idempotency-Key": "crash-report-1"}

    restart_intake(platform, fault="after_publish")
    killed_mid_request(platform, lambda: operator.post("/issues", body, **report_key))
    restart_intake(platform)
    again = retried(lambda: operator.post("/issues", body, **report_key))
    assert again.status_code == 201, again.text
    assert again.headers.get("Idempotent-Replayed") == "true"
    created = again.json()
    issue_id = created["issue_id"]
    assert created["state"] == "received"
    looked_up = httpx.get(f"{url}/receipts/{created['receipt_code']}", timeout=10)
    assert looked_up.status_code == 200 and looked_up.json()["issue_id"] == issue_id
    assert log_types(platform, issue_id, "intake") == ["IssueReported"]

    holder = office(platform, operator.in_state(issue_id, "assigned")["office_id"])
    accept_key = {"Idempotency-Key": "crash-accept-1"}
    restart_intake(platform, fault="after_publish")
    killed_mid_request(
        platform, lambda: holder.post(f"/issues/{issue_id}/accept", {}, **accept_key)
    )
    restart_intake(platform)
    accepted = retried(lambda: holder.post(f"/issues/{issue_id}/accept", {}, **accept_key))
    assert accepted.status_code == 200, accepted.text
    assert accepted.headers.get("Idempotent-Replayed") == "true"
    assert accepted.json()["state"] == "accepted" and len(accepted.json()["event_ids"]) == 1
    assert log_types(platform, issue_id, "intake") == ["IssueReported", "IssueAccepted"]
    again_accepted = holder.post(f"/issues/{issue_id}/accept", {}, **accept_key)
    assert again_accepted.json() == accepted.json()
