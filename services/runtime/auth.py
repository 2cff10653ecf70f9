"""Bearer tokens, read once for every service through `fastapi.security` (so OpenAPI shows the
scheme). What a token means is each service's own business; this only reads it."""

import hmac
from typing import Annotated

from fastapi import HTTPException, Request, Security, status
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer

__all__ = ["BEARER", "bearer_token", "same_secret", "unauthorized"]

BEARER = HTTPBearer(auto_error=False, description="a token an admin issued")


def unauthorized(reason: str) -> HTTPException:
    """401 with the challenge a client needs to know what to send."""
    return HTTPException(
        status.HTTP_401_UNAUTHORIZED, detail=reason, headers={"WWW-Authenticate": "Bearer"}
    )


async def bearer_token(
    request: Request,
    credentials: Annotated[HTTPAuthorizationCredentials | None, Security(BEARER)],
) -> str | None:
    """A FastAPI dependency: the bearer token sent, None when no `Authorization` header was
    sent, and a 401 when one was sent in another shape."""
    if credentials is not None and credentials.credentials.strip():
        return credentials.credentials.strip()
    if request.headers.get("Authorization"):
        raise unauthorized("Authorization must be 'Bearer <token>'")
    return None


def same_secret(given: str | None, expected: str) -> bool:
    """Whether `given` is the configured secret `expected` (never when none is configured), in
    constant time. Compared as UTF-8 bytes: `hmac.compare_digest` refuses text that is not
    ASCII with a TypeError, and a header or a form field may hold any character."""
    if not expected or given is None:
        return False
    return hmac.compare_digest(given.encode(), expected.encode())
