"""Who is calling: a bearer token (staff and API clients) or a receipt code (a reporter).

A receipt code is a secret of ten characters: every place that checks one (the look-up, the
`X-Receipt-Code` header on reads and actions) answers to one limit per client, shared by every
intake instance. Each wrong code counts; once over the limit, every check is a `RateLimited`
(429 with Retry-After) until the window ends, so guessing is slowed down wherever it is tried,
while a reporter using their own code never spends the limit."""

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
        """The reporter of the issue a receipt code belongs to (None: no such code, and one more
        failure counted); `RateLimited` once this client's failures are over the limit."""
        if wait := await self._throttle.peek(RECEIPTS, client):
            raise RateLimited("too many wrong receipt codes from here: wait", wait)
        issue_id = await self._store.issue_of_receipt(code.strip().upper())
        if issue_id is None:
            if wait := await self._throttle.hit(RECEIPTS, client):
                raise RateLimited("too many wrong receipt codes from here: wait", wait)
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
