"""`huiyin dlq`: the dead-letter topic, read and replayed after a fix.

No service serves the dead-letter topic over HTTP, so these commands speak to Kafka
(--kafka / HUIYIN_KAFKA_BOOTSTRAP, under --topic-prefix / HUIYIN_TOPIC_PREFIX).

A replay republishes each dead letter's original bytes, with its original key and into
its original partition, to the retry topic of the service that dead-lettered it
(`huiyin.issues.retry.<service>.v1`), never to the shared log: only the service that
failed reads it again, and it drops an event id it has applied already, so a replay never
doubles an effect. Headers carry the event's position in the log, so the service sees it
as it would have the first time. Replays are recorded in a ledger topic
(`huiyin.issues.dlq.replayed.v1`, keyed by the dead letter's position), and a later replay
skips what is recorded. When one service dead-lettered the same record several times, it
is republished once. A new failure after a replay is a new dead letter: replayable.
"""

import asyncio
import contextlib
import hashlib
import json
from collections import defaultdict
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Annotated, Any

import typer
from aiokafka import AIOKafkaProducer
from aiokafka.admin import AIOKafkaAdminClient, NewTopic
from aiokafka.errors import TopicAlreadyExistsError
from rich.progress import Progress

from cli.app import Config, app, config, guarded, out
from cli.render import print_json, rows_table
from services.contracts.dead_letter import ORIGIN_OFFSET, ORIGIN_PARTITION, DeadLetter
from services.contracts.topics import KEPT_FOREVER, dead_letter_topic, issues_topic, retry_topic
from services.runtime.topic_reader import read_topic

LEDGER = "huiyin.issues.dlq.replayed.v1"

dlq = typer.Typer(help="The dead-letter topic: list it, replay it after a fix (talks to Kafka).")
app.add_typer(dlq, name="dlq")


@dataclass(frozen=True)
class Letter:
    partition: int
    offset: int
    letter: DeadLetter

    @property
    def position(self) -> str:
        return f"{self.partition}:{self.offset}"

    @property
    def digest(self) -> str:
        return hashlib.sha256(self.letter.original).hexdigest()

    @property
    def event(self) -> dict[str, Any]:
        try:
            found = json.loads(self.letter.original)
        except ValueError:
            return {}
        return found if isinstance(found, dict) else {}


async def letters(cfg: Config) -> list[Letter]:
    records = await read_topic(cfg.kafka_access, dead_letter_topic(cfg.topic_prefix))
    found = [
        Letter(r.partition, r.offset, DeadLetter.model_validate_json(r.value or b""))
        for r in records
    ]
    return sorted(found, key=lambda x: (x.letter.failed_at, x.partition, x.offset))


async def ledger(cfg: Config) -> dict[str, dict[str, Any]]:
    """What earlier replays recorded, by dead-letter position."""
    records = await read_topic(cfg.kafka_access, f"{cfg.topic_prefix}{LEDGER}")
    return {(r.key or b"").decode(): json.loads(r.value or b"{}") for r in records}


def matches(x: Letter, since: datetime | None, type_: str | None, service: str | None) -> bool:
    return (
        (since is None or x.letter.failed_at >= since)
        and (type_ is None or x.event.get("type") == type_)
        and (service is None or x.letter.service == service)
    )


def _since(value: str | None) -> datetime | None:
    if value is None:
        return None
    try:
        moment = datetime.fromisoformat(value)
    except ValueError:
        message = f"{value!r} is not an ISO date or time"
        raise typer.BadParameter(message, param_hint="--since") from None
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


def _row(x: Letter, replayed: dict[str, Any] | None) -> dict[str, Any]:
    return {
        "position": x.position, "failed_at": x.letter.failed_at.isoformat(timespec="seconds"),
        "service": x.letter.service, "reason": x.letter.reason, "type": x.event.get("type"),
        "event_id": x.event.get("event_id"), "issue_id": x.letter.key,
        "error": x.letter.error[:80], "replayed": replayed["replayed_at"] if replayed else None,
    }  # fmt: skip


Since = Annotated[str | None, typer.Option(help="only dead letters since this ISO date/time")]
Type = Annotated[str | None, typer.Option("--type", help="only events of this type")]
Service = Annotated[str | None, typer.Option(help="only those this service dead-lettered")]


