"""The centre's desk in headless Chromium (Playwright) against the real gateway process.

A centre duty officer signs in with TOTP, sees the board, follows a number to the list and a
case, acknowledges a hotspot, writes the 研判, assigns it, puts a body under 挂牌督办, and the
body's mediator sees it in their queue. Screenshots of each page: tests/artifacts/centre/.
"""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from dataclasses import dataclass

import pytest

from fengqiao.migrate import upgrade
from fengqiao.processes import Service, base_env
from gateway.console.accounts.store import create_user
from routing.persistence.db import REPO_ROOT
from tests.e2e.conftest import ARTIFACTS, free_port
from tests.integration.centre_support import PROPERTY, draft, many
from tests.web.console_helpers import PASSWORD, TOTP_SECRET, seed_world, totp_now

pytestmark = pytest.mark.e2e
SHOTS = ARTIFACTS / "centre"
BROWSER_ARGS = ["--disable-background-networking", "--disable-component-update", "--disable-sync",
                "--no-first-run"]


@dataclass
class CentreStack:
    base: str
    world: object


@pytest.fixture(scope="module")
def centre_stack(tmp_path_factory) -> Iterator[CentreStack]:
    """The gateway alone (no Rasa needed for the console) on a seeded SQLite file."""
    url = f"sqlite:///{tmp_path_factory.mktemp('centre') / 'cases.db'}"
    upgrade(url)
    world = seed_world(url)
    with world.sessions.begin() as s:
        create_user(s, "centre.zj", PASSWORD, "centre", ["330681"], display_name="诸暨中心值班员",
                    totp_secret=TOTP_SECRET)
    for d in many(draft("老板拖欠我们工资三个月不发", "诸暨市枫桥镇枫源村"), 3, "hot"):
        world.service.file_case(d)
    world.service.file_case(draft("物业不修电梯一个月了", "诸暨市店口镇", PROPERTY, user="web:e2", dispute_type="property_mgmt"))
    port = free_port()
    env = base_env(DATABASE_URL=url, RASA_URL=f"http://127.0.0.1:{free_port()}", WEB_PORT=str(port),
                   WEB_HOST="127.0.0.1", CONSOLE_COOKIE_SECURE="0")
    web = Service("web", [str(REPO_ROOT / ".venv" / "bin" / "python"), "-m", "gateway"],
                  f"http://127.0.0.1:{port}/health", env, ARTIFACTS / "logs" / "centre" / "web.log")
    web.start()
    try:
        web.wait_ready(90)
        yield CentreStack(f"http://127.0.0.1:{port}", world)
    finally:
        web.stop()


@pytest.fixture(scope="module")
def browser():
    from playwright.sync_api import sync_playwright

    executable = shutil.which("chromium")
    assert executable, "apt-get install -y chromium fonts-wqy-microhei"
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=executable, args=BROWSER_ARGS)
        yield browser
        browser.close()


def shot(page, name: str) -> None:
    SHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SHOTS / f"{name}.png"), full_page=True)


def sign_in(page, base: str, username: str, totp: bool = False) -> None:
    page.goto(f"{base}/console/login")
    page.fill("#username", username)
    page.fill("#password", PASSWORD)
    page.click("#login")
    if totp:
        page.wait_for_url(f"{base}/console/totp")
        shot(page, "00-totp")
        page.fill("#code", totp_now())
        page.press("#code", "Enter")
    page.wait_for_url(f"{base}/console/", timeout=15000)


def test_centre_duty_officer_flow(centre_stack, browser) -> None:
    base, world = centre_stack.base, centre_stack.world
    ctx = browser.new_context(viewport={"width": 1440, "height": 1000}, bypass_csp=True)
    page = ctx.new_page()
    sign_in(page, base, "centre.zj", totp=True)
    page.click("#centre-link")
    page.wait_for_selector("#board-divisions")
    assert page.inner_text("[data-cell='total:open']") == "4"
    assert "热点聚集" in page.inner_text("#alert-feed")
    shot(page, "01-board")

    # the board refreshes itself: a new filing shows without reloading the page
    world.service.file_case(draft("饭店噪音扰民", "诸暨市暨阳街道", user="web:late", dispute_type="environment_noise"))
    page.evaluate("window.fqCentreRefresh()")
    page.wait_for_function("document.querySelector(\"[data-cell='total:open']\").textContent === '5'")

    page.click("[data-cell='total:open']")
    page.wait_for_selector("#centre-cases")
    assert len(page.query_selector_all("#centre-cases tbody tr")) == 5
    shot(page, "02-list")
    page.click("#centre-cases tbody tr:first-child a")
    page.wait_for_selector("h1")
    assert "FQ-" in page.inner_text("h1")
    shot(page, "03-case")

    page.goto(f"{base}/console/centre")
    page.click("#alert-feed tr[data-kind='hotspot'] a")
    page.wait_for_selector("#member-list")
    assert len(page.query_selector_all("#member-list tbody tr")) == 3
    shot(page, "04-hotspot")
    page.click("#ack")
    page.wait_for_selector("#assess-form")
    page.fill("#assess-form textarea", "同一村三名工人反映同一企业欠薪，存在群体性风险，建议由镇调委会牵头约谈")
    page.click("#assess")
    page.wait_for_selector("#assign-form")
    page.select_option("#assign-kind", "body")
    page.select_option("#target-body", "fq-town-tw")
    page.click("#assign")
    page.wait_for_function("document.getElementById('alert-state').textContent.includes('已交办')")
    steps = page.inner_text("#alert-steps")
    assert "acknowledged" in steps and "assessed" in steps and "assigned" in steps
    shot(page, "05-assigned")

    page.goto(f"{base}/console/centre/supervisions")
    page.check("#sup-target-body")
    page.select_option("#sup-body", "fq-town-tw")
    page.fill("#sup-reason", "辖区欠薪纠纷化解不力，请于期限内反馈")
    page.click("#supervise")
    page.wait_for_selector("#supervision-detail")
    assert "督办中" in page.inner_text("#supervision-state")
    shot(page, "06-supervision")

    staff = browser.new_context(viewport={"width": 1024, "height": 1366}, bypass_csp=True).new_page()
    sign_in(staff, base, "med.a")
    assert "辖区欠薪纠纷化解不力" in staff.inner_text("#queue-supervisions")
    shot(staff, "07-mediator-queue")
    staff.click("#queue-supervisions a")
    staff.fill("#feedback-form textarea", "已约谈企业负责人，工资本周内发放")
    staff.click("#feedback")
    staff.wait_for_function("document.getElementById('supervision-state').textContent.includes('已反馈')")
    shot(staff, "08-feedback")
