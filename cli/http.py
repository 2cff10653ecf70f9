"""Calls to the services' HTTP APIs, and their refusals made readable: status, field, reason."""

from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

import httpx

UNREACHABLE = 3
"""Exit code when a service does not answer (an API's refusal exits with 1)."""


class ApiError(Exception):
    """A service said no: its status, and each field with its reason."""

    def __init__(self, status: int, phrase: str, reasons: list[tuple[str, str]]) -> None:
        self.status = status
        self.phrase = phrase
        self.reasons = reasons
        super().__init__(self.render())

    def render(self) -> str:
        head = f"{self.status} {self.phrase}"
        if len(self.reasons) == 1 and not self.reasons[0][0]:
            return f"{head}: {self.reasons[0][1]}"
        lines = [f"  {name or '(request)'}: {reason}" for name, reason in self.reasons]
        return "\n".join([head, *lines])


class Unreachable(Exception):
    pass


def reasons_of(response: httpx.Response) -> list[tuple[str, str]]:
    """FastAPI's `detail`: a string, or a list of {loc, msg} for invalid fields."""
    try:
        detail = response.json().get("detail", response.json())
    except (ValueError, AttributeError):
        return [("", response.text.strip() or "(no reason given)")]
    if isinstance(detail, list):
        found = []
        for problem in detail:
            loc = [str(p) for p in problem.get("loc", []) if p not in ("body", "query", "path")]
            found.append((".".join(loc), str(problem.get("msg", problem))))
        return found
    return [("", str(detail))]


@dataclass
class Service:
    """One service's API, with the caller's bearer token (if any)."""

    name: str
    url: str
    token: str | None = None
    headers: dict[str, str] = field(default_factory=dict)

    def _headers(self, key: str | None = None) -> dict[str, str]:
        headers = dict(self.headers)
        if self.token:
            headers["Authorization"] = f"Bearer {self.token}"
        if key:
            headers["Idempotency-Key"] = key
        return headers

    def lines(self, path: str, *, params: dict[str, Any] | None = None) -> Iterator[str]:
        """A GET's answer line by line as it arrives (a CSV streamed by the service)."""
        clean = {k: str(v) for k, v in (params or {}).items() if v is not None}
        url = f"{self.url.rstrip('/')}{path}"
        try:
            with httpx.stream("GET", url, params=clean, headers=self._headers(), timeout=30) as got:
                if got.status_code >= 400:
                    got.read()
                    raise ApiError(got.status_code, got.reason_phrase, reasons_of(got))
                yield from got.iter_lines()
        except httpx.HTTPError as error:
            raise Unreachable(f"{self.name} at {self.url} does not answer: {error}") from error

    def call(
        self,
        method: str,
        path: str,
        *,
        body: Any = None,
        params: dict[str, Any] | None = None,
        key: str | None = None,
    ) -> httpx.Response:
        headers = self._headers(key)
        clean = {k: str(v) for k, v in (params or {}).items() if v is not None}
        try:
            response = httpx.request(
                method, f"{self.url.rstrip('/')}{path}", json=body, params=clean,
                headers=headers, timeout=30,
            )  # fmt: skip
        except httpx.HTTPError as error:
            raise Unreachable(f"{self.name} at {self.url} does not answer: {error}") from error
        if response.status_code >= 400:
            raise ApiError(response.status_code, response.reason_phrase, reasons_of(response))
        return response

    def json(self, method: str, path: str, **kwargs: Any) -> Any:
        return self.call(method, path, **kwargs).json()
