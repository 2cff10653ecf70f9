"""The four services' HTTP APIs, called on behalf of the signed-in person (their intake
bearer token, or a reporter's receipt code). A refusal is raised as `ApiRefused`."""

from typing import Any, Protocol

import httpx

from services.console.domain.refusals import detail_of


class ApiRefused(Exception):
    """A service said no (or did not answer: status 503)."""

    def __init__(self, status: int, detail: Any) -> None:
        super().__init__(f"{status}: {detail}")
        self.status = status
        self.detail = detail


class Platform(Protocol):
    async def call(
        self,
        service: str,
        method: str,
        path: str,
        *,
        token: str | None = None,
        receipt: str | None = None,
        json: Any = None,
        params: dict[str, Any] | None = None,
        key: str | None = None,
    ) -> Any: ...

    async def raw(
        self, service: str, path: str, params: dict[str, Any] | None = None
    ) -> httpx.Response: ...


class HttpPlatform:
    """One pooled HTTP client; `urls` maps intake, routing, supervision, reporting to a base."""

    def __init__(self, urls: dict[str, str], timeout: float = 10.0) -> None:
        self._urls = {name: url.rstrip("/") for name, url in urls.items()}
        self._client = httpx.AsyncClient(timeout=timeout)

    async def close(self) -> None:
        await self._client.aclose()

    async def call(
        self,
        service: str,
        method: str,
        path: str,
        *,
        token: str | None = None,
        receipt: str | None = None,
        json: Any = None,
        params: dict[str, Any] | None = None,
        key: str | None = None,
    ) -> Any:
        headers = {}
        if token:
            headers["Authorization"] = f"Bearer {token}"
        if receipt:
            headers["X-Receipt-Code"] = receipt
        if key:
            headers["Idempotency-Key"] = key
        try:
            response = await self._client.request(
                method, self._urls[service] + path, headers=headers, json=json, params=params
            )
        except httpx.HTTPError as error:
            raise ApiRefused(503, f"{service}: {type(error).__name__}") from error
        if response.status_code >= 400:
            try:
                body: Any = response.json()
            except ValueError:
                body = response.text
            raise ApiRefused(response.status_code, detail_of(body))
        return response.json() if response.content else None

    async def raw(
        self, service: str, path: str, params: dict[str, Any] | None = None
    ) -> httpx.Response:
        """A read passed on as it is (CSV lists, bulletins)."""
        try:
            return await self._client.get(self._urls[service] + path, params=params)
        except httpx.HTTPError as error:
            raise ApiRefused(503, f"{service}: {type(error).__name__}") from error
