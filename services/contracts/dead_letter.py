"""What a service puts on the dead-letter topic: the original bytes and why they failed."""

import base64
from datetime import UTC, datetime

from pydantic import AwareDatetime, BaseModel, ConfigDict, Field

ORIGIN_PARTITION = "huiyin-origin-partition"
ORIGIN_OFFSET = "huiyin-origin-offset"
"""Headers of a record replayed into a retry topic: where its event sits in the facts log."""


class DeadLetter(BaseModel):
    model_config = ConfigDict(extra="ignore", frozen=True)

    service: str
    reason: str = Field(
        description="invalid_event | unsupported_version | foreign_producer | handler_failed"
        " | a handler's own verdict, e.g. unknown_office"
    )
    error: str
    topic: str = Field(description="the facts topic the event was read from")
    partition: int = Field(description="its partition there (a replayed event: the original's)")
    offset: int = Field(description="its offset there (a replayed event: the original's)")
    key: str | None = None
    original_b64: str = Field(description="the message value exactly as it was read, base64")
    failed_at: AwareDatetime = Field(default_factory=lambda: datetime.now(UTC))

    @property
    def original(self) -> bytes:
        return base64.b64decode(self.original_b64)

    @staticmethod
    def wrap(raw: bytes) -> str:
        return base64.b64encode(raw).decode()
