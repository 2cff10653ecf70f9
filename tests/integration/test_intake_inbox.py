"""Intake's paged inbox on the real MongoDB-wire server: an office's open issues as lead and as
co-office, slim and due soonest first, read by indexed equalities only (no scan)."""

from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from services.contracts.events import IssueAssigned
from services.contracts.vocabulary import Satisfaction, Tier
from services.intake.adapters.store import IntakeStore
from services.intake.domain.inbox import page_of
from services.runtime.mongo import make_mongo_client
from services.runtime.settings import PlatformSettings
from tests.integration.test_no_scan import assert_no_scan
from tests.reporting_events import Story

NOW = datetime.now(UTC)


def lives() -> list[Any]:
    lead = Story("lead", NOW - timedelta(hours=5)).triage().assign("o1", resolve_days=2)
    other = Story("other", NOW - timedelta(hours=5)).triage().assign("o2", resolve_days=1)
    helped = Story("helped", NOW - timedelta(hours=5)).triage(Tier.COMPLEX)
    helped.assign("o2", resolve_days=1)
    assigned = next(e for e in helped.events if isinstance(e, IssueAssigned))
    payload = assigned.payload.model_copy(update={"co_office_ids": ("o1",)})
    helped.events[helped.events.index(assigned)] = assigned.model_copy(update={"payload": payload})
    done = Story("done", NOW - timedelta(hours=5)).triage().assign("o1").accept(1).resolve(1)
    done.visit(Satisfaction.SATISFIED, True, 1).close(1)
    return [lead, other, helped, done]


async def test_an_office_inbox_is_read_by_its_indexes(
    settings: PlatformSettings, tmp_path: Path
) -> None:
    noted = tmp_path / "queries.jsonl"
    settings = settings.model_copy(update={"mongo_explain_log": noted})
    mongo = make_mongo_client(settings)
    try:
        store = IntakeStore(mongo[settings.database("intake")])
        await store.ensure_indexes()
        offset = 0
        for story in lives():
            for event in story.events:
                await store.apply(event, offset)
                offset += 1
        noted.unlink()  # the reads alone
        views = await store.inbox_items("o1")
        assert {v["_id"] for v in views} == {"lead", "helped"}
        assert all("history" not in v for v in views)
        page = page_of(views, "o1", NOW, None, 1)
        assert [i["issue_id"] for i in page["items"]] == ["helped"]  # due first
        assert page["items"][0]["co_handled"] and page["total"] == 2
        rest = page_of(views, "o1", NOW, page["next"], 1)
        assert [i["issue_id"] for i in rest["items"]] == ["lead"] and rest["next"] is None
        full = await store.inbox("o1")
        assert {v["_id"] for v in full} == {"lead", "helped"} and "history" in full[0]
    finally:
        await mongo.close()
    explained = await assert_no_scan(noted, settings)
    assert {one.shape["filter"].get("state") is not None for one, _ in explained} == {True}
