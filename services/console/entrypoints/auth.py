"""Sign-in, sign-out, and the admin's users page."""

from typing import Annotated

from fastapi import APIRouter, Query, Request, Response

from services.console.adapters.services import ApiRefused
from services.console.domain.users import Invalid, Role
from services.console.entrypoints.web import SESSION, Web


def build_auth_router(web: Web) -> APIRouter:
    router = APIRouter()

    @router.get("/")
    async def home(request: Request) -> Response:
        user = await web.user(request)
        return web.redirect(user.home if user else "/login")

    @router.get("/login")
    async def login_page(request: Request, next: Annotated[str, Query()] = "") -> Response:
        return web.render(request, "login.html", next=_safe(next))

    @router.post("/login")
    async def login(request: Request) -> Response:
        form = await web.form(request)
        if not web.allowed(request, "login"):
            return web.render(request, "login.html", status=429, error_key="refused.429")
        session = await web.console.sign_in(form.get("name", ""), form.get("password", ""))
        if session is None:
            return web.render(request, "login.html", status=401, error_key="login.failed")
        user = await web.console.store.session_user(session)
        target = _safe(form.get("next", "")) or (user.home if user else "/")
        response = web.redirect(target)
        response.set_cookie(
            SESSION, session, httponly=True, samesite="lax", secure=web.secure(request),
            max_age=int(web.console.session_lifetime.total_seconds()), path="/",
        )  # fmt: skip
        return response

    @router.post("/logout")
    async def logout(request: Request) -> Response:
        await web.form(request)
        if session := request.cookies.get(SESSION):
            await web.console.store.close_session(session)
        response = web.redirect("/login")
        response.delete_cookie(SESSION, path="/")
        return response

    @router.get("/admin/users")
    async def users(request: Request) -> Response:
        user = await web.require(request, "admin")
        everyone = await web.console.store.users()
        return web.render(request, "admin_users.html", user, users=everyone, roles=list(Role))

    @router.post("/admin/users")
    async def add_user(request: Request) -> Response:
        user = await web.require(request, "admin")
        form = await web.form(request)
        error, added = None, None
        try:
            added = await web.console.add_user(user, form, form.get("form_key"))
        except Invalid as invalid:
            problem = [{"loc": [invalid.field], "msg": invalid.reason}]
            error = web.refusal(request, ApiRefused(422, problem))
        except ValueError:
            unknown = [{"loc": ["role"], "msg": "not a role"}]
            error = web.refusal(request, ApiRefused(422, unknown))
        except ApiRefused as refused:
            error = web.refusal(request, refused)
        everyone = await web.console.store.users()
        return web.render(
            request, "admin_users.html", user, status=422 if error else 200,
            users=everyone, roles=list(Role), error=error, added=added,
        )  # fmt: skip

    return router


def _safe(target: str) -> str:
    """Only a path on this site (no open redirect)."""
    return target if target.startswith("/") and not target.startswith("//") else ""
