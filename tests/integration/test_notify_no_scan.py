"""No scan in notify's handlers and HTTP reads (issue 17 item 2): the flows of two issues,
each event on the log twice, recorded by the consumer a batch at a time (one record per
message), sent (one webhook try failing first), replayed as one batch (the views of both
issues read at once: creating nothing), and the delivery view read with every filter, all on
the real database with the query log on; then every query shape notify asked is explained,
and none may read a whole collection (`tests.integration.test_no_scan.assert_no_scan`)."""

import json
import uuid
from pathlib import Path
from typing import Any

import httpx
import pytest

from services.contracts.events import decode, encode
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
    issue_id, other = str(uuid.uuid4()), str(uuid.uuid4())
    flows = [*flow(issue_id), *flow(other)]
    async with loopback_servers() as (http, _mailbox, smtp_port):
        for one in (issue_id, other):
            http.contacts[one] = {"phone": REPORTER_PHONE, "receipt_code": RECEIPT_CODE}
        http.fail_first = {"/hook": 1}  # a failed try, scheduled again
        config = write_config(tmp_path / "notify.yaml", http)
        async with running(notify_settings(settings, config, http, smtp_port)) as service:
            await service.runtime.publisher.publish(*flows, *flows)  # copies: one record each
            transport = httpx.ASGITransport(app=service.app)
            async with httpx.AsyncClient(transport=transport, base_url="http://notify") as client:

                async def all_sent() -> list[Any] | None:
                    view: list[Any] = []
                    for one in (issue_id, other):
                        found = await client.get("/deliveries", params={"issue_id": one})
                        view += found.json()
                    done = len(view) == 2 * sum(EXPECTED.values())
                    return view if done and {d["state"] for d in view} == {"sent"} else None

                await eventually(all_sent, "every delivery of both issues sent")
                replay = [decode(encode(event)) for event in flows]  # as the log gives them
                assert await service.handlers.record_all(replay) == 0  # one batch: nothing new
                for params in VIEWS:
                    answer = await client.get("/deliveries", params=params)
                    assert answer.status_code == 200, params
                    assert answer.json(), params
    logged = await assert_no_scan(noted, settings)
    commands = {(one.collection, one.command) for one, _ in logged}
    assert {("deliveries", "find"), ("deliveries", "update"), ("issues", "find")} <= commands
    read_at_once = [
        one for one, _ in logged if one.collection == "issues" and one.command == "find"
    ]
    assert any("$in" in json.dumps(one.shape) for one in read_at_once), read_at_once
