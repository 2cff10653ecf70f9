"""The console in a real browser (Debian's Chromium driven by Playwright) against the real
services: the loop across roles, readable refusals, labels on every field, no console error or
failed request on any page, and a screenshot of every screen under .local/screenshots/."""

import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from playwright.sync_api import (
    Browser,
    ConsoleMessage,
    Page,
    Request,
    expect,
    sync_playwright,
)

from devkit.console_users import ConsoleAdmin
from devkit.infra import REPO, Endpoints
from devkit.processes import Platform
from tests.conftest import throwaway
from tests.e2e.conftest import eventually
from tests.fixtures.calendars import TEST_CALENDAR_ENV

CHROMIUM = Path("/usr/bin/chromium")
SHOTS = REPO / ".local/screenshots"
OFFICE = "411900-urban_management"  # where a street-lighting report without a place goes
PASSWORD = "correct horse battery"
# axe-core from npm (make browser-tools puts it there); the console never serves it
AXE = next(iter(sorted((REPO / ".local").glob("axe-core-*/axe.min.js"))), None)

pytestmark = pytest.mark.skipif(not CHROMIUM.exists(), reason="make browser-tools installs it")


@pytest.fixture(scope="module")
def site(servers: Endpoints, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Platform]:
    logs = tmp_path_factory.mktemp("logs")
    with throwaway(servers, "c") as namespace:
        running = Platform(servers, namespace, logs, TEST_CALENDAR_ENV, console=True).start()
        try:
            yield running
        finally:
            running.stop()


@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    with sync_playwright() as playwright:
        launched = playwright.chromium.launch(executable_path=str(CHROMIUM), headless=True)
        yield launched
        launched.close()


class Watched:
    """A page whose console errors and failed requests are collected (and checked)."""

    def __init__(self, browser: Browser, base: str) -> None:
        self.context = browser.new_context(base_url=base, locale="zh-CN")
        self.page = self.context.new_page()
        self.problems: list[str] = []
        self.page.on("console", self._console)
        self.page.on("pageerror", lambda error: self.problems.append(f"page error: {error}"))
        self.page.on("requestfailed", self._failed)
        self.expected_statuses: set[int] = set()

    def _failed(self, request: Request) -> None:
        if request.failure == "net::ERR_ABORTED" and request.resource_type != "document":
            return  # a poll, a hint or the icon, cut short by leaving the page: nothing failed
        self.problems.append(f"failed: {request.method} {request.url} {request.failure}")

    def _console(self, message: ConsoleMessage) -> None:
        if message.type != "error":
            return
        text = message.text
        if any(f"status of {s}" in text for s in self.expected_statuses):
            return  # a refusal page answered with its status on purpose
        self.problems.append(f"console: {text}")

    def check(self, screen: str) -> None:
        """Every form field has a label; a screenshot of the screen; no problems so far."""
        page = self.page
        page.wait_for_load_state("networkidle")
        unlabelled = page.evaluate(
            """() => Array.from(document.querySelectorAll(
                 'input:not([type=hidden]), select, textarea'))
               .filter(e => !(e.labels && e.labels.length) && !e.getAttribute('aria-label'))
               .map(e => e.id || e.name)"""
        )
        assert unlabelled == [], f"{screen}: fields without a label: {unlabelled}"
        if AXE is not None:  # evaluated over the DevTools protocol: the page's CSP stays on
            page.evaluate(AXE.read_text(encoding="utf-8") + "\n;0")
            violations = page.evaluate(
                """async () => (await axe.run(document, {runOnly: ['wcag2a', 'wcag2aa']}))
                   .violations.map(v => v.id + ': ' + v.nodes.map(n => n.target).join(' '))"""
            )
            assert violations == [], f"{screen}: {violations}"
        SHOTS.mkdir(parents=True, exist_ok=True)
        page.screenshot(path=str(SHOTS / f"{screen}.png"), full_page=True)
        assert self.problems == [], f"{screen}: {self.problems}"

    def sign_in(self, name: str, password: str) -> None:
        self.page.goto("/login")
        self.check("login")
        self.page.get_by_label("用户名").fill(name)
        self.page.get_by_label("密码").fill(password)
        self.page.get_by_role("button", name="登录").click()
        self.page.wait_for_load_state()

    def close(self) -> None:
        self.context.close()


