"""Composition root of intake: the store, the throttle, the use cases, the routers."""

import os
import signal
from collections.abc import Callable

from fastapi import FastAPI

from services.intake.adapters.catalogue import load_catalogue
from services.intake.adapters.city import load_city
from services.intake.adapters.store import IntakeStore
from services.intake.adapters.throttle import MongoThrottle
from services.intake.domain.privacy import Privacy
from services.intake.domain.rules import Principal, Role
from services.intake.domain.throttling import Limit
from services.intake.entrypoints import errors, http, internal, open311
from services.intake.entrypoints.consumer import subscribe
from services.intake.handlers.contacts import ReporterContacts
from services.intake.handlers.inbox import InboxPages
from services.intake.handlers.issues import IntakeHandlers
from services.intake.settings import IntakeSettings
from services.runtime.service import build_runtime, create_app


def build_app(settings: IntakeSettings) -> FastAPI:
    runtime = build_runtime("intake", settings.platform)
    store = IntakeStore(runtime.db)
    runtime.on_startup.append(store.ensure_indexes)
    if settings.admin_token:
        token = settings.admin_token

        async def bootstrap_admin() -> None:
            await store.add_principal(token, Principal(id="admin", role=Role.ADMIN))

        runtime.on_startup.append(bootstrap_admin)
    throttle = MongoThrottle(runtime.db, Limit.parse(settings.public_rate_limit))
    privacy = Privacy(settings.secret)
    intake = IntakeHandlers(
        store, runtime.publisher, privacy, throttle, _fault(settings.fault),
        city=load_city(settings.city),
    )  # fmt: skip
    contacts = ReporterContacts(store, privacy, settings.notify_token)
    subscribe(runtime, intake)
    catalogue = load_catalogue(settings.catalogue)
    app = create_app(
        runtime,
        [
            http.build_router(intake, InboxPages(store)),
            open311.build_router(intake, catalogue),
            internal.build_router(contacts),
        ],
        description="The front door of Huiyin: reports from every channel, every outside action.",
    )
    errors.install(app)
    return app


def _fault(name: str) -> Callable[[], None] | None:
    """The test-only fault hook `HUIYIN_INTAKE_FAULT` names (none unless set)."""
    if name == "after_publish":
        return lambda: os.kill(os.getpid(), signal.SIGKILL)
    return None
