"""Composition root of intake."""

from fastapi import FastAPI

from services.intake.api import build_router
from services.intake.handlers import IntakeHandlers
from services.intake.settings import IntakeSettings
from services.intake.store import IntakeStore
from services.runtime.service import build_runtime, create_app


def build_app(settings: IntakeSettings) -> FastAPI:
    runtime = build_runtime("intake", settings.platform)
    store = IntakeStore(runtime.db)
    handlers = IntakeHandlers(store)
    runtime.consume(handlers.handle)
    router = build_router(store, runtime.publisher, settings.pseudonym_key.encode())
    return create_app(runtime, [router])
