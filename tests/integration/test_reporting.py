"""Reporting on the real broker and database behind a real HTTP server: a scripted day of
known events, and every rate, ranking and list checked against figures computed by hand.

The day, Monday 12 October 2026, from 09:00 in Shanghai (county A = 411901 with townships
T1 = 411901001 and T2 = 411901002; county B = 411902 with township T3 = 411902001). Each
issue's steps are hours after its previous step; clocks: accept 24 h, resolve 72 h.

  i01 T1 street-1: accepted 1 h, resolved 5 h later, satisfied and solved, closed
  i02 T1 street-1: accepted 2 h, resolved 30 h later, dissatisfied → reopened, back to
      street-1, accepted, resolved again, basically satisfied and solved
  i03, i04 T1: duplicates merged into i01
  i05 T2 street-2: ignored — reminded, yellow, red, supervision order, escalated to county-a
      (center rung), accepted 37 h after assignment, resolved at 47 h, dissatisfied, unsolved
  i06 T2 street-2, sanitation: accepted 3 h, resolved at 80 h (late), basically satisfied,
      not solved
  i07 411902001001: answered directly at intake (直办), satisfied and solved
  i08 T3 street-3 returns it after 2 h; district-b accepts 30 h later (late), resolves at
      52.1 h, satisfied and solved
  i09 T3 street-3, sanitation: accepted 5 h, still open
  i10 T1 street-1, reported the next day: accepted 1 h, still open
"""

import asyncio
import base64
import os
import subprocess
import sys
from datetime import datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import httpx
import pytest

from services.contracts.events import Envelope, decode
from services.contracts.vocabulary import Flag, Level, Satisfaction
from services.reporting.adapters.store import ReportingStore
from services.reporting.domain import cells
from services.reporting.domain.facts import FactRules
from services.reporting.handlers import ReportingHandlers
from services.runtime.settings import PlatformSettings
from services.runtime.topic_reader import read_topic
from tests.integration.reporting_harness import (
    ADMIN_TOKEN,
    caught_up,
    count_cells,
    projection,
    publish,
    rebuilt,
    serving,
)
from tests.reporting_events import Story
from tests.unit.reporting.reporting_fold import fold

SHANGHAI = ZoneInfo("Asia/Shanghai")
T0 = datetime(2026, 10, 12, 9, 0, tzinfo=SHANGHAI)
SAT, BASIC, DISSAT = (
    Satisfaction.SATISFIED, Satisfaction.BASICALLY_SATISFIED, Satisfaction.DISSATISFIED
)  # fmt: skip
WEIGHTS = {"response": 0.2, "resolution": 0.4, "satisfaction": 0.4}
DAY = {"period": "day", "on": "2026-10-12"}


def m(n: int) -> datetime:
    return T0 + timedelta(minutes=n)


def scripted_day() -> list[Envelope]:
    i01 = (
        Story("i01", m(0), region="411901001001").triage().assign("street-1")
        .accept(1).resolve(5).visit(SAT, True, 2).close(1)
    )  # fmt: skip
    stories = [
        i01,
        Story("i02", m(10), region="411901001002").triage().assign("street-1")
        .accept(2).resolve(30).visit(DISSAT, False, 2).reopen(0)
        .assign("street-1", 0.1).accept(1).resolve(4, "换了新灯").visit(BASIC, True, 2),
        Story("i03", m(20), region="411901001001").triage().merge_into(i01, 0.1),
        Story("i04", m(30), region="411901001003").triage().merge_into(i01, 0.1),
        Story("i05", m(40), region="411901002001").triage().assign("street-2")
        .remind(12).flag(Flag.YELLOW, 12).flag(Flag.RED, 12)
        .supervise_and_escalate("county-a", 0).accept(1).resolve(10).visit(DISSAT, False, 2),
        Story("i06", m(50), region="411901002002", category="sanitation").triage()
        .assign("street-2").accept(3).resolve(77).visit(BASIC, False, 2),
        Story("i07", m(60), region="411902001001", direct=True).answer(0.1).visit(SAT, True, 3),
        Story("i08", m(70), region="411902001002").triage().assign("street-3").give_back(2)
        .assign("district-b", 0.1, level=Level.COUNTY).accept(30).resolve(20)
        .visit(SAT, True, 2),
        Story("i09", m(80), region="411902001003", category="sanitation").triage()
        .assign("street-3").accept(5),
        Story("i10", m(24 * 60), region="411901001004").triage().assign("street-1").accept(1),
    ]  # fmt: skip
    return [event for story in stories for event in story.events]


