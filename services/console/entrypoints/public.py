"""The reporter's public page: look up one's own issue by receipt code and answer the return
visit. No session; rate limited per client, like intake's own public endpoints."""

from typing import Any

from fastapi import APIRouter, Request, Response

from services.console.adapters.services import ApiRefused
from services.console.domain.actions import ACTIONS
from services.console.entrypoints.web import Web

VISITABLE = ("resolved", "verified", "answered")


def build_public_router(web: Web) -> APIRouter:
    router = APIRouter()

    def allowed(request: Request) -> bool:
        return web.allowed(request, "public")

    async def show(request: Request, code: str, status: int = 200, **context: Any) -> Response:
        user = await web.user(request)
        issue = None
        if code:
            try:
                issue = await web.console.lookup(code)
            except ApiRefused as refused:
                context.setdefault("error", web.refusal(request, refused))
                status = refused.status
        visit = ACTIONS["visit"] if issue and issue.get("state") in VISITABLE else None
        return web.render(request, "public.html", user, status=status, issue=issue, code=code,
                          visit=visit, **context)  # fmt: skip

    @router.get("/public")
    async def public(request: Request) -> Response:
        return await show(request, "")

    @router.post("/public")
    async def lookup(request: Request) -> Response:
        form = await web.form(request)
        if not allowed(request):
            return await show(request, "", 429, error=web.refusal(request, ApiRefused(429, "")))
        return await show(request, form.get("receipt_code", ""))

    @router.post("/public/visit")
    async def visit(request: Request) -> Response:
        form = await web.form(request)
        code = form.get("receipt_code", "")
        if not allowed(request):
            return await show(request, "", 429, error=web.refusal(request, ApiRefused(429, "")))
        try:
            await web.console.answer_visit(code, form, form.get("form_key"))
        except ApiRefused as refused:
            return await show(request, code, refused.status, error=web.refusal(request, refused))
        return await show(request, code, thanks=True)

    return router
