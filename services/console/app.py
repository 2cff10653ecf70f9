"""Composition root of the console: its store, the services' client, the pages."""

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

from fastapi import FastAPI

from services.console.adapters.metrics import ConsoleMetrics
from services.console.adapters.passwords import Passwords
from services.console.adapters.sealing import TokenSeal
from services.console.adapters.services import HttpPlatform
from services.console.adapters.store import MongoUserStore
from services.console.entrypoints.http import mount
from services.console.entrypoints.web import Web
from services.console.handlers import Console
from services.console.settings import ConsoleSettings
from services.runtime.http import guard
from services.runtime.logging import configure_logging, get_logger
from services.runtime.mongo import make_mongo_client

log = get_logger(__name__)


def build_app(settings: ConsoleSettings) -> FastAPI:
    platform_settings = settings.platform
    configure_logging("console", platform_settings.log_level, platform_settings.log_json)
    mongo = make_mongo_client(platform_settings)
    store = MongoUserStore(mongo[platform_settings.database("console")], TokenSeal(settings.secret))
    services = HttpPlatform({
        "intake": settings.intake_url, "routing": settings.routing_url,
        "supervision": settings.supervision_url, "reporting": settings.reporting_url,
    }, timeout=settings.service_timeout_s)  # fmt: skip
    console = Console(store, services, Passwords(), settings.session_hours)

    @asynccontextmanager
    async def lifespan(_: FastAPI) -> AsyncIterator[None]:
        if settings.admin_password:
            await console.bootstrap_admin(
                settings.admin_user, settings.admin_password, settings.admin_token
            )
        log.info("service.started")
        try:
            yield
        finally:
            await services.close()
            await mongo.close()
            log.info("service.stopped")

    async def healthy() -> dict[str, Any]:
        try:
            await asyncio.wait_for(mongo.admin.command("ping"), timeout=2.0)
        except Exception:
            return {"mongo": False}
        return {"mongo": True}

    app = FastAPI(title="Huiyin console", lifespan=lifespan, docs_url=None, redoc_url=None)
    web = Web(
        console, ConsoleMetrics(), settings.secret, settings.secure_cookies, settings.refresh_ms,
        settings.timezone, settings.public_rate_limit,
    )  # fmt: skip
    mount(app, web, settings.page_size, healthy)
    guard(app)
    return app