async def get(client: httpx.AsyncClient, path: str, **params: Any) -> Any:
    answer = await client.get(path, params=params)
    assert answer.status_code == 200, answer.text
    return answer.json()


COUNTS = [
    "received",
    "answered_directly",
    "assigned",
    "accepted_on_time",
    "resolved",
    "resolved_on_time",
    "visited",
    "solved",
    "satisfied",
    "reopened",
    "merged",
]


def rates_of(body: dict[str, Any]) -> dict[str, Any]:
    names = COUNTS
    return {n: body[n] for n in names} | {n: body[n] for n in body if n.endswith("_rate")}


def counts(*values: int) -> dict[str, int]:
    """The counts in the order of COUNTS."""
    return dict(zip(COUNTS, values, strict=True))


def rated(c: dict[str, int]) -> dict[str, Any]:
    def r(part: int, whole: int) -> float | None:
        return None if whole == 0 else round(part / whole, 4)

    return c | {
        "direct_handling_rate": r(c["answered_directly"], c["received"]),
        "response_rate": r(c["accepted_on_time"], c["assigned"]),
        "completion_rate": r(c["resolved"], c["assigned"]),
        "on_time_rate": r(c["resolved_on_time"], c["resolved"]),
        "resolution_rate": r(c["solved"], c["visited"]),
        "satisfaction_rate": r(c["satisfied"], c["visited"]),
        "reopen_rate": r(c["reopened"], c["resolved"]),
        "duplicate_rate": r(c["merged"], c["received"]),
    }


@pytest.fixture
async def reporting(settings: PlatformSettings) -> Any:
    async with serving(settings, ranking_weights=WEIGHTS) as client:
        await publish(settings, scripted_day())
        await caught_up(settings)
        yield client


async def test_the_rates_of_a_scripted_day(reporting: httpx.AsyncClient) -> None:
    day = await get(reporting, "/rates", **DAY)
    assert (day["start"], day["end"]) == ("2026-10-12", "2026-10-12")
    # received 9 (i01–i09); 1 direct (i07); assigned 6 (i01 i02 i05 i06 i08 i09); accepted
    # on time 4 (not i05, i08); resolved 5 (not i09), on time 4 (not i06: 80 h > 72 h);
    # visited 6 (i01 i02 i05 i06 i07 i08), solved 4 (not i05, i06), satisfied 5 (not i05);
    # reopened 1 (i02); merged 2 (i03, i04)
    assert rates_of(day) == rated(counts(9, 1, 6, 4, 5, 4, 6, 4, 5, 1, 2))
    assert day["response_rate"] == 0.6667 and day["satisfaction_rate"] == 0.8333

    week = await get(reporting, "/rates", period="week", on="2026-10-14")  # + i10
    assert (week["start"], week["end"]) == ("2026-10-12", "2026-10-18")
    assert rates_of(week) == rated(counts(10, 1, 7, 5, 5, 4, 6, 4, 5, 1, 2))
    custom = await get(reporting, "/rates", start="2026-10-13", end="2026-10-13")
    assert rates_of(custom) == rated(counts(1, 0, 1, 1, 0, 0, 0, 0, 0, 0, 0))

    county_a = await get(reporting, "/rates", region_code="411901", **DAY)  # i01–i06
    assert rates_of(county_a) == rated(counts(6, 0, 4, 3, 4, 3, 4, 2, 3, 1, 2))
    city = await get(reporting, "/rates", region_code="411900", **DAY)
    assert rates_of(city) == rates_of(day)  # every issue of the day is in the city
    # i07 was answered at intake, never triaged: it lies in the regions its code is under
    county_b = await get(reporting, "/rates", region_code="411902", **DAY)  # i07 i08 i09
    assert rates_of(county_b) == rated(counts(3, 1, 2, 1, 1, 1, 2, 2, 2, 0, 0))
    direct = await get(reporting, "/rates", region_code="411902001001", **DAY)
    assert (direct["received"], direct["direct_handling_rate"]) == (1, 1.0)
    t2 = await get(reporting, "/rates", region_code="411901002", **DAY)  # i05, i06
    assert rates_of(t2) == rated(counts(2, 0, 2, 1, 2, 1, 2, 0, 1, 0, 0))
    street_1 = await get(reporting, "/rates", office_id="street-1", **DAY)  # i01, i02
    assert rates_of(street_1) == rated(counts(2, 0, 2, 2, 2, 2, 2, 2, 2, 1, 0))
    sanitation = await get(reporting, "/rates", category="sanitation", **DAY)  # i06, i09
    assert rates_of(sanitation) == rated(counts(2, 0, 2, 2, 1, 0, 1, 0, 1, 0, 0))


