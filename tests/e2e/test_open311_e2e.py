"""Open311 through the real gateway process: a client nobody here wrote, a browser's CORS checks,
a filing over HTTP that is read back and shows on the console and the centre's desk.

The gateway runs as in production (``python -m gateway``, ``fengqiao.processes.web_service``) on
a PostgreSQL database of its own; no Rasa is needed for the API or the console.
"""

from __future__ import annotations

import re
import uuid
from collections.abc import Iterator
from dataclasses import dataclass

import pytest
import requests
from sqlalchemy import create_engine, text

from fengqiao.migrate import upgrade
from fengqiao.processes import web_service
from gateway.console.accounts.store import create_user
from tests.conftest import PG_ADMIN_URL
from tests.e2e.conftest import ARTIFACTS, free_port
from tests.open311.conftest import SERVICE, classifier_model, make_keys  # noqa: F401 - the autouse model fixture
from tests.web.console_helpers import PASSWORD, TOTP_SECRET, seed_world, totp_now

pytestmark = pytest.mark.e2e
georeport = pytest.importorskip("georeport")
CSRF = re.compile(r'name="csrf_token" value="([^"]+)"')
ORIGIN = "https://hotline.example.cn"  # a browser client on another site


@dataclass
class Gateway:
    base: str
    keys: dict[str, str]

    @property
    def api(self) -> str:
        return f"{self.base}/open311/v2"


@pytest.fixture(scope="module")
def gateway() -> Iterator[Gateway]:
    """A fresh PostgreSQL database with staff and API keys, and the gateway process on it."""
    name = f"fq_e2e311_{uuid.uuid4().hex[:8]}"
    admin = create_engine(PG_ADMIN_URL, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    url = PG_ADMIN_URL.rsplit("/", 1)[0] + "/" + name
    web = None
    try:
        upgrade(url)
        world = seed_world(url)
        with world.sessions.begin() as s:
            create_user(s, "centre.zj", PASSWORD, "centre", ["330681"], display_name="诸暨中心值班员",
                        totp_secret=TOTP_SECRET)
        keys = make_keys(world.sessions)
        world.sessions.kw["bind"].dispose()
        port = free_port()
        web = web_service(port, free_port(), ARTIFACTS / "logs" / "open311", url, CONSOLE_COOKIE_SECURE="0")
        web.start()
        web.wait_ready(120)
        yield Gateway(f"http://127.0.0.1:{port}", keys)
    finally:
        if web is not None:
            web.stop()
        with admin.connect() as conn:
            conn.execute(text("SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = :n"), {"n": name})
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}"'))
        admin.dispose()


def _sign_in(base: str, username: str) -> requests.Session:
    browser = requests.Session()
    page = browser.get(f"{base}/console/login", timeout=30)
    token = CSRF.search(page.text).group(1)  # type: ignore[union-attr]
    answer = browser.post(f"{base}/console/login", data={"csrf_token": token, "username": username,
                                                         "password": PASSWORD}, allow_redirects=False, timeout=30)
    assert answer.status_code == 302, answer.text[:300]
    if answer.headers["Location"] == "/console/totp":
        token = CSRF.search(browser.get(f"{base}/console/totp", timeout=30).text).group(1)  # type: ignore[union-attr]
        answer = browser.post(f"{base}/console/totp", data={"csrf_token": token, "code": totp_now()},
                              allow_redirects=False, timeout=30)
    assert answer.headers["Location"] == "/console/", answer.text[:300]
    return browser


def test_a_browser_client_may_read_and_file_across_origins(gateway: Gateway) -> None:
    preflight = requests.options(f"{gateway.api}/requests.json", timeout=30, headers={
        "Origin": ORIGIN, "Access-Control-Request-Method": "POST",
        "Access-Control-Request-Headers": "idempotency-key, content-type"})
    assert preflight.status_code == 204
    assert preflight.headers["Access-Control-Allow-Origin"] == "*"
    assert "POST" in preflight.headers["Access-Control-Allow-Methods"]
    assert "idempotency-key" in preflight.headers["Access-Control-Allow-Headers"].lower()
    assert "Access-Control-Allow-Credentials" not in preflight.headers  # keys, never cookies
    listed = requests.get(f"{gateway.api}/services.json", headers={"Origin": ORIGIN}, timeout=30)
    assert listed.status_code == 200 and listed.headers["Access-Control-Allow-Origin"] == "*"
    refused = requests.post(f"{gateway.api}/requests.json", headers={"Origin": ORIGIN}, timeout=30,
                            data={"service_code": SERVICE, "description": "路灯坏了", "address_string": "诸暨市"})
    assert refused.status_code == 403 and refused.headers["Access-Control-Allow-Origin"] == "*"
    assert refused.json()[0]["code"] == 403  # the spec's error list, readable by the page


def test_a_request_filed_over_http_is_read_back_and_reaches_the_console_and_the_desk(gateway: Gateway) -> None:
    client = georeport.GeoReport(gateway.api, output_format="json")
    assert any(s["service_code"] == SERVICE for s in client.get_service_list())
    story = "隔壁工地每天晚上十点以后还在施工，噪音很大，影响休息，要求停止夜间施工"
    filing = {"api_key": gateway.keys["writer"], "service_code": SERVICE, "address_string": "诸暨市枫桥镇",
              "description": story}
    idem = {"Idempotency-Key": uuid.uuid4().hex, "Origin": ORIGIN}
    first = requests.post(f"{gateway.api}/requests.json", data=filing, headers=idem, timeout=60)
    assert first.status_code == 200, first.text
    number = first.json()[0]["service_request_id"]
    again = requests.post(f"{gateway.api}/requests.json", data=filing, headers=idem, timeout=60)
    assert again.json()[0]["service_request_id"] == number  # one case for one key
    read = client.get_service_request(number)
    assert read["service_request_id"] == number and read["status"] == "open"
    assert read["address"] == "浙江省绍兴市诸暨市枫桥镇" and read["description"] == ""  # no narrative without scope
    assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\+08:00", read["requested_datetime"])
    listed = requests.get(f"{gateway.api}/requests.json", params={"status": "open"}, timeout=30).json()
    assert number in [r["service_request_id"] for r in listed]
    director = _sign_in(gateway.base, "dir.a")  # the 枫桥镇 mediation committee's console queue
    assert number in director.get(f"{gateway.base}/console/?view=region", timeout=30).text
    centre = _sign_in(gateway.base, "centre.zj")
    desk = centre.get(f"{gateway.base}/console/centre/cases", params={"region": "330681", "metric": "open"},
                      timeout=30)
    assert desk.status_code == 200 and number in desk.text
    case = centre.get(f"{gateway.base}/console/cases/{number}", timeout=30)
    assert case.status_code == 200 and "噪音" in case.text
