"""Composition root of intake."""

from fastapi import FastAPI

from services.intake.api import IntakeApi
from services.intake.auth import RateLimits
from services.intake.catalogue import Catalogue
from services.intake.domain import Principal, Role
from services.intake.handlers import IntakeHandlers
from services.intake.open311 import build_router as open311_router
from services.intake.privacy import Privacy
from services.intake.routes import build_router
from services.intake.settings import IntakeSettings
from services.intake.store import IntakeStore
from services.runtime.service import build_runtime, create_app


def build_app(settings: IntakeSettings) -> FastAPI:
    runtime = build_runtime("intake", settings.platform)
    store = IntakeStore(runtime.db)
    runtime.consume(IntakeHandlers(store).handle)
    if settings.admin_token:
        token = settings.admin_token

        async def bootstrap_admin() -> None:
            await store.add_principal(token, Principal(id="admin", role=Role.ADMIN))

        runtime.on_startup.append(bootstrap_admin)
    api = IntakeApi(
        store, runtime.publisher, Privacy(settings.secret), RateLimits(settings.public_rate_limit)
    )
    catalogue = Catalogue.load(settings.catalogue)
    app = create_app(
        runtime,
        [build_router(api), open311_router(api, catalogue)],
        description="The front door of Huiyin: reports from every channel, every outside action.",
    )
    return app
