"""Composition root of reporting."""

from zoneinfo import ZoneInfo

from fastapi import FastAPI

from services.reporting.entrypoints.admin import build_admin_router
from services.reporting.entrypoints.api import build_router
from services.reporting.bulletins.schedule import bulletin_routes
from services.reporting.domain.facts import FactRules
from services.reporting.handlers import ReportingHandlers
from services.reporting.entrypoints.lists import build_lists_router
from services.reporting.entrypoints.metrics import DomainMetrics
from services.reporting.domain.rankings import Weights
from services.reporting.settings import ReportingSettings
from services.reporting.adapters.store import ReportingStore
from services.runtime.service import build_runtime, create_app


def build_app(settings: ReportingSettings) -> FastAPI:
    runtime = build_runtime("reporting", settings.platform)
    store = ReportingStore(runtime.db, fact_rules(settings))
    runtime.on_startup.append(store.ensure_indexes)
    runtime.consume(ReportingHandlers(store).handle)
    domain_metrics = DomainMetrics(store)
    runtime.metrics.registry.register(domain_metrics)
    runtime.before_metrics.append(domain_metrics.before_scrape)
    weights = Weights(**settings.ranking_weights)
    routers = [
        build_router(store, weights, settings.backlog_age_buckets_days),
        build_lists_router(store, settings.backlog_min_age_days),
        build_admin_router(settings.platform, store, settings.admin_token),
        bulletin_routes(runtime, store, settings),  # and the bulletin schedule
    ]
    return create_app(runtime, routers)


def fact_rules(settings: ReportingSettings) -> FactRules:
    return FactRules(ZoneInfo(settings.timezone), settings.duration_buckets_hours)
