"""The console's time to first render: the office inbox and the leader dashboard with many
open issues, on loopback, with the real services as processes.

N open issues (BENCH_ISSUES, default 10,000), all held by one office (the city's urban
management bureau), spread over the city's townships and this month's days, some accepted,
reminded or flagged, are generated as events (`tests.reporting_events.Story`) and written
straight into the running platform's projections by the services' own fold code (intake's
status view by `derive`, reporting's facts and cells by `handlers.Fold` as a new generation
it switches to): HTTP and Kafka are bypassed. Then each page is fetched 3 times (the
console's HTTP answer, rendered on the server) and, when Debian's Chromium is there, opened
3 times until its first contentful paint: min / median / max of each. Intake's paged
`/inbox/page` (the inbox's first page) is timed too. `python -m bench.console`;
`make bench-console`.
"""

import asyncio
import os
import random
import statistics
import time
import uuid
from contextlib import ExitStack
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import httpx
from pymongo import AsyncMongoClient

from devkit.console_users import ConsoleAdmin
from devkit.infra import REPO, endpoints
from devkit.namespaces import drop_namespace
from devkit.processes import Platform
from services.contracts.events import Event
from services.contracts.vocabulary import Flag
from services.intake.domain.view import derive, entry_of
from services.reporting.adapters.store import ReportingStore
from services.reporting.domain.facts import FactRules
from services.reporting.handlers import Fold
from tests.reporting_events import Story

ISSUES = int(os.environ.get("BENCH_ISSUES", "10000"))
REPEATS = 3
OFFICE = "411900-urban_management"
CHROMIUM = Path("/usr/bin/chromium")
PASSWORD = "bench-password"
SHANGHAI = ZoneInfo("Asia/Shanghai")
TOWNSHIPS = [f"41190{c}{t:03d}" for c in range(1, 7) for t in range(1, 17)]
"""Township codes of the sample city (counties 1-6, up to 16 townships each; a code the
city lacks is still a township in reporting's eyes)."""

Spread = tuple[float, float, float]


def spread(values: list[float]) -> Spread:
    return (min(values), statistics.median(values), max(values))


@dataclass
class Timings:
    issues: int
    intake_inbox_ms: float  # intake's /inbox/page (first page), median of 3
    pages_ms: dict[str, float]  # the console's HTTP answer, median of 3
    paint_ms: dict[str, float]  # first contentful paint in Chromium (when present), median
    spreads: dict[str, Spread] = field(default_factory=dict)  # min, median, max of each
    generated_s: float = 0.0

    def lines(self) -> list[str]:
        out = [
            f"{self.issues} open issues (written in {self.generated_s:.1f} s); "
            f"intake's /inbox/page: {self.intake_inbox_ms:.0f} ms"
        ]
        out.append(f"  {'(ms)':<40} {'min':>8} {'median':>8} {'max':>8}")
        for what, (low, mid, high) in self.spreads.items():
            out.append(f"  {what:<40} {low:>8.0f} {mid:>8.0f} {high:>8.0f}")
        return out


def stories(n: int, now: datetime, seed: int = 14) -> list[list[Event]]:
    """`n` open issues held by OFFICE, reported this month (before `now`)."""
    rng = random.Random(seed)
    local = now.astimezone(SHANGHAI)
    days = max(0.2, min(20.0, local.day - 1.2))  # stay inside this month
    out = []
    for i in range(n):
        at = now - timedelta(hours=3 + rng.uniform(0, days * 24))
        region = f"{rng.choice(TOWNSHIPS)}001"
        s = Story(f"bench{i:06d}", at, region=region).triage()
        s.assign(OFFICE, 0.1, accept_days=rng.uniform(0.1, 2), resolve_days=rng.uniform(0.5, 9))
        shape = rng.random()
        if shape < 0.5:
            s.accept(0.5)
        if shape > 0.8:
            s.remind(0.2)
        if shape > 0.9:
            s.flag(Flag.YELLOW, 0.1)
        if shape > 0.96:
            s.flag(Flag.RED, 0.1)
        out.append(s.events)
    return out


def intake_views(lives: list[list[Event]]) -> list[dict[str, Any]]:
    """Intake's status view of each issue, as `IntakeStore.apply` leaves it (the history and
    the fields `derive` folds from it)."""
    docs, offset = [], 0
    for events in lives:
        history = {}
        for event in events:
            history[str(event.event_id)] = entry_of(event, offset)
            offset += 1
        text = getattr(events[0].payload, "text", "")
        docs.append({"_id": events[0].issue_id, "history": history, "description": text,
                     "media_urls": [], **derive(history)})  # fmt: skip
    return docs


async def write_projections(mongo_url: str, namespace: str, lives: list[list[Event]]) -> None:
    """Intake's views (bulk inserts) and a new generation of reporting's facts and cells."""
    mongo: AsyncMongoClient[dict[str, Any]] = AsyncMongoClient(mongo_url, tz_aware=True)
    try:
        issues = mongo[f"{namespace}_intake"]["issues"]
        views = intake_views(lives)
        for start in range(0, len(views), 1000):
            await issues.insert_many(views[start : start + 1000], ordered=False)
        rules = FactRules(SHANGHAI)
        store = ReportingStore(mongo[f"{namespace}_reporting"], rules)
        fold = Fold(rules)
        for events in lives:
            for event in events:
                fold.add(event)
        docs, cells = fold.documents()
        generation = await store.new_generation()
        target = store.pinned(generation)
        await target.insert_facts(docs)
        await target.insert_cells(cells)
        await store.switch(generation)
        await store.ensure_indexes()
    finally:
        await mongo.close()


