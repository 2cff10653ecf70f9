"""The console's time to first render: the office inbox and the leader dashboard with many
open issues, on loopback, with the real services as processes.

N reports (BENCH_ISSUES, default 10,000) are filed through intake to one office (street
lighting without a place: the city's urban management bureau) in a fresh namespace; once
intake's inbox holds them all, each page is fetched (the console's HTTP answer, rendered on
the server) and, when Debian's Chromium is there, opened in it until its first contentful
paint. `python -m bench.console`; `make bench-console`.
"""

import asyncio
import os
import statistics
import time
import uuid
from contextlib import ExitStack
from dataclasses import dataclass
from pathlib import Path

import httpx

from devkit.console_users import ConsoleAdmin
from devkit.infra import REPO, endpoints
from devkit.processes import Platform

ISSUES = int(os.environ.get("BENCH_ISSUES", "10000"))
OFFICE = "411900-urban_management"
CHROMIUM = Path("/usr/bin/chromium")
PASSWORD = "bench-password"


@dataclass
class Timings:
    issues: int
    intake_inbox_ms: float
    pages_ms: dict[str, float]  # the console's HTTP answer, median of 3
    paint_ms: dict[str, float]  # first contentful paint in Chromium (when present)

    def lines(self) -> list[str]:
        out = [f"{self.issues} open issues; intake's /inbox: {self.intake_inbox_ms:.0f} ms"]
        for page, took in self.pages_ms.items():
            paint = self.paint_ms.get(page)
            shown = f", first contentful paint {paint:.0f} ms" if paint is not None else ""
            out.append(f"  {page}: served in {took:.0f} ms{shown}")
        return out


async def file_reports(intake: str, token: str, n: int, concurrency: int = 16) -> None:
    headers = {"Authorization": f"Bearer {token}"}
    queue = iter(range(n))
    async with httpx.AsyncClient(base_url=intake, headers=headers, timeout=30) as client:

        async def worker() -> None:
            for i in queue:
                body = {"channel": "hotline", "kind": "complaint", "text": f"路灯不亮 {i}号杆"}
                answer = await client.post("/issues", json=body)
                answer.raise_for_status()

        await asyncio.gather(*(worker() for _ in range(concurrency)))


def wait_inbox(intake: str, token: str, n: int, timeout: float = 1800.0) -> float:
    """Wait until the office's inbox holds `n` issues; the last read's time (ms)."""
    deadline = time.monotonic() + timeout
    while True:
        started = time.perf_counter()
        answer = httpx.get(
            f"{intake}/inbox", headers={"Authorization": f"Bearer {token}"}, timeout=120
        )
        took = (time.perf_counter() - started) * 1000
        if answer.status_code == 200 and len(answer.json()) >= n:
            return took
        if time.monotonic() > deadline:
            raise TimeoutError(f"the inbox holds {len(answer.json())} of {n}")
        time.sleep(1.0)


def signed_in(console: str, name: str) -> httpx.Client:
    client = httpx.Client(base_url=console, timeout=120)
    page = client.get("/login")
    csrf = page.text.split('name="csrf" value="', 1)[1].split('"', 1)[0]
    client.post("/login", data={"name": name, "password": PASSWORD, "csrf": csrf})
    return client


def served(client: httpx.Client, path: str) -> float:
    times = []
    for _ in range(3):
        started = time.perf_counter()
        answer = client.get(path)
        times.append((time.perf_counter() - started) * 1000)
        if answer.status_code != 200:  # the page says which service did not answer
            raise RuntimeError(f"{path}: {answer.status_code}: {answer.text[:2000]}")
    return statistics.median(times)


def painted(console: str, user: str, paths: list[str]) -> dict[str, float]:
    if not CHROMIUM.exists():
        return {}
    from playwright.sync_api import sync_playwright

    out = {}
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=str(CHROMIUM), headless=True)
        # the console's CSP forbids eval, which Playwright's polling of a predicate uses
        page = browser.new_page(base_url=console, bypass_csp=True)
        page.goto("/login")
        page.fill("#name", user)
        page.fill("#password", PASSWORD)
        page.click("button[type=submit]")
        page.wait_for_load_state()
        for path in paths:
            started = time.perf_counter()
            page.goto(path, wait_until="commit")
            page.wait_for_function(
                "performance.getEntriesByName('first-contentful-paint').length > 0"
            )
            out[path] = (time.perf_counter() - started) * 1000
        browser.close()
    return out


def measure(platform: Platform, n: int) -> Timings:
    """File `n` reports and time the console's first render of the inbox and dashboard."""
    intake, console = platform["intake"].url, platform["console"].url
    operator = platform.token("operator")
    office = platform.token("office", office_id=OFFICE)
    asyncio.run(file_reports(intake, operator, n))
    inbox_ms = wait_inbox(intake, office, n)
    admin = ConsoleAdmin(console, platform.console_password)
    admin.add_user("bench-office", PASSWORD, "office", office_id=OFFICE)
    admin.add_user("bench-leader", PASSWORD, "leader")
    admin.close()
    pages = {}
    for user, path in (("bench-office", "/office"), ("bench-leader", "/dashboard")):
        client = signed_in(console, user)
        try:
            pages[path] = served(client, path)
        finally:
            client.close()
    paint = painted(console, "bench-office", ["/office"])
    paint |= painted(console, "bench-leader", ["/dashboard"])
    return Timings(n, inbox_ms, pages, paint)


def main() -> None:
    with ExitStack() as stack:
        servers = endpoints(stack)
        namespace = f"bench{uuid.uuid4().hex[:8]}"
        platform = Platform(servers, namespace, REPO / ".local/logs/bench-console", console=True)
        platform.start()
        stack.callback(platform.stop)
        print(f"filing {ISSUES} reports in namespace {namespace}…", flush=True)
        for line in measure(platform, ISSUES).lines():
            print(line)


if __name__ == "__main__":
    main()
