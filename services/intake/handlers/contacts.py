"""A reporter's contact for notify, at the moment it sends (notify never stores it).

Only notify asks, with its own token (`HUIYIN_INTAKE_NOTIFY_TOKEN`, compared in constant time;
none configured: nobody may ask). The answer is unsealed here and never logged."""

from typing import Any

from services.intake.domain.errors import NotFound, Unauthenticated
from services.intake.domain.privacy import Privacy
from services.intake.handlers.ports import IntakeStore
from services.runtime.auth import same_secret


class ReporterContacts:
    def __init__(self, store: IntakeStore, privacy: Privacy, notify_token: str) -> None:
        self._store = store
        self._privacy = privacy
        self._token = notify_token

    def check(self, token: str | None) -> None:
        if not same_secret(token, self._token):
            raise Unauthenticated("this is notify's: send its token")

    async def of(self, token: str | None, issue_id: str) -> dict[str, Any]:
        """`{"phone", "email", "receipt_code"}` of the issue's reporter (phone "" when only a
        name was left); `NotFound` when the report left no contact (anonymous)."""
        self.check(token)
        sealed = await self._store.sealed_contact(issue_id)
        if sealed is None:
            raise NotFound("no reporter's contact for this issue")
        phone = self._privacy.unseal(sealed).get("phone", "")
        return {"phone": phone, "email": "", "receipt_code": self._privacy.receipt_code(issue_id)}
