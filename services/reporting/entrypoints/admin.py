"""POST /admin/rebuild starts a rebuild of the projection in this service (rebuild.py);
GET /admin/rebuild shows its progress. Both need `Authorization: Bearer <admin token>`
(HUIYIN_REPORTING_ADMIN_TOKEN): 401 without a bearer token, 403 with a wrong one, and
403 when no admin token is configured (the rebuild is then disabled)."""

import asyncio
import secrets

from fastapi import APIRouter, Depends, Header, HTTPException
from fastapi.responses import JSONResponse
from pydantic import SecretStr

from services.reporting.rebuild import RebuildStatus, rebuild
from services.reporting.adapters.store import ReportingStore
from services.runtime.logging import get_logger
from services.runtime.settings import PlatformSettings

log = get_logger(__name__)


def build_admin_router(
    platform: PlatformSettings, store: ReportingStore, token: SecretStr | None
) -> APIRouter:
    status = RebuildStatus()
    running: set[asyncio.Task[RebuildStatus]] = set()

    def admin(authorization: str | None = Header(None)) -> None:
        scheme, _, given = (authorization or "").partition(" ")
        if scheme.lower() != "bearer" or not given:
            raise HTTPException(
                401, "a bearer token is required", headers={"WWW-Authenticate": "Bearer"}
            )
        if token is None:
            raise HTTPException(403, "rebuild is disabled: HUIYIN_REPORTING_ADMIN_TOKEN is not set")
        if not secrets.compare_digest(given.encode(), token.get_secret_value().encode()):
            raise HTTPException(403, "this token may not rebuild the projection")

    router = APIRouter(prefix="/admin", tags=["admin"], dependencies=[Depends(admin)])

    @router.post(
        "/rebuild", status_code=202, summary="Drop the projection, rebuild it from the log"
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
    platform: PlatformSettings, store: ReportingStore, status: RebuildStatus
) -> RebuildStatus:
    try:
        await rebuild(platform, store, status)
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
