"""Composition root of notify: the configuration, the store, the channels, the intake client,
the handlers, the consumer, the dispatcher loop and the HTTP app.

`now` is injectable (tests pass a fixed clock for the quiet hours); `group_id` lets a test
read the log again from the start with a fresh consumer group (a replay).
"""

from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime

import httpx
from fastapi import FastAPI

from services.notify.adapters.channels import (
    Channel,
    SmsGatewayChannel,
    SmtpChannel,
    WebhookChannel,
)
from services.notify.adapters.config_file import load_config
from services.notify.adapters.contacts import IntakeContacts
from services.notify.adapters.metrics import NotifyMetrics
from services.notify.adapters.store import DeliveryStore
from services.notify.domain.config import ChannelName, NotifyConfig
from services.notify.entrypoints.consumer import subscribe
from services.notify.entrypoints.dispatcher import Dispatcher
from services.notify.entrypoints.http import build_router
from services.notify.handlers import NotifyHandlers
from services.notify.settings import NotifySettings
from services.runtime.service import Runtime, build_runtime, create_app


@dataclass
class Notify:
    runtime: Runtime
    config: NotifyConfig
    store: DeliveryStore
    handlers: NotifyHandlers
    dispatcher: Dispatcher
    app: FastAPI


def build_service(
    settings: NotifySettings,
    *,
    now: Callable[[], datetime] | None = None,
    group_id: str | None = None,
) -> Notify:
    config = load_config(settings.config)
    runtime = build_runtime("notify", settings.platform)
    metrics = NotifyMetrics(runtime.metrics.registry)
    store = DeliveryStore(runtime.db)
    client = httpx.AsyncClient(timeout=settings.http_timeout_seconds)
    now = now or (lambda: datetime.now(UTC))
    handlers = NotifyHandlers(
        config=config,
        store=store,
        channels=_channels(settings, config, client),
        contacts=IntakeContacts(settings.intake_url, settings.intake_token, client),
        metrics=metrics,
        now=now,
    )
    dispatcher = Dispatcher(handlers, settings.tick_seconds)
    subscribe(runtime, handlers, group_id)
    runtime.on_startup += [store.ensure_indexes, dispatcher.start]
    runtime.on_shutdown += [dispatcher.stop, client.aclose]
    app = create_app(runtime, [build_router(store, settings.token or None, now)])
    return Notify(runtime, config, store, handlers, dispatcher, app)


def _channels(
    settings: NotifySettings, config: NotifyConfig, client: httpx.AsyncClient
) -> dict[ChannelName, Channel]:
    channels: dict[ChannelName, Channel] = {}
    if settings.smtp_host:
        channels[ChannelName.EMAIL] = SmtpChannel(
            host=settings.smtp_host,
            port=settings.smtp_port,
            sender=settings.smtp_from,
            username=settings.smtp_username or None,
            password=settings.smtp_password or None,
            starttls=settings.smtp_starttls,
            use_tls=settings.smtp_tls,
            timeout=settings.http_timeout_seconds,
        )
    if config.sms_gateway is not None:
        channels[ChannelName.SMS] = SmsGatewayChannel(
            config.sms_gateway, client, settings.sms_api_key
        )
    if config.webhooks:
        channels[ChannelName.WEBHOOK] = WebhookChannel(
            config.webhooks, settings.webhook_secret, client
        )
    return channels


def build_app(settings: NotifySettings) -> FastAPI:
    return build_service(settings).app
