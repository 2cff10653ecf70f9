"""The one place where intake's domain errors become HTTP answers.

Native routes answer `{"detail": …}` with 401, 403, 404, 409, 422 or 429; an `Invalid` names its
field first ("region_code: …"). Open311 routes answer the GeoReport v2 error
list in the format the path asks for (`.json` or `.xml`), with the spec's statuses: a bad
parameter is a 400 and bad credentials a 403."""

from collections.abc import Awaitable, Callable
from typing import Any

from fastapi import FastAPI, Request, Response
from fastapi.exception_handlers import (
    http_exception_handler,
    request_validation_exception_handler,
)
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException

from services.intake.domain.errors import (
    Conflict,
    Forbidden,
    IntakeError,
    Invalid,
    NotFound,
    RateLimited,
    Unauthenticated,
)
from services.intake.entrypoints.open311_format import OPEN311_PREFIX, Open311Error, error, fmt_of

STATUS: dict[type[IntakeError], int] = {
    Unauthenticated: 401,
    Forbidden: 403,
    NotFound: 404,
    Conflict: 409,
    Invalid: 422,
    RateLimited: 429,
}
OPEN311_STATUS = {**STATUS, Unauthenticated: 403, Invalid: 400}


def status_of(failure: IntakeError, open311: bool = False) -> int:
    table = OPEN311_STATUS if open311 else STATUS
    return next((code for kind, code in table.items() if isinstance(failure, kind)), 400)


def headers_of(failure: IntakeError) -> dict[str, str]:
    if isinstance(failure, RateLimited):
        return {"Retry-After": str(failure.retry_after)}
    if isinstance(failure, Unauthenticated):
        return {"WWW-Authenticate": "Bearer"}
    return {}


async def on_intake_error(request: Request, failure: Exception) -> Response:
    assert isinstance(failure, IntakeError)
    headers = headers_of(failure)
    if request.url.path.startswith(OPEN311_PREFIX):
        answer = error(
            fmt_of(request.url.path), Open311Error(status_of(failure, True), failure.reason)
        )
        answer.headers.update(headers)
        return answer
    detail = failure.reason
    if isinstance(failure, Invalid) and failure.field:
        detail = f"{failure.field}: {failure.reason}"
    return JSONResponse({"detail": detail}, status_code=status_of(failure), headers=headers)


async def on_open311_error(request: Request, failure: Exception) -> Response:
    assert isinstance(failure, Open311Error)
    return error(fmt_of(request.url.path), failure)


Handler = Callable[[Request, Any], Response | Awaitable[Response]]


def _open311_or(previous: Handler, answer: Callable[[Exception], Open311Error]) -> Handler:
    """On Open311 paths, the spec's error list; elsewhere what the app answered before."""

    async def handle(request: Request, failure: Any) -> Response:
        if not request.url.path.startswith(OPEN311_PREFIX):
            answered = previous(request, failure)
            return answered if isinstance(answered, Response) else await answered
        return error(fmt_of(request.url.path), answer(failure))

    return handle


def _invalid_parameter(failure: Exception) -> Open311Error:
    assert isinstance(failure, RequestValidationError)
    problems = failure.errors()
    if any(tuple(p.get("loc", ()))[:2] == ("path", "fmt") for p in problems):
        return Open311Error(404, "format must be json or xml")
    described = "; ".join(
        f"{'.'.join(str(part) for part in p.get('loc', ())[1:])}: {p.get('msg', 'invalid')}"
        for p in problems
    )
    return Open311Error(400, described or "invalid request")


def _http_failure(failure: Exception) -> Open311Error:
    assert isinstance(failure, HTTPException)
    code = 403 if failure.status_code == 401 else failure.status_code
    return Open311Error(code, str(failure.detail))


def install(app: FastAPI) -> None:
    """Register every mapping (after the runtime's, which non-Open311 paths keep)."""
    validation = app.exception_handlers.get(
        RequestValidationError, request_validation_exception_handler
    )
    http = app.exception_handlers.get(HTTPException, http_exception_handler)
    app.add_exception_handler(IntakeError, on_intake_error)
    app.add_exception_handler(Open311Error, on_open311_error)
    app.add_exception_handler(RequestValidationError, _open311_or(validation, _invalid_parameter))
    app.add_exception_handler(HTTPException, _open311_or(http, _http_failure))
