"""The web chat WebSocket against a real (small) HTTP server playing Rasa's REST channel.

Rasa itself is exercised in tests/e2e; here the relay's own rules are checked: ordering,
client-id de-duplication, bad input, Origin, Traditional replies and a Rasa outage. The
gateway runs on a migrated SQLite file (the durable inbox and outbox are real).
"""

from __future__ import annotations

import asyncio
import json

import pytest
from aiohttp import web

from fengqiao.bootstrap import units_of_work
from fengqiao.migrate import upgrade
from fengqiao.settings import Settings
from gateway.app import init_app
from gateway.chat import NOTICE_BAD, NOTICE_EMPTY, NOTICE_TOO_LONG
from gateway.inbox import NOTICE_RECEIVED
from tests.web.test_inbox import serve_fake_rasa


class FakeRasa:
    """An aiohttp server speaking Rasa's REST webhook protocol, recording what it got."""

    def __init__(self) -> None:
        self.received: list[dict] = []
        self.fail = False

    async def webhook(self, request: web.Request) -> web.Response:
        body = await request.json()
        self.received.append(body)
        if self.fail:
            return web.Response(status=500)
        await asyncio.sleep(0.01)
        return web.json_response([{"recipient_id": body["sender"], "text": f"请说说您的问题：{body['message']}", "buttons": [{"title": "同意", "payload": "/consent"}]}])


@pytest.fixture
async def rasa(aiohttp_server):
    return await serve_fake_rasa(aiohttp_server, FakeRasa())


@pytest.fixture
async def client(aiohttp_client, rasa, tmp_path):
    url = f"sqlite:///{tmp_path / 'gateway.db'}"
    upgrade(url)
    settings = Settings(
        database_url=url, rasa_url=rasa.url, inbox_retry_cap=0.5, rasa_token="", action_port=0,
        web_host="127.0.0.1", web_port=0, deadline_rules="stricter", allowed_origins=("https://good.example",),
    )
    return await aiohttp_client(init_app(settings))


async def _until_bot(ws, count: int = 1) -> list[dict]:
    got = []
    while len([m for m in got if m["type"] in ("bot", "error")]) < count:
        got.append(json.loads((await ws.receive(timeout=5)).data))
    return [m for m in got if m["type"] in ("bot", "error")]


async def test_page_is_served_with_security_headers(client) -> None:
    response = await client.get("/")
    assert response.status == 200
    assert "枫桥助手" in await response.text()
    assert "default-src 'self'" in response.headers["Content-Security-Policy"]


async def test_a_message_is_relayed_and_answered_with_buttons(client, rasa) -> None:
    ws = await client.ws_connect("/ws?conversation=abcdef12")
    await ws.send_json({"type": "message", "id": "m1", "text": "你好"})
    (reply,) = await _until_bot(ws)
    assert reply == {"type": "bot", "id": reply["id"], "reply_to": "m1", "kind": "reply", "text": "请说说您的问题：你好", "buttons": [{"title": "同意", "payload": "/consent"}]}
    assert rasa.received[0]["sender"] == "web:abcdef12"


async def test_a_resent_client_id_is_not_a_second_turn(client, rasa) -> None:
    ws = await client.ws_connect("/ws?conversation=abcdef12")
    await ws.send_json({"type": "message", "id": "same", "text": "第一次"})
    first = await _until_bot(ws)
    await ws.close()
    ws = await client.ws_connect("/ws?conversation=abcdef12")  # reconnect, resend
    await ws.send_json({"type": "message", "id": "same", "text": "第一次"})
    second = await _until_bot(ws)
    assert first == second
    assert len(rasa.received) == 1


async def test_turns_of_one_conversation_stay_in_order(client, rasa) -> None:
    ws = await client.ws_connect("/ws?conversation=abcdef12")
    for i in range(10):
        await ws.send_json({"type": "message", "id": f"m{i}", "text": f"消息{i}"})
    replies = await _until_bot(ws, 10)
    assert [r["reply_to"] for r in replies] == [f"m{i}" for i in range(10)]
    assert [b["message"] for b in rasa.received] == [f"消息{i}" for i in range(10)]


