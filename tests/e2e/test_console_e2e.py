"""The mediator console in headless Chromium (Playwright) against real processes.

A simulated citizen chats on the web page; a mediator logs in, opens the case, takes the live
chat over, replies (the citizen's page shows it), hands back, records a 调解协议书 and closes
the case; the reception office publishes a day and sees a booking. Screenshots are kept under
tests/artifacts/console/.
"""

from __future__ import annotations

import shutil
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import timedelta

import pytest
from sqlalchemy import select

from fengqiao.migrate import upgrade
from fengqiao.processes import Service, action_service, base_env
from routing.cases.life import CaseLife
from routing.cases.service import utc_today
from routing.persistence.case_tables import Case
from routing.persistence.db import REPO_ROOT
from tests.e2e.conftest import ARTIFACTS, free_port
from tests.web.console_helpers import PASSWORD, assign, draft, seed_world

pytestmark = pytest.mark.e2e
# bypass_csp: Playwright evaluates its wait conditions as strings, which script-src 'self' forbids.
SHOTS = ARTIFACTS / "console"
BROWSER_ARGS = ["--disable-background-networking", "--disable-component-update", "--disable-sync",
                "--no-first-run"]


@dataclass
class ConsoleStack:
    base: str
    world: object
    case_number: str
    conversation: str


@pytest.fixture(scope="module")
def console_stack(rasa_server, ports, tmp_path_factory) -> Iterator[ConsoleStack]:
    """Action server and web app (console cookie over plain http) on a seeded SQLite file."""
    url = f"sqlite:///{tmp_path_factory.mktemp('console') / 'cases.db'}"
    upgrade(url)
    world = seed_world(url)
    conversation = uuid.uuid4().hex[:16]
    story = "我家隔壁在两家院墙中间挖了一条排水沟，下雨时水全灌进我家院子，找他说了几次都不理。"
    number = world.service.file_case(draft(story, f"web:{conversation}")).view.case_number
    assign(world, number, "med.a", "调解员甲")
    logs = ARTIFACTS / "logs" / "console"
    web_port = free_port()
    actions = action_service(ports["actions"], logs, url)
    env = base_env(DATABASE_URL=url, RASA_URL=f"http://127.0.0.1:{ports['rasa']}", WEB_PORT=str(web_port),
                   WEB_HOST="127.0.0.1", CONSOLE_COOKIE_SECURE="0")
    web = Service("web", [str(REPO_ROOT / ".venv" / "bin" / "python"), "-m", "gateway"],
                  f"http://127.0.0.1:{web_port}/health", env, logs / "web.log")
    for service in (actions, web):
        service.start()
    try:
        for service in (actions, web):
            service.wait_ready(90)
        yield ConsoleStack(f"http://127.0.0.1:{web_port}", world, number, conversation)
    finally:
        web.stop()
        actions.stop()


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


def sign_in(page, base: str, username: str) -> None:
    page.goto(f"{base}/console/login")
    page.fill("#username", username)
    page.fill("#password", PASSWORD)
    page.click("#login")
    try:
        page.wait_for_url(f"{base}/console/", timeout=15000)
    except Exception:
        shot(page, f"failed-login-{username}")
        raise AssertionError(page.inner_text("body")[:500]) from None


