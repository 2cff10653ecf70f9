"""The operators' command line against the running services: the whole loop of an issue,
rates and rankings, the three lists, a rebuild, a refusal, and a dead-letter replay."""

import asyncio
import json
import os
import subprocess
import uuid
from collections.abc import Iterator
from datetime import datetime
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import httpx
import pytest
from aiokafka import AIOKafkaProducer
from typer.testing import CliRunner, Result

from cli.main import app
from devkit.infra import REPO, Endpoints
from devkit.processes import Platform
from services.contracts.dead_letter import DeadLetter
from services.contracts.events import IssueReported, IssueReportedPayload, Location, encode
from services.contracts.topics import retry_topic
from services.contracts.vocabulary import Channel, Kind
from services.runtime.topic_reader import read_topic
from tests.conftest import throwaway
from tests.e2e.conftest import eventually

ADMIN = "cli-test-reporting-admin"
PLACE = "411905003"  # a township of the sample city
TODAY = datetime.now(ZoneInfo("Asia/Shanghai")).date().isoformat()


@pytest.fixture(scope="module")
def city(servers: Endpoints, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Platform]:
    env = {"HUIYIN_REPORTING_ADMIN_TOKEN": ADMIN}
    with throwaway(servers, "c") as namespace:
        running = Platform(servers, namespace, tmp_path_factory.mktemp("logs"), extra_env=env)
        try:  # stops what started even when a service fails to
            yield running.start()
        finally:
            running.stop()


class Huiyin:
    """`huiyin …` as one principal, through typer's runner."""

    def __init__(self, city: Platform, token: str | None = None) -> None:
        self.env = {
            "HUIYIN_INTAKE_URL": city["intake"].url,
            "HUIYIN_REPORTING_URL": city["reporting"].url,
            "HUIYIN_CLI_TOKEN": token or "",
            "HUIYIN_REPORTING_ADMIN_TOKEN": ADMIN,
            "HUIYIN_KAFKA_BOOTSTRAP": city.endpoints.kafka_bootstrap,
            "HUIYIN_TOPIC_PREFIX": f"{city.namespace}.",
            "COLUMNS": "220",
        }

    def __call__(self, *args: str, code: int | None = 0) -> Result:
        """Run `huiyin *args`; expect exit `code` (None: any)."""
        result = CliRunner().invoke(app, list(args), env=self.env)
        if code is not None:
            assert result.exit_code == code, (args, result.stdout, result.stderr, result.exception)
        return result

    def state(self, issue_id: str) -> str | None:
        """The issue's state, or None while intake does not know it yet."""
        shown = self("--json", "show", issue_id, code=None)
        return str(json.loads(shown.stdout)["state"]) if shown.exit_code == 0 else None

    def json(self, *args: str) -> Any:
        return json.loads(self("--json", *args).stdout)


def row(output: str, first: str) -> str:
    """The table row that starts with `first`."""
    return next(line for line in output.splitlines() if line.strip("│┃ ").startswith(first))