async def test_rankings_of_offices_and_townships(reporting: httpx.AsyncClient) -> None:
    offices = await get(reporting, "/rankings", subject="office", **DAY)
    assert offices["weights"] == WEIGHTS
    table = [(r["rank"], r["id"], r["score"], r["assigned"], r["visited"]) for r in offices["rows"]]
    assert table == [
        (1, "street-1", 1.0, 2, 2),  # i01 i02: every rate 1
        (1, "street-3", 1.0, 1, 0),  # i09 on time, never visited: response alone
        (3, "district-b", 0.8, 1, 1),  # i08: late (0), solved (1), satisfied (1)
        (4, "street-2", 0.6, 1, 1),  # i06: on time (1), not solved (0), satisfied (1)
        (5, "county-a", 0.0, 1, 1),  # i05: late, unsolved, dissatisfied
    ]
    townships = await get(reporting, "/rankings", subject="township", **DAY)
    assert [(r["rank"], r["id"], r["name"], r["score"]) for r in townships["rows"]] == [
        (1, "411901001", "region-411901001", 1.0),  # i01 i02
        (2, "411902001", "region-411902001", 0.9),  # i08 i09: 0.2×0.5 + 0.4×1 + 0.4×1
        (3, "411901002", "region-411901002", 0.3),  # i05 i06: 0.2×0.5 + 0.4×0 + 0.4×0.5
    ]
    in_a = await get(reporting, "/rankings", subject="township", region_code="411901", **DAY)
    assert [r["id"] for r in in_a["rows"]] == ["411901001", "411901002"]
    t2 = townships["rows"][2]
    assert (t2["response_rate"], t2["resolution_rate"], t2["satisfaction_rate"]) == (0.5, 0.0, 0.5)


