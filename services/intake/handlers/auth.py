"""Who is calling: a bearer token (staff and API clients) or a receipt code (a reporter).

A receipt code is a secret of ten characters: every place that checks one (the look-up, the
`X-Receipt-Code` header on reads and actions) counts against one limit per client, shared by
every intake instance, so guessing codes is slowed down wherever it is tried."""

from services.intake.domain.errors import RateLimited, Unauthenticated
from services.intake.domain.rules import Principal, Role
from services.intake.handlers.ports import IntakeStore, Throttle

RECEIPT_HEADER = "X-Receipt-Code"
RECEIPTS = "receipts"


class Authenticator:
    def __init__(self, store: IntakeStore, throttle: Throttle) -> None:
        self._store = store
        self._throttle = throttle

    async def token(self, token: str) -> Principal | None:
        return await self._store.principal(token)

    async def receipt(self, code: str, client: str) -> Principal | None:
        """The reporter of the issue a receipt code belongs to; `RateLimited` past the limit."""
        wait = await self._throttle.hit(RECEIPTS, client)
        if wait:
            raise RateLimited("too many receipt codes tried from here: slow down", wait)
        issue_id = await self._store.issue_of_receipt(code.strip().upper())
        if issue_id is None:
            return None
        return Principal(id=f"reporter:{issue_id}", role=Role.REPORTER, issue_id=issue_id)

    async def principal(
        self, token: str | None, receipt_code: str | None, client: str
    ) -> Principal:
        """The principal of a bearer token, else of a receipt code."""
        if token is not None:
            principal = await self.token(token)
            if principal is None:
                raise Unauthenticated("unknown or revoked token")
            return principal
        if receipt_code:
            principal = await self.receipt(receipt_code, client)
            if principal is None:
                raise Unauthenticated("unknown receipt code")
            return principal
        raise Unauthenticated(f"send 'Authorization: Bearer <token>' or '{RECEIPT_HEADER}'")
