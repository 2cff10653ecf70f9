"""Composition root of reporting."""

from zoneinfo import ZoneInfo

from fastapi import FastAPI

from services.reporting.api import build_router
from services.reporting.handlers import ReportingHandlers
from services.reporting.metrics import DomainMetrics
from services.reporting.settings import ReportingSettings
from services.reporting.store import ReportingStore
from services.runtime.service import build_runtime, create_app


def build_app(settings: ReportingSettings) -> FastAPI:
    runtime = build_runtime("reporting", settings.platform)
    store = ReportingStore(runtime.db)
    runtime.on_startup.append(store.ensure_indexes)
    runtime.consume(ReportingHandlers(store, ZoneInfo(settings.timezone)).handle)
    domain_metrics = DomainMetrics(store)
    runtime.metrics.registry.register(domain_metrics)
    runtime.before_metrics.append(domain_metrics.refresh)
    return create_app(runtime, [build_router(store)])
