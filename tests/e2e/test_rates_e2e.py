"""Rates, the situation report and the public page in headless Chromium against the real gateway.

One browser session: the centre's duty officer opens the report page from the desk and downloads
the report in each format; the xlsx (openpyxl), the csv and the PDF's text (pypdf) carry the
figures the rates module computes straight from the event log. The public page draws its charts
(screenshot), withholds a figure below the minimum, and its survey refuses a second answer the
same day and bad input. Screenshots: tests/artifacts/rates/.
"""

from __future__ import annotations

import csv
import io
import shutil
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from fengqiao.migrate import upgrade
from fengqiao.processes import Service, base_env
from gateway.console.accounts.store import create_user
from routing.centre.generate import Plan, generate
from routing.persistence.db import REPO_ROOT, make_engine, make_session_factory
from routing.rates import monthly
from routing.rates.compute import Figure, figures
from routing.rates.definitions import load_rates
from routing.rates.facts import derive
from routing.rates.report import shift
from routing.rates.store import load
from tests.e2e.conftest import ARTIFACTS, free_port
from tests.e2e.test_centre_e2e import BROWSER_ARGS, sign_in
from tests.web.console_helpers import PASSWORD, TOTP_SECRET

pytestmark = pytest.mark.e2e
SHOTS = ARTIFACTS / "rates"
REGION = "330681"


@dataclass
class RatesStack:
    base: str
    url: str
    period: str
    this_month: str


def _today():  # the gateway's working day (China Standard Time)
    return (datetime.now(UTC) + timedelta(hours=8)).date()


@pytest.fixture(scope="module")
def rates_stack(tmp_path_factory) -> Iterator[RatesStack]:
    url = f"sqlite:///{tmp_path_factory.mktemp('rates') / 'cases.db'}"
    upgrade(url)
    engine = make_engine(url)
    sessions = make_session_factory(engine)
    with sessions.begin() as s:
        create_user(s, "centre.zj", PASSWORD, "centre", [REGION], display_name="诸暨中心值班员",
                    totp_secret=TOTP_SECRET)
    today = _today()
    generate(sessions, Plan(cases=900, region=REGION, months=3, today=today, hotspots=0, seed=3))
    this = f"{today.year:04d}-{today.month:02d}"
    monthly.refresh(sessions, [shift(this, -2), shift(this, -1), this], REGION)
    engine.dispose()
    port = free_port()
    env = base_env(DATABASE_URL=url, RASA_URL=f"http://127.0.0.1:{free_port()}", WEB_PORT=str(port),
                   WEB_HOST="127.0.0.1", CONSOLE_COOKIE_SECURE="0", SURVEY_WEEK="open", PUBLIC_REGION=REGION)
    web = Service("web", [str(REPO_ROOT / ".venv" / "bin" / "python"), "-m", "gateway"],
                  f"http://127.0.0.1:{port}/health", env, ARTIFACTS / "logs" / "rates" / "web.log")
    web.start()
    try:
        web.wait_ready(90)
        yield RatesStack(f"http://127.0.0.1:{port}", url, shift(this, -1), this)
    finally:
        web.stop()


def module_figures(url: str, region: str, period: str) -> dict[str, Figure]:
    """The rates computed straight from the event log (not from the monthly tallies the report reads)."""
    engine = make_engine(url)
    try:
        with make_session_factory(engine)() as s:
            return figures([derive(r, _today()) for r in load(s, region, [period])], load_rates(), [period])
    finally:
        engine.dispose()


def shot(page, name: str) -> None:
    SHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SHOTS / f"{name}.png"), full_page=True)


def download(page, selector: str) -> Path:
    with page.expect_download() as info:
        page.click(selector)
    SHOTS.mkdir(parents=True, exist_ok=True)
    path = SHOTS / info.value.suggested_filename
    info.value.save_as(str(path))
    return path