async def test_the_three_lists_and_the_backlog(reporting: httpx.AsyncClient) -> None:
    problems = await get(reporting, "/lists/problems", **DAY)
    assert [(r["issue_id"], r["merged_reports"]) for r in problems["rows"]] == [
        ("i01", 2), ("i02", 0), ("i05", 0), ("i06", 0), ("i07", 0), ("i08", 0), ("i09", 0)
    ]  # fmt: skip
    tasks = await get(reporting, "/lists/tasks", **DAY)
    assert [(r["issue_id"], r["office_id"], r["level"], r["rung"]) for r in tasks["rows"]] == [
        ("i01", "street-1", "township", "office"),
        ("i02", "street-1", "township", "office"),
        ("i05", "county-a", "county", "center"),
        ("i06", "street-2", "township", "office"),
        ("i08", "district-b", "county", "office"),
        ("i09", "street-3", "township", "office"),
    ]
    i05 = tasks["rows"][2]
    assert (i05["yellow"], i05["red"], i05["supervised"], i05["escalations"]) == (
        True,
        True,
        True,
        1,
    )
    assert tasks["rows"][4]["returns"] == 1
    results = await get(reporting, "/lists/results", **DAY)
    assert [
        (r["issue_id"], r["result"], r["resolved_on_time"], r["satisfaction"], r["solved"])
        for r in results["rows"]
    ] == [
        ("i01", "修好了", True, "satisfied", True),
        ("i02", "换了新灯", True, "basically_satisfied", True),  # the last result and visit
        ("i05", "修好了", True, "dissatisfied", False),
        ("i06", "修好了", False, "basically_satisfied", False),
        ("i08", "修好了", True, "satisfied", True),
    ]
    assert results["rows"][1]["reopens"] == 1
    visited = await get(reporting, "/lists/problems", state="visited", **DAY)
    assert [r["issue_id"] for r in visited["rows"]] == ["i02", "i05", "i06", "i07", "i08"]
    in_t3 = await get(reporting, "/lists/tasks", region_code="411902001", **DAY)
    assert [r["issue_id"] for r in in_t3["rows"]] == ["i08", "i09"]

    # 积案: unsolved and reported at least 30 days ago (the day is weeks before today)
    backlog = await get(reporting, "/lists/backlog")
    assert [(r["issue_id"], r["state"]) for r in backlog["rows"]] == [
        ("i09", "accepted"), ("i10", "accepted")
    ]  # fmt: skip
    assert backlog["min_age_days"] == 30 and all(r["age_days"] >= 30 for r in backlog["rows"])
    assert (await get(reporting, "/lists/backlog", min_age_days=100000))["rows"] == []
    ages = await get(reporting, "/backlog-age")
    assert ages["unsolved"] == 2 and ages["buckets"][-2:] == [
        {"le_days": "90", "count": 2}, {"le_days": "+Inf", "count": 0}
    ]  # fmt: skip

    csv = await reporting.get("/lists/problems", params={"format": "csv", **DAY})
    assert csv.status_code == 200 and csv.headers["content-type"].startswith("text/csv")
    lines = csv.text.splitlines()
    assert lines[0].startswith("issue_id,reported_at,reported_day,channel,kind,category")
    assert len(lines) == 1 + 7 and lines[1].startswith("i01,2026-10-12T01:00:00+00:00,")
    assert lines[1].endswith(",2")  # merged_reports


async def test_open_issues_durations_and_counts(reporting: httpx.AsyncClient) -> None:
    opened = await get(reporting, "/open", **DAY)
    assert opened["open"] == 6  # i01 closed, i03 i04 merged
    assert opened["by_state"] == {"accepted": 1, "visited": 5}
    assert opened["by_level"] == {"county": 2, "none": 1, "township": 3}  # i07: no level
    assert opened["by_flag"] == {
        "reminded": 1, "yellow": 1, "red": 1, "supervised": 1, "extended": 0
    }  # fmt: skip

    durations = await get(reporting, "/durations", **DAY)
    accept = durations["time_to_accept"]  # 1 (i01) 2 (i02) 3 (i06) 5 (i09) 37 (i05) 32.1 (i08)
    assert {b["le"]: b["count"] for b in accept["buckets"] if b["count"]} == {
        "1": 1, "2": 1, "4": 1, "8": 1, "48": 2
    }  # fmt: skip
    assert (accept["count"], accept["p50_le"], accept["p90_le"]) == (6, "4", "48")
    resolve = durations["time_to_resolve"]  # 6 (i01) 32 (i02) 47 (i05) 80 (i06) 52.1 (i08)
    assert {b["le"]: b["count"] for b in resolve["buckets"] if b["count"]} == {
        "8": 1, "48": 2, "72": 1, "120": 1
    }  # fmt: skip
    assert (resolve["count"], resolve["p50_le"], resolve["p90_le"]) == (5, "48", "120")

    day = await get(reporting, "/counts", day="2026-10-12", by="office_id")
    assert (day["received"], day["assigned"]) == (9, 6)
    assert {r["office_id"]: r["n"] for r in day["rows"]} == {
        "street-1": 2, "street-2": 1, "street-3": 1, "county-a": 1, "district-b": 1, "none": 3
    }  # fmt: skip


