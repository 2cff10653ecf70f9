"""The shared runtime against the real broker and MongoDB-wire server."""

import asyncio
import json
from typing import Any

from faststream.kafka import KafkaBroker
from pymongo import AsyncMongoClient
from pymongo.errors import ServerSelectionTimeoutError

from services.contracts.dead_letter import DeadLetter
from services.contracts.events import Event, IssueReported, IssueReportedPayload, encode
from services.contracts.vocabulary import Channel, Kind
from services.runtime.broker import EventPublisher, ensure_topics, make_broker
from services.runtime.consumer import Delivery, IssueLogConsumer
from services.runtime.metrics import ServiceMetrics
from services.runtime.mongo import apply_once, upsert
from services.runtime.settings import PlatformSettings
from services.runtime.topic_reader import read_topic


def report(issue_id: str, text: str = "路灯不亮") -> IssueReported:
    return IssueReported(
        issue_id=issue_id,
        producer="intake",
        payload=IssueReportedPayload(channel=Channel.WEB, kind=Kind.COMPLAINT, text=text),
    )


async def test_apply_once_applies_an_event_once(
    mongo: AsyncMongoClient[Any], namespace: str
) -> None:
    issues = mongo[f"{namespace}_test"]["issues"]
    first = {"$set": {"state": "assigned", "history.e1": {"offset": 1}}}
    assert await apply_once(issues, "issue-1", "e1", first) is True
    assert await apply_once(issues, "issue-1", "e2", {"$set": {"state": "accepted"}}) is True
    # a replay of e1 after e2 must not move the issue back to "assigned"
    assert await apply_once(issues, "issue-1", "e1", first) is False
    doc = await issues.find_one({"_id": "issue-1"})
    assert doc is not None
    assert doc["state"] == "accepted"
    assert doc["history"] == {"e1": {"offset": 1}}
    assert doc["_applied"] == ["e1", "e2"]


async def test_apply_once_counts_an_event_once_whatever_its_operators(
    mongo: AsyncMongoClient[Any], namespace: str
) -> None:
    """The guard is in the write's filter, so even `$inc` runs once per event: a copy, a
    replay or a second writer changes nothing."""
    issues = mongo[f"{namespace}_test"]["issues"]
    for _ in range(3):
        await apply_once(issues, "issue-1", "e1", {"$inc": {"count": 1}})
    assert await apply_once(issues, "issue-1", "e2", {"$inc": {"count": 1}}) is True
    doc = await issues.find_one({"_id": "issue-1"})
    assert doc is not None
    assert doc["count"] == 2


async def test_concurrent_events_of_one_document_are_all_applied(
    mongo: AsyncMongoClient[Any], namespace: str
) -> None:
    """Forty events of one issue applied at once (as a rebuild beside the live consumer, or
    intake's API beside its consumer, would): none is lost, even on FerretDB v1."""
    issues = mongo[f"{namespace}_test"]["issues"]
    updates = [(f"e{n}", {"$set": {f"history.e{n}": n}}) for n in range(40)]
    applied = await asyncio.gather(
        *(apply_once(issues, "issue-1", event_id, update) for event_id, update in updates)
    )
    assert all(applied)
    doc = await issues.find_one({"_id": "issue-1"})
    assert doc is not None
    assert doc["history"] == {f"e{n}": n for n in range(40)}
    assert sorted(doc["_applied"]) == sorted(event_id for event_id, _ in updates)


class Recorder:
    def __init__(self, poison: str | None = None, outages: int = 0) -> None:
        self.seen: list[Event] = []
        self.poison = poison
        self.outages = outages
        self.arrived = asyncio.Event()

    async def handle(self, event: Event, _: Delivery) -> None:
        if event.issue_id == self.poison:
            raise RuntimeError("this event always breaks the handler")
        if self.outages:
            self.outages -= 1
            raise ServerSelectionTimeoutError("the database is away")
        self.seen.append(event)
        self.arrived.set()


async def start_consumer(settings: PlatformSettings, recorder: Recorder) -> KafkaBroker:
    await ensure_topics(settings, "probe")
    broker = make_broker(settings, "probe")
    IssueLogConsumer(
        broker=broker,
        settings=settings,
        service="probe",
        metrics=ServiceMetrics("probe"),
        handle=recorder.handle,
    )
    await broker.start()
    return broker


async def wait_for(recorder: Recorder, issue_id: str, timeout: float = 30) -> None:
    async with asyncio.timeout(timeout):
        while not any(e.issue_id == issue_id for e in recorder.seen):
            recorder.arrived.clear()
            await recorder.arrived.wait()