@dlq.command("list")
@guarded
def list_(
    ctx: typer.Context, since: Since = None, type_: Type = None, service: Service = None
) -> None:
    """The dead letters: where, when, which service, why, and whether replayed."""
    cfg = config(ctx)
    found, done = asyncio.run(_both(cfg))
    rows = [
        _row(x, done.get(x.position)) for x in found if matches(x, _since(since), type_, service)
    ]
    if cfg.json:
        return print_json(out(), rows)
    out().print(rows_table(f"Dead letters: {len(rows)}", rows))


async def _both(cfg: Config) -> tuple[list[Letter], dict[str, dict[str, Any]]]:
    return await letters(cfg), await ledger(cfg)


@dlq.command()
@guarded
def replay(
    ctx: typer.Context,
    since: Since = None,
    type_: Type = None,
    service: Service = None,
    dry_run: Annotated[bool, typer.Option(help="show what would be replayed")] = False,
) -> None:
    """Republish dead letters' events to the retry topic of the service that failed, once."""
    cfg = config(ctx)
    found, done = asyncio.run(_both(cfg))
    chosen = [x for x in found if matches(x, _since(since), type_, service)]
    pending = [x for x in chosen if x.position not in done]
    groups: dict[str, list[Letter]] = defaultdict(list)
    for x in pending:
        groups[f"{x.letter.service}:{x.digest}"].append(x)
    rows = [_row(g[0], None) | {"letters": len(g)} for g in groups.values()]
    skipped = len(chosen) - len(pending)
    if dry_run or not groups:
        verb = "would replay" if dry_run else "nothing to replay:"
        out().print(f"{verb} {len(groups)} events from {len(pending)} dead letters "
                    f"({skipped} replayed before)")  # fmt: skip
        if rows:
            out().print(rows_table("To replay", rows))
        return
    with Progress(console=out()) as progress:
        bar = progress.add_task("replaying", total=len(groups))
        asyncio.run(_replay(cfg, list(groups.values()), lambda: progress.advance(bar)))
    if cfg.json:
        return print_json(out(), rows)
    out().print(rows_table(f"Replayed {len(groups)} events from {len(pending)} dead letters "
                           f"({skipped} replayed before)", rows))  # fmt: skip


async def _replay(cfg: Config, groups: list[list[Letter]], advance: Any) -> None:
    name = f"{cfg.topic_prefix}{LEDGER}"
    retries = {retry_topic(g[0].letter.service, cfg.topic_prefix) for g in groups}
    await _ensure(cfg, {name: 1} | dict.fromkeys(retries, 0))
    producer = AIOKafkaProducer(
        **cfg.kafka_access.client_options(), enable_idempotence=True, acks="all"
    )
    await producer.start()
    try:
        for group in groups:
            first = group[0]
            topic = retry_topic(first.letter.service, cfg.topic_prefix)
            partitions = await producer.partitions_for(topic)
            landed = await producer.send_and_wait(
                topic, first.letter.original,
                key=first.letter.key.encode() if first.letter.key else None,
                partition=first.letter.partition if first.letter.partition in partitions else None,
                headers=[
                    ("replayed-from", f"dlq:{first.position}".encode()),
                    (ORIGIN_PARTITION, str(first.letter.partition).encode()),
                    (ORIGIN_OFFSET, str(first.letter.offset).encode()),
                ],
            )  # fmt: skip
            at = datetime.now(UTC).isoformat(timespec="seconds")
            for x in group:  # every dead letter of this record is answered by the one replay
                record = {
                    "replayed_at": at, "digest": x.digest, "event_id": x.event.get("event_id"),
                    "to": f"{topic}:{landed.partition}:{landed.offset}",
                }  # fmt: skip
                await producer.send_and_wait(
                    name, json.dumps(record).encode(), key=x.position.encode()
                )
            advance()
    finally:
        await producer.stop()


async def _ensure(cfg: Config, topics: dict[str, int]) -> None:
    """Create the topics that are absent (partitions 0: as many as the issues topic's)."""
    admin = AIOKafkaAdminClient(**cfg.kafka_access.client_options())
    await admin.start()
    try:
        existing = set(await admin.list_topics())
        if not (absent := {t: n for t, n in topics.items() if t not in existing}):
            return
        log = issues_topic(cfg.topic_prefix)
        described = await admin.describe_topics([log]) if log in existing else []
        same = len(described[0]["partitions"]) if described else 1
        with contextlib.suppress(TopicAlreadyExistsError):
            await admin.create_topics(
                [
                    NewTopic(t, num_partitions=n or same, replication_factor=1,
                             topic_configs=dict(KEPT_FOREVER))
                    for t, n in absent.items()
                ]
            )  # fmt: skip
    finally:
        await admin.close()
