"""Composition root of routing."""

from fastapi import FastAPI

from services.routing.api import build_router
from services.routing.handlers import RoutingHandlers
from services.routing.jurisdiction import City
from services.routing.locating import GridIndex
from services.routing.settings import RoutingSettings
from services.routing.store import RoutingStore
from services.runtime.service import build_runtime, create_app


def build_app(settings: RoutingSettings) -> FastAPI:
    runtime = build_runtime("routing", settings.platform)
    city = City.load(settings.city)
    store = RoutingStore(runtime.db)
    handlers = RoutingHandlers(city, GridIndex.of(city), store, runtime.publisher)
    runtime.consume(handlers.handle)
    return create_app(runtime, [build_router(city, store)])
