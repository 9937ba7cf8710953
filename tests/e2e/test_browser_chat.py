# ruff: noqa: F811  (pytest fixtures imported by name)
"""The web chat page in headless Chromium (Playwright, Debian's chromium): intake to a case
number and its status, buttons, and a network drop that loses and doubles nothing.
Screenshots go to tests/artifacts/browser/."""

from __future__ import annotations

import shutil

import pytest
from playwright.async_api import Page, async_playwright

from tests.e2e.conftest import artifact_dir
from tests.e2e.messaging_support import CASE_NUMBER, NARRATIVE, messaging_env  # noqa: F401

pytestmark = pytest.mark.e2e
FLAGS = ["--disable-background-networking", "--disable-component-update", "--disable-sync", "--no-first-run",
         "--disable-dev-shm-usage"]


async def _bot_texts(page: Page) -> list[str]:
    return await page.locator(".msg.bot").all_inner_texts()


async def _say(page: Page, text: str, timeout: float = 60_000) -> str:
    """Type a message, wait until the bot's bubbles stop changing, return the new ones."""
    before = len(await _bot_texts(page))
    await page.fill("#text", text)
    await page.press("#text", "Enter")
    return await _new_replies(page, before, timeout)


async def _new_replies(page: Page, before: int, timeout: float = 60_000) -> str:
    await page.wait_for_function(f"document.querySelectorAll('.msg.bot').length > {before}", timeout=timeout)
    count = -1
    while count != len(await _bot_texts(page)):  # settle: more bubbles of the same turn
        count = len(await _bot_texts(page))
        await page.wait_for_timeout(1200)
    return " ".join((await _bot_texts(page))[before:])


async def _click(page: Page, title: str) -> str:
    before = len(await _bot_texts(page))
    await page.locator(".buttons").get_by_role("button", name=title, exact=True).last.click()
    return await _new_replies(page, before)


async def test_the_page_files_a_case_and_survives_a_network_drop(messaging_env) -> None:
    chromium = shutil.which("chromium")
    assert chromium, "Debian's chromium is missing: run `make setup`"
    _, port = messaging_env.gateway("browser")
    shots = artifact_dir("browser")
    async with async_playwright() as p:
        browser = await p.chromium.launch(executable_path=chromium, args=FLAGS)
        # the page's CSP forbids eval, which Playwright's wait_for_function needs
        context = await browser.new_context(viewport={"width": 390, "height": 844}, locale="zh-CN", bypass_csp=True)
        page = await context.new_page()
        try:
            await page.goto(f"http://127.0.0.1:{port}/")
            await page.wait_for_function("window.fqChat && window.fqChat.isOpen()")
            conversation = await page.evaluate("window.fqChat.conversation")
            greeting = await _say(page, "你好")
            assert "个人信息" in greeting
            await page.screenshot(path=str(shots / "01_consent.png"))
            asked = await _click(page, "同意")
            assert "发生了什么" in asked
            replies = await _say(page, NARRATIVE)
            for _ in range(5):
                if CASE_NUMBER.search(replies):
                    break
                if await page.locator(".buttons button", has_text="确认提交").count():
                    await page.screenshot(path=str(shots / "02_summary.png"))
                    replies = await _click(page, "确认提交")
                elif await page.locator(".buttons button", has_text="都不是").count():
                    replies = await _click(page, await page.locator(".buttons button").first.inner_text())
                elif "电话" in replies:
                    replies = await _say(page, "13906754321")
                else:
                    raise AssertionError(replies)
            number = CASE_NUMBER.search(replies).group(0)
            card = page.locator(f'.case-card[data-case-number="{number}"]').first
            await card.wait_for(timeout=15_000)
            card_text = await card.inner_text()
            assert number in card_text and "承办单位" in card_text and "办理期限" in card_text
            await page.screenshot(path=str(shots / "03_filed.png"))

            # network drop: the socket closes, a message typed meanwhile is sent after the
            # reconnect; it is answered once and shown once
            before = len(await _bot_texts(page))
            await page.evaluate("window.fqChat.drop()")
            status = await _say(page, f"查询一下{number}的进度")
            await page.wait_for_function("window.fqChat.isOpen() && window.fqChat.pending() === 0")
            assert number in status
            await page.screenshot(path=str(shots / "04_status_after_drop.png"))
            bubbles = (await _bot_texts(page))[before:]
            assert len(bubbles) == len(set(bubbles)), bubbles
        finally:
            await browser.close()
    (case,) = messaging_env.cases(f"web:{conversation}")
    assert case.case_number == number and case.channel == "web"


async def test_the_widget_opens_the_chat_on_an_allowed_site(messaging_env) -> None:
    """One script tag on another site's page: the launcher opens the chat in a frame that talks."""
    from aiohttp import web

    from tests.e2e.conftest import free_port

    chromium = shutil.which("chromium")
    assert chromium, "Debian's chromium is missing: run `make setup`"
    host_port = free_port()
    _, port = messaging_env.gateway("widget", WEB_ALLOWED_ORIGINS=f"http://127.0.0.1:{host_port}")
    host = web.Application()
    page_html = (f'<!doctype html><html lang="zh-CN"><body><h1>某县政府门户</h1>'
                 f'<script src="http://127.0.0.1:{port}/static/widget.js"></script></body></html>')

    async def portal(_request: web.Request) -> web.Response:
        return web.Response(text=page_html, content_type="text/html")

    host.router.add_get("/", portal)
    runner = web.AppRunner(host)
    await runner.setup()
    await web.TCPSite(runner, "127.0.0.1", host_port).start()
    shots = artifact_dir("browser")
    try:
        async with async_playwright() as p:
            browser = await p.chromium.launch(executable_path=chromium, args=FLAGS)
            context = await browser.new_context(viewport={"width": 1280, "height": 800}, locale="zh-CN",
                                                bypass_csp=True)
            page = await context.new_page()
            try:
                await page.goto(f"http://127.0.0.1:{host_port}/")
                await page.click("#fq-widget-launcher")
                frame = next(f for f in page.frames if f.url.endswith("/embed"))
                await frame.wait_for_function("window.fqChat && window.fqChat.isOpen()")
                await frame.fill("#text", "你好")
                await frame.press("#text", "Enter")
                await frame.wait_for_function("document.querySelectorAll('.msg.bot').length > 0", timeout=60_000)
                greeting = " ".join(await frame.locator(".msg.bot").all_inner_texts())
                assert "个人信息" in greeting
                await page.screenshot(path=str(shots / "05_widget.png"))
            finally:
                await browser.close()
    finally:
        await runner.cleanup()