@pytest.mark.parametrize(
    ("raw", "notice"),
    [
        ("not json", NOTICE_BAD),
        (json.dumps({"type": "message", "id": "x"}), NOTICE_BAD),
        (json.dumps({"type": "message", "id": "bad id!", "text": "hi"}), NOTICE_BAD),
        (json.dumps({"type": "message", "id": "e", "text": "\u200b\u200b  "}), NOTICE_EMPTY),
        (json.dumps({"type": "message", "id": "l", "text": "长" * 2001}), NOTICE_TOO_LONG),
    ],
)
async def test_bad_input_gets_a_clear_answer(client, rasa, raw, notice) -> None:
    ws = await client.ws_connect("/ws?conversation=abcdef12")
    await ws.send_str(raw)
    (reply,) = await _until_bot(ws)
    assert reply == {"type": "error", "text": notice}
    assert rasa.received == []


async def test_nul_and_bidi_characters_are_stripped(client, rasa) -> None:
    ws = await client.ws_connect("/ws?conversation=abcdef12")
    await ws.send_json({"type": "message", "id": "n", "text": "楼上\x00漏水\u202e了"})
    await _until_bot(ws)
    assert rasa.received[0]["message"] == "楼上漏水了"


async def test_traditional_input_gets_a_traditional_reply(client) -> None:
    ws = await client.ws_connect("/ws?conversation=abcdef12")
    await ws.send_json({"type": "message", "id": "t", "text": "鄰居噪音擾民"})
    (reply,) = await _until_bot(ws)
    assert reply["text"] == "請說說您的問題：鄰居噪音擾民"


async def test_rasa_outage_is_told_plainly_and_the_message_answered_later(client, rasa) -> None:
    rasa.fail = True
    ws = await client.ws_connect("/ws?conversation=abcdef12")
    await ws.send_json({"type": "message", "id": "o", "text": "你好"})
    (reply,) = await _until_bot(ws)
    assert reply["text"] == NOTICE_RECEIVED and reply["reply_to"] == "o"
    rasa.fail = False
    (later,) = await _until_bot(ws)
    assert later["text"] == "请说说您的问题：你好" and later["reply_to"] == "o"
    assert [b["message"] for b in rasa.received].count("你好") >= 2  # tried while down, then once more


async def test_foreign_origin_and_bad_conversation_ids_are_refused(client) -> None:
    response = await client.get("/ws?conversation=abcdef12", headers={"Origin": "https://evil.example"})
    assert response.status == 403
    response = await client.get("/ws?conversation=../../x")
    assert response.status == 400
    ws = await client.ws_connect("/ws?conversation=abcdef12", origin="https://good.example")
    await ws.close()


async def test_the_widget_frame_is_embeddable_only_by_allowed_origins(client) -> None:
    page = await client.get("/")
    assert page.headers["X-Frame-Options"] == "DENY"
    framed = await client.get("/embed")
    assert framed.status == 200 and "枫桥助手" in await framed.text()
    assert "X-Frame-Options" not in framed.headers
    assert framed.headers["Content-Security-Policy"].endswith("frame-ancestors 'self' https://good.example")
    widget = await client.get("/static/widget.js")
    assert widget.status == 200 and "/embed" in await widget.text()


async def test_case_cards_list_only_the_conversations_own_cases(client, tmp_path) -> None:
    from sqlalchemy import select

    from gateway.keys import SETTINGS
    from routing.cases.filing_policy import make_policy
    from routing.cases.service import CaseDraft, CaseService, utc_today
    from routing.persistence.case_tables import Case
    from routing.persistence.db import make_engine, make_session_factory

    engine = make_engine(client.app[SETTINGS].database_url)
    sessions = make_session_factory(engine)
    service = CaseService(sessions, make_policy("stricter", sessions), utc_today, uows=units_of_work(sessions))
    mine = service.file_case(CaseDraft(
        narrative_original="路灯坏了", narrative_normalised="路灯坏了", subject="路灯坏了", channel="web",
        channel_user_id="web:abcdef12", conversation_id="web:abcdef12", category="城乡建设",
    )).view.case_number
    service.file_case(CaseDraft(
        narrative_original="别人的事", narrative_normalised="别人的事", subject="别人的事", channel="web",
        channel_user_id="web:someone99", conversation_id="web:someone99",
    ))
    response = await client.get("/chat/cases?conversation=abcdef12")
    cards = (await response.json())["cases"]
    assert [c["case_number"] for c in cards] == [mine]
    assert cards[0]["status"] and cards[0]["handling_body"]
    with sessions() as session:
        assert len(session.execute(select(Case)).scalars().all()) == 2
    engine.dispose()
    bad = await client.get("/chat/cases?conversation=../x")
    assert bad.status == 400
