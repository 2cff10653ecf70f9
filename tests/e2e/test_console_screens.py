"""The console's newer screens in a real browser (Debian's Chromium through Playwright) against
the real services, in the style of test_console.py: the inbox paged with a "more" link, a
co-office's view of what it co-handles, the desk's map to pick a place, the supervision
board's results to verify on the ground, and the dashboard's trend and city map. Each screen
is checked for labels, axe (WCAG 2 A/AA), console errors and failed requests, and written to
.local/screenshots/."""

from collections.abc import Iterator
from typing import Any

import httpx
import pytest
from playwright.sync_api import Browser, expect

from devkit.console_users import ConsoleAdmin
from devkit.infra import Endpoints
from devkit.processes import Platform
from tests.conftest import throwaway
from tests.e2e.test_console import (
    CHROMIUM,
    OFFICE,
    PASSWORD,
    Watched,
    browser,  # noqa: F401 (a fixture)
    reload_until,
    wait_state,
)
from tests.fixtures.calendars import TEST_CALENDAR_ENV

pytestmark = pytest.mark.skipif(not CHROMIUM.exists(), reason="make browser-tools installs it")

TOWNSHIP = "411905003"
PAGE_SIZE = 2


@pytest.fixture(scope="module")
def site(servers: Endpoints, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Platform]:
    logs = tmp_path_factory.mktemp("logs")
    env = {**TEST_CALENDAR_ENV, "HUIYIN_CONSOLE_PAGE_SIZE": str(PAGE_SIZE)}
    with throwaway(servers, "c") as namespace:
        running = Platform(servers, namespace, logs, env, console=True).start()
        try:
            yield running
        finally:
            running.stop()


def report(site: Platform, token: str, text: str, **fields: Any) -> str:
    answer = httpx.post(
        f"{site['intake'].url}/issues",
        json={"channel": "hotline", "kind": "complaint", "text": text, **fields},
        headers={"Authorization": f"Bearer {token}"},
        timeout=10,
    )
    answer.raise_for_status()
    return str(answer.json()["issue_id"])


def test_the_inbox_pages_with_a_more_link(site: Platform, browser: Browser) -> None:  # noqa: F811
    operator = site.token("operator")
    ids = [report(site, operator, f"第{n}盏路灯不亮") for n in range(PAGE_SIZE + 1)]
    for issue_id in ids:
        wait_state(site, issue_id, "assigned")
    admin = ConsoleAdmin(site["console"].url, site.console_password)
    admin.add_user("pager", PASSWORD, "office", office_id=OFFICE)
    admin.close()

    office = Watched(browser, site["console"].url)
    office.sign_in("pager", PASSWORD)
    page = office.page
    expect(page.locator("#inbox-rows tr[data-issue]")).to_have_count(PAGE_SIZE)
    expect(page.locator("caption")).to_contain_text(str(PAGE_SIZE + 1))
    office.check("office-inbox-paged")
    page.get_by_role("link", name="更多（下一页）").click()
    page.wait_for_load_state()
    expect(page.locator("#inbox-rows tr[data-issue]")).to_have_count(1)
    expect(page.get_by_role("link", name="更多（下一页）")).to_have_count(0)
    shown = {page.locator("#inbox-rows tr[data-issue]").get_attribute("data-issue")}
    assert shown <= set(ids)
    page.wait_for_timeout(1500)  # a live refresh keeps the page it shows
    expect(page.locator("#inbox-rows tr[data-issue]")).to_have_count(1)
    office.check("office-inbox-more")
    page.get_by_role("link", name="回到第一页").click()
    expect(page.locator("#inbox-rows tr[data-issue]")).to_have_count(PAGE_SIZE)
    office.close()


