"""Composition root of supervision."""

from zoneinfo import ZoneInfo

from fastapi import FastAPI

from services.runtime.service import build_runtime, create_app
from services.supervision.api import build_router
from services.supervision.handlers import SupervisionHandlers
from services.supervision.settings import SupervisionSettings
from services.supervision.store import ClockStore


def build_app(settings: SupervisionSettings) -> FastAPI:
    runtime = build_runtime("supervision", settings.platform)
    store = ClockStore(runtime.db)
    runtime.on_startup.append(store.ensure_indexes)
    handlers = SupervisionHandlers(
        store, runtime.publisher, settings.accept_working_days, ZoneInfo(settings.timezone)
    )
    runtime.consume(handlers.handle)
    return create_app(runtime, [build_router(store)])
