"""At-least-once consumption of the issue log, exactly-once in effect.

A service subscribes one handler to the facts topic and to its own retry topic (where
`huiyin dlq replay` puts the dead letters this service failed on, with their original
position in the log as headers, so handlers see the same `Delivery` as the first time).
Records come in batches; each is decoded and handed to the handler in partition order
(partitions side by side), and the offsets are committed only after every record of the
batch has its effect stored (or has been dead-lettered).
Auto-commit is never on: a crash mid-batch replays the batch, and idempotent handlers
make the replay harmless.

- a record that is not a valid event goes to the dead-letter topic with the reason;
- a record of a version this service cannot read goes there too (`unsupported_version`);
- so does an event a handler rejects (`Rejected`, with its own reason, at once),
- and an event whose producer does not own its type (`foreign_producer`,
  `services/contracts/owners.py`): only routing assigns, only supervision flags…;
- a record of a type this service does not know (a newer producer) is skipped;
- a handler that keeps raising is tried `handler_attempts` times, then dead-lettered,
  so one poisoned event never stalls its partition and never loops forever;
- but while the database or the broker is unreachable, the event waits and is retried
  (with a capped backoff) until they answer: an outage is not the event's fault.
Both retries go through `stamina`, the platform's one retry helper.

Two ways to subscribe: a `Handler` gets one event at a time (partitions side by side, each
in order); a `BatchHandler` gets the whole batch's valid events at once, in log order
(`Delivered`: the event and where it was read), so a service can store the batch's effects
as bulk writes per collection and publish what it derives as one produce batch
(`runtime.effects.BulkWrites`). A batch whose handler keeps failing is split: each event
is then handed over alone (still in order), and only the one that keeps failing is
dead-lettered. A batch handler must be idempotent per event, like a `Handler`: a batch
can be replayed whole after a crash or a split.
"""

import asyncio
import time
from collections import defaultdict
from collections.abc import AsyncIterator, Awaitable, Callable, Sequence
from dataclasses import dataclass
from typing import Any

import stamina
from aiokafka import AIOKafkaConsumer, ConsumerRecord, TopicPartition
from aiokafka.abc import ConsumerRebalanceListener
from aiokafka.errors import KafkaConnectionError, KafkaTimeoutError
from faststream.kafka import KafkaBroker, annotations
from faststream.kafka.message import KafkaMessage
from faststream.middlewares import AckPolicy
from pydantic import ValidationError
from pymongo.errors import ConnectionFailure

from services.contracts.dead_letter import ORIGIN_OFFSET, ORIGIN_PARTITION, DeadLetter
from services.contracts.events import Event, UnknownEventType, UnsupportedVersion, decode
from services.contracts.owners import OWNERS, owns
from services.runtime.logging import get_logger
from services.runtime.metrics import ServiceMetrics
from services.runtime.settings import PlatformSettings


@dataclass(frozen=True)
class Delivery:
    """Where an event was read from."""

    partition: int
    offset: int


@dataclass(frozen=True)
class Delivered:
    """A valid event of a batch, and where it was read from."""

    event: Event
    delivery: Delivery


Handler = Callable[[Event, Delivery], Awaitable[None]]
BatchHandler = Callable[[Sequence[Delivered]], Awaitable[None]]

log = get_logger(__name__)

TRANSIENT: tuple[type[Exception], ...] = (
    ConnectionFailure,
    KafkaConnectionError,
    KafkaTimeoutError,
)
"""Errors of an unreachable database or broker: wait and retry, never dead-letter."""


class Rejected(Exception):
    """A handler's verdict that an event must not be applied, with the reason the dead letter
    carries (e.g. `unknown_office` for an assignment to an office the city does not have).
    Dead-lettered at once: trying again cannot change the verdict."""

    def __init__(self, reason: str, detail: str) -> None:
        super().__init__(detail)
        self.reason = reason


def _retried(error: Exception) -> bool:
    """Tried again: anything but an outage (waited out apart) or a verdict."""
    return not isinstance(error, (*TRANSIENT, Rejected))


