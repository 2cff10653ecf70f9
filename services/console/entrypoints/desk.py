"""The operator desk (话务员): the report form, the region tree, the receipt."""

from typing import Any

from fastapi import APIRouter, Request, Response
from fastapi.responses import JSONResponse

from services.console.adapters.services import ApiRefused
from services.console.domain import citymap
from services.console.entrypoints.web import Web

CHANNELS = ("hotline", "web", "miniapp", "mailbox", "letter", "visit", "grid",
            "enterprise_visit", "meeting", "inspection")  # fmt: skip
KINDS = ("complaint", "consultation", "help", "suggestion", "report", "praise")


def build_desk_router(web: Web) -> APIRouter:
    router = APIRouter()

    async def page(request: Request, status: int = 200, **context: Any) -> Response:
        user = await web.require(request, "desk")
        try:
            catalogue = await web.console.catalogue()
            root = await web.console.region(None)
            city = citymap.lay_out(await web.console.city(), {})
        except ApiRefused as refused:
            catalogue, root, city = [], {"children": []}, None
            context.setdefault("error", web.refusal(request, refused))
        return web.render(
            request, "desk.html", user, status=status, channels=CHANNELS, kinds=KINDS,
            catalogue=catalogue, root=root, city=city, **context,
        )  # fmt: skip

    @router.get("/desk")
    async def desk(request: Request) -> Response:
        return await page(request)

    @router.post("/desk")
    async def file_report(request: Request) -> Response:
        user = await web.require(request, "desk")
        form = await web.form(request)
        try:
            saved = await web.console.file_report(user, form, form.get("form_key"))
        except ApiRefused as refused:
            status = refused.status if refused.status in (403, 409, 422) else 502
            return await page(request, status, error=web.refusal(request, refused), form=form)
        return web.render(request, "receipt.html", user, saved=saved)

    @router.get("/desk/nearby")
    async def nearby(request: Request, category: str = "", region_code: str = "") -> Response:
        """Open issues of the category near the place: shown before saving (likely duplicates)."""
        user = await web.require(request, "desk")
        category = category.split(" ", 1)[0]
        rows, error = [], None
        if category and region_code:
            try:
                rows = await web.console.nearby(category, region_code)
            except ApiRefused as refused:
                error = web.refusal(request, refused)
        return web.render(
            request,
            "nearby.html",
            user,
            rows=rows,
            error=error,
            asked=bool(category and region_code),
        )

    @router.get("/desk/regions/{code}")
    async def region(request: Request, code: str) -> Response:
        await web.require(request, "desk")
        try:
            return JSONResponse(await web.console.region(code))
        except ApiRefused as refused:
            return JSONResponse({"detail": refused.detail}, status_code=refused.status)

    return router
