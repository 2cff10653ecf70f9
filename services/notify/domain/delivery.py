"""A delivery's life: pending → sending → sent, or back to pending to retry, or dead.

The record is created once (its id is deterministic), claimed before each try (a lease: a
crashed sender's claim expires and the record is tried again), and marked sent only after
the channel accepted it. Pure decisions; the store writes them.
"""

from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum

from services.notify.domain.config import Retry
from services.notify.domain.schedule import backoff


class State(StrEnum):
    PENDING = "pending"
    SENDING = "sending"
    SENT = "sent"
    DEAD = "dead"
    SKIPPED = "skipped"
    """nobody to send it to: no address, no contact, the channel not set up (not a failure)"""


class SendError(Exception):
    """A channel refused or failed. `final`: no retry can help (no address, rejected)."""

    def __init__(self, reason: str, *, final: bool = False) -> None:
        super().__init__(reason)
        self.reason = reason
        self.final = final


class NoRecipient(SendError):
    """Nothing to send to on this channel: the message is skipped, not failed."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason, final=True)


@dataclass(frozen=True)
class AfterFailure:
    state: State
    due_at: datetime | None


def after_failure(attempts: int, error: SendError, now: datetime, retry: Retry) -> AfterFailure:
    """A failed try `attempts` (1 for the first): retry later, or dead after the last."""
    if isinstance(error, NoRecipient):
        return AfterFailure(State.SKIPPED, None)
    if error.final or attempts >= retry.attempts:
        return AfterFailure(State.DEAD, None)
    return AfterFailure(State.PENDING, now + backoff(attempts, retry))


@dataclass(frozen=True)
class Outgoing:
    """One message as a channel sends it. `message_id` is the delivery record's id: sent as
    Message-ID or idempotency key, so a receiver can drop the copy a crash may cause."""

    message_id: str
    to: str
    subject: str
    text: str
    kind: str
    issue_id: str
