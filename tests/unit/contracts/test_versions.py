"""Events evolve without breaking: a version per event type, committed samples of every
type and version that keep decoding, upcasters from old versions, and versions this
reader does not know refused (the consumer dead-letters them as `unsupported_version`)."""

import json
from pathlib import Path
from typing import Any

import pytest

from services.contracts.events import (
    EVENT_TYPES,
    UPCASTERS,
    VERSIONS,
    Decoder,
    IssueClosed,
    IssueClosedPayload,
    UnsupportedVersion,
    decode,
    encode,
)

SAMPLES = Path(__file__).parents[2] / "fixtures" / "events"


def samples() -> list[Path]:
    return sorted(SAMPLES.glob("*.json"))


@pytest.mark.parametrize("sample", samples(), ids=lambda p: p.stem)
def test_every_committed_sample_decodes(sample: Path) -> None:
    raw = sample.read_bytes()
    type_, version = sample.stem.split(".v")
    assert json.loads(raw)["type"] == type_
    assert json.loads(raw)["schema_version"] == int(version)
    event = decode(raw)
    assert event.type == type_
    assert event.schema_version == VERSIONS[type_]  # upcast to the current version


def test_every_type_and_version_has_a_sample() -> None:
    have = {p.stem for p in samples()}
    wanted = {f"{t}.v{v}" for t in EVENT_TYPES for v in range(1, VERSIONS[t] + 1)}
    assert sorted(wanted - have) == [], "commit a sample under tests/fixtures/events/"


def test_every_version_below_the_current_one_has_an_upcaster() -> None:
    missing = [
        (t, v) for t in EVENT_TYPES for v in range(1, VERSIONS[t]) if (t, v) not in UPCASTERS
    ]
    assert missing == []


def test_a_new_event_carries_its_types_version() -> None:
    closed = IssueClosed(issue_id="i", producer="test", payload=IssueClosedPayload())
    assert closed.schema_version == IssueClosedPayload.version == VERSIONS["IssueClosed"]


def closed_at(version: int | str) -> bytes:
    closed = IssueClosed(issue_id="i", producer="test", payload=IssueClosedPayload())
    return encode(closed).replace(b'"schema_version":1', f'"schema_version":{version}'.encode())


@pytest.mark.parametrize("version", [2, 99, 10**30, 0, -1])
def test_a_version_this_reader_does_not_know_is_refused(version: int) -> None:
    with pytest.raises(UnsupportedVersion, match="IssueClosed version"):
        decode(closed_at(version))


def test_an_older_version_is_upcast_step_by_step_to_the_current_one() -> None:
    """A synthetic catalogue where IssueClosed is at version 3: a v1 event goes through
    the v1→v2 and v2→v3 upcasters."""

    def v1_to_v2(data: dict[str, Any]) -> dict[str, Any]:  # v2 renamed reason → why
        payload = dict(data["payload"])
        payload["why"] = payload.pop("reason")
        return {**data, "payload": payload}

    def v2_to_v3(data: dict[str, Any]) -> dict[str, Any]:  # v3 is v1's shape, upper case
        payload = dict(data["payload"])
        payload["reason"] = payload.pop("why").upper()
        return {**data, "payload": payload}

    decoder = Decoder(
        {**VERSIONS, "IssueClosed": 3},
        {("IssueClosed", 1): v1_to_v2, ("IssueClosed", 2): v2_to_v3},
    )
    event = decoder.decode(closed_at(1))
    assert isinstance(event, IssueClosed)
    assert (event.schema_version, event.payload.reason) == (3, "DONE")
    v2 = json.loads(closed_at(2))
    v2["payload"] = {"why": "merged"}
    assert decoder.decode(json.dumps(v2).encode()).payload.reason == "MERGED"  # type: ignore[union-attr]
    with pytest.raises(UnsupportedVersion):
        decoder.decode(closed_at(4))
    without_a_step = Decoder({**VERSIONS, "IssueClosed": 3}, {("IssueClosed", 2): v2_to_v3})
    with pytest.raises(UnsupportedVersion):
        without_a_step.decode(closed_at(1))


def test_every_sample_is_written_by_the_owner_of_its_type() -> None:
    """The samples are what the log holds: a consumer would dead-letter any other producer."""
    from services.contracts.owners import owns

    for path in sorted(SAMPLES.glob("*.json")):
        event = decode(path.read_bytes())
        assert owns(event.producer, event.type), path.name