def add_user(admin: Watched, name: str, role: str, **binding: str) -> None:
    page = admin.page
    page.goto("/admin/users")
    page.locator("#new-name").fill(name)
    page.locator("#new-password").fill(PASSWORD)
    page.locator("#new-role").select_option(role)
    for field, value in binding.items():
        page.locator(f"#new-{field}").fill(value)
    page.get_by_role("button", name="添加用户").click()
    expect(page.get_by_role("status")).to_contain_text(name)


def intake_view(site: Platform, issue_id: str) -> dict[str, Any] | None:
    answer = httpx.get(
        f"{site['intake'].url}/issues/{issue_id}",
        headers={"Authorization": f"Bearer {site.admin_token}"},
        timeout=10,
    )
    return answer.json() if answer.status_code == 200 else None


def wait_state(site: Platform, issue_id: str, *states: str) -> dict[str, Any]:
    def probe() -> dict[str, Any] | None:
        view = intake_view(site, issue_id)
        return view if view and view["state"] in states else None

    return eventually(probe, what=f"{issue_id} in {states}")


def reload_until(page: Page, selector: str, text: str, timeout: float = 30.0) -> None:
    """The status view follows the log: reload until the page shows the new state."""
    deadline = time.monotonic() + timeout
    while text not in (page.locator(selector).text_content() or ""):
        assert time.monotonic() < deadline, f"{selector} never showed {text!r}"
        time.sleep(0.3)
        page.reload()


def test_the_loop_across_roles(site: Platform, browser: Browser) -> None:
    base = site["console"].url
    admin = Watched(browser, base)
    admin.sign_in("admin", site.console_password)
    add_user(admin, "op1", "operator")
    add_user(admin, "of1", "office", office=OFFICE)
    admin.check("admin-users")

    office = Watched(browser, base)
    office.sign_in("of1", PASSWORD)
    expect(office.page).to_have_url(f"{base}/office")
    office.check("office-inbox-empty")

    operator = Watched(browser, base)
    operator.sign_in("op1", PASSWORD)
    desk = operator.page
    expect(desk).to_have_url(f"{base}/desk")
    desk.get_by_label("诉求内容").fill("小区路灯不亮，已经三天了")
    expect(desk.locator("#inferred")).to_contain_text("street_lighting")
    desk.get_by_label("联系电话").fill("13800138000")
    desk.get_by_label("姓名").fill("张三")
    operator.check("desk")
    desk.get_by_role("button", name="保存并生成回执").click()
    code = (desk.locator("#receipt-code").text_content() or "").strip()
    assert len(code) >= 8
    issue_id = desk.locator("#saved-issue").get_attribute("data-issue")
    assert issue_id
    operator.check("desk-receipt")

    # the office sees it within 2 s of its assignment, without a reload
    wait_state(site, issue_id, "assigned")
    row = office.page.locator(f'tr[data-issue="{issue_id}"]')
    expect(row).to_be_visible(timeout=2000)
    expect(row.locator(".countdown")).not_to_have_text("—")
    office.check("office-inbox")

    row.get_by_role("link").click()
    office.page.wait_for_load_state()
    office.check("issue-assigned")
    office.page.get_by_role("button", name="签收").click()
    expect(office.page.get_by_role("status")).to_contain_text("签收")
    reload_until(office.page, "#issue-state", "已签收")
    office.page.get_by_label("办理结果").fill("已更换灯泡，恢复照明")
    office.page.get_by_role("button", name="办结").click()
    reload_until(office.page, "#issue-state", "已办结")
    office.check("issue-resolved")

    # the reporter answers the return visit on the public page
    reporter = Watched(browser, base)
    reporter.page.goto("/public")
    reporter.check("public")
    reporter.page.get_by_label("回执码").fill(code)
    reporter.page.get_by_role("button", name="查询").click()
    expect(reporter.page.locator("#public-state")).to_have_text("已办结")
    expect(reporter.page.locator("#public-answer")).to_have_text("已更换灯泡，恢复照明")
    reporter.check("public-issue")
    reporter.page.get_by_label("满意度").select_option("satisfied")
    reporter.page.get_by_label("问题已解决").check()
    reporter.page.get_by_role("button", name="提交评价").click()
    expect(reporter.page.get_by_role("status")).to_have_text("感谢您的评价。")
    reporter.check("public-visited")
    assert wait_state(site, issue_id, "visited")["state"] == "visited"

    # English on request, remembered by a cookie
    office.page.goto("/office?lang=en")
    expect(office.page.get_by_role("heading", level=1)).to_contain_text("Inbox")
    office.page.goto("/office")
    expect(office.page.get_by_role("heading", level=1)).to_contain_text("Inbox")
    office.check("office-inbox-en")

    # the leader's dashboard counts it
    add_user(admin, "lead1", "leader")
    leader = Watched(browser, base)
    leader.sign_in("lead1", PASSWORD)
    expect(leader.page).to_have_url(f"{base}/dashboard")
    reload_until(leader.page, "#rate-satisfaction_rate", "100.0%")  # reporting follows the log
    leader.check("dashboard")
    tasks = leader.page.request.get("/dashboard/lists/tasks.csv")
    assert tasks.status == 200 and tasks.headers["content-type"].startswith("text/csv")
    assert issue_id in tasks.text()
    add_user(admin, "sup1", "supervisor", region="411900", level="city")
    supervisor = Watched(browser, base)
    supervisor.sign_in("sup1", PASSWORD)
    supervisor.check("board")

    for watched in (admin, office, operator, reporter, leader, supervisor):
        watched.close()