def test_report_downloads_and_public_page(rates_stack) -> None:
    from openpyxl import load_workbook
    from playwright.sync_api import sync_playwright
    from pypdf import PdfReader

    base, period = rates_stack.base, rates_stack.period
    expected = module_figures(rates_stack.url, REGION, period)
    med = expected["mediation_success_rate"]
    assert med.denominator >= med.rate.min_denominator, "the generated month should have enough mediations"
    executable = shutil.which("chromium")
    assert executable, "apt-get install -y chromium fonts-wqy-microhei"
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=executable, args=BROWSER_ARGS)
        ctx = browser.new_context(viewport={"width": 1280, "height": 900}, accept_downloads=True)
        page = ctx.new_page()

        # ---- the centre: from the desk to the report page, each format
        sign_in(page, base, "centre.zj", totp=True)
        page.goto(f"{base}/console/centre?region={REGION}")
        page.click("#report-link")
        page.wait_for_selector("#report-download")
        page.fill("input[name=period]", period)
        shot(page, "01-report-page")

        xlsx = load_workbook(download(page, "button[data-format=xlsx]"))
        assert xlsx["比率"].freeze_panes == "A2" and xlsx["比率"]["A1"].value == "比率"
        rows = {r[0]: r for r in xlsx["比率"].iter_rows(min_row=2, values_only=True)}
        for fig in expected.values():
            name, num, den, value = rows[fig.rate.name][:4]
            assert (num, den) == (fig.numerator, fig.denominator), fig.rate.name
            if not fig.insufficient:
                assert value == pytest.approx(fig.value)
        assert xlsx["比率"].cell(2, 4).number_format == "0.0%"

        text = download(page, "button[data-format=csv]").read_text(encoding="utf-8-sig")
        lines = [r for r in csv.reader(io.StringIO(text)) if r[1] == REGION]
        by_name = {r[3]: r for r in lines}
        assert by_name["化解率"][4:6] == [f"{med.numerator:.0f}", str(med.denominator)]

        pdf = download(page, "button[data-format=pdf]")
        pdf_text = "".join(pg.extract_text() for pg in PdfReader(str(pdf)).pages).replace(" ", "")
        assert f"化解率为{med.value * 100:.1f}%（{med.numerator:.0f}/{med.denominator}）" in pdf_text
        sat = expected["satisfaction_rate"]
        assert f"满意率为{sat.value * 100:.1f}%（{sat.numerator:.0f}/{sat.denominator}）" in pdf_text

        page.goto(f"{base}/console/centre/report.html?region={REGION}&period={period}")
        page.wait_for_function("document.body.getAttribute('data-charts') === 'ready'")
        shown = page.inner_text("#rates tr[data-rate=mediation_success_rate]")
        assert f"{med.value * 100:.1f}%" in shown
        shot(page, "02-report-html")
        page.click("#rates tr[data-rate=mediation_success_rate] a")
        page.wait_for_selector("#rate-cases")
        assert len(page.query_selector_all("#rate-cases tr")) == med.denominator + 1

        # ---- the public page, on a phone, no login
        phone = browser.new_context(viewport={"width": 390, "height": 844}, is_mobile=True, bypass_csp=True)
        pub = phone.new_page()
        pub.goto(f"{base}/public?region={REGION}")
        pub.wait_for_function("document.body.getAttribute('data-charts') === 'ready'")
        assert pub.query_selector("#chart-trend canvas") is not None
        shot(pub, "03-public")
        towns = module_town_figures(rates_stack.url, pub.get_attribute("#public-rates", "data-month"))
        small = next((code, rid) for code, figs in towns.items() for rid, f in figs.items()
                     if 0 < f.denominator < f.rate.min_denominator)
        cell = pub.inner_text(f"#public-rates tr[data-code='{small[0]}'] td[data-rate={small[1]}]")
        assert cell == "样本不足"
        big = next((code, rid, f) for code, figs in towns.items() for rid, f in figs.items()
                   if not f.insufficient and f.rate.is_rate)
        cell = pub.inner_text(f"#public-rates tr[data-code='{big[0]}'] td[data-rate={big[1]}]")
        assert cell == f"{big[2].value * 100:.1f}%"

        # ---- the survey: one answer a day; bad input is refused with a 4xx
        pub.check("input[name=participated][value=yes]")
        pub.check("input[name=satisfied][value=basically]")
        pub.check("input[name=aware][value=yes]")
        pub.click("#survey button[type=submit]")
        pub.wait_for_function("document.getElementById('survey-result').getAttribute('data-status') === '201'")
        pub.click("#survey button[type=submit]")
        pub.wait_for_function("document.getElementById('survey-result').getAttribute('data-status') === '409'")
        assert "已经回答过" in pub.inner_text("#survey-result")
        shot(pub, "04-survey-again")
        bad = pub.request.post(f"{base}/public/survey", form={"region": REGION, "participated": "maybe",
                                                               "satisfied": "satisfied", "aware": "yes"})
        assert bad.status == 400
        assert pub.request.get(f"{base}/public?region=nowhere").status == 400
        browser.close()


def module_town_figures(url: str, period: str) -> dict[str, dict[str, Figure]]:
    """Per township, straight from the event log."""
    engine = make_engine(url)
    try:
        with make_session_factory(engine)() as s:
            facts = [derive(r, _today()) for r in load(s, REGION, [period])]
    finally:
        engine.dispose()
    book = load_rates()
    towns = sorted({f.case.township for f in facts})
    return {t: figures(facts, book, [period], keep=lambda f, t=t: f.case.township == t, with_cases=False)
            for t in towns}
