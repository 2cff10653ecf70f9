"""The office workbench (承办单位): the inbox with live rows, and the issue page with the
actions the signed-in person may take now (also used by operators and supervisors)."""

from typing import Annotated

from fastapi import APIRouter, Query, Request, Response

from services.console.adapters.services import ApiRefused
from services.console.domain.actions import actions_now, extension_awaits
from services.console.domain.users import Role, User
from services.console.entrypoints.web import Web


def build_office_router(web: Web, page_size: int) -> APIRouter:
    router = APIRouter()

    async def inbox(request: Request, user: User, cursor: str | None, template: str) -> Response:
        counted = template == "office.html"  # the live rows show no total
        try:
            rows, after, total = await web.console.inbox(user, cursor, page_size, counted)
        except ApiRefused as refused:
            return web.render(request, template, user, rows=[], after=None, cursor=None, total="",
                              error=web.refusal(request, refused))  # fmt: skip
        return web.render(
            request, template, user, rows=rows, after=after, cursor=cursor, total=total
        )

    @router.get("/office")
    async def office(request: Request, cursor: Annotated[str | None, Query()] = None) -> Response:
        user = await web.require(request, "office")
        return await inbox(request, user, cursor, "office.html")

    @router.get("/office/rows")
    async def rows(request: Request, cursor: Annotated[str | None, Query()] = None) -> Response:
        """The inbox's rows alone: the page's script swaps them in every `refresh_ms`."""
        user = await web.require(request, "office")
        return await inbox(request, user, cursor, "inbox_rows.html")

    async def issue_page(
        request: Request, user: User, issue_id: str, status: int = 200, **context: object
    ) -> Response:
        try:
            found = await web.console.issue(user, issue_id)
        except ApiRefused as refused:
            return web.render(request, "error.html", user, status=refused.status,
                              error=web.refusal(request, refused))  # fmt: skip
        view = found["view"]
        holds = user.role is not Role.OFFICE or view.get("office_id") == user.office_id
        co_handled = user.role is Role.OFFICE and user.office_id in (
            view.get("co_office_ids") or []
        )
        awaits = extension_awaits(view.get("history") or [])
        forms = actions_now(user.role, str(view.get("state")), holds, awaits)
        return web.render(request, "issue.html", user, status=status, forms=forms,
                          co_handled=co_handled and not holds, **found, **context)  # fmt: skip

    @router.get("/issues/{issue_id}")
    async def issue(request: Request, issue_id: str) -> Response:
        user = await web.require(request, "issue")
        done = request.query_params.get("done")
        return await issue_page(request, user, issue_id, done=done)

    @router.post("/issues/{issue_id}/{action}")
    async def act(request: Request, issue_id: str, action: str) -> Response:
        user = await web.require(request, "issue")
        form = await web.form(request)
        try:
            await web.console.act(user, issue_id, action, form, form.get("form_key"))
        except ApiRefused as refused:
            status = refused.status if refused.status in (403, 404, 409, 422) else 502
            return await issue_page(request, user, issue_id, status,
                                    error=web.refusal(request, refused))  # fmt: skip
        return web.redirect(f"/issues/{issue_id}?done={action}")

    return router
