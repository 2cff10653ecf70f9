"""Reporting's domain errors as HTTP answers, registered once on the app."""

from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse

from services.reporting.domain.scope import ScopeError


def scope_error(_: Request, error: Exception) -> JSONResponse:
    """A 422 shaped like FastAPI's own: which query field, and why."""
    assert isinstance(error, ScopeError)
    detail = [{"loc": ["query", error.field], "msg": error.reason, "type": "value_error"}]
    return JSONResponse({"detail": detail}, status_code=422)


def register_errors(app: FastAPI) -> None:
    app.add_exception_handler(ScopeError, scope_error)
