"""The event log's contract: the envelope and the catalogue of issue events.

Events are facts in the log. A consumer tolerates fields it does not know (a newer
producer must not crash an older consumer); HTTP edges reject them instead.
Personal data never travels here: a reporter is a pseudonymous id.
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Callable, Mapping
from datetime import UTC, datetime
from typing import Annotated, Any, ClassVar, Literal

from pydantic import AwareDatetime, BaseModel, ConfigDict, Field, TypeAdapter, model_validator

from services.contracts.topics import SCHEMA_VERSION
from services.contracts.vocabulary import (
    Channel,
    ClockKind,
    Flag,
    Kind,
    Level,
    ReporterType,
    Rung,
    Satisfaction,
    Tier,
)


class Payload(BaseModel):
    model_config = ConfigDict(extra="ignore", frozen=True)

    version: ClassVar[int] = SCHEMA_VERSION
    """This payload type's schema version: raise it (and register an upcaster from the
    previous one, see `UPCASTERS`) when the type changes in a way an old reader cannot take."""


class Location(Payload):
    region_code: str | None = None
    latitude: float | None = Field(default=None, ge=-90, le=90)
    longitude: float | None = Field(default=None, ge=-180, le=180)
    address: str | None = None


class IssueReportedPayload(Payload):
    channel: Channel
    kind: Kind
    text: str = Field(min_length=1)
    category: str | None = None
    location: Location = Location()
    media_urls: tuple[str, ...] = ()
    reporter_id: str | None = Field(default=None, description="pseudonymous; None when anonymous")
    reporter_type: ReporterType = ReporterType.CITIZEN
    enterprise_id: str | None = None
    direct_handling: bool = Field(
        default=False,
        description="直办: answered at intake, never dispatched (IssueAnswered follows)",
    )


class IssueAnsweredPayload(Payload):
    """直办: answered at intake, never dispatched."""

    answered_by: str
    answer: str


class IssueTriagedPayload(Payload):
    category: str
    tier: Tier
    region_code: str
    reason: str
    region_path: tuple[str, ...] = Field(
        default=(),
        description="region codes from the city down to region_code, one per level of the "
        "tree (city, county, township, village, grid); empty in older events",
    )
    region_names: tuple[str, ...] = Field(
        default=(), description="the names of the regions of region_path, in the same order"
    )


class IssueMergedPayload(Payload):
    into_issue_id: str
    reason: str


class IssueAssignedPayload(Payload):
    office_id: str
    office_name: str = ""
    """The office's name in routing's configuration (empty on events from before it was set)."""
    co_office_ids: tuple[str, ...] = ()
    co_office_names: tuple[str, ...] = ()
    """The co-offices' names, in the order of `co_office_ids`."""
    level: Level
    rung: Rung = Rung.OFFICE
    reason: str


class OfficeAction(Payload):
    office_id: str


class IssueAcceptedPayload(OfficeAction):
    pass


class IssueReturnedPayload(OfficeAction):
    reason: str = Field(min_length=1)


class ProgressNotedPayload(OfficeAction):
    note: str = Field(min_length=1)


class ExtensionRequestedPayload(OfficeAction):
    working_days: int = Field(gt=0)
    reason: str = Field(min_length=1)


class ExtensionDecidedPayload(Payload):
    granted: bool
    working_days: int = Field(ge=0)
    decided_by: str
    reason: str


class IssueResolvedPayload(OfficeAction):
    result: str = Field(min_length=1)


class IssueVerifiedPayload(Payload):
    verified_by: str
    passed: bool
    note: str = ""


class IssueVisitedPayload(Payload):
    satisfaction: Satisfaction
    solved: bool
    reporter_id: str | None = None


class IssueReopenedPayload(Payload):
    reason: str


class IssueClosedPayload(Payload):
    reason: str = "done"


class ClockStartedPayload(Payload):
    clock: ClockKind
    office_id: str | None = None
    working_days: int = Field(ge=0)
    started_at: AwareDatetime
    due_at: AwareDatetime
    provisional: bool = Field(
        default=False,
        description="its steps reach a year no calendar knows yet: computed on the provisional "
        "rule (weekends and statutory holidays), recomputed when the year is declared",
    )


