"""FastAPI dependencies for who calls: the bearer token (read by the runtime, through
`fastapi.security`) or the `X-Receipt-Code` header, the client's address, rate limits."""

from collections.abc import Callable, Coroutine
from typing import Annotated, Any

from fastapi import Depends, Header, Request

from services.intake.domain.errors import RateLimited
from services.intake.domain.rules import Principal
from services.intake.handlers.auth import RECEIPT_HEADER
from services.intake.handlers.issues import IntakeHandlers
from services.intake.handlers.ports import Throttle
from services.runtime.auth import bearer_token

IdempotencyKey = Annotated[str | None, Header(alias="Idempotency-Key")]
ReceiptCode = Annotated[
    str | None,
    Header(alias=RECEIPT_HEADER, description="a reporter's receipt code (rate limited)"),
]


def client_of(request: Request) -> str:
    return request.client.host if request.client else "unknown"


def authenticated(
    intake: IntakeHandlers,
) -> Callable[..., Coroutine[Any, Any, Principal]]:
    """A dependency: the principal of a bearer token, else of a receipt code, else a 401."""

    async def principal(
        request: Request,
        token: Annotated[str | None, Depends(bearer_token)],
        receipt_code: ReceiptCode = None,
    ) -> Principal:
        return await intake.authenticate.principal(token, receipt_code, client_of(request))

    return principal


def limited(throttle: Throttle, name: str) -> Callable[[Request], Coroutine[Any, Any, None]]:
    """A dependency: one hit on the limit `name` per request, counted per client."""

    async def check(request: Request) -> None:
        if wait := await throttle.hit(name, client_of(request)):
            raise RateLimited(f"rate limit exceeded for {name}", wait)

    return check