def test_co_offices_the_map_the_results_to_verify_and_the_dashboard(
    site: Platform,
    browser: Browser,  # noqa: F811
) -> None:
    base = site["console"].url
    admin = ConsoleAdmin(base, site.console_password)
    admin.add_user("op9", PASSWORD, "operator")
    admin.add_user("sup9", PASSWORD, "supervisor", region_code="411900", level="city")
    admin.add_user("lead9", PASSWORD, "leader")

    # the operator picks the place on the city map
    operator = Watched(browser, base)
    operator.sign_in("op9", PASSWORD)
    desk = operator.page
    desk.get_by_label("诉求内容").fill("整个小区停水，多个部门都说不归自己管")
    desk.get_by_label("分类（可搜索）").fill("water_supply")
    desk.locator("#place-map summary").click()
    desk.locator(f'#map-pick a[data-code="{TOWNSHIP}"]').click()
    expect(desk.get_by_label("地区", exact=True)).to_have_value(TOWNSHIP)
    expect(desk.locator("#map-picked")).to_contain_text(f"已选：福台市 白阳乡 {TOWNSHIP}")
    operator.check("desk-map")
    desk.get_by_role("button", name="保存并生成回执").click()
    issue_id = desk.locator("#saved-issue").get_attribute("data-issue")
    assert issue_id
    view = wait_state(site, issue_id, "assigned")
    lead, co = view["office_id"], view["co_office_ids"][0]
    admin.add_user("co9", PASSWORD, "office", office_id=co)
    admin.add_user("of9", PASSWORD, "office", office_id=lead)
    admin.close()

    # the co-office sees it, marked as co-handled, and may only follow it
    helper = Watched(browser, base)
    helper.sign_in("co9", PASSWORD)
    row = helper.page.locator(f'tr[data-issue="{issue_id}"]')
    expect(row).to_be_visible()
    expect(row.locator(".badge-co")).to_have_text("协办")
    helper.check("office-inbox-co")
    row.get_by_role("link").click()
    helper.page.wait_for_load_state()
    expect(helper.page.locator("#co-handled")).to_contain_text("协办单位")
    expect(helper.page.get_by_role("button", name="签收")).to_have_count(0)
    helper.check("issue-co-handled")

    # the lead office resolves it: the supervisor finds it to verify on the ground
    office = Watched(browser, base)
    office.sign_in("of9", PASSWORD)
    office.page.goto(f"/issues/{issue_id}")
    office.page.get_by_role("button", name="签收").click()
    reload_until(office.page, "#issue-state", "已签收")
    office.page.get_by_label("办理结果").fill("已抢修管道，恢复供水")
    office.page.get_by_role("button", name="办结").click()
    wait_state(site, issue_id, "resolved")

    supervisor = Watched(browser, base)
    supervisor.sign_in("sup9", PASSWORD)
    reload_until(supervisor.page, "#to-verify", issue_id[:8])  # reporting follows the log
    supervisor.check("board-verify")
    supervisor.page.locator(f'#to-verify tr[data-issue="{issue_id}"] a').click()
    supervisor.page.wait_for_load_state()
    expect(supervisor.page.get_by_role("button", name="核查")).to_be_visible()

    # the leader's trend per day and the city map, with their text alternatives
    leader = Watched(browser, base)
    leader.sign_in("lead9", PASSWORD)
    page = leader.page
    cell = page.locator(f'#map-issues rect[data-code="{TOWNSHIP}"]')
    deadline_reloads = 60
    while cell.get_attribute("data-value") in (None, "0") and deadline_reloads:
        page.wait_for_timeout(500)
        page.reload()
        deadline_reloads -= 1
    assert int(cell.get_attribute("data-value") or 0) >= 1
    expect(page.locator("#trend polyline").first).to_be_attached()
    expect(page.locator("#map-issues .legend li").first).to_be_visible()
    page.locator("#city-map summary").click()
    expect(page.locator("#map-table")).to_contain_text("1")
    page.locator("#trend summary").click()
    expect(page.locator("#trend-table tbody tr").first).to_be_visible()
    leader.check("dashboard-trend-map")
    page.goto("/dashboard?lang=en")
    expect(page.locator("#trend h2")).to_have_text("This month, day by day")
    leader.check("dashboard-trend-map-en")
    page.goto("/dashboard?lang=zh-CN")
    for watched in (operator, helper, office, supervisor, leader):
        watched.close()