def test_refusals_read_as_sentences(site: Platform, browser: Browser) -> None:
    base = site["console"].url
    admin = Watched(browser, base)
    admin.sign_in("admin", site.console_password)
    add_user(admin, "op2", "operator")

    operator = Watched(browser, base)
    operator.expected_statuses = {403, 409, 422}
    operator.sign_in("op2", PASSWORD)
    desk = operator.page
    # 422 naming the field
    desk.get_by_label("诉求内容").fill("路边垃圾没人清运")
    desk.get_by_label("联系电话").fill("not a phone")
    desk.get_by_role("button", name="保存并生成回执").click()
    expect(desk.get_by_role("alert")).to_contain_text("联系电话")
    expect(desk.get_by_role("alert")).to_contain_text("请检查填写内容")
    operator.check("refusal-422")
    # 403: a screen that is not the role's
    desk.goto("/office")
    expect(desk.get_by_role("alert")).to_contain_text("您的角色不能打开此页面")
    operator.check("refusal-403")

    # 409 naming the state: the return visit answered twice (from two open pages)
    desk.goto("/desk")
    desk.get_by_label("诉求内容").fill("咨询公积金提取")
    desk.get_by_label("直接答复（直办）").fill("可在公积金中心网站办理")
    desk.get_by_role("button", name="保存并生成回执").click()
    code = (desk.locator("#receipt-code").text_content() or "").strip()
    issue_id = desk.locator("#saved-issue").get_attribute("data-issue")
    assert issue_id
    wait_state(site, issue_id, "answered")
    first, second = Watched(browser, base), Watched(browser, base)
    second.expected_statuses = {409}
    for reporter in (first, second):
        reporter.page.goto("/public")
        reporter.page.get_by_label("回执码").fill(code)
        reporter.page.get_by_role("button", name="查询").click()
        expect(reporter.page.locator("#public-answer")).to_have_text("可在公积金中心网站办理")
    first.page.get_by_role("button", name="提交评价").click()
    expect(first.page.get_by_role("status")).to_have_text("感谢您的评价。")
    wait_state(site, issue_id, "visited")
    second.page.get_by_role("button", name="提交评价").click()
    alert = second.page.get_by_role("alert")
    expect(alert).to_contain_text("当前状态不允许此操作")
    expect(alert).to_contain_text("visited")
    second.check("refusal-409")

    # a form without its CSRF token is refused
    answer = httpx.post(f"{base}/login", data={"name": "admin", "password": "x"})
    assert answer.status_code == 403
    for watched in (admin, operator, first, second):
        watched.close()


def test_sign_in_is_required_and_sessions_end(site: Platform, browser: Browser) -> None:
    base = site["console"].url
    visitor = Watched(browser, base)
    visitor.expected_statuses = {401}
    visitor.page.goto("/desk")
    expect(visitor.page).to_have_url(f"{base}/login?next=/desk")
    visitor.page.get_by_label("用户名").fill("admin")
    visitor.page.get_by_label("密码").fill("wrong password")
    visitor.page.get_by_role("button", name="登录").click()
    expect(visitor.page.get_by_role("alert")).to_contain_text("用户名或密码错误")
    visitor.check("login-failed")
    visitor.sign_in("admin", site.console_password)
    cookies = {c["name"]: c for c in visitor.context.cookies()}
    assert cookies["hy_session"]["httpOnly"] and cookies["hy_session"]["sameSite"] == "Lax"
    visitor.page.get_by_role("button", name="退出").click()
    expect(visitor.page).to_have_url(f"{base}/login")
    visitor.page.goto("/admin/users")
    expect(visitor.page).to_have_url(f"{base}/login?next=/admin/users")
    visitor.close()