class ClockRescheduledPayload(Payload):
    """A clock's due times moved because its calendar changed (a year was declared)."""

    clock_id: str
    clock: ClockKind
    office_id: str | None = None
    reason: str = Field(description='why: "calendar_declared"')
    years: tuple[int, ...] = Field(default=(), description="the years newly declared")
    old_due_at: AwareDatetime
    new_due_at: AwareDatetime
    steps: dict[str, tuple[AwareDatetime, AwareDatetime]] = Field(
        default_factory=dict, description="each pending step's (old, new) due time"
    )
    provisional: bool = Field(default=False, description="still reaches an undeclared year")


class ReminderSentPayload(Payload):
    clock: ClockKind
    office_id: str | None = None
    threshold: float = Field(gt=0)


class IssueFlaggedPayload(Payload):
    flag: Flag
    clock: ClockKind
    office_id: str | None = None


class SupervisionOrderedPayload(Payload):
    clock: ClockKind
    office_id: str | None = None
    reason: str


class IssueEscalatedPayload(Payload):
    from_rung: Rung
    to_rung: Rung
    reason: str


class Envelope(BaseModel):
    """What every event carries, whatever its type."""

    model_config = ConfigDict(extra="ignore", frozen=True)

    event_id: uuid.UUID = Field(default_factory=uuid.uuid4)
    schema_version: int = SCHEMA_VERSION
    issue_id: str = Field(min_length=1)
    occurred_at: AwareDatetime = Field(default_factory=lambda: datetime.now(UTC))
    producer: str
    causation_id: uuid.UUID | None = None
    correlation_id: uuid.UUID | None = None

    @model_validator(mode="before")
    @classmethod
    def _versioned(cls, data: Any) -> Any:
        """A new event carries its type's current version (`Payload.version`)."""
        new = isinstance(data, dict) and "schema_version" not in data
        if new and "payload" in cls.model_fields:
            return {**data, "schema_version": cls.current_version()}
        return data

    @classmethod
    def current_version(cls) -> int:
        payload = cls.model_fields["payload"].annotation
        assert isinstance(payload, type) and issubclass(payload, Payload)
        return payload.version


class IssueReported(Envelope):
    type: Literal["IssueReported"] = "IssueReported"
    payload: IssueReportedPayload


class IssueAnswered(Envelope):
    type: Literal["IssueAnswered"] = "IssueAnswered"
    payload: IssueAnsweredPayload


class IssueTriaged(Envelope):
    type: Literal["IssueTriaged"] = "IssueTriaged"
    payload: IssueTriagedPayload


class IssueMerged(Envelope):
    type: Literal["IssueMerged"] = "IssueMerged"
    payload: IssueMergedPayload


class IssueAssigned(Envelope):
    type: Literal["IssueAssigned"] = "IssueAssigned"
    payload: IssueAssignedPayload


class IssueAccepted(Envelope):
    type: Literal["IssueAccepted"] = "IssueAccepted"
    payload: IssueAcceptedPayload


class IssueReturned(Envelope):
    type: Literal["IssueReturned"] = "IssueReturned"
    payload: IssueReturnedPayload


class ProgressNoted(Envelope):
    type: Literal["ProgressNoted"] = "ProgressNoted"
    payload: ProgressNotedPayload


class ExtensionRequested(Envelope):
    type: Literal["ExtensionRequested"] = "ExtensionRequested"
    payload: ExtensionRequestedPayload


class ExtensionDecided(Envelope):
    type: Literal["ExtensionDecided"] = "ExtensionDecided"
    payload: ExtensionDecidedPayload


class IssueResolved(Envelope):
    type: Literal["IssueResolved"] = "IssueResolved"
    payload: IssueResolvedPayload


class IssueVerified(Envelope):
    type: Literal["IssueVerified"] = "IssueVerified"
    payload: IssueVerifiedPayload


class IssueVisited(Envelope):
    type: Literal["IssueVisited"] = "IssueVisited"
    payload: IssueVisitedPayload


class IssueReopened(Envelope):
    type: Literal["IssueReopened"] = "IssueReopened"
    payload: IssueReopenedPayload


class IssueClosed(Envelope):
    type: Literal["IssueClosed"] = "IssueClosed"
    payload: IssueClosedPayload


class ClockStarted(Envelope):
    type: Literal["ClockStarted"] = "ClockStarted"
    payload: ClockStartedPayload


class ClockRescheduled(Envelope):
    type: Literal["ClockRescheduled"] = "ClockRescheduled"
    payload: ClockRescheduledPayload


class ReminderSent(Envelope):
    type: Literal["ReminderSent"] = "ReminderSent"
    payload: ReminderSentPayload


class IssueFlagged(Envelope):
    type: Literal["IssueFlagged"] = "IssueFlagged"
    payload: IssueFlaggedPayload