def test_an_issue_from_report_to_close_then_its_rates_ranking_lists_and_a_rebuild(
    city: Platform, tmp_path: Path
) -> None:
    operator = Huiyin(city, city.token("operator"))
    reported = operator(
        "report", "--text", "小区门口的路灯坏了三天", "--kind", "complaint",
        "--category", "street_lighting", "--region", PLACE, "--phone", "13800138000",
    )  # fmt: skip
    issue_id = row(reported.stdout, "issue_id").split()[-2]
    assert "receipt_code" in reported.stdout and "13800138000" not in reported.stdout

    view = eventually(
        lambda: (v := operator.json("show", issue_id))["state"] == "assigned" and v,
        what="assigned",
    )
    shown = operator("show", issue_id).stdout
    assert "assigned" in row(shown, "state") and view["office_id"] in row(shown, "office_id")
    assert "IssueAssigned" in shown

    office = Huiyin(city, city.token("office", office_id=view["office_id"]))
    assert issue_id in office("inbox").stdout
    assert "is now accepted" in office("act", issue_id, "accept").stdout
    asked = office("act", issue_id, "extension", "--days", "5", "--reason", "需协调供电部门")
    assert "is now accepted" in asked.stdout  # more than the rule grants: a supervisor decides
    supervisor = Huiyin(city, city.token("supervisor", region_code="411900", level="city"))
    decided = supervisor("decide", issue_id, "--grant", "--reason", "同意延期")
    assert "granted 5 working days" in decided.stdout
    eventually(lambda: operator.json("show", issue_id)["flags"].get("extended"), what="extended")
    assert "is now resolved" in office("act", issue_id, "resolve", "--result", "已更换灯泡").stdout
    visited = operator("act", issue_id, "visit", "--satisfaction", "satisfied", "--solved")
    assert "is now visited" in visited.stdout
    assert "is now closed" in operator("act", issue_id, "close").stdout

    # reporting counts it; the CLI shows the API's numbers
    scope = ("--period", "day", "--on", TODAY, "--category", "street_lighting")
    figures = eventually(
        lambda: (r := operator.json("rates", *scope))["visited"] == 1 and r, what="counted"
    )
    assert (figures["received"], figures["assigned"], figures["resolved"]) == (1, 1, 1)
    table = operator("rates", *scope).stdout
    for name in ("received", "assigned", "resolved", "visited", "satisfied"):
        assert row(table, f"{name} ").split()[-2] == "1", row(table, name)
    for name in ("response_rate", "completion_rate", "satisfaction_rate", "resolution_rate"):
        assert "100.0%" in row(table, name)

    ranked = operator.json("rankings", "--subject", "office", "--period", "day", "--on", TODAY)
    ours = next(r for r in ranked["rows"] if r["id"] == view["office_id"])
    shown_row = row(
        operator("rankings", "--period", "day", "--on", TODAY).stdout, str(ours["rank"])
    )
    assert view["office_id"] in shown_row and "100.0%" in shown_row

    csv = tmp_path / "tasks.csv"
    operator("lists", "tasks", "--category", "street_lighting", "--csv", str(csv))
    assert issue_id in csv.read_text(encoding="utf-8")
    assert issue_id in operator("lists", "results", "--category", "street_lighting").stdout

    rebuilt = operator("rebuild", "reporting").stdout
    assert "rebuilt reporting" in rebuilt
    assert operator.json("rates", *scope) == figures


def test_a_refused_action_prints_the_apis_reason_and_exits_non_zero(city: Platform) -> None:
    operator = Huiyin(city, city.token("operator"))
    created = operator.json("report", "--text", "河边有人乱倒垃圾", "--category", "sanitation",
                            "--region", PLACE)  # fmt: skip
    issue_id = created["issue_id"]
    view = eventually(
        lambda: (v := operator.json("show", issue_id))["state"] == "assigned" and v,
        what="assigned",
    )

    forbidden = operator("act", issue_id, "accept", code=1)
    assert "403 Forbidden" in forbidden.stderr and "may not accept" in forbidden.stderr

    office = Huiyin(city, city.token("office", office_id=view["office_id"]))
    wrong_state = office("act", issue_id, "resolve", "--result", "已处理", code=1)
    assert "409 Conflict" in wrong_state.stderr
    assert "cannot resolve an issue that is assigned" in wrong_state.stderr

    missing = office("act", issue_id, "return", code=1)  # a return needs its reason
    assert "422 Unprocessable" in missing.stderr and "reason: Field required" in missing.stderr

    stray = office("act", issue_id, "accept", "--days", "3", code=2)  # a usage error
    assert "accept takes nothing, not working_days" in stray.stderr

    unknown = Huiyin(city, "not-a-token")("show", issue_id, code=1)
    assert "401 Unauthorized" in unknown.stderr and "unknown or revoked token" in unknown.stderr

    down = Huiyin(city, "x")
    down.env["HUIYIN_INTAKE_URL"] = "http://127.0.0.1:9"
    assert "does not answer" in down("show", issue_id, code=3).stderr


def test_an_invalid_field_is_named_with_its_reason(city: Platform) -> None:
    operator = Huiyin(city, city.token("operator"))
    invalid = operator("report", "--text", "x", "--phone", "not a phone", code=1)
    assert "422 Unprocessable" in invalid.stderr and "reporter_phone:" in invalid.stderr


