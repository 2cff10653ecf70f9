"""The bulletins of a scripted week, on the real broker and database: reporting consumes the
week's events from its topic, and the weekly bulletin of a county carries the counts and
rates computed here by hand; the schedule writes the same bulletin into its directory."""

import asyncio
import os
import re
import sys
import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import httpx
import pytest
from fastapi import FastAPI

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
    IssueFlagged,
    IssueFlaggedPayload,
    IssueMerged,
    IssueMergedPayload,
    IssueReopened,
    IssueReopenedPayload,
    IssueReported,
    IssueReportedPayload,
    IssueResolved,
    IssueResolvedPayload,
    IssueTriaged,
    IssueTriagedPayload,
    IssueVisited,
    IssueVisitedPayload,
    Location,
)
from services.contracts.owners import OWNERS
from services.contracts.vocabulary import (
    Channel,
    ClockKind,
    Flag,
    Kind,
    Level,
    Satisfaction,
    Tier,
)
from services.reporting.adapters.store import ReportingStore
from services.reporting.app import build_app
from services.reporting.bulletins.schedule import BulletinSchedule
from services.reporting.bulletins.service import Bulletins, BulletinSettings
from services.reporting.domain.facts import FactRules
from services.reporting.domain.period import Due, Period
from services.reporting.domain.rankings import Weights
from services.reporting.settings import ReportingSettings
from services.runtime.mongo import make_mongo_client
from services.runtime.settings import PlatformSettings
from tests.integration.test_supervision_harness import Log
from tests.unit.reporting.test_bulletin_render import rows, section

SHANGHAI = ZoneInfo("Asia/Shanghai")
ROOT = Path(__file__).resolve().parents[2]
WATER, STREET, OTHER = "411901-water_affairs", "411901002-township_office", "411902-water_affairs"
T1 = ("411900", "411901", "411901001", "411901001001")  # 中州市 和塘区 银台街道 祥坪社区
T2 = ("411900", "411901", "411901002", "411901002001")  # … 南城街道 泰屯社区
ELSEWHERE = ("411900", "411902", "411902001", "411902001001")  # 南营区 泰园街道 金营社区
OFFICE_NAMES = {WATER: "和塘区水务局", STREET: "南城街道办事处", OTHER: "南营区水务局"}
"""As routing names them on IssueAssigned (deploy/config/city/offices.yaml)."""
NAMES: dict[tuple[str, ...], tuple[str, ...]] = {
    T1: ("中州市", "和塘区", "银台街道", "祥坪社区"),
    T2: ("中州市", "和塘区", "南城街道", "泰屯社区"),
    ELSEWHERE: ("中州市", "南营区", "泰园街道", "金营社区"),
}


def at(month: int, day: int, hour: int, minute: int = 0) -> datetime:
    return datetime(2026, month, day, hour, minute, tzinfo=SHANGHAI)


