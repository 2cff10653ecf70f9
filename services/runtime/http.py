"""What every service's HTTP app shares: request metrics, JSON that never carries NaN, and
validation errors that render whatever the client sent.

- `RequestMetrics` counts requests and times them by route *template* (`/issues/{issue_id}`),
  method and status: bounded labels, never a raw path; a path no route matches is counted
  under `UNMATCHED`.
- `SafeJSONResponse` writes a non-finite float (NaN, ±Infinity, which JSON has no words for)
  as `null` instead of failing the response.
- `validation_failed` answers FastAPI's `{"detail": [{loc, msg, type, input}]}` with status
  422; a non-finite input (Python's JSON parser accepts `NaN` and `Infinity`) is shown as a
  string, so a bad number is a 422 naming the field, never a 500; the input it repeats is cut
  short (`shortened`): a 5 MB text is not sent back whole.
- `BodyLimit` refuses a request body over `MAX_BODY_BYTES` with a 413, read no further
  (declared by its Content-Length, or a chunked one read up to the limit): no request is held
  in memory whole whatever its size.
- `HeadAsGet` answers HEAD on every GET route (RFC 9110: a general-purpose server supports
  both) with the GET's status and headers and no body.
- `guard` adds both to an app (every service's, in `create_app`, and the console's).
"""

import json
import math
import time
from typing import Any

from fastapi import FastAPI, Request
from fastapi.encoders import jsonable_encoder
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from services.runtime.metrics import ServiceMetrics

ECHOED_CHARACTERS = 200
"""How much of a refused text a 422 repeats (the rest: "…")."""
ECHOED_ITEMS = 20
"""How many items of a refused list or object a 422 repeats (then "…")."""

MAX_BODY_BYTES = 1 << 20
"""The largest request body any service takes (its requests are reports and actions of a few
kilobytes: 1 MiB leaves room and bounds the memory a request may take)."""

UNMATCHED = "<unmatched>"
"""The route label of a request that no route matched (a scan, a typo): one label for all."""


def json_safe(value: Any, *, non_finite: str = "string") -> Any:
    """`value` with every non-finite float replaced: by its name ("NaN", "Infinity",
    "-Infinity") when `non_finite` is "string", by None when it is "null"."""
    if isinstance(value, float) and not math.isfinite(value):
        if non_finite == "null":
            return None
        return "NaN" if math.isnan(value) else ("Infinity" if value > 0 else "-Infinity")
    if isinstance(value, dict):
        return {k: json_safe(v, non_finite=non_finite) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [json_safe(v, non_finite=non_finite) for v in value]
    return value


class SafeJSONResponse(JSONResponse):
    """JSON that is always JSON: a non-finite float is written as null."""

    def render(self, content: Any) -> bytes:
        return json.dumps(
            json_safe(content, non_finite="null"),
            ensure_ascii=False,
            allow_nan=False,
            indent=None,
            separators=(",", ":"),
        ).encode("utf-8")


def shortened(value: Any) -> Any:
    """What a refusal repeats of an input: texts of at most `ECHOED_CHARACTERS`, lists and
    objects of at most `ECHOED_ITEMS` items (each shortened too), the cut marked with "…"."""
    if isinstance(value, bytes):
        value = value.decode("utf-8", "replace")
    if isinstance(value, str) and len(value) > ECHOED_CHARACTERS:
        return f"{value[:ECHOED_CHARACTERS]}…"
    if isinstance(value, dict):
        items = list(value.items())
        kept = {str(k)[:ECHOED_CHARACTERS]: shortened(v) for k, v in items[:ECHOED_ITEMS]}
        return kept | ({"…": len(items) - ECHOED_ITEMS} if len(items) > ECHOED_ITEMS else {})
    if isinstance(value, list | tuple):
        more = ["…"] if len(value) > ECHOED_ITEMS else []
        return [shortened(v) for v in value[:ECHOED_ITEMS]] + more
    return value


async def validation_failed(_: Request, error: Exception) -> JSONResponse:
    """FastAPI's 422 body, with non-finite inputs written as strings and inputs shortened."""
    assert isinstance(error, RequestValidationError)
    problems = [
        problem | {"input": shortened(problem["input"])} if "input" in problem else problem
        for problem in error.errors()
    ]
    detail = json_safe(jsonable_encoder(json_safe(problems)))
    return SafeJSONResponse({"detail": detail}, status_code=422)


class RequestMetrics:
    """ASGI middleware: observes every HTTP request once it is answered (or has failed)."""

    def __init__(self, app: ASGIApp, metrics: ServiceMetrics) -> None:
        self.app = app
        self.metrics = metrics

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = time.perf_counter()
        status = 500  # what the client gets when the app raises before answering

        async def send_and_note(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = int(message["status"])
            await send(message)

        try:
            await self.app(scope, receive, send_and_note)
        finally:
            # FastAPI's router puts the matched route in the (shared) scope
            route = getattr(scope.get("route"), "path", None) or UNMATCHED
            labels = (route, scope.get("method", ""), str(status))
            self.metrics.http_requests.labels(*labels).inc()
            self.metrics.http_seconds.labels(*labels).observe(time.perf_counter() - started)


def guard(app: FastAPI) -> None:
    """What every app of the platform answers alike, whatever its routes: HEAD on its GET
    routes (`HeadAsGet`), a 413 for a body over `MAX_BODY_BYTES` (`BodyLimit`)."""
    app.add_middleware(HeadAsGet)
    app.add_middleware(BodyLimit)


class HeadAsGet:
    """ASGI middleware: a HEAD request is served as a GET whose body is not sent (its status
    and headers, Content-Length included, are the GET's). Counted as the GET it runs."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["method"] != "HEAD":
            await self.app(scope, receive, send)
            return
        scope["method"] = "GET"

        async def headers_only(message: Message) -> None:
            if message["type"] == "http.response.body":
                message = {**message, "body": b""}
            await send(message)

        await self.app(scope, receive, headers_only)


class BodyLimit:
    """ASGI middleware: a request body over `max_bytes` is a 413. One whose Content-Length says
    so is refused unread; one streamed without it (chunked) is read here first, up to the
    limit, and handed on whole only when it stays under it."""

    def __init__(self, app: ASGIApp, max_bytes: int = MAX_BODY_BYTES) -> None:
        self.app = app
        self.max_bytes = max_bytes

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        declared = dict(scope.get("headers") or ()).get(b"content-length")
        if declared is not None:
            if not declared.isdigit() or int(declared) > self.max_bytes:
                await self._refuse(send)
                return
            await self.app(scope, receive, send)  # the server holds it to what it declared
            return
        body, more = b"", True
        while more:
            message = await receive()
            if message["type"] != "http.request":  # the client left
                return
            body += message.get("body", b"")
            more = message.get("more_body", False)
            if len(body) > self.max_bytes:
                await self._refuse(send)
                return
        handed = False

        async def replayed() -> Message:
            nonlocal handed
            if handed:
                return await receive()
            handed = True
            return {"type": "http.request", "body": body, "more_body": False}

        await self.app(scope, replayed, send)

    async def _refuse(self, send: Send) -> None:
        reason = f"the request body is larger than {self.max_bytes} bytes"
        body = json.dumps({"detail": reason}).encode()
        headers = [(b"content-type", b"application/json"), (b"content-length", b"%d" % len(body))]
        await send({"type": "http.response.start", "status": 413, "headers": headers})
        await send({"type": "http.response.body", "body": body})
