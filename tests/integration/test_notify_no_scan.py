"""No scan in notify's handlers and HTTP reads (issue 17 item 2): a flow of events recorded,
sent (one webhook try failing first), and the delivery view read with every filter, all on the
real database with the query log on; then every query shape notify asked is explained, and
none may read a whole collection (`tests.integration.test_no_scan.assert_no_scan`)."""

import uuid
from pathlib import Path
from typing import Any

import httpx
import pytest

from services.runtime.settings import PlatformSettings
from tests.integration.notify_harness import (
    RECEIPT_CODE,
    REPORTER_PHONE,
    eventually,
    loopback_servers,
    notify_settings,
    running,
    write_config,
)
from tests.integration.test_no_scan import assert_no_scan
from tests.integration.test_notify import EXPECTED, flow

pytestmark = pytest.mark.integration

VIEWS: list[dict[str, str]] = [
    {},
    {"state": "sent"},
    {"kind": "receipt"},
    {"channel": "sms", "days": "2"},
]


async def test_notify_asks_nothing_that_scans(settings: PlatformSettings, tmp_path: Path) -> None:
    noted = tmp_path / "queries.jsonl"
    settings = settings.model_copy(update={"mongo_explain_log": noted})
    issue_id = str(uuid.uuid4())
    async with loopback_servers() as (http, _mailbox, smtp_port):
        http.contacts[issue_id] = {"phone": REPORTER_PHONE, "receipt_code": RECEIPT_CODE}
        http.fail_first = {"/hook": 1}  # a failed try, scheduled again
        config = write_config(tmp_path / "notify.yaml", http)
        async with running(notify_settings(settings, config, http, smtp_port)) as service:
            await service.runtime.publisher.publish(*flow(issue_id))
            transport = httpx.ASGITransport(app=service.app)
            async with httpx.AsyncClient(transport=transport, base_url="http://notify") as client:

                async def all_sent() -> list[Any] | None:
                    found = await client.get("/deliveries", params={"issue_id": issue_id})
                    view: list[Any] = found.json()
                    done = len(view) == sum(EXPECTED.values())
                    return view if done and {d["state"] for d in view} == {"sent"} else None

                await eventually(all_sent, "every delivery sent")
                for params in VIEWS:
                    answer = await client.get("/deliveries", params=params)
                    assert answer.status_code == 200, params
                    assert answer.json(), params
    logged = await assert_no_scan(noted, settings)
    commands = {(one.collection, one.command) for one, _ in logged}
    assert {("deliveries", "find"), ("deliveries", "update"), ("issues", "find")} <= commands