def wait_inbox(
    intake: str, token: str, n: int, timeout: float = 120.0
) -> tuple[list[float], list[float]]:
    """Wait until the office's inbox holds `n` issues (or more than the first page counts);
    then time its first page 3 times, and a page after a cursor 3 times."""
    headers = {"Authorization": f"Bearer {token}"}
    deadline = time.monotonic() + timeout
    while True:
        answer = httpx.get(f"{intake}/inbox/page", headers=headers, timeout=120)
        if answer.status_code == 200 and (
            answer.json()["total"] >= n or answer.json().get("total_capped")
        ):
            break
        if time.monotonic() > deadline:
            raise TimeoutError(f"the inbox answered {answer.status_code}: {answer.text[:300]}")
        time.sleep(0.5)
    first, later = [], []
    cursor = answer.json().get("next")
    for _ in range(REPEATS):
        started = time.perf_counter()
        httpx.get(f"{intake}/inbox/page", headers=headers, timeout=120).raise_for_status()
        first.append((time.perf_counter() - started) * 1000)
        if cursor:
            started = time.perf_counter()
            params = {"cursor": cursor}
            page = httpx.get(f"{intake}/inbox/page", headers=headers, params=params, timeout=120)
            page.raise_for_status()
            later.append((time.perf_counter() - started) * 1000)
            cursor = page.json().get("next") or cursor
    return first, later


def signed_in(console: str, name: str) -> httpx.Client:
    client = httpx.Client(base_url=console, timeout=120)
    page = client.get("/login")
    csrf = page.text.split('name="csrf" value="', 1)[1].split('"', 1)[0]
    client.post("/login", data={"name": name, "password": PASSWORD, "csrf": csrf})
    return client


def served(client: httpx.Client, path: str, shows: str) -> list[float]:
    """The page's answer time, 3 times; it must show `shows` (a page that could not reach a
    service still answers, with the refusal in place of the rows)."""
    times = []
    for _ in range(REPEATS):
        started = time.perf_counter()
        answer = client.get(path)
        times.append((time.perf_counter() - started) * 1000)
        if answer.status_code != 200 or shows not in answer.text:
            raise RuntimeError(f"{path}: {answer.status_code}: {answer.text[:2000]}")
    return times


def painted(console: str, user: str, paths: list[str]) -> dict[str, list[float]]:
    if not CHROMIUM.exists():
        return {}
    from playwright.sync_api import sync_playwright

    out: dict[str, list[float]] = {}
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=str(CHROMIUM), headless=True)
        # the console's CSP forbids eval, which Playwright's polling of a predicate uses
        page = browser.new_page(base_url=console, bypass_csp=True)
        page.set_default_timeout(600_000)  # a slow page is a figure, not a failure
        page.goto("/login")
        page.fill("#name", user)
        page.fill("#password", PASSWORD)
        page.click("button[type=submit]")
        page.wait_for_load_state()
        for path in paths:
            for _ in range(REPEATS):
                started = time.perf_counter()
                page.goto(path, wait_until="commit")
                page.wait_for_function(
                    "performance.getEntriesByName('first-contentful-paint').length > 0"
                )
                out.setdefault(path, []).append((time.perf_counter() - started) * 1000)
        browser.close()
    return out


def measure(platform: Platform, n: int) -> Timings:
    """Write `n` open issues and time the console's first render of the inbox and dashboard."""
    intake, console = platform["intake"].url, platform["console"].url
    started = time.perf_counter()
    lives = stories(n, datetime.now(UTC))
    mongo_url = platform.endpoints.mongo_url
    asyncio.run(write_projections(mongo_url, platform.namespace, lives))
    generated = time.perf_counter() - started
    office = platform.token("office", office_id=OFFICE)
    inbox, later = wait_inbox(intake, office, n)
    admin = ConsoleAdmin(console, platform.console_password)
    admin.add_user("bench-office", PASSWORD, "office", office_id=OFFICE)
    admin.add_user("bench-leader", PASSWORD, "leader")
    admin.close()
    spreads = {"intake /inbox/page (first page)": spread(inbox)}
    if later:
        spreads["intake /inbox/page (a page after a cursor)"] = spread(later)
    pages = {}
    pages_shown = (
        ("bench-office", "/office", "data-issue="),
        ("bench-leader", "/dashboard", "map-issues"),
    )
    for user, path, shows in pages_shown:
        client = signed_in(console, user)
        try:
            times = served(client, path, shows)
        finally:
            client.close()
        pages[path] = statistics.median(times)
        spreads[f"console {path}: served"] = spread(times)
    paints = painted(console, "bench-office", ["/office"])
    paints |= painted(console, "bench-leader", ["/dashboard"])
    for path, times in paints.items():
        spreads[f"console {path}: first contentful paint"] = spread(times)
    paint = {path: statistics.median(times) for path, times in paints.items()}
    return Timings(n, statistics.median(inbox), pages, paint, spreads, generated)


def main() -> None:
    with ExitStack() as stack:
        servers = endpoints(stack)
        namespace = f"bench{uuid.uuid4().hex[:8]}"
        platform = Platform(servers, namespace, REPO / ".local/logs/bench-console", console=True)
        stack.callback(  # its topics and databases go with the run (the servers are shared)
            lambda: asyncio.run(
                drop_namespace(servers.kafka_bootstrap, servers.mongo_url, namespace)
            )
        )
        platform.start()
        stack.callback(platform.stop)
        print(f"writing {ISSUES} open issues in namespace {namespace}…", flush=True)
        for line in measure(platform, ISSUES).lines():
            print(line)


if __name__ == "__main__":
    main()
