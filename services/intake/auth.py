"""Who is calling: bearer tokens for staff and API clients, receipt codes for reporters,
and rate limits on the public endpoints."""

from collections.abc import Callable, Coroutine
from typing import Any

from fastapi import HTTPException, Request, status
from limits import parse
from limits.storage import MemoryStorage
from limits.strategies import MovingWindowRateLimiter

from services.intake.domain import Principal, Role
from services.intake.store import IntakeStore

RECEIPT_HEADER = "X-Receipt-Code"


def unauthorized(reason: str) -> HTTPException:
    return HTTPException(
        status.HTTP_401_UNAUTHORIZED, detail=reason, headers={"WWW-Authenticate": "Bearer"}
    )


class Authenticator:
    def __init__(self, store: IntakeStore) -> None:
        self._store = store

    async def token(self, token: str) -> Principal | None:
        return await self._store.principal(token)

    async def receipt(self, code: str) -> Principal | None:
        issue_id = await self._store.issue_of_receipt(code.strip().upper())
        if issue_id is None:
            return None
        return Principal(id=f"reporter:{issue_id}", role=Role.REPORTER, issue_id=issue_id)

    async def __call__(self, request: Request) -> Principal:
        """A FastAPI dependency: the principal of a bearer token or of a receipt code."""
        authorization = request.headers.get("Authorization", "")
        if authorization:
            scheme, _, token = authorization.partition(" ")
            if scheme.lower() != "bearer" or not token:
                raise unauthorized("Authorization must be 'Bearer <token>'")
            principal = await self.token(token.strip())
            if principal is None:
                raise unauthorized("unknown or revoked token")
            return principal
        if code := request.headers.get(RECEIPT_HEADER):
            principal = await self.receipt(code)
            if principal is None:
                raise unauthorized("unknown receipt code")
            return principal
        raise unauthorized(f"send 'Authorization: Bearer <token>' or '{RECEIPT_HEADER}'")


class RateLimits:
    """Per client address and endpoint, a moving window (e.g. "30/minute")."""

    def __init__(self, limit: str) -> None:
        self._limit = parse(limit)
        self._limiter = MovingWindowRateLimiter(MemoryStorage())

    def dependency(self, name: str) -> Callable[[Request], Coroutine[Any, Any, None]]:
        async def check(request: Request) -> None:
            client = request.client.host if request.client else "unknown"
            if not self._limiter.hit(self._limit, name, client):
                raise HTTPException(
                    status.HTTP_429_TOO_MANY_REQUESTS,
                    detail=f"rate limit {self._limit} exceeded for {name}",
                    headers={"Retry-After": "60"},
                )

        return check
