"""Who gets what: an event, notify's view of its issue and the configuration → the messages.

One message per (recipient, channel). A person reached twice by one event (an office that is
also a supervisor's address, a lead office listed as co-office) gets it once: the first
kind wins, in the order the event's triggers and the audiences are listed.
"""

import uuid
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from services.contracts.events import Event, IssueAssigned, IssueReported, IssueTriaged
from services.contracts.regions import lies_in
from services.notify.domain.config import Audience, ChannelName, Contact, NotifyConfig
from services.notify.domain.kinds import Trigger

REPORTER = "reporter"
"""The recipient key of an issue's reporter: the contact is asked of intake when sending."""


@dataclass(frozen=True)
class IssueView:
    """What notify remembers of an issue (no personal data): where, who handles it."""

    issue_id: str
    has_reporter: bool = False
    region_code: str | None = None
    region_path: tuple[str, ...] = ()
    office_id: str | None = None
    office_name: str = ""
    co_office_ids: tuple[str, ...] = ()

    @classmethod
    def of(cls, issue_id: str, fields: Mapping[str, Any]) -> "IssueView":
        """The view from what is remembered of the issue (the stored fields; none: nothing)."""
        return cls(
            issue_id=issue_id,
            has_reporter=bool(fields.get("has_reporter")),
            region_code=fields.get("region_code"),
            region_path=tuple(fields.get("region_path", ())),
            office_id=fields.get("office_id"),
            office_name=fields.get("office_name", ""),
            co_office_ids=tuple(fields.get("co_office_ids", ())),
        )


def remembered(event: Event) -> dict[str, Any]:
    """What the event says of its issue that the view keeps (fields of `IssueView`)."""
    match event:
        case IssueReported():
            return {"has_reporter": event.payload.reporter_id is not None,
                    "region_code": event.payload.location.region_code}  # fmt: skip
        case IssueTriaged():
            p = event.payload
            return {"region_code": p.region_code, "region_path": list(p.region_path)}
        case IssueAssigned():
            a = event.payload
            return {"office_id": a.office_id, "office_name": a.office_name,
                    "co_office_ids": list(a.co_office_ids)}  # fmt: skip
    return {}


@dataclass(frozen=True)
class Intent:
    """One message to one recipient on one channel, before it is a delivery record."""

    kind: str
    audience: Audience
    recipient: str
    """`reporter`, `office:<id>` or `supervisor:<n>`: who, never their address"""
    channel: ChannelName
    address: str | None
    """where (None for the reporter: asked of intake when sending)"""
    urgent: bool
    values: dict[str, str] = field(default_factory=dict)


def delivery_id(event_id: uuid.UUID | str, recipient_address: str, channel: str) -> str:
    """Deterministic: the same event, recipient and channel always give the same record."""
    return str(uuid.uuid5(uuid.UUID(str(event_id)), f"{channel}:{recipient_address}"))


def plan(triggers: list[Trigger], issue: IssueView, config: NotifyConfig) -> list[Intent]:
    intents: list[Intent] = []
    seen: set[tuple[ChannelName, str]] = set()
    for trigger in triggers:
        rule = config.messages.get(trigger.kind)
        if rule is None:
            continue  # this city does not send that kind
        values = {"issue_id": issue.issue_id, "ref": issue.issue_id[:8], **trigger.values}
        for audience in rule.to:
            for recipient, contact in _recipients(audience, trigger, issue, config):
                for channel in _channels(audience, contact, config):
                    address = None if contact is None else contact.address(channel)
                    if contact is not None and not address:
                        continue
                    key = (channel, address or f"{REPORTER}:{issue.issue_id}")
                    if key in seen:
                        continue
                    seen.add(key)
                    intents.append(
                        Intent(trigger.kind, audience, recipient, channel, address,
                               rule.urgent, values)
                    )  # fmt: skip
    return intents


def _recipients(
    audience: Audience, trigger: Trigger, issue: IssueView, config: NotifyConfig
) -> list[tuple[str, Contact | None]]:
    if audience is Audience.REPORTER:
        return [(REPORTER, None)] if issue.has_reporter else []
    if audience is Audience.OFFICE:
        office = trigger.office_id or issue.office_id
        return _offices([office] if office else [], config)
    if audience is Audience.CO_OFFICES:
        return _offices(list(issue.co_office_ids), config)
    return [
        (f"supervisor:{n}", supervisor)
        for n, supervisor in enumerate(config.supervisors)
        if lies_in(issue.region_path, issue.region_code, supervisor.region)
    ]


def _offices(office_ids: list[str], config: NotifyConfig) -> list[tuple[str, Contact | None]]:
    found: list[tuple[str, Contact | None]] = []
    for office_id in office_ids:
        contact = config.office(office_id)
        if contact is not None:
            found.append((f"office:{office_id}", contact))
    return found


def _channels(
    audience: Audience, contact: Contact | None, config: NotifyConfig
) -> tuple[ChannelName, ...]:
    if audience is Audience.REPORTER or contact is None:
        return config.reporters.channels
    return contact.channels
