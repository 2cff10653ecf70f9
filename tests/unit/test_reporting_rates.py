"""Reporting's facts and rates over a scripted set of issues, against hand-computed figures."""

from datetime import UTC, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from services.contracts.events import (
    ClockStarted,
    ClockStartedPayload,
    Envelope,
    IssueAccepted,
    IssueAcceptedPayload,
    IssueAnswered,
    IssueAnsweredPayload,
    IssueAssigned,
    IssueAssignedPayload,
    IssueMerged,
    IssueMergedPayload,
    IssueReopened,
    IssueReopenedPayload,
    IssueReported,
    IssueReportedPayload,
    IssueResolved,
    IssueResolvedPayload,
    IssueVisited,
    IssueVisitedPayload,
)
from services.contracts.vocabulary import Channel, ClockKind, Kind, Level, Satisfaction
from services.reporting.domain import fact_update, rates

T0 = datetime(2026, 11, 23, 1, 0, tzinfo=UTC)
SHANGHAI = ZoneInfo("Asia/Shanghai")


def apply(doc: dict[str, Any], update: dict[str, Any]) -> None:
    """What MongoDB does with $set / $min / $max on dotted paths (enough for these facts)."""
    for op, fields in update.items():
        for path, value in fields.items():
            *parents, leaf = path.split(".")
            target = doc
            for part in parents:
                target = target.setdefault(part, {})
            old = target.get(leaf)
            if op == "$set" or old is None:
                target[leaf] = value
            elif op == "$min":
                target[leaf] = min(old, value)
            elif op == "$max":
                target[leaf] = max(old, value)


def fold(events: list[Envelope], twice: bool = False) -> dict[str, Any]:
    doc: dict[str, Any] = {}
    for event in events * (2 if twice else 1):
        apply(doc, fact_update(event, SHANGHAI))  # type: ignore[arg-type]
    return doc


def issue(n: int, *steps: str, late: bool = False) -> list[Envelope]:
    i, at = f"issue-{n}", T0 + timedelta(minutes=n)
    events: list[Envelope] = [
        IssueReported(issue_id=i, producer="t", occurred_at=at, payload=IssueReportedPayload(
            channel=Channel.HOTLINE, kind=Kind.COMPLAINT, text="x")),
    ]  # fmt: skip
    due = at + timedelta(days=1)
    for step in steps:
        at += timedelta(hours=30 if late else 1)
        common = {"issue_id": i, "producer": "t", "occurred_at": at}
        match step:
            case "assign":
                events += [
                    IssueAssigned(**common, payload=IssueAssignedPayload(
                        office_id="o1", level=Level.TOWNSHIP, reason="r")),
                    ClockStarted(**common, payload=ClockStartedPayload(
                        clock=ClockKind.ACCEPT, working_days=1, started_at=at, due_at=due)),
                ]  # fmt: skip
            case "accept":
                events.append(IssueAccepted(**common, payload=IssueAcceptedPayload(office_id="o1")))
            case "resolve":
                events.append(IssueResolved(**common, payload=IssueResolvedPayload(
                    office_id="o1", result="done")))  # fmt: skip
            case "happy" | "unhappy":
                satisfaction = (
                    Satisfaction.SATISFIED if step == "happy" else Satisfaction.DISSATISFIED
                )
                events.append(IssueVisited(**common, payload=IssueVisitedPayload(
                    satisfaction=satisfaction, solved=step == "happy")))  # fmt: skip
            case "reopen":
                events.append(IssueReopened(**common, payload=IssueReopenedPayload(reason="r")))
            case "answer":
                events.append(IssueAnswered(**common, payload=IssueAnsweredPayload(
                    answered_by="op", answer="a")))  # fmt: skip
            case "merge":
                events.append(IssueMerged(**common, payload=IssueMergedPayload(
                    into_issue_id="issue-0", reason="same pipe")))  # fmt: skip
    return events


def test_a_scripted_day_gives_the_hand_computed_rates() -> None:
    day = [
        issue(0, "assign", "accept", "resolve", "happy"),
        issue(1, "assign", "accept", "resolve", "unhappy", "reopen", "accept", "resolve", "happy"),
        issue(2, "assign", "accept", late=True),  # accepted after its accept clock
        issue(3, "answer", "happy"),  # 直办, then visited
        issue(4, "merge"),
        issue(5, "assign"),
    ]
    facts = [fold(events) for events in day]
    result = rates(facts)
    assert (result.received, result.assigned, result.answered_directly) == (6, 4, 1)
    assert result.response_rate == 0.5  # issues 0 and 1 on time; 2 late; 5 never accepted
    assert result.completion_rate == 0.5  # 0 and 1 of 4 assigned
    assert (result.visited, result.solved, result.satisfied) == (3, 3, 3)  # last visit counts
    assert result.satisfaction_rate == result.resolution_rate == 1.0
    assert result.reopen_rate == 0.5  # issue 1 of the two resolved
    assert result.direct_handling_rate == round(1 / 6, 4)
    assert result.duplicate_rate == round(1 / 6, 4)
    assert facts[0]["reported_day"] == "2026-11-23"


def test_facts_are_the_same_when_every_event_is_delivered_twice() -> None:
    events = issue(1, "assign", "accept", "resolve", "unhappy", "reopen", "resolve", "happy")
    assert fold(events, twice=True) == fold(events)


def test_no_base_no_rate() -> None:
    assert rates([]).response_rate is None
