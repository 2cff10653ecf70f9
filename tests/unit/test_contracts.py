import json
import uuid
from datetime import UTC, datetime

import pytest
from hypothesis import given
from hypothesis import strategies as st
from pydantic import ValidationError

from services.contracts.events import (
    EVENT_TYPES,
    ClockStarted,
    ClockStartedPayload,
    Envelope,
    IssueAssigned,
    IssueAssignedPayload,
    IssueReported,
    IssueReportedPayload,
    Location,
    UnknownEventType,
    decode,
    derived_event_id,
    encode,
    event_schema,
)
from services.contracts.lifecycle import STATE_AFTER
from services.contracts.vocabulary import Channel, ClockKind, Kind, Level


def reported(**payload: object) -> IssueReported:
    return IssueReported(
        issue_id="issue-1",
        producer="intake",
        payload=IssueReportedPayload(
            channel=Channel.HOTLINE,
            kind=Kind.COMPLAINT,
            text="路灯不亮",
            location=Location(region_code="410100", latitude=34.7, longitude=113.6),
            **payload,
        ),
    )


def test_every_lifecycle_event_of_the_domain_is_in_the_catalogue() -> None:
    lifecycle = {
        "IssueReported",
        "IssueAnswered",
        "IssueTriaged",
        "IssueMerged",
        "IssueAssigned",
        "IssueAccepted",
        "IssueReturned",
        "ProgressNoted",
        "ExtensionRequested",
        "ExtensionDecided",
        "IssueResolved",
        "IssueVerified",
        "IssueVisited",
        "IssueReopened",
        "IssueClosed",
        "ClockStarted",
        "ClockRescheduled",
        "ReminderSent",
        "IssueFlagged",
        "SupervisionOrdered",
        "IssueEscalated",
    }
    assert lifecycle == EVENT_TYPES
    assert set(STATE_AFTER) <= EVENT_TYPES


def test_round_trip_keeps_every_field() -> None:
    event = reported(media_urls=("https://example.org/a.jpg",), category="street_lighting")
    assert decode(encode(event)) == event


@given(
    text=st.text(min_size=1, max_size=200),
    channel=st.sampled_from(list(Channel)),
    kind=st.sampled_from(list(Kind)),
    lat=st.floats(-90, 90),
    lon=st.floats(-180, 180),
)
def test_round_trip_property(
    text: str, channel: Channel, kind: Kind, lat: float, lon: float
) -> None:
    event = IssueReported(
        issue_id="i",
        producer="intake",
        payload=IssueReportedPayload(
            channel=channel, kind=kind, text=text, location=Location(latitude=lat, longitude=lon)
        ),
    )
    assert decode(encode(event)) == event


def test_an_older_consumer_tolerates_a_field_a_newer_producer_added() -> None:
    document = json.loads(encode(reported()))
    document["added_in_v2"] = {"anything": 1}
    document["payload"]["priority"] = "high"
    event = decode(json.dumps(document).encode())
    assert isinstance(event, IssueReported)
    assert event.payload.text == "路灯不亮"


def test_an_unknown_event_type_is_told_apart_from_a_malformed_event() -> None:
    document = json.loads(encode(reported()))
    document["type"] = "IssueTeleported"
    with pytest.raises(UnknownEventType):
        decode(json.dumps(document).encode())
    with pytest.raises(ValidationError):
        decode(b'{"type": "IssueReported", "issue_id": "x"}')
    with pytest.raises(ValueError):
        decode(b"\x00not json")


def test_occurred_at_must_be_aware() -> None:
    document = json.loads(encode(reported()))
    document["occurred_at"] = "2026-11-22T10:00:00"
    with pytest.raises(ValidationError, match="timezone"):
        decode(json.dumps(document).encode())


def test_derived_ids_are_deterministic_and_distinct_per_effect() -> None:
    cause = uuid.uuid4()
    assert derived_event_id(cause, "assigned") == derived_event_id(cause, "assigned")
    assert derived_event_id(cause, "assigned") != derived_event_id(cause, "triaged")
    assert derived_event_id(cause, "assigned") != derived_event_id(uuid.uuid4(), "assigned")


def test_events_of_other_types_round_trip() -> None:
    now = datetime(2026, 11, 23, 9, 0, tzinfo=UTC)
    events: list[Envelope] = [
        IssueAssigned(
            issue_id="i",
            producer="routing",
            payload=IssueAssignedPayload(
                office_id="o", level=Level.TOWNSHIP, reason="r", co_office_ids=("a", "b")
            ),
        ),
        ClockStarted(
            issue_id="i",
            producer="supervision",
            payload=ClockStartedPayload(
                clock=ClockKind.ACCEPT, working_days=1, started_at=now, due_at=now
            ),
        ),
    ]
    for event in events:
        assert decode(encode(event)) == event


def test_the_schema_names_every_event_type() -> None:
    schema = json.dumps(event_schema())
    for name in EVENT_TYPES:
        assert name in schema


def test_every_event_type_has_an_owner_and_only_owners_may_write_the_facts_topic() -> None:
    """The owner table covers the catalogue, and compose's ACLs (deploy/kafka/init.sh) let
    exactly the owners write the facts topic."""
    from pathlib import Path

    from services.contracts.events import EVENT_TYPES
    from services.contracts.owners import OWNERS, PRODUCERS, owns

    assert set(OWNERS) == set(EVENT_TYPES)
    init = (Path(__file__).parents[2] / "deploy/kafka/init.sh").read_text(encoding="utf-8")
    writers = init.split("\nproducers=(")[1].split(")")[0].split()
    assert set(writers) == PRODUCERS == {"intake", "routing", "supervision"}
    assert owns("routing", "IssueAssigned") and not owns("intake", "IssueAssigned")
    assert not owns("anyone", "NoSuchType")