async def test_a_malformed_message_is_dead_lettered_and_the_next_one_processed(
    settings: PlatformSettings,
) -> None:
    recorder = Recorder()
    broker = await start_consumer(settings, recorder)
    try:
        garbage = b'{"type": "IssueReported", "issue_id": "bad", "payload": {"channel": "tv"}}'
        await broker.publish(garbage, settings.issues_topic, key=b"same-key")
        await broker.publish(encode(report("good")), settings.issues_topic, key=b"same-key")
        await wait_for(recorder, "good")
        letters = await read_topic(settings.kafka_bootstrap, settings.dead_letter_topic, until=1)
    finally:
        await broker.stop()
    assert [e.issue_id for e in recorder.seen] == ["good"]
    assert len(letters) == 1
    letter = DeadLetter.model_validate_json(letters[0].value)
    assert (letter.service, letter.reason) == ("probe", "invalid_event")
    assert "payload.channel" in letter.error
    assert letter.original == garbage
    assert letter.topic == settings.issues_topic


async def test_a_handler_that_keeps_failing_is_dead_lettered_after_its_attempts(
    settings: PlatformSettings,
) -> None:
    recorder = Recorder(poison="poisoned")
    broker = await start_consumer(settings, recorder)
    try:
        publisher = EventPublisher(broker, settings, ServiceMetrics("test"))
        await publisher.publish(report("poisoned"), report("after"))
        await wait_for(recorder, "after")
        letters = await read_topic(settings.kafka_bootstrap, settings.dead_letter_topic, until=1)
    finally:
        await broker.stop()
    letter = DeadLetter.model_validate_json(letters[0].value)
    assert letter.reason == "handler_failed"
    assert "always breaks" in letter.error
    assert json.loads(letter.original)["issue_id"] == "poisoned"


async def test_offsets_are_committed_after_the_effect_so_a_restart_does_not_replay(
    settings: PlatformSettings,
) -> None:
    first = Recorder()
    broker = await start_consumer(settings, first)
    publisher = EventPublisher(broker, settings, ServiceMetrics("test"))
    await publisher.publish(*(report(f"issue-{n}") for n in range(20)))
    for n in range(20):  # the partitions are handled side by side: wait for every one
        await wait_for(first, f"issue-{n}")
    await broker.stop()

    second = Recorder()
    broker = await start_consumer(settings, second)
    try:
        publisher = EventPublisher(broker, settings, ServiceMetrics("test"))
        await publisher.publish(report("after-restart"))
        await wait_for(second, "after-restart")
    finally:
        await broker.stop()
    assert sorted(e.issue_id for e in first.seen) == sorted(f"issue-{n}" for n in range(20))
    assert [e.issue_id for e in second.seen] == ["after-restart"]


async def test_concurrent_first_applies_of_one_document_both_land(
    mongo: AsyncMongoClient[Any], namespace: str
) -> None:
    """Intake's API and its log consumer may both create an issue's view at once."""
    issues = mongo[f"{namespace}_test"]["issues"]
    for n in range(30):
        results = await asyncio.gather(
            apply_once(issues, f"issue-{n}", "reported", {"$set": {"state": "received"}}),
            apply_once(issues, f"issue-{n}", "reported", {"$set": {"state": "received"}}),
            apply_once(issues, f"issue-{n}", "triaged", {"$set": {"category": "roads"}}),
        )
        assert results.count(True) >= 2
        doc = await issues.find_one({"_id": f"issue-{n}"})
        assert doc is not None
        assert sorted(doc["_applied"]) == ["reported", "triaged"]
        assert (doc["state"], doc["category"]) == ("received", "roads")


async def test_an_event_waits_out_a_database_outage_instead_of_being_dead_lettered(
    settings: PlatformSettings,
) -> None:
    recorder = Recorder(outages=5)  # more than handler_attempts (3)
    broker = await start_consumer(settings, recorder)
    try:
        publisher = EventPublisher(broker, settings, ServiceMetrics("test"))
        await publisher.publish(report("patient"))
        await wait_for(recorder, "patient")
    finally:
        await broker.stop()
    assert [e.issue_id for e in recorder.seen] == ["patient"]
    assert await read_topic(settings.kafka_bootstrap, settings.dead_letter_topic) == []


async def test_concurrent_upserts_of_one_new_document_never_fail(
    mongo: AsyncMongoClient[Any], namespace: str
) -> None:
    """None raises on the duplicate `_id` of a lost race (FerretDB v1 may still lose some of the
    concurrent updates themselves: see the README)."""
    clocks = mongo[f"{namespace}_test"]["clocks"]
    await asyncio.gather(*(upsert(clocks, "issue-1", {"$set": {f"f{n}": n}}) for n in range(5)))
    doc = await clocks.find_one({"_id": "issue-1"})
    assert doc is not None
    assert {k for k in doc if k.startswith("f")} <= {f"f{n}" for n in range(5)}
