"""The outside channels: e-mail over SMTP, an SMS gateway over HTTP, signed webhooks.

Each raises `SendError` when the message was not accepted (final when no retry can help: a
4xx refusal); an exception of any other kind is a failed try as well (the handlers catch it).
"""

import json
import time
from email.message import EmailMessage
from email.utils import formatdate
from typing import Protocol

import aiosmtplib
import httpx

from services.notify.domain.config import SmsGateway, Webhook
from services.notify.domain.delivery import Outgoing, SendError
from services.notify.domain.signing import ID_HEADER, SIGNATURE_HEADER, TIMESTAMP_HEADER, sign


class Channel(Protocol):
    async def send(self, message: Outgoing) -> None: ...


class SmtpChannel:
    def __init__(
        self,
        *,
        host: str,
        port: int,
        sender: str,
        username: str | None = None,
        password: str | None = None,
        starttls: bool = False,
        use_tls: bool = False,
        timeout: float = 30.0,
        message_domain: str = "huiyin.local",
    ) -> None:
        self._options = {
            "hostname": host, "port": port, "username": username, "password": password,
            "start_tls": starttls, "use_tls": use_tls, "timeout": timeout,
        }  # fmt: skip
        self._sender = sender
        self._domain = message_domain

    async def send(self, message: Outgoing) -> None:
        mail = EmailMessage()
        mail["From"] = self._sender
        mail["To"] = message.to
        mail["Subject"] = message.subject
        mail["Date"] = formatdate(localtime=False)
        mail["Message-ID"] = f"<{message.message_id}@{self._domain}>"
        mail.set_content(message.text)
        try:
            await aiosmtplib.send(mail, **self._options)  # type: ignore[arg-type]
        except aiosmtplib.SMTPRecipientsRefused as refused:
            raise SendError(f"smtp refused the recipient: {_codes(refused)}", final=True) from None
        except aiosmtplib.SMTPResponseException as error:
            final = 500 <= error.code < 600
            raise SendError(f"smtp {error.code}", final=final) from None
        except (aiosmtplib.SMTPException, OSError) as error:
            raise SendError(f"smtp: {type(error).__name__}") from None


def _codes(refused: aiosmtplib.SMTPRecipientsRefused) -> str:
    return ",".join(str(r.code) for r in refused.recipients)


class SmsGatewayChannel:
    """A provider's HTTP API, shaped by configuration (see `config.SmsGateway`)."""

    def __init__(self, gateway: SmsGateway, client: httpx.AsyncClient, api_key: str = "") -> None:
        self._gateway = gateway
        self._client = client
        self._api_key = api_key

    async def send(self, message: Outgoing) -> None:
        values = {"to": message.to, "text": message.text, "message_id": message.message_id,
                  "api_key": self._api_key}  # fmt: skip
        body = {key: value.format_map(values) for key, value in self._gateway.body.items()}
        headers = {key: value.format_map(values) for key, value in self._gateway.headers.items()}
        headers.setdefault(ID_HEADER, message.message_id)
        request: dict[str, object] = {"headers": headers}
        if self._gateway.body_format == "json":
            request["content"] = json.dumps(body, ensure_ascii=False).encode()
            headers.setdefault("Content-Type", "application/json; charset=utf-8")
        elif self._gateway.body_format == "form":
            request["data"] = body
        else:
            request["params"] = body
        response = await _request(self._client, self._gateway.method, str(self._gateway.url),
                                  request)  # fmt: skip
        _accepted(response, "sms gateway")


class WebhookChannel:
    """POSTs the message as JSON, signed: HMAC-SHA256 of `<timestamp>.<body>` (signing.py)."""

    def __init__(self, hooks: dict[str, Webhook], key: str, client: httpx.AsyncClient) -> None:
        self._hooks = hooks
        self._key = key
        self._client = client

    async def send(self, message: Outgoing) -> None:
        hook = self._hooks.get(message.to)
        if hook is None:
            raise SendError(f"no webhook named {message.to!r} in the configuration", final=True)
        body = json.dumps(
            {"id": message.message_id, "kind": message.kind, "issue_id": message.issue_id,
             "title": message.subject, "text": message.text},
            ensure_ascii=False,
        ).encode()  # fmt: skip
        timestamp = int(time.time())
        headers = {
            "Content-Type": "application/json; charset=utf-8",
            TIMESTAMP_HEADER: str(timestamp),
            SIGNATURE_HEADER: sign(self._key, timestamp, body),
            ID_HEADER: message.message_id,
        }
        response = await _request(self._client, "POST", str(hook.url),
                                  {"content": body, "headers": headers})  # fmt: skip
        _accepted(response, "webhook")


async def _request(
    client: httpx.AsyncClient, method: str, url: str, options: dict[str, object]
) -> httpx.Response:
    try:
        return await client.request(method, url, **options)  # type: ignore[arg-type]
    except httpx.HTTPError as error:
        raise SendError(f"{type(error).__name__}") from None


def _accepted(response: httpx.Response, what: str) -> None:
    if response.is_success:
        return
    status = response.status_code
    # 4xx (but 408 timeout and 429 too many) will not change on a retry
    final = 400 <= status < 500 and status not in (408, 409, 425, 429)
    raise SendError(f"{what} answered {status}", final=final)
