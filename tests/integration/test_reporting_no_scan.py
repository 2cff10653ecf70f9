"""No scan in reporting's write path or request path (issue 18 item 3): a consumer batch is
counted and every HTTP read is asked (the lists a page at a time and as CSV, the backlog,
the bulletin), with the query log on; then every query shape is explained by the engine
(`test_no_scan.assert_no_scan`). Reporting's point reads and writes are by `_id` (fact
documents, cells, the generation pointer); the lists and the bulletin's backlog select on
an equality on an indexed view field (a list's key, unsolved, the period's months, an
office: `adapters/store.py: INDEXED`)."""

import random
from datetime import datetime
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import httpx
from fastapi import FastAPI

from bench.scale import CATEGORIES, OFFICES, story
from services.reporting.adapters.store import ReportingStore
from services.reporting.bulletins.http import build_bulletin_router
from services.reporting.bulletins.service import Bulletins, BulletinSettings
from services.reporting.domain.facts import FactRules
from services.reporting.domain.rankings import Weights
from services.reporting.entrypoints.api import build_router
from services.reporting.entrypoints.errors import register_errors
from services.reporting.entrypoints.lists import build_lists_router
from services.reporting.entrypoints.metrics import DomainMetrics
from services.reporting.handlers import ReportingHandlers
from services.runtime.consumer import Delivered, Delivery
from services.runtime.mongo import make_mongo_client
from services.runtime.settings import PlatformSettings
from tests.integration.test_no_scan import assert_no_scan

SHANGHAI = ZoneInfo("Asia/Shanghai")
NOW = datetime(2026, 1, 5, 9, tzinfo=SHANGHAI)
MONTH = {"period": "month", "on": "2025-06-15"}


def app_of(store: ReportingStore) -> FastAPI:
    weights = Weights(1, 1, 1)
    app = FastAPI()
    app.include_router(build_router(store, weights, (1, 7, 30, 90), now=lambda: NOW))
    app.include_router(build_lists_router(store, 30, now=lambda: NOW))
    bulletins = Bulletins(
        store, BulletinSettings(), timezone=SHANGHAI, weights=weights, backlog_days=30,
        now=lambda: NOW,
    )  # fmt: skip
    app.include_router(build_bulletin_router(bulletins))
    register_errors(app)
    return app


async def test_reporting_asks_nothing_that_scans(
    settings: PlatformSettings, tmp_path: Path
) -> None:
    noted = tmp_path / "queries.jsonl"
    settings = settings.model_copy(update={"mongo_explain_log": noted})
    rng = random.Random(18)
    events = sorted((e for n in range(40) for e in story(n, rng)), key=lambda e: e.occurred_at)
    client = make_mongo_client(settings)
    store = ReportingStore(client[settings.database("reporting")], FactRules(SHANGHAI))
    try:
        await store.ensure_indexes()
        handlers = ReportingHandlers(store)
        half = len(events) // 2
        for batch in (events[:half], events[half:], events[:10]):  # the last: copies
            await handlers.handle_batch([Delivered(e, Delivery(0, i)) for i, e in enumerate(batch)])
        reads: list[tuple[str, dict[str, Any]]] = [
            ("/counts", {}),
            ("/counts", {"day": "2025-06-15", "by": "office_id"}),
            ("/rates", MONTH),
            ("/rates", MONTH | {"office_id": OFFICES[0], "category": CATEGORIES[0]}),
            ("/rankings", MONTH),
            ("/open", MONTH),
            ("/durations", MONTH),
            ("/backlog-age", {}),
            ("/backlog-age", {"region_code": "411901"}),
            ("/lists/problems", MONTH | {"page_size": 5}),
            ("/lists/problems", MONTH | {"region_code": "411901", "page_size": 2}),
            ("/lists/tasks", MONTH | {"office_id": OFFICES[1]}),
            ("/lists/tasks", {"page_size": 3}),
            ("/lists/results", MONTH | {"format": "csv"}),
            ("/lists/backlog", {}),
            ("/bulletins/weekly", {"on": "2025-06-16", "format": "html"}),
        ]
        transport = httpx.ASGITransport(app=app_of(store))
        async with httpx.AsyncClient(transport=transport, base_url="http://test") as http:
            for path, params in reads:
                answer = await http.get(path, params=params)
                assert answer.status_code == 200, (path, answer.text[:300])
                paged = path.startswith("/lists/") and params.get("format") != "csv"
                following = answer.json().get("next") if paged else None
                if following:  # the next page, from the cursor
                    more = await http.get(path, params=params | {"cursor": following})
                    assert more.status_code == 200, (path, more.text[:300])
        await DomainMetrics(store, now=lambda: NOW).refresh()
    finally:
        await client.close()
    logged = await assert_no_scan(noted, settings, ordered=True)
    collections = {one.collection for one, _ in logged}
    assert {"issue_facts", "issue_cells"} <= collections
