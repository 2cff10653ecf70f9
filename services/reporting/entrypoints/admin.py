"""POST /admin/rebuild starts a rebuild of the projection in this service (handlers.rebuild,
into a new generation; the live one serves until it switches);
GET /admin/rebuild shows its progress. Both need `Authorization: Bearer <admin token>`
(HUIYIN_REPORTING_ADMIN_TOKEN): 401 without a bearer token, 403 with a wrong one, and
403 when no admin token is configured (the rebuild is then disabled)."""

import asyncio
from typing import Annotated

from fastapi import APIRouter, Depends, HTTPException
from fastapi.responses import JSONResponse
from pydantic import SecretStr

from services.reporting.adapters.log import KafkaLog
from services.reporting.adapters.spill import SpilledCells
from services.reporting.handlers import Projection, RebuildStatus, rebuild
from services.runtime.auth import bearer_token, same_secret, unauthorized
from services.runtime.logging import get_logger
from services.runtime.settings import PlatformSettings

log = get_logger(__name__)


def build_admin_router(
    platform: PlatformSettings,
    store: Projection,
    token: SecretStr | None,
    status: RebuildStatus | None = None,
) -> APIRouter:
    """The admin routes; `status`: the service's one rebuild status (a rebuild at start
    shares it, so a POST while it runs is refused)."""
    status = status if status is not None else RebuildStatus()
    running: set[asyncio.Task[RebuildStatus]] = set()

    def admin(given: Annotated[str | None, Depends(bearer_token)]) -> None:
        if given is None:
            raise unauthorized("a bearer token is required")
        if token is None:
            raise HTTPException(403, "rebuild is disabled: HUIYIN_REPORTING_ADMIN_TOKEN is not set")
        if not same_secret(given, token.get_secret_value()):
            raise HTTPException(403, "this token may not rebuild the projection")

    router = APIRouter(prefix="/admin", tags=["admin"], dependencies=[Depends(admin)])

    @router.post(
        "/rebuild",
        status_code=202,
        summary="Rebuild the projection beside the live one, then switch",
    )
    async def start() -> JSONResponse:
        if status.state == "running":
            return JSONResponse(status.as_dict() | {"detail": "a rebuild is running"}, 409)
        status.start()
        task = asyncio.create_task(_run(platform, store, status))
        running.add(task)
        task.add_done_callback(running.discard)
        return JSONResponse(_jsonable(status), 202)

    @router.get("/rebuild", summary="The progress of the last rebuild")
    async def progress() -> JSONResponse:
        return JSONResponse(_jsonable(status))

    return router


async def _run(
    platform: PlatformSettings, store: Projection, status: RebuildStatus
) -> RebuildStatus:
    try:
        with SpilledCells() as spill:
            await rebuild(KafkaLog(platform.kafka, platform.issues_topic), store, spill, status)
        log.info("rebuild.done", applied=status.applied, skipped=status.skipped)
    except Exception as error:
        log.error("rebuild.failed", error=repr(error))
    return status


def _jsonable(status: RebuildStatus) -> dict[str, object]:
    out = status.as_dict()
    for key in ("started_at", "finished_at"):
        if out[key] is not None:
            out[key] = out[key].isoformat()
    return out