class SupervisionOrdered(Envelope):
    type: Literal["SupervisionOrdered"] = "SupervisionOrdered"
    payload: SupervisionOrderedPayload


class IssueEscalated(Envelope):
    type: Literal["IssueEscalated"] = "IssueEscalated"
    payload: IssueEscalatedPayload


Event = Annotated[
    IssueReported
    | IssueAnswered
    | IssueTriaged
    | IssueMerged
    | IssueAssigned
    | IssueAccepted
    | IssueReturned
    | ProgressNoted
    | ExtensionRequested
    | ExtensionDecided
    | IssueResolved
    | IssueVerified
    | IssueVisited
    | IssueReopened
    | IssueClosed
    | ClockStarted
    | ClockRescheduled
    | ReminderSent
    | IssueFlagged
    | SupervisionOrdered
    | IssueEscalated,
    Field(discriminator="type"),
]

EVENT_ADAPTER: TypeAdapter[Event] = TypeAdapter(Event)
EVENT_TYPES: frozenset[str] = frozenset(
    model.model_fields["type"].default for model in Envelope.__subclasses__()
)


VERSIONS: dict[str, int] = {
    model.model_fields["type"].default: model.current_version()
    for model in Envelope.__subclasses__()
}
"""The current schema version of each event type."""

Upcaster = Callable[[dict[str, Any]], dict[str, Any]]
UPCASTERS: dict[tuple[str, int], Upcaster] = {}
"""(type, version) → a function that turns that version's JSON object into the next
version's. Every version below a type's current one needs one, so the old log keeps
decoding; a sample of each version lives in tests/fixtures/events/."""


def upcaster(type_: str, from_version: int) -> Callable[[Upcaster], Upcaster]:
    """Register `function` as the upcaster of `type_` from `from_version` to the next."""

    def register(function: Upcaster) -> Upcaster:
        UPCASTERS[(type_, from_version)] = function
        return function

    return register


class UnknownEventType(ValueError):
    """The event's type is not in this consumer's catalogue (a newer producer wrote it)."""


class UnsupportedVersion(ValueError):
    """The event's schema version is one this consumer cannot read (dead-letter it)."""


class Decoder:
    """Decodes bytes of the log at the current version of each type, upcasting older ones."""

    def __init__(
        self, versions: Mapping[str, int], upcasters: Mapping[tuple[str, int], Upcaster]
    ) -> None:
        self.versions = versions
        self.upcasters = upcasters

    def decode(self, raw: bytes) -> Event:
        header = _HEADER.validate_json(raw)
        current = self.versions.get(header.type)
        if current is None:
            raise UnknownEventType(header.type)
        version = header.schema_version
        if version == current:
            return EVENT_ADAPTER.validate_json(raw)
        steps = range(version, current) if 1 <= version < current else None
        if steps is None or any((header.type, v) not in self.upcasters for v in steps):
            raise UnsupportedVersion(
                f"{header.type} version {_short(version)} (this reader knows 1..{current})"
            )
        data = json.loads(raw)
        for v in steps:
            data = {**self.upcasters[(header.type, v)](data), "schema_version": v + 1}
        return EVENT_ADAPTER.validate_python(data)


DECODER = Decoder(VERSIONS, UPCASTERS)


def decode(raw: bytes) -> Event:
    """Bytes from the log → a typed event, at its type's current version.

    Raises `UnknownEventType` for a type this catalogue does not know (to be skipped,
    not dead-lettered), `UnsupportedVersion` for a version it cannot read (newer than
    its own, or without an upcaster), and pydantic's `ValidationError` (a `ValueError`)
    for anything malformed.
    """
    return DECODER.decode(raw)


def _short(version: int) -> str:
    text = str(version)
    return text if len(text) <= 12 else f"{text[:6]}…({len(text)} digits)"


def encode(event: Envelope) -> bytes:
    return event.model_dump_json().encode()


class _Header(BaseModel):
    model_config = ConfigDict(extra="ignore")
    type: str
    schema_version: int = SCHEMA_VERSION


_HEADER = TypeAdapter(_Header)


def derived_event_id(cause: uuid.UUID, effect: str) -> uuid.UUID:
    """A deterministic id for an event derived from another: a replay yields the same id."""
    return uuid.uuid5(cause, effect)


def event_schema() -> dict[str, Any]:
    """JSON Schema of every event (the source for the AsyncAPI document)."""
    return EVENT_ADAPTER.json_schema()
