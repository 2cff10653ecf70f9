"""Crashes and poison: nothing lost, nothing doubled."""

import asyncio
import json
import signal
from collections import Counter
from functools import partial

import httpx
from aiokafka import AIOKafkaProducer

from devkit.processes import SERVICES, Platform
from services.contracts.dead_letter import DeadLetter
from services.runtime.topic_reader import read_topic
from tests.e2e.conftest import Client, eventually


def assignments_on_the_log(platform: Platform) -> list[tuple[str, str]]:
    """(issue_id, event_id) of every IssueAssigned record on the topic, copies included."""
    topic = f"{platform.namespace}.huiyin.issues.v1"
    records = asyncio.run(read_topic(platform.endpoints.kafka_bootstrap, topic))
    events = [json.loads(r.value) for r in records]
    return [(e["issue_id"], e["event_id"]) for e in events if e["type"] == "IssueAssigned"]


def test_routing_killed_between_report_and_assignment_assigns_exactly_once(
    platform: Platform, operator: Client
) -> None:
    routing = platform["routing"]
    routing.kill(signal.SIGKILL)
    created = operator.report()
    view = eventually(lambda: operator.issue(created["issue_id"]), what="reported")
    assert view["state"] == "received"

    routing.start()
    routing.wait_healthy()
    view = eventually(lambda: operator.assigned(created["issue_id"]), what="assigned after restart")
    assert [h["type"] for h in view["history"]].count("IssueAssigned") == 1
    history = httpx.get(f"{routing.url}/issues/{created['issue_id']}/routing").json()
    assert len(history["decisions"]) == 1
    assert len({event_id for _, event_id in assignments_on_the_log(platform)}) == 1


def test_routing_killed_mid_burst_still_assigns_every_issue_once(
    platform: Platform, operator: Client
) -> None:
    routing = platform["routing"]
    routing.kill(signal.SIGKILL)
    ids = [operator.report(f"第{n}号路灯不亮")["issue_id"] for n in range(150)]
    routing.start()  # a backlog of 150 reports waits for it
    eventually(
        lambda: any(operator.assigned(i) for i in ids[::10]), timeout=60, what="routing under way"
    )
    routing.kill(signal.SIGKILL)  # mid-backlog: some assigned, the rest not, offsets uncommitted
    done_at_kill = sum(1 for i in ids if operator.assigned(i))
    routing.start()
    routing.wait_healthy()

    for issue_id in ids:
        view = eventually(partial(operator.assigned, issue_id), what=f"{issue_id} assigned")
        assert [h["type"] for h in view["history"]].count("IssueAssigned") == 1
    on_log = assignments_on_the_log(platform)
    per_issue = Counter(issue_id for issue_id, _ in set(on_log))
    assert set(per_issue) == set(ids)
    assert set(per_issue.values()) == {1}, "one distinct assignment per issue, copies share an id"
    print(
        f"assigned when killed: {done_at_kill}/150; IssueAssigned records on the log: "
        f"{len(on_log)} ({len(on_log) - 150} replayed copies, all dropped by id)"
    )
    counts = eventually(
        lambda: (
            (c := httpx.get(f"{platform['reporting'].url}/counts").json())["assigned"] == 150 and c
        ),
        what="reporting counts each assignment once",
    )
    assert counts["received"] == 150


def test_a_malformed_message_is_dead_lettered_while_the_next_report_flows(
    platform: Platform, operator: Client
) -> None:
    topic = f"{platform.namespace}.huiyin.issues.v1"
    garbage = b"{this is not an event"

    async def put_garbage() -> None:
        producer = AIOKafkaProducer(bootstrap_servers=platform.endpoints.kafka_bootstrap)
        await producer.start()
        try:
            await producer.send_and_wait(topic, garbage, key=b"k")
        finally:
            await producer.stop()

    asyncio.run(put_garbage())
    created = operator.report()
    eventually(lambda: operator.assigned(created["issue_id"]), what="next report")

    dlq = f"{platform.namespace}.huiyin.issues.dlq.v1"
    every = len(SERVICES)  # each service that consumes the log dead-letters it once
    records = asyncio.run(
        read_topic(platform.endpoints.kafka_bootstrap, dlq, until=every, timeout=30)
    )
    letters = [DeadLetter.model_validate_json(r.value) for r in records]
    assert sorted(letter.service for letter in letters) == sorted(SERVICES)
    for letter in letters:
        assert letter.reason == "invalid_event"
        assert letter.original == garbage
        assert "json" in letter.error.lower()