def test_a_supervisor_decides_an_extension_and_a_return_moves_on(
    site: Platform, browser: Browser
) -> None:
    base, township = site["console"].url, "411905003-township_office"
    admin = ConsoleAdmin(base, site.console_password)  # as make run adds its demo users
    admin.add_user("op3", PASSWORD, "operator")
    admin.add_user("of3", PASSWORD, "office", office_id=township)
    admin.add_user("sup3", PASSWORD, "supervisor", region_code="411900", level="city")
    admin.close()

    operator = Watched(browser, base)
    operator.sign_in("op3", PASSWORD)
    desk = operator.page
    desk.get_by_label("诉求内容").fill("小区停水两天了")
    # the region tree: choosing a county offers its townships
    county = desk.locator("#region-0")
    county.select_option(index=1)
    expect(desk.locator("#region-1")).to_be_visible()
    operator.check("desk-region-tree")
    desk.get_by_label("地区", exact=True).fill("411905003")
    desk.get_by_label("分类（可搜索）").fill("water_supply")
    desk.get_by_label("匿名反映").check()
    desk.get_by_role("button", name="保存并生成回执").click()
    issue_id = desk.locator("#saved-issue").get_attribute("data-issue")
    assert issue_id
    assert wait_state(site, issue_id, "assigned")["office_id"] == township

    office = Watched(browser, base)
    office.sign_in("of3", PASSWORD)
    office.page.goto(f"/issues/{issue_id}")
    office.page.get_by_role("button", name="签收").click()
    reload_until(office.page, "#issue-state", "已签收")
    office.page.locator("#extension-working_days").fill("5")
    office.page.locator("#extension-reason").fill("需更换整段管道")
    office.page.get_by_role("button", name="申请延期").click()
    expect(office.page.get_by_role("status")).to_contain_text("申请延期")

    supervisor = Watched(browser, base)
    supervisor.sign_in("sup3", PASSWORD)
    expect(supervisor.page).to_have_url(f"{base}/board")
    supervisor.check("board-supervisor")
    supervisor.page.goto(f"/issues/{issue_id}")
    reload_until(supervisor.page, "body", "延期审批")
    supervisor.check("issue-extension-awaits")
    supervisor.page.get_by_label("同意延期").check()
    supervisor.page.locator("#extension-decision-reason").fill("管道工程量大，同意延期")
    supervisor.page.get_by_role("button", name="延期审批").click()
    expect(supervisor.page.get_by_role("status")).to_contain_text("延期审批")

    def extended() -> bool:
        clocks = httpx.get(f"{site['supervision'].url}/issues/{issue_id}/clocks", timeout=10)
        return any(c["clock"] == "resolve" and c["extended_days"] == 5 for c in clocks.json())

    eventually(extended, what="the resolve clock extended by the supervisor's decision")

    # a return with its reason: routing sends the issue on, and the office may do no more
    office.page.goto(f"/issues/{issue_id}")
    # intake shows an office only what it holds now: once routing moved the issue on, the
    # page's live refresh is refused too
    office.expected_statuses = {403}
    office.page.locator("#return-reason").fill("不属本单位职责")
    office.page.get_by_role("button", name="退回").click()

    def moved() -> dict[str, Any] | None:
        view = intake_view(site, issue_id)
        assigned = [h for h in (view or {}).get("history", []) if h["type"] == "IssueAssigned"]
        return view if view and len(assigned) >= 2 and view["state"] == "assigned" else None

    assert eventually(moved, what="a second assignment")["office_id"] != township
    office.page.reload()
    expect(office.page.get_by_role("alert")).to_contain_text("无权办理")  # a 403, readable
    expect(office.page.get_by_role("button", name="退回")).to_have_count(0)
    office.check("issue-returned")

    # before saving the next report of that category there: the open one, a likely duplicate
    def counted() -> bool:
        params = {"category": "water_supply", "region_code": "411905003", "state": "assigned"}
        answer = httpx.get(f"{site['reporting'].url}/lists/problems", params=params, timeout=10)
        return any(row["issue_id"] == issue_id for row in answer.json()["rows"])

    eventually(counted, what="reporting's problem list has the issue")
    desk.goto("/desk")
    desk.get_by_label("分类（可搜索）").fill("water_supply")
    desk.get_by_label("地区", exact=True).fill("411905003")
    expect(desk.locator(f'#nearby a[data-issue="{issue_id}"]')).to_be_visible()
    operator.check("desk-nearby")
    for watched in (operator, office, supervisor):
        watched.close()