async def test_bad_parameters_name_the_field(reporting: httpx.AsyncClient) -> None:
    cases = [
        ("/rates", {"start": "2026-10-13", "end": "2026-10-12"}, "end"),
        ("/rates", {"period": "week"}, "on"),
        ("/rates", {"period": "fortnight", "on": "2026-10-12"}, "period"),
        ("/rates", {"start": "yesterday"}, "start"),
        ("/rankings", {"subject": "province"}, "subject"),
        ("/lists/tasks", {"format": "xlsx"}, "format"),
        ("/lists/backlog", {"min_age_days": "-1"}, "min_age_days"),
        ("/lists/problems", {"state": "lost"}, "state"),
        ("/counts", {"by": "colour"}, "by"),
    ]
    for path, params, field in cases:
        answer = await reporting.get(path, params=params)
        assert answer.status_code == 422, (path, params, answer.text)
        detail = answer.json()["detail"]
        assert detail[0]["loc"] == ["query", field] and detail[0]["msg"], (path, detail)


async def test_days_at_the_edges_of_the_calendar_are_a_422_naming_the_field(
    reporting: httpx.AsyncClient,
) -> None:
    """A day near year 1 or 9999 (its week, its month, a span of months up to it, a cursor
    past it) was stepped over an edge of Python's calendar and answered 500."""
    far_cursor = base64.urlsafe_b64encode(b'["9999-12-31T23:59:59-12:00", "x"]').decode()
    cases = [
        ("/rates", {"start": "0001-01-01", "end": "9999-12-31"}, "start"),
        ("/rates", {"start": "2026-01-01", "end": "9999-12-31"}, "end"),
        ("/rates", {"period": "week", "on": "9999-12-31"}, "on"),
        ("/rates", {"period": "month", "on": "9999-12-31"}, "on"),
        ("/rankings", {"period": "day", "on": "0001-01-01"}, "on"),
        ("/open", {"period": "month", "on": "9999-12-31"}, "on"),
        ("/durations", {"start": "9999-12-31", "end": "9999-12-31"}, "start"),
        ("/counts", {"day": "9999-12-31"}, "day"),
        ("/bulletins/weekly", {"on": "0001-01-01"}, "on"),
        ("/bulletins/monthly", {"month": "9999-12"}, "month"),
        ("/lists/problems", {"cursor": far_cursor}, "cursor"),
        ("/lists/tasks", {"cursor": far_cursor, "format": "csv"}, "cursor"),
    ]
    for path, params, field in cases:
        answer = await reporting.get(path, params=params)
        assert answer.status_code == 422, (path, params, answer.text)
        detail = answer.json()["detail"]
        assert detail[0]["loc"] == ["query", field] and detail[0]["msg"], (path, detail)
    edge = await reporting.get("/rates", params={"start": "1900-01-01", "end": "2999-12-31"})
    assert edge.status_code == 200, edge.text


async def test_a_bad_region_code_is_a_422_on_every_read(reporting: httpx.AsyncClient) -> None:
    """Region codes are ASCII digits of the README's lengths (contracts.regions.level_of)."""
    paths = [
        "/rates", "/rankings", "/open", "/durations", "/backlog-age", "/lists/problems",
        "/lists/tasks", "/lists/results", "/lists/backlog", "/bulletins/weekly",
        "/bulletins/monthly",
    ]  # fmt: skip
    bad = ["../../etc/passwd", "4119\x0000", "４１１９００", "411900/../../", "4119"]
    for path in paths:
        for code in bad:
            answer = await reporting.get(path, params={"region_code": code})
            assert answer.status_code == 422, (path, code, answer.text)
            assert answer.json()["detail"][0]["loc"] == ["query", "region_code"], (path, code)
    assert (await reporting.get("/rates", params={"region_code": "411901002"})).status_code == 200


