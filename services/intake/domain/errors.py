"""What a rule or a use case refuses, in domain terms. The HTTP edge maps each kind to its
status in one place (`entrypoints/errors.py`)."""


class IntakeError(Exception):
    """A refusal with a reason a caller may read."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


class Unauthenticated(IntakeError):
    """No credentials, or ones nobody holds."""


class NotFound(IntakeError):
    """No such thing (or none the caller may see)."""


class Invalid(IntakeError):
    """A request that breaks a rule of its own fields; `field` names the one at fault."""

    def __init__(self, reason: str, field: str | None = None) -> None:
        super().__init__(reason)
        self.field = field


class Refused(IntakeError):
    """An action that may not happen."""


class Forbidden(Refused):
    """Not for this principal: the wrong role, office or region."""


class Conflict(Refused):
    """Not in the issue's current state (or an idempotency key still in flight)."""


class RateLimited(IntakeError):
    """Too many attempts from one client; try again after `retry_after` seconds."""

    def __init__(self, reason: str, retry_after: int) -> None:
        super().__init__(reason)
        self.retry_after = retry_after
