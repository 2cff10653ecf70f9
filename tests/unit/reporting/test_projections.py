"""Pure projection rules of intake and reporting: what one event changes."""

from zoneinfo import ZoneInfo

from services.contracts.events import (
    IssueAssigned,
    IssueAssignedPayload,
    IssueReported,
    IssueReportedPayload,
)
from services.contracts.vocabulary import Channel, Kind, Level
from services.intake.domain.privacy import Privacy
from services.intake.domain.view import history_in_order, view_update
from tests.unit.reporting.reporting_fold import view

REPORTED = IssueReported(
    issue_id="i",
    producer="intake",
    payload=IssueReportedPayload(
        channel=Channel.GRID, kind=Kind.REPORT, text="井盖丢失", reporter_id="pseudonym-1"
    ),
)
ASSIGNED = IssueAssigned(
    issue_id="i",
    producer="routing",
    payload=IssueAssignedPayload(office_id="street-1", level=Level.TOWNSHIP, reason="because"),
)


def test_the_status_view_follows_the_assignment() -> None:
    fields = view_update(ASSIGNED, 7)["$set"]
    assert fields["state"] == "assigned"
    assert (fields["office_id"], fields["level"]) == ("street-1", "township")


def test_the_history_entry_carries_no_reporter_id_or_text() -> None:
    entry = view_update(REPORTED, 3)["$set"][f"history.{REPORTED.event_id}"]
    assert entry["offset"] == 3
    assert entry["type"] == "IssueReported"
    assert "reporter_id" not in entry and "text" not in entry


def test_reporting_counts_the_day_in_local_time() -> None:
    fields = view([REPORTED])
    expected = REPORTED.occurred_at.astimezone(ZoneInfo("Asia/Shanghai")).date().isoformat()
    assert fields["reported_day"] == expected
    assert (fields["channel"], fields["kind"], fields["state"]) == ("grid", "report", "received")


def test_receipt_codes_are_readable_stable_and_unlikely_to_collide() -> None:
    privacy = Privacy("a secret")
    codes = {privacy.receipt_code(f"issue-{n}") for n in range(2000)}
    assert len(codes) == 2000
    assert all(len(c) == 10 and c.isalnum() and not set(c) & set("01IO") for c in codes)
    assert privacy.receipt_code("issue-1") == Privacy("a secret").receipt_code("issue-1")
    assert privacy.receipt_code("issue-1") != Privacy("another").receipt_code("issue-1")


def test_history_reads_back_in_log_order_whatever_the_map_order() -> None:
    history = {
        "b": {"offset": 9, "type": "IssueAssigned"},
        "a": {"offset": 2, "type": "IssueReported"},
    }
    assert [h["type"] for h in history_in_order(history)] == ["IssueReported", "IssueAssigned"]
