"""Notify's use cases: an event becomes delivery records; a due record is sent.

`record_all` (the consumer's handler, a batch at a time) keeps notify's view of each issue,
asks the domain who gets what, and creates one record per message: one read of the views of
the batch's issues, then the views and the new records written at once (`store.record`: one
bulk write and one insert); a record's id is derived from its event, so a replay or a copy of
an event creates nothing.
`send_due` (the dispatcher's tick) claims each due record, sends it, and marks it sent only
after the channel accepted it; a failed try is scheduled again with backoff or, after the
last, marked dead with the reason. A crash between the channel's acceptance and the mark
sends that one message once more when the claim expires: at least once, with the record's id
as Message-ID / Idempotency-Key so the receiver can drop the copy.
"""

import asyncio
from collections.abc import Callable, Mapping, Sequence
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

from services.contracts.events import Event
from services.notify.adapters.channels import Channel
from services.notify.adapters.contacts import Contacts
from services.notify.adapters.metrics import NotifyMetrics
from services.notify.adapters.store import DeliveryStorePort
from services.notify.domain.config import ChannelName, NotifyConfig
from services.notify.domain.delivery import (
    NoRecipient,
    Outgoing,
    SendError,
    State,
    after_failure,
)
from services.notify.domain.kinds import triggers
from services.notify.domain.plan import (
    REPORTER,
    Intent,
    IssueView,
    delivery_id,
    plan,
    remembered,
)
from services.notify.domain.privacy import mask
from services.notify.domain.schedule import is_stale, release_at
from services.notify.domain.words import TemplateError, words
from services.runtime.consumer import Delivered
from services.runtime.logging import get_logger
from services.runtime.mongo import Document

Now = Callable[[], datetime]

log = get_logger(__name__)