class Script:
    """One issue's events as intake, routing and supervision would publish them."""

    def __init__(self, issue_id: str) -> None:
        self.id = issue_id
        self.events: list[Envelope] = []

    def _add(self, kind: type[Envelope], when: datetime, payload: Any) -> "Script":
        producer = min(OWNERS[kind.model_fields["type"].default])
        event = kind(issue_id=self.id, occurred_at=when, producer=producer, payload=payload)
        self.events.append(event)
        return self

    def reported(
        self, when: datetime, place: tuple[str, ...], channel: Channel, direct: bool = False
    ) -> "Script":
        payload = IssueReportedPayload(
            channel=channel, kind=Kind.COMPLAINT, text="路灯不亮", category="street_lighting",
            location=Location(region_code=place[-1]), direct_handling=direct,
        )  # fmt: skip
        return self._add(IssueReported, when, payload)

    def triaged(self, when: datetime, place: tuple[str, ...]) -> "Script":
        payload = IssueTriagedPayload(
            category="street_lighting", tier=Tier.GENERAL, region_code=place[-1], reason="test",
            region_path=place, region_names=NAMES[place],
        )  # fmt: skip
        return self._add(IssueTriaged, when, payload)

    def assigned(self, when: datetime, office: str) -> "Script":
        payload = IssueAssignedPayload(
            office_id=office, office_name=OFFICE_NAMES[office], level=Level.COUNTY, reason="test"
        )
        self._add(IssueAssigned, when, payload)
        for clock, days in ((ClockKind.ACCEPT, 1), (ClockKind.RESOLVE, 3)):
            started = ClockStartedPayload(
                clock=clock, office_id=office, working_days=days, started_at=when,
                due_at=when + timedelta(days=days),
            )  # fmt: skip
            self._add(ClockStarted, when, started)
        return self

    def accepted(self, when: datetime, office: str) -> "Script":
        return self._add(IssueAccepted, when, IssueAcceptedPayload(office_id=office))

    def resolved(self, when: datetime, office: str) -> "Script":
        return self._add(IssueResolved, when, IssueResolvedPayload(office_id=office, result="ok"))

    def visited(self, when: datetime, satisfaction: Satisfaction, solved: bool) -> "Script":
        return self._add(
            IssueVisited, when, IssueVisitedPayload(satisfaction=satisfaction, solved=solved)
        )

    def flagged(self, when: datetime, flag: Flag, clock: ClockKind, office: str) -> "Script":
        return self._add(
            IssueFlagged, when, IssueFlaggedPayload(flag=flag, clock=clock, office_id=office)
        )


def scripted_week() -> list[Script]:
    """Week 47 of 2026 (16–22 November) in 和塘区 (411901), one issue next door, one issue
    reported in October still unsolved, one reported the Monday after."""
    s = Script
    return [
        # 1: accepted and resolved on time; satisfied, solved
        s("w47-01").reported(at(11, 16, 9), T1, Channel.HOTLINE).triaged(at(11, 16, 9, 1), T1)
        .assigned(at(11, 16, 9, 2), WATER).accepted(at(11, 16, 10), WATER)
        .resolved(at(11, 17, 10), WATER).visited(at(11, 18, 10), Satisfaction.SATISFIED, True),
        # 2: accepted late (yellow), resolved late; dissatisfied, not solved, reopened
        s("w47-02").reported(at(11, 16, 10), T1, Channel.WEB).triaged(at(11, 16, 10, 1), T1)
        .assigned(at(11, 16, 10, 2), WATER)
        .flagged(at(11, 17, 10, 2), Flag.YELLOW, ClockKind.ACCEPT, WATER)
        .accepted(at(11, 18, 10), WATER).resolved(at(11, 21, 10), WATER)
        .visited(at(11, 21, 15), Satisfaction.DISSATISFIED, False)
        ._add(IssueReopened, at(11, 22, 9), IssueReopenedPayload(reason="not solved")),
        # 3: accepted on time, then overdue to resolve: yellow and red
        s("w47-03").reported(at(11, 17, 9), T2, Channel.GRID).triaged(at(11, 17, 9, 1), T2)
        .assigned(at(11, 17, 9, 2), STREET).accepted(at(11, 17, 11), STREET)
        .flagged(at(11, 20, 9, 2), Flag.YELLOW, ClockKind.RESOLVE, STREET)
        .flagged(at(11, 21, 9, 2), Flag.RED, ClockKind.RESOLVE, STREET),
        # 4: answered directly at intake (直办), never triaged
        s("w47-04").reported(at(11, 18, 9), T2, Channel.HOTLINE, direct=True)
        ._add(IssueAnswered, at(11, 18, 9, 5), IssueAnsweredPayload(answered_by="op", answer="x")),
        # 5: a duplicate of 1 (重复件)
        s("w47-05").reported(at(11, 19, 9), T1, Channel.HOTLINE).triaged(at(11, 19, 9, 1), T1)
        ._add(IssueMerged, at(11, 19, 9, 2), IssueMergedPayload(into_issue_id="w47-01", reason="")),
        # 6: all on time; basically satisfied, solved
        s("w47-06").reported(at(11, 20, 9), T2, Channel.MINIAPP).triaged(at(11, 20, 9, 1), T2)
        .assigned(at(11, 20, 9, 2), STREET).accepted(at(11, 20, 10), STREET)
        .resolved(at(11, 20, 15), STREET)
        .visited(at(11, 21, 10), Satisfaction.BASICALLY_SATISFIED, True),
        # 7: Sunday evening, not accepted yet
        s("w47-07").reported(at(11, 22, 20), T1, Channel.HOTLINE).triaged(at(11, 22, 20, 1), T1)
        .assigned(at(11, 22, 20, 2), WATER),
        # 8: the next county: in the city's bulletin, not in 和塘区's
        s("w47-08").reported(at(11, 18, 9), ELSEWHERE, Channel.HOTLINE)
        .triaged(at(11, 18, 9, 1), ELSEWHERE).assigned(at(11, 18, 9, 2), OTHER)
        .accepted(at(11, 18, 10), OTHER),
        # 9: October, accepted, never resolved, red: a backlog case (积案)
        s("oct-09").reported(at(10, 10, 9), T1, Channel.HOTLINE).triaged(at(10, 10, 9, 1), T1)
        .assigned(at(10, 10, 9, 2), WATER).accepted(at(10, 10, 10), WATER)
        .flagged(at(10, 20, 9), Flag.RED, ClockKind.RESOLVE, WATER),
        # 10: the Monday after: not in week 47
        s("w48-10").reported(at(11, 23, 9), T1, Channel.HOTLINE).triaged(at(11, 23, 9, 1), T1),
    ]  # fmt: skip


