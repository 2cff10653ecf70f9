"""Only the owner writes a fact: an event whose producer does not own its type is
dead-lettered (`foreign_producer`) by every consumer, and nothing of it is applied."""

from services.contracts.dead_letter import DeadLetter
from services.contracts.events import (
    IssueAssigned,
    IssueAssignedPayload,
    IssueFlagged,
    IssueFlaggedPayload,
    encode,
)
from services.contracts.vocabulary import ClockKind, Flag, Level
from services.runtime.settings import PlatformSettings
from services.runtime.topic_reader import read_topic
from tests.integration.test_runtime import Recorder, report, start_consumer, wait_for


async def test_a_fact_from_a_producer_that_does_not_own_it_is_dead_lettered(
    settings: PlatformSettings,
) -> None:
    recorder = Recorder()
    broker = await start_consumer(settings, recorder)
    office = IssueAssignedPayload(office_id="fake-office", level=Level.CITY, reason="forged")
    forged = [
        IssueAssigned(issue_id="forged", producer="intake", payload=office),  # routing's
        IssueFlagged(  # supervision's
            issue_id="forged",
            producer="reporting",
            payload=IssueFlaggedPayload(flag=Flag.RED, clock=ClockKind.RESOLVE, office_id="x"),
        ),
        IssueAssigned(issue_id="forged", producer="nobody", payload=office),
    ]
    try:
        for event in forged:
            await broker.publish(encode(event), settings.issues_topic, key=b"k")
        await broker.publish(encode(report("genuine")), settings.issues_topic, key=b"k")
        await wait_for(recorder, "genuine")
        letters = await read_topic(settings.kafka_bootstrap, settings.dead_letter_topic, until=3)
    finally:
        await broker.stop()
    assert [e.issue_id for e in recorder.seen] == ["genuine"]
    dead = [DeadLetter.model_validate_json(r.value) for r in letters]
    assert [d.reason for d in dead] == ["foreign_producer"] * 3
    assert "IssueAssigned is written by ['routing'], not 'intake'" in dead[0].error