async def test_rebuilding_gives_the_same_projection_also_after_copies(
    settings: PlatformSettings, reporting: httpx.AsyncClient
) -> None:
    live = await projection(settings)
    assert len(live) == 10
    live_cells = await count_cells(settings)
    assert live_cells == counted_over(live)
    events = await on_the_log(settings)

    await publish(settings, events)  # every event delivered a second time
    await caught_up(settings)
    assert await projection(settings) == live

    assert (await reporting.post("/admin/rebuild")).status_code == 401
    wrong = {"Authorization": "Bearer not-the-token"}
    assert (await reporting.post("/admin/rebuild", headers=wrong)).status_code == 403
    assert (await reporting.get("/admin/rebuild", headers=wrong)).status_code == 403
    auth = {"Authorization": f"Bearer {ADMIN_TOKEN}"}
    started = await reporting.post("/admin/rebuild", headers=auth)
    assert started.status_code == 202, started.text
    status = await rebuilt(reporting)
    assert status["state"] == "done", status
    assert status["total"] == status["applied"] == 2 * len(events)
    assert await projection(settings) == live
    assert await count_cells(settings) == live_cells

    # again, while the live consumer takes a third copy of every event meanwhile
    assert (await reporting.post("/admin/rebuild", headers=auth)).status_code == 202
    await publish(settings, events)
    assert (await rebuilt(reporting))["state"] == "done"
    await caught_up(settings)
    assert await projection(settings) == live
    assert await count_cells(settings) == live_cells

    # and the command an operator runs
    env = os.environ | {
        "HUIYIN_KAFKA_BOOTSTRAP": settings.kafka_bootstrap,
        "HUIYIN_MONGO_URL": settings.mongo_url,
        "HUIYIN_TOPIC_PREFIX": settings.topic_prefix,
        "HUIYIN_DATABASE_PREFIX": settings.database_prefix,
    }
    command = [sys.executable, "-m", "services.reporting.rebuild"]
    done = await asyncio.to_thread(
        subprocess.run, command, env=env, capture_output=True, text=True, timeout=300
    )
    assert done.returncode == 0, done.stderr
    assert f"{3 * len(events)} events applied" in done.stdout
    assert await projection(settings) == live
    assert await count_cells(settings) == live_cells


def counted_over(facts: dict[str, Any]) -> dict[str, dict[str, int]]:
    """The cells counted over the fact documents' views (what the cells must hold)."""
    totals: dict[str, dict[str, int]] = {}
    for doc in facts.values():
        for cell, counters in cells.contributions(doc["view"]).items():
            cells.add(totals.setdefault(cell, {}), counters)
    return cells.nonzero(totals)


async def on_the_log(settings: PlatformSettings) -> list[Envelope]:
    """The events now on the topic (to publish them again: same ids, same times)."""
    records = await read_topic(settings.kafka_bootstrap, settings.issues_topic)
    return [decode(r.value or b"") for r in records]


async def test_concurrent_deliveries_of_one_issue_lose_nothing(
    settings: PlatformSettings, mongo: Any
) -> None:
    """Every event of a long story at once, twice (as a rebuild beside the live consumer
    would): the stored facts are those of the events applied one by one."""
    story = (
        Story("many", T0).triage().assign("street-1").remind(1).flag(Flag.YELLOW, 1)
        .flag(Flag.RED, 1).supervise_and_escalate("county-a", 0).accept(1).extend(1)
        .resolve(1).visit(DISSAT, False, 1).reopen(0).assign("county-a", 0.1).accept(1)
        .resolve(1).visit(SAT, True, 1).close(1)
    )  # fmt: skip
    store = ReportingStore(mongo[settings.database("reporting")], FactRules(SHANGHAI))
    await asyncio.gather(*(ReportingHandlers(store).apply(e) for e in story.events * 2))
    stored = await store.documents()
    expected = fold(story.events)
    assert len(stored["many"]["log"]) == len(story.events) == 25
    assert stored["many"]["view"] == expected["view"]
