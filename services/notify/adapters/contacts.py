"""A reporter's contact, asked of intake at the moment of sending (never stored here).

`GET {intake}/internal/contacts/{issue_id}` with a bearer token answers
`{"phone": "...", "email": "...", "receipt_code": "..."}` (phone or email may be empty),
404 when the issue has no reporter's contact (anonymous).
"""

from dataclasses import dataclass
from typing import Protocol

import httpx

from services.notify.domain.delivery import NoRecipient, SendError


@dataclass(frozen=True)
class ReporterContact:
    phone: str = ""
    email: str = ""
    receipt_code: str = ""

    def __repr__(self) -> str:  # never the contact in a log line or a traceback
        return "ReporterContact(<hidden>)"


class Contacts(Protocol):
    async def reporter(self, issue_id: str) -> ReporterContact: ...


class IntakeContacts:
    def __init__(self, base_url: str, token: str, client: httpx.AsyncClient) -> None:
        self._base = base_url.rstrip("/")
        self._token = token
        self._client = client

    async def reporter(self, issue_id: str) -> ReporterContact:
        if not self._base:
            raise NoRecipient("no intake URL configured for reporters' contacts")
        try:
            response = await self._client.get(
                f"{self._base}/internal/contacts/{issue_id}",
                headers={"Authorization": f"Bearer {self._token}"},
            )
        except httpx.HTTPError as error:
            raise SendError(f"intake contacts: {type(error).__name__}") from None
        if response.status_code == 404:
            raise NoRecipient("the issue has no reporter's contact")
        if not response.is_success:
            raise SendError(f"intake contacts answered {response.status_code}")
        body = response.json()
        return ReporterContact(
            phone=str(body.get("phone") or ""),
            email=str(body.get("email") or ""),
            receipt_code=str(body.get("receipt_code") or ""),
        )
