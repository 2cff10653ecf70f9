"""Composition root of reporting: the store, the use cases, the consumer, the routers, the
domain metrics and the bulletin schedule, wired once."""

from zoneinfo import ZoneInfo

from fastapi import APIRouter, FastAPI

from services.reporting.adapters.store import ReportingStore
from services.reporting.bulletins.http import build_bulletin_router
from services.reporting.bulletins.schedule import BulletinSchedule
from services.reporting.bulletins.service import Bulletins, BulletinSettings
from services.reporting.derivation import Derivation
from services.reporting.entrypoints.admin import build_admin_router
from services.reporting.entrypoints.api import build_router
from services.reporting.entrypoints.consumer import subscribe
from services.reporting.entrypoints.errors import register_errors
from services.reporting.entrypoints.lists import build_lists_router
from services.reporting.entrypoints.metrics import DomainMetrics, RebuildMetrics
from services.reporting.handlers import RebuildStatus, ReportingHandlers
from services.reporting.settings import ReportingSettings
from services.runtime.service import Runtime, build_runtime, create_app


def build_app(settings: ReportingSettings) -> FastAPI:
    runtime = build_runtime("reporting", settings.platform)
    store = ReportingStore(runtime.db, settings.fact_rules())
    runtime.on_startup.append(store.ensure_indexes)
    rebuilding = RebuildStatus()  # one rebuild at a time: at start or by POST /admin/rebuild
    runtime.on_startup.append(Derivation(runtime.db, store, settings.platform, rebuilding).check)
    subscribe(runtime, ReportingHandlers(store))
    domain_metrics = DomainMetrics(store)
    runtime.metrics.registry.register(domain_metrics)
    runtime.before_metrics.append(domain_metrics.before_scrape)
    runtime.metrics.registry.register(RebuildMetrics(rebuilding))
    weights = settings.weights()
    routers = [
        build_router(store, weights, settings.backlog_age_buckets_days),
        build_lists_router(store, settings.backlog_min_age_days),
        build_admin_router(settings.platform, store, settings.admin_token, rebuilding),
        bulletin_routes(runtime, store, settings),  # and the bulletin schedule
    ]
    app = create_app(runtime, routers)
    register_errors(app)
    return app


def bulletin_routes(
    runtime: Runtime, store: ReportingStore, settings: ReportingSettings
) -> APIRouter:
    """Reporting's bulletins: the HTTP routes, and the schedule (started with the service when
    HUIYIN_REPORTING_BULLETIN_DIR is set)."""
    own = BulletinSettings()
    bulletins = Bulletins(
        store,
        own,
        timezone=ZoneInfo(settings.timezone),
        weights=settings.weights(),
        backlog_days=settings.backlog_min_age_days,
    )
    dues = own.dues()
    if own.dir is not None and dues:
        schedule = BulletinSchedule(bulletins, own.dir, dues)
        runtime.on_startup.append(schedule.start)
        runtime.on_shutdown.append(schedule.stop)
    return build_bulletin_router(bulletins)
