"""No phone or ID number in any log line (DEBUG, every logger, tracebacks included) nor in
the database file, for a conversation through the real gateway app and a filed case.

The full e2e intake (real Rasa and action server) is not run here; every process installs the
same record factory (``routing.privacy.logmask``), tested here at the record level.
"""

from __future__ import annotations

import asyncio
import json
import logging
from dataclasses import replace
from datetime import date
from pathlib import Path

import pytest
from aiohttp import web

from fengqiao.bootstrap import units_of_work
from fengqiao.migrate import upgrade
from fengqiao.settings import Settings
from gateway.app import init_app
from routing.cases.filing_policy import make_policy
from routing.cases.service import CaseService
from routing.persistence.db import make_engine, make_session_factory
from routing.privacy.logmask import install
from tests.integration.test_case_store import draft

PHONE, ID_NUMBER = "13912345678", "330681199001011234"
SAID = f"我叫王建国，电话{PHONE}，身份证{ID_NUMBER}，楼上邻居半夜装修"


class Collect(logging.Handler):
    """Keeps every formatted line."""

    def __init__(self) -> None:
        super().__init__(logging.DEBUG)
        self.setFormatter(logging.Formatter("%(name)s %(levelname)s %(message)s"))
        self.lines: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.lines.append(self.format(record))


@pytest.fixture
def debug_logs():
    install()
    root, handler = logging.getLogger(), Collect()
    old = root.level
    root.setLevel(logging.DEBUG)
    root.addHandler(handler)
    yield handler
    root.removeHandler(handler)
    root.setLevel(old)


def test_a_record_with_numbers_in_message_arguments_and_traceback_is_masked(debug_logs: Collect) -> None:
    log = logging.getLogger("rasa.core.processor")
    log.debug("Received user message '%s' with slots %s", SAID, {"contact_phone": PHONE})
    try:
        raise ValueError(f"could not store {PHONE}")
    except ValueError:
        log.exception("turn failed for %s", ID_NUMBER)
    text = "\n".join(debug_logs.lines)
    assert "Received user message" in text and "ValueError" in text and "139****5678" in text
    assert PHONE not in text and ID_NUMBER not in text


async def test_a_conversation_and_its_case_leave_no_number_in_logs_or_the_database_file(
        aiohttp_client, aiohttp_server, tmp_path: Path, debug_logs: Collect) -> None:
    received: list[str] = []

    async def webhook(request: web.Request) -> web.Response:
        body = await request.json()
        received.append(body["message"])
        logging.getLogger("rasa.core.processor").debug("Received user message %r", body["message"])
        return web.json_response([{"recipient_id": body["sender"], "text": f"您的电话是{PHONE}吗？"}])

    rasa_app = web.Application()
    rasa_app.router.add_post("/webhooks/rest/webhook", webhook)
    rasa = await aiohttp_server(rasa_app)
    db = tmp_path / "fengqiao.db"
    url = f"sqlite:///{db}"
    upgrade(url)
    logging.getLogger("sqlalchemy.engine").setLevel(logging.DEBUG)  # every statement and its parameters
    try:
        settings = Settings(database_url=url, rasa_url=str(rasa.make_url("")).rstrip("/"), rasa_token="",
                            action_port=0, web_host="127.0.0.1", web_port=0, deadline_rules="stricter",
                            allowed_origins=(), inbox_retry_cap=0.5)
        client = await aiohttp_client(init_app(settings))
        ws = await client.ws_connect("/ws?conversation=logs0001")
        await ws.send_json({"type": "message", "id": "p1", "text": SAID})
        while True:
            data = json.loads((await ws.receive(timeout=10)).data)
            if data["type"] == "bot":
                break
        await ws.close()
        engine = make_engine(url)
        sessions = make_session_factory(engine)
        service = CaseService(sessions, make_policy("stricter", sessions), lambda: date(2026, 4, 27), uows=units_of_work(sessions))
        service.file_case(replace(draft(story=SAID, user="web:logs0001"), contact_phone=PHONE))
        engine.dispose()
        await asyncio.sleep(0.1)
    finally:
        logging.getLogger("sqlalchemy.engine").setLevel(logging.WARNING)
    assert received == [SAID]  # Rasa gets the words; the case is filed with the phone
    text = "\n".join(debug_logs.lines)
    assert "INSERT INTO inbox_messages" in text and "INSERT INTO cases" in text  # DEBUG really was on
    for value in (PHONE, ID_NUMBER):
        assert value not in text
    raw = b"".join(p.read_bytes() for p in tmp_path.iterdir() if p.name.startswith("fengqiao.db"))
    for value in (PHONE, ID_NUMBER, "王建国"):
        assert value.encode() not in raw, f"{value} in clear in the database file"