def test_mediator_takes_over_a_live_chat_records_an_agreement_and_closes(console_stack, browser) -> None:
    base, number = console_stack.base, console_stack.case_number
    citizen_ctx = browser.new_context(viewport={"width": 390, "height": 800}, bypass_csp=True)
    citizen_ctx.add_init_script(f"localStorage.setItem('fq.conversation', '{console_stack.conversation}')")
    citizen = citizen_ctx.new_page()
    citizen.goto(f"{base}/")
    citizen.wait_for_function("window.fqChat && window.fqChat.isOpen()")
    citizen.fill("#text", "你好")
    citizen.click("#send")
    citizen.wait_for_function("document.querySelectorAll('#log .bot, #log [data-from=bot], #log .msg').length >= 2",
                              timeout=60000)

    staff_ctx = browser.new_context(viewport={"width": 1024, "height": 1366}, bypass_csp=True)  # a tablet held upright
    page = staff_ctx.new_page()
    sign_in(page, base, "med.a")
    assert number in page.inner_text("table.queue")
    shot(page, "01-queue")
    page.click(f"text={number}")
    page.wait_for_function("document.getElementById('live').dataset.ready === '1'")
    assert "排水沟" in page.inner_text("#packet") or "排水沟" in page.inner_text("#narrative")
    page.click("#takeover")
    page.wait_for_selector("#reply-form:not([hidden])")
    citizen.wait_for_function("document.getElementById('log').innerText.includes('人工坐席已接入')", timeout=15000)
    reply = "您好，我是枫桥镇调解员，明天上午到现场看一下排水沟，请保持电话畅通。"
    page.fill("#reply-text", reply)
    page.click("#reply-send")
    try:
        citizen.wait_for_function(f"document.getElementById('log').innerText.includes({reply[:12]!r})", timeout=15000)
    except Exception:
        shot(citizen, "failed-citizen")
        raise AssertionError(citizen.inner_text("#log") + " || " + page.inner_text("#live")) from None
    citizen.fill("#text", "好的，谢谢")
    citizen.click("#send")
    page.wait_for_function("document.getElementById('live-log').innerText.includes('谢谢')", timeout=15000)
    shot(page, "02-live-takeover")
    shot(citizen, "03-citizen-sees-reply")
    page.click("#handback")
    citizen.wait_for_function("document.getElementById('log').innerText.includes('人工服务已结束')", timeout=15000)

    page.reload()
    page.click("#act-start_mediation")
    page.wait_for_selector("#agreement-details")
    page.click("#agreement-details summary")
    form = "#agreement-form"
    page.fill(f"{form} [name=party1_name]", "张某")
    page.fill(f"{form} [name=party1_details]", "男，52岁，枫源村村民")
    page.select_option(f"{form} [name=party2_role]", "被申请人")
    page.fill(f"{form} [name=party2_name]", "李某")
    page.fill(f"{form} [name=facts]", "李某在两家院墙之间挖排水沟，雨水流入张某院内。")
    page.fill(f"{form} [name=issues]", "排水沟走向及院内损失。")
    page.fill(f"{form} [name=responsibilities]", "李某未与邻居协商擅自挖沟，负主要责任。")
    page.fill(f"{form} [name=terms]", "李某将排水沟改至自家一侧，并赔偿张某修缮费八百元。")
    page.fill(f"{form} [name=performance_method]", "改沟由李某施工，赔偿款当面现金交付")
    page.fill(f"{form} [name=performance_deadline]", "2026-05-15")
    page.click("#agreement-save")
    page.click("a.agreement-link")
    assert "调解协议书" in page.inner_text("article.agreement")
    assert "当事人的基本情况" in page.inner_text("article.agreement")
    shot(page, "04-agreement-printable")
    page.go_back()
    page.click("#act-resolve")
    page.wait_for_selector("#act-close")
    page.click("#act-close")
    page.wait_for_selector("text=归档")
    shot(page, "05-closed")
    with console_stack.world.sessions() as s:
        assert s.execute(select(Case.status).where(Case.case_number == number)).scalar_one() == "archived"
    citizen_ctx.close()
    staff_ctx.close()


def test_reception_office_publishes_a_day_and_sees_a_booking(console_stack, browser) -> None:
    base, world = console_stack.base, console_stack.world
    number = world.service.file_case(draft("村里征地补偿款三年没有发放到位，多次反映没有结果。", "web:recv0001",
                                           category="国土资源")).view.case_number
    assign(world, number, "med.b", "调解员乙")
    ctx = browser.new_context(viewport={"width": 1280, "height": 900})
    page = ctx.new_page()
    sign_in(page, base, "recv.a")
    page.click("text=领导接访日")
    page.fill("#day-leader", "诸暨市副市长")
    page.fill("#day-date", (utc_today() + timedelta(days=14)).isoformat())  # the web process runs on the real date
    page.fill("#day-place", "枫桥镇社会治理中心接访室")
    page.select_option("#day-division", "330681104000")
    page.fill("#day-topics", "land, 国土资源")
    page.fill("#day-capacity", "5")
    page.click("#day-save")
    page.wait_for_selector("section.reception-day")
    day_id = page.get_attribute("section.reception-day", "id").removeprefix("day-")
    # the citizen asks to see a leader in the chat and picks the day the office just published
    citizen_ctx = browser.new_context(viewport={"width": 390, "height": 800}, bypass_csp=True)
    citizen_ctx.add_init_script("localStorage.setItem('fq.conversation', 'recv0001')")
    citizen = citizen_ctx.new_page()
    citizen.goto(f"{base}/")
    citizen.wait_for_function("window.fqChat && window.fqChat.isOpen()")
    citizen.fill("#text", "我想预约领导接访日，当面反映一下")
    citizen.click("#send")
    day_button = citizen.locator(".buttons button", has_text="诸暨市副市长")
    day_button.first.wait_for(timeout=60000)
    shot(citizen, "05-citizen-offered-days")
    day_button.first.click()
    citizen.wait_for_function("document.getElementById('log').innerText.includes('已为案件')", timeout=60000)
    assert "枫桥镇社会治理中心接访室" in citizen.inner_text("#log")
    citizen_ctx.close()
    page.reload()
    assert number in page.inner_text(f"#day-{day_id}")
    assert "国土资源（1）" in page.inner_text(f"#day-{day_id}")
    assert CaseLife(world.sessions, utc_today).booked_day_ids(number) == {day_id}
    shot(page, "06-reception-day")
    ctx.close()
