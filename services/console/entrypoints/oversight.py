"""The supervision board (督办) and the leader dashboard: overdue clocks by office, the month's
rates and the ranking, the lists as CSV and the bulletins (passed on from reporting)."""

from typing import Annotated

from fastapi import APIRouter, Path, Query, Request, Response

from services.console.adapters.services import ApiRefused
from services.console.entrypoints.web import Web

LISTS = ("problems", "tasks", "results", "backlog")


def build_oversight_router(web: Web) -> APIRouter:
    router = APIRouter()

    @router.get("/board")
    async def board(request: Request, office_id: str | None = None) -> Response:
        user = await web.require(request, "board")
        try:
            found = await web.console.board(user, office_id)
        except ApiRefused as refused:
            return web.render(request, "error.html", user, status=502,
                              error=web.refusal(request, refused))  # fmt: skip
        return web.render(request, "board.html", user, office_id=office_id, **found)

    @router.get("/dashboard")
    async def dashboard(request: Request) -> Response:
        user = await web.require(request, "dashboard")
        try:
            found = await web.console.dashboard(web.today())
        except ApiRefused as refused:
            return web.render(request, "error.html", user, status=502,
                              error=web.refusal(request, refused))  # fmt: skip
        return web.render(request, "dashboard.html", user, lists=LISTS, **found)

    @router.get("/dashboard/lists/{name}.csv")
    async def list_csv(
        request: Request, name: Annotated[str, Path(pattern="^(problems|tasks|results|backlog)$")]
    ) -> Response:
        await web.require(request, "dashboard")
        answer = await web.console.platform.raw("reporting", f"/lists/{name}", {"format": "csv"})
        return Response(
            answer.content, status_code=answer.status_code, media_type="text/csv",
            headers={"Content-Disposition": f'attachment; filename="{name}.csv"'},
        )  # fmt: skip

    @router.get("/dashboard/bulletins/{period}")
    async def bulletin(
        request: Request,
        period: Annotated[str, Path(pattern="^(weekly|monthly)$")],
        format: Annotated[str, Query(pattern="^(html|md)$")] = "html",
    ) -> Response:
        await web.require(request, "dashboard")
        answer = await web.console.platform.raw(
            "reporting", f"/bulletins/{period}", {"format": format}
        )
        media = "text/html" if format == "html" else "text/markdown"
        if format == "html":  # self-contained, with inline styles: its own policy
            headers = {"Content-Security-Policy": "default-src 'none'; style-src 'unsafe-inline'"}
        else:
            headers = {"Content-Disposition": f'attachment; filename="{period}.md"'}
        return Response(
            answer.content, status_code=answer.status_code, media_type=media, headers=headers
        )

    return router