@asynccontextmanager
async def reporting(platform: PlatformSettings) -> AsyncIterator[FastAPI]:
    app = build_app(ReportingSettings(platform=platform, port=0))
    async with app.router.lifespan_context(app):
        yield app


async def absorbed(store: ReportingStore, scripts: list[Script], timeout: float = 60) -> None:
    """Wait until every issue's view is derived from all of its events, and its move to the
    cells is done (no transfer pending: a batch writes the views, then the cells)."""
    expected = {s.id: len(s.events) for s in scripts}
    deadline = time.monotonic() + timeout
    while True:
        docs = await store.documents()
        seen = {i: (docs.get(i) or {}).get("view", {}).get("_n") for i in expected}
        if seen == expected and not any("pending" in doc for doc in docs.values()):
            return
        if time.monotonic() > deadline:
            raise AssertionError(f"not absorbed within {timeout} s: {seen} != {expected}")
        await asyncio.sleep(0.1)


@pytest.fixture
def bulletin_dir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv("HUIYIN_REPORTING_BULLETIN_DIR", str(tmp_path / "scheduled"))
    monkeypatch.setenv("HUIYIN_REPORTING_BULLETIN_REGIONS", "411901")
    return tmp_path / "scheduled"


async def test_the_weekly_bulletin_of_a_scripted_week(
    settings: PlatformSettings, bulletin_dir: Path, tmp_path: Path
) -> None:
    scripts = scripted_week()
    client = make_mongo_client(settings)
    store = ReportingStore(client[settings.database("reporting")], FactRules(SHANGHAI))
    try:
        async with Log(settings) as log, reporting(settings) as app:
            await log.publish(*[event for script in scripts for event in script.events])
            await absorbed(store, scripts)
            async with httpx.AsyncClient(
                transport=httpx.ASGITransport(app=app), base_url="http://reporting"
            ) as http:
                week = {"region_code": "411901", "on": "2026-11-18"}
                answer = await http.get("/bulletins/weekly", params=week)
                html = await http.get("/bulletins/weekly", params=week | {"format": "html"})
                city = await http.get("/bulletins/weekly", params=week | {"region_code": "411900"})
                errors = [
                    await http.get("/bulletins/weekly", params={"on": "2026-11-31"}),
                    await http.get("/bulletins/monthly", params={"month": "2026-13"}),
                    await http.get("/bulletins/weekly", params={"format": "pdf"}),
                    await http.get("/bulletins/weekly", params={"region_code": "41 19"}),
                ]
                november = await http.get(
                    "/bulletins/monthly", params={"region_code": "411901", "month": "2026-11"}
                )
        scheduled = sorted(await asyncio.to_thread(os.listdir, bulletin_dir))
        # the same week, written by the schedule at its due time (a clock the test sets)
        own = BulletinSettings(regions="411901", monthly="")
        bulletins = Bulletins(
            store, own, timezone=SHANGHAI, weights=Weights(1, 1, 1), backlog_days=30,
            now=lambda: at(11, 23, 8),
        )  # fmt: skip
        schedule = BulletinSchedule(bulletins, tmp_path / "by-clock", own.dues())
        written = await schedule.run_due()
        again = await schedule.run_due()
        command = await asyncio.create_subprocess_exec(
            sys.executable, "-m", "services.reporting.bulletins", "--region", "411901",
            "--week", "2026-11-22", "--format", "md",
            cwd=ROOT, stdout=asyncio.subprocess.PIPE,
            env=os.environ | {
                "HUIYIN_MONGO_URL": settings.mongo_url,
                "HUIYIN_DATABASE_PREFIX": settings.database_prefix,
            },
        )  # fmt: skip
        printed, _ = await command.communicate()
    finally:
        await client.close()

    assert answer.status_code == 200, answer.text
    assert answer.headers["content-type"] == "text/markdown; charset=utf-8"
    md = answer.text
    print(md)  # the bulletin as a reader gets it (pytest -s)
    assert md.startswith("# 周通报 (weekly bulletin) · 和塘区 (411901)\n")
    assert "2026年第47周（2026-11-16 至 2026-11-22）" in md
    # 和塘区, 16–22 Nov: issues 1–7 (8 is next door, 9 in October, 10 the week after)
    assert rows(section(md, "(headline counts)")) == [
        ["受理 (received)", "7"],
        ["直办 (answered directly)", "1"],  # 4
        ["转办 (assigned)", "5"],  # 1 2 3 6 7
        ["办结 (resolved)", "3"],  # 1 2 6
        ["回访 (visited)", "3"],  # 1 2 6
    ]
    assert rows(section(md, "(by channel)")) == [
        ["12345热线 (hotline)", "4"],  # 1 4 5 7
        ["网格上报 (grid)", "1"],  # ties in the order of the channel's code
        ["小程序 (miniapp)", "1"],
        ["网站 (web)", "1"],
    ]
    assert rows(section(md, "## 二、主要指标 (rates)")) == [
        ["响应率 (response)", "60.0%", "3/5"],  # 1 3 6 accepted in time; 2 late, 7 not yet
        ["办结率 (completion)", "60.0%", "3/5"],
        ["按时办结率 (on-time)", "66.7%", "2/3"],  # 2 was late
        ["解决率 (resolution)", "66.7%", "2/3"],
        ["满意率 (satisfaction)", "66.7%", "2/3"],  # satisfied + basically satisfied
        ["直办率 (direct handling)", "14.3%", "1/7"],
        ["重办率 (reopen)", "33.3%", "1/3"],
        ["重复件率 (duplicate)", "14.3%", "1/7"],
    ]
    assert rows(section(md, "(rates per day)")) == [
        ["2026-11-16", "2", "2", "50.0%", "100.0%", "50.0%", "50.0%"],
        ["2026-11-17", "1", "1", "100.0%", "0.0%", "—", "—"],
        ["2026-11-18", "1", "0", "—", "—", "—", "—"],
        ["2026-11-19", "1", "0", "—", "—", "—", "—"],
        ["2026-11-20", "1", "1", "100.0%", "100.0%", "100.0%", "100.0%"],
        ["2026-11-21", "0", "0", "—", "—", "—", "—"],
        ["2026-11-22", "1", "1", "0.0%", "0.0%", "—", "—"],
    ]
    # weights 1:1:1 — water: (1/3 + 1/2 + 1/2) / 3 = 44.4; the street office: all 100%
    assert rows(section(md, "### 责任单位 (offices)")) == [
        ["1", "南城街道办事处", "100.0", "100.0%", "100.0%", "100.0%", "2"],
        ["2", "和塘区水务局", "44.4", "33.3%", "50.0%", "50.0%", "3"],
    ]
    assert rows(section(md, "(townships)")) == [
        ["1", "南城街道", "100.0", "100.0%", "100.0%", "100.0%", "2"],
        ["2", "银台街道", "44.4", "33.3%", "50.0%", "50.0%", "3"],
    ]
    assert rows(section(md, "(overdue by office)")) == [
        ["南城街道办事处", "1", "1"],  # 3: yellow then red
        ["和塘区水务局", "1", "0"],  # 2: yellow
    ]
    assert "共 1 件 (1 in all)." in section(md, "(backlog cases)")  # cells: days before 24 Oct
    assert rows(section(md, "(backlog cases)")) == [
        [
            "oct-09", "和塘区水务局", "411901001001", "street_lighting", "2026-10-10", "43",
            "已签收 (accepted)", "红旗",
        ]
    ]  # fmt: skip

    assert html.status_code == 200
    assert html.headers["content-type"] == "text/html; charset=utf-8"
    assert html.text.count("<svg") == 3 and "<script" not in html.text
    assert len(re.findall(r"class='bar score'", html.text)) == 2
    assert len(re.findall(r"class='bar (?:yellow|red)'", html.text)) == 4

    city_md = city.text
    assert city_md.startswith("# 周通报 (weekly bulletin) · 中州市 (411900)\n")
    city_counts = {row[0]: row[1] for row in rows(section(city_md, "(headline counts)"))}
    assert (city_counts["受理 (received)"], city_counts["转办 (assigned)"]) == ("8", "6")
    assert rows(section(city_md, "## 二、主要指标 (rates)"))[0] == [
        "响应率 (response)", "66.7%", "4/6",
    ]  # fmt: skip

    assert [e.status_code for e in errors] == [422, 422, 422, 422]
    fields = [e.json()["detail"][0]["loc"][-1] for e in errors]
    assert fields == ["on", "month", "format", "region_code"]
    assert "YYYY-MM" in errors[1].json()["detail"][0]["msg"]

    assert november.status_code == 200
    assert november.text.startswith("# 月报告 (monthly report) · 和塘区 (411901)\n")
    month_counts = {r[0]: r[1] for r in rows(section(november.text, "(headline counts)"))}
    assert month_counts["受理 (received)"] == "8"  # the week's 7 and the Monday after

    # the schedule started with the service wrote the latest due bulletins (real clock)
    now = datetime.now(SHANGHAI)
    weekly, monthly = Due.parse("week", "mon 08:00"), Due.parse("month", "1 08:00")
    due = {d.kind: d.period(d.latest(now, SHANGHAI), SHANGHAI) for d in (weekly, monthly)}
    assert scheduled == sorted(
        f"{name}-{period.label}-411901.{fmt}"
        for name, period in (("weekly", due["week"]), ("monthly", due["month"]))
        for fmt in ("md", "html")
    )
    assert sorted(p.name for p in written) == [
        "weekly-2026-W47-411901.html", "weekly-2026-W47-411901.md",
    ]  # fmt: skip
    assert again == []
    on_file = (tmp_path / "by-clock" / "weekly-2026-W47-411901.md").read_text(encoding="utf-8")
    assert without_generated(on_file) == without_generated(md)
    assert command.returncode == 0
    assert without_generated(printed.decode()) == without_generated(md)
    assert Period.week_of(at(11, 18, 0).date()).label == "2026-W47"


def without_generated(text: str) -> str:
    return re.sub(r"生成于 \(generated\) \S+", "", text)
