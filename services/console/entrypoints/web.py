"""What every page shares: the signed-in user, the language, CSRF, rendering, refusals.

CSRF is a signed double-submit token: each browser gets a random `hy_csrf` cookie (HttpOnly,
SameSite=Lax) and every form carries HMAC(secret, cookie); a POST whose field does not match
its cookie is refused before anything else runs."""

import hashlib
import hmac
import secrets
import uuid
from collections.abc import Awaitable, Callable
from datetime import date, datetime
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from fastapi import Request, Response
from fastapi.responses import HTMLResponse, RedirectResponse
from fastapi.templating import Jinja2Templates
from limits import parse
from limits.storage import MemoryStorage
from limits.strategies import MovingWindowRateLimiter

from services.console.adapters.metrics import ConsoleMetrics
from services.console.adapters.services import ApiRefused
from services.console.domain.i18n import pick, translate
from services.console.domain.refusals import loggable, readable
from services.console.domain.users import User
from services.console.handlers import Console
from services.runtime.auth import same_secret
from services.runtime.logging import get_logger

HERE = Path(__file__).resolve().parents[1]
log = get_logger(__name__)
SESSION = "hy_session"
CSRF = "hy_csrf"
LANG = "lang"


class SignInRequired(Exception):
    pass


class NotYours(Exception):
    pass


class BadForm(Exception):
    pass


class Web:
    """The pages' shared parts, built once by the composition root."""

    def __init__(
        self,
        console: Console,
        metrics: ConsoleMetrics,
        secret: str,
        secure_cookies: bool,
        refresh_ms: int,
        timezone: str = "Asia/Shanghai",
        rate_limit: str = "30/minute",
    ) -> None:
        self.console = console
        self.metrics = metrics
        self._limit, self._limiter = parse(rate_limit), MovingWindowRateLimiter(MemoryStorage())
        self._secret = secret.encode()
        self._secure = secure_cookies
        self.refresh_ms = refresh_ms
        self.templates = Jinja2Templates(directory=HERE / "templates")
        zone = self.zone = ZoneInfo(timezone)
        self.templates.env.filters["local"] = lambda value: local_time(value, zone)

    def today(self) -> date:
        """The city's day now (its time zone's, not UTC's: after 16:00 UTC it is already the
        next day in Beijing)."""
        return datetime.now(self.zone).date()

    # who and which language ---------------------------------------------------------------

    @staticmethod
    def lang(request: Request) -> str:
        return pick(request.query_params.get(LANG) or request.cookies.get(LANG))

    async def user(self, request: Request) -> User | None:
        session = request.cookies.get(SESSION)
        return await self.console.store.session_user(session) if session else None

    async def require(self, request: Request, screen: str) -> User:
        user = await self.user(request)
        if user is None:
            raise SignInRequired()
        if not user.may_open(screen):
            raise NotYours()
        return user

    def allowed(self, request: Request, what: str) -> bool:
        """Whether this client may try `what` again now (a moving window per client)."""
        client = request.client.host if request.client else "unknown"
        return self._limiter.hit(self._limit, what, client)

    def secure(self, request: Request) -> bool:
        return self._secure or request.url.scheme == "https"

    # CSRF -------------------------------------------------------------------------------

    def csrf_token(self, request: Request) -> str:
        seed = str(request.cookies.get(CSRF) or getattr(request.state, "csrf_seed", ""))
        return hmac.new(self._secret, seed.encode(), hashlib.sha256).hexdigest()

    async def form(self, request: Request) -> dict[str, str]:
        """The submitted form, once its CSRF token is checked (raises BadForm)."""
        form = await request.form()
        sent = str(form.get("csrf", ""))
        if not request.cookies.get(CSRF) or not same_secret(sent, self.csrf_token(request)):
            raise BadForm()
        return {key: str(value) for key, value in form.items()}

    async def middleware(
        self, request: Request, call_next: Callable[[Request], Awaitable[Response]]
    ) -> Response:
        """Give each browser its CSRF seed, remember a chosen language, set safe headers."""
        seed = request.cookies.get(CSRF)
        if not seed:
            request.state.csrf_seed = secrets.token_urlsafe(24)
        response = await call_next(request)
        self.metrics.responses.labels(f"{response.status_code // 100}xx").inc()
        if not seed:
            response.set_cookie(
                CSRF, request.state.csrf_seed, httponly=True, samesite="lax",
                secure=self.secure(request), path="/",
            )  # fmt: skip
        if (chosen := request.query_params.get(LANG)) and chosen == pick(chosen):
            response.set_cookie(LANG, chosen, samesite="lax", secure=self.secure(request))
        response.headers.setdefault(
            "Content-Security-Policy",
            "default-src 'self'; img-src 'self' data:; frame-ancestors 'none'; form-action 'self'",
        )
        response.headers.setdefault("X-Content-Type-Options", "nosniff")
        response.headers.setdefault("Referrer-Policy", "same-origin")
        return response

    # rendering --------------------------------------------------------------------------

    def render(
        self,
        request: Request,
        template: str,
        user: User | None = None,
        status: int = 200,
        **context: Any,
    ) -> HTMLResponse:
        lang = self.lang(request)

        def t(key: str, default: str | None = None) -> str:
            return translate(key, lang, default)

        return self.templates.TemplateResponse(
            request,
            template,
            {
                "t": t, "lang": lang, "user": user, "csrf": self.csrf_token(request),
                "form_key": uuid.uuid4().hex, "refresh_ms": self.refresh_ms,
                "path": request.url.path, "names": self.console.names, **context,
            },
            status_code=status,
        )  # fmt: skip

    def refusal(self, request: Request, error: ApiRefused) -> str:
        self.metrics.refusals.labels(str(error.status)).inc()
        log.info("api.refused", path=request.url.path, status=error.status,
                 detail=loggable(error.detail))  # fmt: skip
        return readable(error.status, error.detail, self.lang(request))

    @staticmethod
    def redirect(url: str) -> RedirectResponse:
        return RedirectResponse(url, status_code=303)


def local_time(value: Any, zone: ZoneInfo) -> str:
    """An ISO time from an API as the local wall clock, to the minute ('' when none)."""
    if not value:
        return ""
    try:
        moment = datetime.fromisoformat(str(value).replace("Z", "+00:00"))
    except ValueError:
        return str(value)
    if moment.tzinfo is None:
        return moment.strftime("%Y-%m-%d %H:%M")
    return moment.astimezone(zone).strftime("%Y-%m-%d %H:%M")
