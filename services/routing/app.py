"""Composition root of routing."""

from fastapi import FastAPI

from services.routing.api import build_router
from services.routing.domain import DispatchRules
from services.routing.handlers import RoutingHandlers
from services.routing.settings import RoutingSettings
from services.routing.store import RoutingStore
from services.runtime.service import build_runtime, create_app


def build_app(settings: RoutingSettings) -> FastAPI:
    runtime = build_runtime("routing", settings.platform)
    rules = DispatchRules.load(settings.dispatch_config)
    store = RoutingStore(runtime.db)
    runtime.consume(RoutingHandlers(rules, store, runtime.publisher).handle)
    return create_app(runtime, [build_router(rules, store)])
