"""What notify sends to whom, and through what: the shape of deploy/config/notify.yaml.

Pure data (pydantic, no I/O): the file is read by `adapters/config_file.py`. Secrets (the
SMTP password, the webhook key, the intake token) are settings, never in this file.
"""

from datetime import time, timedelta
from enum import StrEnum
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, HttpUrl, field_validator


class Frozen(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class ChannelName(StrEnum):
    EMAIL = "email"
    SMS = "sms"
    WEBHOOK = "webhook"


class Audience(StrEnum):
    """Who a message is for, relative to the issue the event is about."""

    REPORTER = "reporter"
    OFFICE = "office"
    """the office the event names (a reminder's, a flag's), else the lead office"""
    CO_OFFICES = "co_offices"
    SUPERVISORS = "supervisors"
    """the supervisors whose region contains the issue"""


class MessageRule(Frozen):
    """One kind of message: to whom, how urgent, its words (zh for SMS; zh + en for e-mail)."""

    to: tuple[Audience, ...]
    urgent: bool = Field(default=False, description="sent even in quiet hours")
    subject: str = Field(min_length=1, description="e-mail subject and webhook title (zh)")
    zh: str = Field(min_length=1, description="the text, with {placeholders}; one SMS long")
    en: str = Field(min_length=1, description="the English text, added to e-mails")


class Contact(Frozen):
    """An office's or a supervisor's addresses and the channels it wants, in order."""

    name: str = ""
    email: str | None = None
    sms: str | None = None
    webhook: str | None = Field(default=None, description="a name under `webhooks`")
    channels: tuple[ChannelName, ...] = (ChannelName.EMAIL,)

    def address(self, channel: ChannelName) -> str | None:
        return {"email": self.email, "sms": self.sms, "webhook": self.webhook}[channel]


class Supervisor(Contact):
    region: str = Field(min_length=1, description="region code whose issues they supervise")


class Webhook(Frozen):
    url: HttpUrl


class SmsGateway(Frozen):
    """A provider's HTTP API as configuration: placeholders {to}, {text}, {message_id} and
    {api_key} (the setting HUIYIN_NOTIFY_SMS_API_KEY) in the header values and the body's
    values; sent as JSON, a form, or the query string."""

    url: HttpUrl
    method: Literal["POST", "PUT", "GET"] = "POST"
    headers: dict[str, str] = {}
    body: dict[str, str] = {"to": "{to}", "text": "{text}"}
    body_format: Literal["json", "form", "query"] = "json"


class QuietHours(Frozen):
    start: time = time(22, 0)
    end: time = time(8, 0)


class Retry(Frozen):
    attempts: int = Field(default=6, ge=1, description="tries before a delivery is dead")
    first_pause_seconds: float = Field(default=30.0, gt=0)
    max_pause_seconds: float = Field(default=1800.0, gt=0)
    lease_seconds: float = Field(
        default=60.0,
        gt=0,
        description="how long a try's claim holds: a sender that crashed mid-try is presumed "
        "dead after it, and the message is tried again (longer than any channel's timeout)",
    )

    @property
    def lease(self) -> timedelta:
        return timedelta(seconds=self.lease_seconds)


class Reporters(Frozen):
    channels: tuple[ChannelName, ...] = (ChannelName.SMS,)
    public_url: str = Field(
        default="", description="the public lookup page, shown in the return-visit request"
    )


class NotifyConfig(Frozen):
    timezone: str = "Asia/Shanghai"
    quiet_hours: QuietHours | None = QuietHours()
    stale_after_hours: float = Field(
        default=48.0,
        gt=0,
        description="events older than this cause no message (a first start on an old log, "
        "a replay): nobody wants last month's reminder",
    )
    retry: Retry = Retry()
    messages: dict[str, MessageRule] = {}
    reporters: Reporters = Reporters()
    offices: dict[str, Contact] = {}
    default_office: Contact | None = Field(
        default=None, description="contacts for an office not listed (e.g. a shared inbox)"
    )
    supervisors: tuple[Supervisor, ...] = ()
    webhooks: dict[str, Webhook] = {}
    sms_gateway: SmsGateway | None = None

    @field_validator("messages")
    @classmethod
    def _known_kinds(cls, messages: dict[str, MessageRule]) -> dict[str, MessageRule]:
        from services.notify.domain.kinds import KINDS

        unknown = set(messages) - set(KINDS)
        if unknown:
            raise ValueError(f"unknown message kinds {sorted(unknown)}; known: {sorted(KINDS)}")
        return messages

    @property
    def stale_after(self) -> timedelta:
        return timedelta(hours=self.stale_after_hours)

    def office(self, office_id: str) -> Contact | None:
        return self.offices.get(office_id, self.default_office)
