"""Real servers on loopback for notify's tests: an SMTP server (aiosmtpd) that keeps what it
receives, and one HTTP server that plays the SMS gateway, the webhook receiver and intake's
contact endpoint, failing on purpose when told to."""

import asyncio
import json
import threading
import time
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from email import message_from_bytes
from email.message import Message
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any, TypeVar

import yaml
from aiosmtpd.controller import Controller
from aiosmtpd.smtp import SMTP, Envelope, Session

from devkit.processes import free_port
from services.notify.app import Notify, build_service
from services.notify.settings import NotifySettings
from services.runtime.settings import PlatformSettings

T = TypeVar("T")

INTAKE_TOKEN = "intake-token-for-notify"
WEBHOOK_KEY = "webhook-key"
REPORTER_PHONE = "13912345678"
RECEIPT_CODE = "RCPT234567"


class Mailbox:
    """aiosmtpd's handler: every accepted message, parsed."""

    def __init__(self) -> None:
        self.messages: list[Message] = []

    async def handle_DATA(self, server: SMTP, session: Session, envelope: Envelope) -> str:
        content = envelope.original_content or b""
        self.messages.append(message_from_bytes(content))
        return "250 OK"


@dataclass
class Received:
    path: str
    headers: dict[str, str]
    body: bytes

    def json(self) -> Any:
        return json.loads(self.body)


@dataclass
class Loopback:
    """The HTTP side: what arrived at each path, and how many requests to fail first."""

    port: int = 0
    received: list[Received] = field(default_factory=list)
    fail_first: dict[str, int] = field(default_factory=dict)
    """path → requests answered 503 before one is accepted (-1: always)"""
    delay: float = 0.0
    contacts: dict[str, dict[str, str]] = field(default_factory=dict)
    lock: threading.Lock = field(default_factory=threading.Lock)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def at(self, path: str) -> list[Received]:
        with self.lock:
            return [r for r in self.received if r.path == path]


def _handler(state: Loopback) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        def log_message(self, *_: Any) -> None:
            pass

        def _answer(self, status: int, body: dict[str, Any] | None = None) -> None:
            data = json.dumps(body or {}).encode()
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

        def do_GET(self) -> None:
            if self.headers.get("Authorization") != f"Bearer {INTAKE_TOKEN}":
                return self._answer(401)
            issue_id = self.path.rsplit("/", 1)[-1]
            contact = state.contacts.get(issue_id)
            return self._answer(404) if contact is None else self._answer(200, contact)

        def do_POST(self) -> None:
            length = int(self.headers.get("Content-Length", 0))
            body = self.rfile.read(length)
            if len(body) < length:  # the sender died mid-request: nothing was delivered
                return None
            with state.lock:
                left = state.fail_first.get(self.path, 0)
                if left:
                    state.fail_first[self.path] = left - 1 if left > 0 else left
            if left:
                return self._answer(503)
            time.sleep(state.delay)
            with state.lock:
                state.received.append(Received(self.path, dict(self.headers), body))
            return self._answer(200, {"ok": True})

    return Handler


@asynccontextmanager
async def loopback_servers() -> AsyncIterator[tuple[Loopback, Mailbox, int]]:
    state = Loopback()
    http = ThreadingHTTPServer(("127.0.0.1", 0), _handler(state))
    state.port = http.server_address[1]
    thread = threading.Thread(target=http.serve_forever, daemon=True)
    thread.start()
    mailbox = Mailbox()
    smtp_port = free_port()
    smtp = Controller(mailbox, hostname="127.0.0.1", port=smtp_port)
    smtp.start()
    try:
        yield state, mailbox, smtp_port
    finally:
        smtp.stop()
        http.shutdown()
        http.server_close()


def write_config(path: Path, http: Loopback, **overrides: Any) -> Path:
    """The city's messages, the test's contacts and servers, fast retries."""
    city = yaml.safe_load(
        (Path(__file__).resolve().parents[2] / "deploy/config/notify.yaml").read_text()
    )
    config = {
        **city,
        "quiet_hours": None,
        "retry": {
            "attempts": 3,
            "first_pause_seconds": 0.05,
            "max_pause_seconds": 0.2,
            "lease_seconds": 3,
        },
        "offices": {
            "lead": {
                "email": "lead@office.cn",
                "webhook": "lead-hook",
                "channels": ["email", "webhook"],
            },
            "co": {"sms": "13700000001", "channels": ["sms"]},
        },
        "default_office": None,
        "supervisors": [{"name": "督查室", "region": "411900", "email": "sup@city.cn"}],
        "webhooks": {"lead-hook": {"url": f"{http.url}/hook"}},
        "sms_gateway": {
            "url": f"{http.url}/sms",
            "headers": {"X-Api-Key": "{api_key}"},
            "body": {"phone": "{to}", "content": "{text}", "out_id": "{message_id}"},
        },
        **overrides,
    }
    path.write_text(yaml.safe_dump(config, allow_unicode=True), encoding="utf-8")
    return path


def notify_settings(
    platform: PlatformSettings, config: Path, http: Loopback, smtp_port: int
) -> NotifySettings:
    return NotifySettings(
        platform=platform,
        port=0,
        config=config,
        smtp_host="127.0.0.1",
        smtp_port=smtp_port,
        sms_api_key="sms-key",
        webhook_secret=WEBHOOK_KEY,
        intake_url=http.url,
        intake_token=INTAKE_TOKEN,
        tick_seconds=0.05,
    )


@asynccontextmanager
async def running(settings: NotifySettings, **options: Any) -> AsyncIterator[Notify]:
    service = build_service(settings, **options)
    async with service.app.router.lifespan_context(service.app):
        yield service


async def eventually(probe: Callable[[], Any], what: str, timeout: float = 60) -> Any:
    deadline = time.monotonic() + timeout
    while True:
        found = probe()
        if asyncio.iscoroutine(found):
            found = await found
        if found:
            return found
        if time.monotonic() > deadline:
            raise AssertionError(f"not reached within {timeout} s: {what}")
        await asyncio.sleep(0.05)
