"""The consumer's batch entry point on the real broker: a whole batch reaches the handler at
once, in log order; a batch that keeps failing is split, and only the event that keeps
failing alone is dead-lettered."""

import asyncio
import json
from collections.abc import AsyncIterator, Awaitable, Callable, Sequence
from contextlib import asynccontextmanager

from services.contracts.dead_letter import DeadLetter
from services.runtime.broker import EventPublisher, ensure_topics, make_broker
from services.runtime.consumer import Delivered, IssueLogConsumer
from services.runtime.metrics import ServiceMetrics
from services.runtime.settings import PlatformSettings
from services.runtime.topic_reader import read_topic
from tests.integration.test_runtime import report


@asynccontextmanager
async def probing(
    settings: PlatformSettings, handle: Callable[[Sequence[Delivered]], Awaitable[None]]
) -> AsyncIterator[EventPublisher]:
    """A batch consumer of one partition with `handle` as its batch handler, running; the
    publisher to feed it."""
    await ensure_topics(settings, "probe")
    broker = make_broker(settings, "probe")
    IssueLogConsumer(
        broker=broker,
        settings=settings,
        service="probe",
        metrics=ServiceMetrics("probe"),
        handle_batch=handle,
    )
    await broker.start()
    try:
        yield EventPublisher(broker, settings, ServiceMetrics("test"))
    finally:
        await broker.stop()


async def test_a_batch_arrives_whole_and_a_poisoned_event_alone_is_dead_lettered(
    settings: PlatformSettings,
) -> None:
    batches: list[list[str]] = []
    applied: list[str] = []
    done = asyncio.Event()

    async def handle(batch: Sequence[Delivered]) -> None:
        ids = [d.event.issue_id for d in batch]
        batches.append(ids)
        if "poisoned" in ids:
            raise RuntimeError("this event always breaks the handler")
        applied.extend(ids)
        if "last" in applied:
            done.set()

    settings = settings.model_copy(update={"partitions": 1, "retry_pause": 0.01})
    async with probing(settings, handle) as publisher:
        await publisher.publish(report("first"), report("poisoned"), report("last"))
        async with asyncio.timeout(60):
            await done.wait()
        letters = await read_topic(settings.kafka_bootstrap, settings.dead_letter_topic, until=1)
    assert applied.index("first") < applied.index("last")  # in log order
    assert "poisoned" not in applied and len(letters) == 1
    letter = DeadLetter.model_validate_json(letters[0].value)
    assert letter.reason == "handler_failed"
    assert json.loads(letter.original)["issue_id"] == "poisoned"


async def test_an_event_failing_alone_in_its_batch_is_dead_lettered_once(
    settings: PlatformSettings,
) -> None:
    alone, done = asyncio.Event(), asyncio.Event()

    async def handle(batch: Sequence[Delivered]) -> None:
        ids = [d.event.issue_id for d in batch]
        if ids == ["poisoned"]:
            alone.set()
        if "poisoned" in ids:
            raise RuntimeError("this event always breaks the handler")
        if "last" in ids:
            done.set()

    settings = settings.model_copy(update={"partitions": 1, "retry_pause": 0.01})
    async with probing(settings, handle) as publisher:
        await publisher.publish(report("poisoned"))  # a batch of one
        async with asyncio.timeout(60):
            await alone.wait()
        await publisher.publish(report("last"))  # in a batch of its own
        async with asyncio.timeout(60):
            await done.wait()
        letters = await read_topic(settings.kafka_bootstrap, settings.dead_letter_topic)
    assert [json.loads(DeadLetter.model_validate_json(r.value).original)["issue_id"]
            for r in letters] == ["poisoned"]  # fmt: skip