def test_dead_letters_replayed_after_a_fix_take_effect_once(city: Platform) -> None:
    operator = Huiyin(city, city.token("operator"))
    prefix = f"{city.namespace}."
    bootstrap = city.endpoints.kafka_bootstrap
    scope = ("--period", "day", "--on", TODAY, "--category", "parking")

    # an event every service applied, that one of them had dead-lettered too
    applied = operator.json("report", "--text", "小区门口乱停车", "--category", "parking",
                            "--region", PLACE)  # fmt: skip
    eventually(lambda: operator.json("rates", *scope)["received"] == 1, what="counted")
    log = asyncio.run(read_topic(bootstrap, f"{prefix}huiyin.issues.v1"))
    applied_record = next(
        r for r in log if json.loads(r.value)["issue_id"] == applied["issue_id"]
        and json.loads(r.value)["type"] == "IssueReported"
    )  # fmt: skip
    # an event three services failed on (its cause since fixed), which nothing has applied
    lost = IssueReported(
        issue_id=str(uuid.uuid4()), producer="intake",
        payload=IssueReportedPayload(channel=Channel.WEB, kind=Kind.COMPLAINT,
                                     text="路边停车位被占", category="parking",
                                     location=Location(region_code=PLACE)),
    )  # fmt: skip
    letters = [
        _letter("intake", applied_record.value, applied["issue_id"], prefix),
        _letter("intake", encode(lost), lost.issue_id, prefix),
        _letter("routing", encode(lost), lost.issue_id, prefix),
        _letter("reporting", encode(lost), lost.issue_id, prefix),
    ]
    asyncio.run(_publish(bootstrap, f"{prefix}huiyin.issues.dlq.v1", letters))

    listed = operator.json("dlq", "list")
    assert len(listed) == 4 and all(x["replayed"] is None for x in listed)
    assert {x["type"] for x in listed} == {"IssueReported"}

    replayed = operator("dlq", "replay").stdout
    assert "Replayed 4 events from 4 dead letters (0 replayed before)" in replayed

    eventually(lambda: operator.state(lost.issue_id) == "assigned", what="the lost report")
    eventually(lambda: operator.json("rates", *scope)["received"] == 2, what="lost counted")

    again = operator("dlq", "replay").stdout
    assert "nothing to replay: 0 events from 0 dead letters (4 replayed before)" in again
    assert all(x["replayed"] for x in operator.json("dlq", "list"))

    # each replay went to the retry topic of the service that failed, never to the log
    log = asyncio.run(read_topic(bootstrap, f"{prefix}huiyin.issues.v1"))
    ids = [json.loads(r.value)["event_id"] for r in log]
    assert ids.count(str(lost.event_id)) == 0
    assert ids.count(json.loads(applied_record.value)["event_id"]) == 1  # no echo
    retried = {
        service: sorted(
            json.loads(r.value)["event_id"]
            for r in asyncio.run(read_topic(bootstrap, retry_topic(service, prefix)))
        )
        for service in ("intake", "routing", "supervision", "reporting")
    }
    assert retried == {
        "intake": sorted([str(lost.event_id), json.loads(applied_record.value)["event_id"]]),
        "routing": [str(lost.event_id)],
        "supervision": [],
        "reporting": [str(lost.event_id)],
    }
    assert operator.json("rates", *scope)["received"] == 2  # the replayed copy counted nothing
    history = operator.json("show", applied["issue_id"])["history"]
    assert [h["type"] for h in history].count("IssueReported") == 1


def _letter(service: str, raw: bytes, key: str, prefix: str) -> DeadLetter:
    return DeadLetter(
        service=service, reason="handler_failed", error="RuntimeError('store unavailable')",
        topic=f"{prefix}huiyin.issues.v1", partition=0, offset=0, key=key,
        original_b64=DeadLetter.wrap(raw),
    )  # fmt: skip


async def _publish(bootstrap: str, topic: str, letters: list[DeadLetter]) -> None:
    producer = AIOKafkaProducer(bootstrap_servers=bootstrap, acks="all")
    await producer.start()
    try:
        for letter in letters:
            key = (letter.key or "").encode()
            await producer.send_and_wait(topic, letter.model_dump_json().encode(), key=key)
    finally:
        await producer.stop()


def test_the_huiyin_command_runs_from_the_repository(city: Platform) -> None:
    env = {**os.environ, **Huiyin(city).env}
    ran = subprocess.run(
        [str(REPO / "bin/huiyin"), "--json", "rates", "--period", "day", "--on", TODAY],
        capture_output=True, text=True, env=env, check=False,
    )  # fmt: skip
    assert ran.returncode == 0, ran.stderr
    params = {"period": "day", "on": TODAY}
    api = httpx.get(f"{city['reporting'].url}/rates", params=params, timeout=10).json()
    assert json.loads(ran.stdout) == api
    refused = subprocess.run(
        [str(REPO / "bin/huiyin"), "show", "no-such-issue"],
        capture_output=True, text=True, env=env | {"HUIYIN_CLI_TOKEN": "nope"}, check=False,
    )  # fmt: skip
    assert refused.returncode == 1 and "401 Unauthorized" in refused.stderr
