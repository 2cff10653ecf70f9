"""Composition root of routing."""

from fastapi import FastAPI

from services.routing.adapters.city_files import load_city
from services.routing.adapters.store import RoutingStore
from services.routing.domain.locating import GridIndex
from services.routing.entrypoints.consumer import batch_handler
from services.routing.entrypoints.http import build_router, register_errors
from services.routing.handlers import RoutingHandlers
from services.routing.settings import RoutingSettings
from services.runtime.service import build_runtime, create_app


def build_app(settings: RoutingSettings) -> FastAPI:
    runtime = build_runtime("routing", settings.platform)
    city = load_city(settings.city)
    store = RoutingStore(runtime.db)
    handlers = RoutingHandlers(city, GridIndex.of(city), store, runtime.publisher)
    runtime.consume_batch(batch_handler(handlers))
    app = create_app(runtime, [build_router(city, store)])
    register_errors(app)
    return app
