"""The console's app: its pages, its static assets, /healthz, and how the entrypoints' own
exceptions become pages (sign in first, not your screen, an expired form)."""

from collections.abc import Awaitable, Callable
from typing import Any
from urllib.parse import quote

from fastapi import FastAPI, Request, Response
from fastapi.responses import JSONResponse
from fastapi.staticfiles import StaticFiles
from prometheus_client import CONTENT_TYPE_LATEST

from services.console.entrypoints.auth import build_auth_router
from services.console.entrypoints.desk import build_desk_router
from services.console.entrypoints.office import build_office_router
from services.console.entrypoints.oversight import build_oversight_router
from services.console.entrypoints.public import build_public_router
from services.console.entrypoints.web import HERE, BadForm, NotYours, SignInRequired, Web


def mount(
    app: FastAPI, web: Web, page_size: int,
    healthy: Callable[[], Awaitable[dict[str, Any]]],
) -> None:  # fmt: skip
    app.middleware("http")(web.middleware)
    app.mount("/static", StaticFiles(directory=HERE / "static"), name="static")
    for router in (
        build_auth_router(web),
        build_desk_router(web),
        build_office_router(web, page_size),
        build_public_router(web),
        build_oversight_router(web),
    ):
        app.include_router(router)

    @app.get("/healthz", include_in_schema=False)
    async def healthz() -> Response:
        checks = await healthy()
        ok = all(checks.values())
        body = {"status": "ok" if ok else "unavailable", "service": "console", **checks}
        return JSONResponse(body, status_code=200 if ok else 503)

    @app.get("/metrics", include_in_schema=False)
    async def metrics() -> Response:
        return Response(web.metrics.render(), media_type=CONTENT_TYPE_LATEST)

    @app.get("/favicon.ico", include_in_schema=False)
    async def favicon() -> Response:
        return Response((HERE / "static/favicon.svg").read_bytes(), media_type="image/svg+xml")

    @app.exception_handler(SignInRequired)
    async def sign_in(request: Request, _: SignInRequired) -> Response:
        if request.method == "GET" and not request.url.path.endswith("/rows"):
            return web.redirect(f"/login?next={quote(request.url.path)}")
        return web.render(request, "login.html", status=401)

    @app.exception_handler(NotYours)
    async def not_yours(request: Request, _: NotYours) -> Response:
        user = await web.user(request)
        return web.render(request, "error.html", user, status=403, error_key="refused.screen")

    @app.exception_handler(BadForm)
    async def bad_form(request: Request, _: BadForm) -> Response:
        user = await web.user(request)
        return web.render(request, "error.html", user, status=403, error_key="refused.csrf")