class NotifyHandlers:
    def __init__(
        self,
        *,
        config: NotifyConfig,
        store: DeliveryStorePort,
        channels: Mapping[ChannelName, Channel],
        contacts: Contacts,
        metrics: NotifyMetrics,
        now: Now,
        concurrency: int = 16,
    ) -> None:
        self._config = config
        self._store = store
        self._channels = channels
        self._contacts = contacts
        self._metrics = metrics
        self._now = now
        self._zone = ZoneInfo(config.timezone)
        self._limit = asyncio.Semaphore(concurrency)

    # event → records ------------------------------------------------------------------

    async def handle_batch(self, batch: Sequence[Delivered]) -> None:
        await self.record_all([one.event for one in batch])

    async def record(self, event: Event) -> int:
        """One event: a batch of one."""
        return await self.record_all([event])

    async def record_all(self, events: Sequence[Event]) -> int:
        """Remember what the events say of their issues, then create their messages' records;
        in log order, each event planned with the view as its predecessors left it. Returns
        how many records were new. An event older than `stale_after_hours` only updates the
        view."""
        now = self._now()
        planned = {
            n: found
            for n, event in enumerate(events)
            if not is_stale(event.occurred_at, now, self._config.stale_after)
            and (found := triggers(event))
        }
        stored = await self._store.views({events[n].issue_id for n in planned})
        views: dict[str, dict[str, Any]] = {}  # what this batch sets, per issue
        records: dict[str, Document] = {}
        for n, event in enumerate(events):
            if fields := remembered(event):
                views.setdefault(event.issue_id, {}).update(fields)
            if n not in planned:
                continue
            seen = {**stored.get(event.issue_id, {}), **views.get(event.issue_id, {})}
            issue = IssueView.of(event.issue_id, seen)
            for intent in plan(planned[n], issue, self._config):
                record = self._new_record(event, intent, now)
                records.setdefault(record["_id"], record)  # a copy of an event: the same ids
        changed = _changed(views, stored)
        if not changed and not records:
            return 0
        created = await self._store.record(changed, list(records.values()))
        for record_id in created:
            record = records[record_id]
            if record["held"]:
                self._metrics.held.labels(record["channel"], record["kind"]).inc()
        return len(created)

    def _new_record(self, event: Event, intent: Intent, now: datetime) -> Document:
        target = intent.address or f"{REPORTER}:{event.issue_id}"
        due = release_at(now, urgent=intent.urgent, quiet=self._config.quiet_hours, zone=self._zone)
        return {
            "_id": delivery_id(event.event_id, target, intent.channel.value),
            "event_id": str(event.event_id),
            "event_type": event.type,
            "issue_id": event.issue_id,
            "kind": intent.kind,
            "audience": intent.audience.value,
            "recipient": intent.recipient,
            "channel": intent.channel.value,
            "address": intent.address,
            "shown": _shown(intent.channel.value, intent.address),
            "values": intent.values,
            "urgent": intent.urgent,
            "state": State.PENDING.value,
            "attempts": 0,
            "created_at": now,
            "due_at": due,
            "held": due > now,
        }

    # records → channels ---------------------------------------------------------------

    async def send_due(self, limit: int = 200) -> int:
        """Send every record due now (up to `limit`); returns how many were tried."""
        due = await self._store.due(self._now(), limit)
        await asyncio.gather(*(self._send_guarded(record) for record in due))
        return len(due)

    async def _send_guarded(self, record: Document) -> None:
        async with self._limit:
            await self.send(record)

    async def send(self, record: Document) -> None:
        attempts = int(record["attempts"])
        if not await self._store.claim(
            record["_id"], attempts, self._now(), self._config.retry.lease
        ):
            return  # another sender took this try
        attempts += 1
        channel, kind = record["channel"], record["kind"]
        try:
            outgoing, shown = await self._outgoing(record)
            await self._channels_for(channel).send(outgoing)
        except Exception as error:
            failure = error if isinstance(error, SendError) else SendError(type(error).__name__)
            await self._failed(record, attempts, failure)
            return
        await self._store.mark_sent(record["_id"], attempts, self._now(), shown)
        self._metrics.sent.labels(channel, kind).inc()
        log.info("delivery.sent", delivery=record["_id"], channel=channel, kind=kind)

    async def _failed(self, record: Document, attempts: int, error: SendError) -> None:
        channel, kind = record["channel"], record["kind"]
        then = after_failure(attempts, error, self._now(), self._config.retry)
        due = then.due_at
        if then.state is State.SKIPPED:
            self._metrics.skipped.labels(channel, kind).inc()
        elif due is not None:
            self._metrics.failed.labels(channel, kind).inc()
            urgent = bool(record.get("urgent"))
            due = release_at(due, urgent=urgent, quiet=self._config.quiet_hours, zone=self._zone)
            self._metrics.retried.labels(channel, kind).inc()
        else:
            self._metrics.failed.labels(channel, kind).inc()
            self._metrics.dead.labels(channel, kind).inc()
        await self._store.mark_unsent(record["_id"], attempts, then.state, due, error.reason)
        log.warning("delivery.failed", delivery=record["_id"], channel=channel, kind=kind,
                    attempt=attempts, state=then.state.value, reason=error.reason)  # fmt: skip

    def _channels_for(self, channel: str) -> Channel:
        found = self._channels.get(ChannelName(channel))
        if found is None:
            raise NoRecipient(f"the {channel} channel is not configured")
        return found

    async def _outgoing(self, record: Document) -> tuple[Outgoing, str]:
        """The message as the channel sends it; for a reporter, the contact and the receipt
        code asked of intake now (kept only in this call's memory)."""
        rule = self._config.messages.get(record["kind"])
        if rule is None:
            raise SendError(f"the kind {record['kind']} is no longer configured", final=True)
        values = {**record["values"], "public_url": self._config.reporters.public_url}
        address = record.get("address")
        if address is None:
            contact = await self._contacts.reporter(record["issue_id"])
            address = contact.phone if record["channel"] == ChannelName.SMS else contact.email
            if not address:
                raise NoRecipient(f"the reporter left no {record['channel']} address")
            values["receipt_code"] = contact.receipt_code
        try:
            text = words(rule, values)
        except TemplateError as error:
            raise SendError(str(error), final=True) from None
        body = text.email if record["channel"] == ChannelName.EMAIL else text.sms
        shown = mask(address) if record["channel"] != ChannelName.WEBHOOK else address
        outgoing = Outgoing(record["_id"], address, text.subject, body, record["kind"],
                            record["issue_id"])  # fmt: skip
        return outgoing, shown


def _changed(
    views: Mapping[str, dict[str, Any]], stored: Mapping[str, Document]
) -> dict[str, dict[str, Any]]:
    """The views whose fields are not stored so already (a replay's need no write; a view
    not read is written)."""
    return {
        issue_id: fields
        for issue_id, fields in views.items()
        if issue_id not in stored
        or any(stored[issue_id].get(name) != value for name, value in fields.items())
    }


def _shown(channel: str, address: str | None) -> str | None:
    """How the view shows an address: a webhook by its name, anything else masked."""
    if address is None:
        return None
    return address if channel == ChannelName.WEBHOOK else mask(address)
