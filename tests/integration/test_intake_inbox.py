"""Intake's paged inbox on the real MongoDB-wire server: an office's open issues as lead and as
co-office, slim and due soonest first, read by indexed equalities only (no scan), each page in
order from an index (no sort in memory)."""

from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from pymongo import AsyncMongoClient

from services.contracts.events import IssueAssigned
from services.contracts.vocabulary import Satisfaction, Tier
from services.intake.adapters.store import IntakeStore
from services.intake.domain.rules import Principal, Role
from services.intake.handlers.inbox import InboxPages
from services.runtime.mongo import make_mongo_client
from services.runtime.query_log import explain_logged, read_log, sorts_in_memory
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
        views = await store.inbox_page("o1", None, 10)
        assert {v["_id"] for v in views} == {"lead", "helped"}
        assert all("history" not in v for v in views)
        pages = InboxPages(store, lambda: NOW)
        o1 = Principal(id="p", role=Role.OFFICE, office_id="o1")
        page = await pages.page(o1, None, 1)
        assert [i["issue_id"] for i in page["items"]] == ["helped"]  # due first
        assert page["items"][0]["co_handled"] and page["total"] == 2
        rest = await pages.page(o1, page["next"], 1)
        assert [i["issue_id"] for i in rest["items"]] == ["lead"] and rest["next"] is None
        full = await store.inbox("o1")
        assert {v["_id"] for v in full} == {"lead", "helped"} and "history" in full[0]
    finally:
        await mongo.close()
    explained = await assert_no_scan(noted, settings)
    # open issues only: by their state, or by an office's place in the inboxes (open only)
    assert {
        one.shape["filter"].get("state") is not None
        or any(key.startswith("inbox.") for key in one.shape["filter"])
        for one, _ in explained
    } == {True}
    client: AsyncMongoClient[dict[str, Any]] = AsyncMongoClient(settings.mongo_url)
    try:
        plans = await explain_logged(client, read_log(noted))
    finally:
        await client.close()
    sorted_ = [(one, plan) for one, _, plan in plans if one.query.get("sort")]
    assert any("$or" in one.shape["filter"] for one, _ in sorted_)  # a next page's keyset
    for one, plan in sorted_:
        assert not sorts_in_memory(plan), (one.shape, plan)