class IssueLogConsumer:
    def __init__(
        self,
        *,
        broker: KafkaBroker,
        settings: PlatformSettings,
        service: str,
        metrics: ServiceMetrics,
        handle: Handler | None = None,
        handle_batch: BatchHandler | None = None,
        group_id: str | None = None,
        listener: ConsumerRebalanceListener | None = None,
        max_records: int = 500,
    ) -> None:
        self._broker = broker
        self._settings = settings
        self._service = service
        self._metrics = metrics
        if (handle is None) == (handle_batch is None):
            raise ValueError("give exactly one of handle and handle_batch")
        self._handle = handle
        self._handle_batch = handle_batch
        self._retry_pause = settings.retry_pause
        subscriber = broker.subscriber(
            settings.issues_topic,
            settings.retry_topic(service),
            # namespaced like the topics: a group shared across namespaces (tests, demos)
            # would rebalance whenever any of them joins or leaves
            group_id=group_id or f"{settings.topic_prefix}huiyin-{service}",
            batch=True,
            max_records=max_records,
            ack_policy=AckPolicy.MANUAL,
            auto_offset_reset="earliest",
            listener=listener,
            decoder=_raw_records,
            title=f"{service}.issues",
            description=f"{service} consumes every issue event",
        )
        subscriber(self._on_batch)

    async def _on_batch(
        self,
        records: Any,
        message: annotations.KafkaMessage,
        consumer: annotations.Consumer,
    ) -> None:
        batch = _as_records(records)
        by_partition: dict[tuple[str, int], list[ConsumerRecord[bytes, bytes]]]
        by_partition = defaultdict(list)
        for record in batch:
            by_partition[(record.topic, record.partition)].append(record)
        if self._handle_batch is not None:
            await self._whole(batch)
        else:
            # Partitions are independent (every event of one issue is in one partition), so
            # they proceed side by side; within a partition, records are applied in order.
            await asyncio.gather(*(self._in_order(part) for part in by_partition.values()))
        await message.ack()
        self._observe_lag(consumer, batch)

    async def _in_order(self, records: list[ConsumerRecord[bytes, bytes]]) -> None:
        for record in records:
            await self.process(record)

    async def _whole(self, batch: Sequence[ConsumerRecord[bytes, bytes]]) -> None:
        """The batch's valid events to the batch handler at once (what cannot be read is
        dead-lettered or skipped first); split into single events when it keeps failing."""
        valid: list[tuple[ConsumerRecord[bytes, bytes], Delivered]] = []
        for record in batch:
            event = await self._decoded(record)
            if event is not None:
                valid.append((record, Delivered(event, origin(record))))
        if len(valid) == 1:  # nothing to split: dead-lettered at once if it keeps failing
            await self._apply_batch(valid, dead_letter=True)
        elif valid and not await self._apply_batch(valid, dead_letter=False):
            for one in valid:
                await self._apply_batch([one], dead_letter=True)

    async def _apply_batch(
        self,
        items: Sequence[tuple[ConsumerRecord[bytes, bytes], Delivered]],
        *,
        dead_letter: bool,
    ) -> bool:
        """Run the batch handler on `items`; False when it kept failing (dead-lettered when
        `dead_letter`, i.e. a single event)."""
        assert self._handle_batch is not None
        handle_batch = self._handle_batch
        delivered = [d for _, d in items]
        kind = delivered[0].event.type if len(delivered) == 1 else "batch"
        started = time.perf_counter()
        try:
            async for attempt in self._tries():
                with attempt:
                    started = time.perf_counter()
                    await self._waiting_out_outages(
                        lambda: handle_batch(delivered),
                        kind,
                        str(delivered[0].event.event_id),
                        attempt.num,
                    )
        except Rejected as verdict:
            if dead_letter:
                await self._dead_letter(items[0][0], verdict.reason, str(verdict))
            return False
        except Exception as error:
            if dead_letter:
                await self._dead_letter(items[0][0], "handler_failed", repr(error))
            return False
        share = (time.perf_counter() - started) / len(delivered)
        for one in delivered:
            self._metrics.handler_seconds.labels(one.event.type).observe(share)
            self._metrics.processed.labels(one.event.type).inc()
        return True

    async def _decoded(self, record: ConsumerRecord[bytes, bytes]) -> Event | None:
        """The record's event, or None when it was skipped or dead-lettered."""
        raw = record.value or b""
        try:
            event = decode(raw)
        except UnknownEventType as unknown:
            self._metrics.skipped.labels("unknown_type").inc()
            log.info("event.skipped", reason="unknown_type", type=str(unknown))
            return None
        except UnsupportedVersion as unsupported:
            self._metrics.consumed.labels("unsupported").inc()
            await self._dead_letter(record, "unsupported_version", str(unsupported))
            return None
        except (ValidationError, ValueError) as invalid:
            self._metrics.consumed.labels("invalid").inc()
            await self._dead_letter(record, "invalid_event", _summary(invalid))
            return None
        if not owns(event.producer, event.type):
            self._metrics.consumed.labels("foreign").inc()
            reason = (
                f"{event.type} is written by {sorted(OWNERS[event.type])}, not {event.producer!r}"
            )
            await self._dead_letter(record, "foreign_producer", reason)
            return None
        self._metrics.consumed.labels(event.type).inc()
        return event

    def _tries(self) -> AsyncIterator[stamina.Attempt]:
        """A handler's tries: `handler_attempts` of them, pausing more each time."""
        return stamina.retry_context(
            on=_retried,
            attempts=self._settings.handler_attempts,
            timeout=None,
            wait_initial=self._retry_pause,
            wait_jitter=0,
        )

    async def process(self, record: ConsumerRecord[bytes, bytes]) -> None:
        """Decode one record and apply it; dead-letter what cannot be applied."""
        event = await self._decoded(record)
        if event is None:
            return
        started = time.perf_counter()
        try:
            async for attempt in self._tries():
                with attempt:
                    started = time.perf_counter()
                    await self._until_infrastructure_answers(event, origin(record), attempt.num)
        except Rejected as verdict:
            await self._dead_letter(record, verdict.reason, str(verdict))
            return
        except Exception as error:
            await self._dead_letter(record, "handler_failed", repr(error))
            return
        self._metrics.handler_seconds.labels(event.type).observe(time.perf_counter() - started)
        self._metrics.processed.labels(event.type).inc()

    async def _until_infrastructure_answers(
        self, event: Event, delivery: Delivery, attempt: int
    ) -> None:
        """One attempt of the handler: an outage is waited out (retried without end)."""
        assert self._handle is not None
        handle = self._handle
        await self._waiting_out_outages(
            lambda: handle(event, delivery), event.type, str(event.event_id), attempt
        )

    async def _waiting_out_outages(
        self, run: Callable[[], Awaitable[None]], kind: str, event_id: str, attempt: int = 0
    ) -> None:
        async for waiting in stamina.retry_context(
            on=TRANSIENT,
            attempts=None,
            timeout=None,
            wait_initial=self._retry_pause * 2,
            wait_max=10.0,
            wait_jitter=0,
        ):
            with waiting:
                try:
                    await run()
                except TRANSIENT as outage:
                    self._metrics.failed.labels(kind).inc()
                    log.warning("event.waiting_for_infrastructure", type=kind, error=repr(outage))
                    raise
                except Exception as error:
                    self._metrics.failed.labels(kind).inc()
                    log.warning(
                        "event.failed",
                        type=kind,
                        event_id=event_id,
                        attempt=attempt,
                        error=repr(error),
                    )
                    raise

    async def _dead_letter(
        self, record: ConsumerRecord[bytes, bytes], reason: str, error: str
    ) -> None:
        where = origin(record)  # a replayed record: where its original sits in the log
        letter = DeadLetter(
            service=self._service,
            reason=reason,
            error=error,
            topic=self._settings.issues_topic,
            partition=where.partition,
            offset=where.offset,
            key=record.key.decode(errors="replace") if record.key else None,
            original_b64=DeadLetter.wrap(record.value or b""),
        )
        await self._broker.publish(
            letter.model_dump_json().encode(),
            self._settings.dead_letter_topic,
            key=record.key,
            headers={"reason": reason, "service": self._service},
        )
        self._metrics.dead_lettered.labels(reason).inc()
        log.warning(
            "event.dead_lettered",
            reason=reason,
            error=error,
            partition=record.partition,
            offset=record.offset,
        )

    def _observe_lag(
        self, consumer: AIOKafkaConsumer, records: Sequence[ConsumerRecord[bytes, bytes]]
    ) -> None:
        """Records behind the high watermark, per partition this batch touched."""
        last: dict[int, int] = {}
        for record in records:
            if record.topic == self._settings.issues_topic:
                last[record.partition] = record.offset
        for partition, offset in last.items():
            highwater = consumer.highwater(TopicPartition(self._settings.issues_topic, partition))
            if highwater is not None:
                self._metrics.lag.labels(str(partition)).set(max(highwater - offset - 1, 0))


def origin(record: ConsumerRecord[bytes, bytes]) -> Delivery:
    """Where the record's event sits in the facts log (a replay says so in its headers)."""
    headers = {k: v for k, v in record.headers or ()}
    try:
        return Delivery(int(headers[ORIGIN_PARTITION]), int(headers[ORIGIN_OFFSET]))
    except (KeyError, ValueError):
        return Delivery(record.partition, record.offset)


async def _raw_records(message: KafkaMessage) -> Any:
    return message.raw_message


def _as_records(raw: Any) -> Sequence[ConsumerRecord[bytes, bytes]]:
    return raw if isinstance(raw, tuple) else (raw,)


def _summary(error: Exception) -> str:
    if isinstance(error, ValidationError):
        return "; ".join(
            f"{'.'.join(str(p) for p in e['loc']) or '<root>'}: {e['msg']}" for e in error.errors()
        )
    return str(error)
