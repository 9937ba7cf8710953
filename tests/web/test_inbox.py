"""Inbox, outbox, notifications and the handoff relay inside a real gateway app.

The app runs on a migrated database (SQLite, and PostgreSQL for the notification scanner)
with a small aiohttp server playing Rasa's REST channel, so the gateway's own rules are
checked: storage before the ack, order, the bot's silence while a human owns the
conversation, ownership surviving a restart, notifications enqueued once.
"""

from __future__ import annotations

import asyncio
import json
from datetime import date

import pytest
from aiohttp import web
from sqlalchemy import func, select

from fengqiao.bootstrap import units_of_work
from fengqiao.migrate import upgrade
from fengqiao.settings import Settings
from gateway import relay
from gateway.app import init_app
from gateway.outbox import NotificationScanner, RateLimiter, split_text
from gateway.script import render
from routing.cases.filing_policy import make_policy
from routing.cases.life import CaseLife
from routing.cases.service import CaseDraft, CaseService
from routing.persistence.db import make_engine, make_session_factory
from routing.persistence.messaging_tables import InboxMessage, OutboxMessage


class FakeRasa:
    """Speaks Rasa's REST webhook protocol; records every message."""

    def __init__(self) -> None:
        self.received: list[dict] = []
        self.buttons: list[dict] = []  # offered with every reply when set

    async def webhook(self, request: web.Request) -> web.Response:
        body = await request.json()
        self.received.append(body)
        reply = {"recipient_id": body["sender"], "text": f"请稍候：{body['message']}"}
        return web.json_response([{**reply, "buttons": self.buttons} if self.buttons else reply])


async def serve_fake_rasa(aiohttp_server, fake):  # type: ignore[no-untyped-def]
    """Serve a fake Rasa's REST webhook on a free port; its ``url`` is set."""
    app = web.Application()
    app.router.add_post("/webhooks/rest/webhook", fake.webhook)
    server = await aiohttp_server(app)
    fake.url = str(server.make_url("")).rstrip("/")
    return fake


@pytest.fixture
async def rasa(aiohttp_server):
    return await serve_fake_rasa(aiohttp_server, FakeRasa())


@pytest.fixture
def db_url(tmp_path) -> str:
    url = f"sqlite:///{tmp_path / 'gateway.db'}"
    upgrade(url)
    return url


def _settings(db_url: str, rasa_url: str) -> Settings:
    return Settings(database_url=db_url, rasa_url=rasa_url, rasa_token="", action_port=0, web_host="127.0.0.1",
                    web_port=0, deadline_rules="stricter", allowed_origins=(), inbox_retry_cap=0.5)


async def _bots(ws, count: int) -> list[dict]:
    got: list[dict] = []
    while len(got) < count:
        data = json.loads((await ws.receive(timeout=5)).data)
        if data["type"] == "bot":
            got.append(data)
    return got


def _count(url: str, model, **where) -> int:  # type: ignore[no-untyped-def]
    engine = make_engine(url)
    with make_session_factory(engine)() as session:
        query = select(func.count()).select_from(model)
        for name, value in where.items():
            query = query.where(getattr(model, name) == value)
        found = session.execute(query).scalar()
    engine.dispose()
    return int(found or 0)


async def test_a_message_is_stored_before_the_ack(aiohttp_client, rasa, db_url) -> None:
    client = await aiohttp_client(init_app(_settings(db_url, rasa.url)))
    ws = await client.ws_connect("/ws?conversation=store0001")
    await ws.send_json({"type": "message", "id": "s1", "text": "楼道堆满杂物"})
    ack = json.loads((await ws.receive(timeout=5)).data)
    assert ack == {"type": "ack", "id": "s1"}
    assert _count(db_url, InboxMessage, external_key="web:store0001:s1") == 1
    (reply,) = await _bots(ws, 1)
    assert reply["text"] == "请稍候：楼道堆满杂物"
    assert _count(db_url, InboxMessage, external_key="web:store0001:s1", status="done") == 1


async def test_a_reconnecting_page_gets_what_it_missed_once(aiohttp_client, rasa, db_url) -> None:
    client = await aiohttp_client(init_app(_settings(db_url, rasa.url)))
    ws = await client.ws_connect("/ws?conversation=replay001")
    await ws.send_json({"type": "message", "id": "p1", "text": "第一条"})
    (first,) = await _bots(ws, 1)
    await ws.close()  # offline: the next reply is stored for later
    app = client.server.app
    await relay.take_over(app, "web:replay001", "agent-7")
    await relay.send_from_agent(app, "web:replay001", "agent-7", "您好，我是调解员小王。")
    ws = await client.ws_connect("/ws?conversation=replay001")
    await ws.send_json({"type": "hello", "after": first["id"]})
    missed = await _bots(ws, 2)
    assert [m["kind"] for m in missed] == ["handoff", "agent"]
    assert missed[1]["text"] == "您好，我是调解员小王。"
    fresh = await client.ws_connect("/ws?conversation=replay001")  # no hello: only what is new
    with pytest.raises(asyncio.TimeoutError):
        await asyncio.wait_for(fresh.receive(), 0.5)


async def test_while_a_human_owns_the_conversation_the_bot_is_silent(aiohttp_client, rasa, db_url) -> None:
    client = await aiohttp_client(init_app(_settings(db_url, rasa.url)))
    app = client.server.app
    feed = relay.subscribe(app, "web:handoff01")
    await relay.take_over(app, "web:handoff01", "agent-1")
    assert relay.owner(app, "web:handoff01") == "agent-1"
    with pytest.raises(relay.AlreadyOwned):
        await relay.take_over(app, "web:handoff01", "agent-2")
    with pytest.raises(relay.NotOwner):
        await relay.send_from_agent(app, "web:handoff01", "agent-2", "插话")
    ws = await client.ws_connect("/ws?conversation=handoff01")
    await ws.send_json({"type": "message", "id": "h1", "text": "我想找人工"})
    events = [await asyncio.wait_for(feed.get(), 5) for _ in range(2)]
    assert events[0]["event"] == "taken_over"
    assert events[1] == {"from": "citizen", "id": "web:handoff01:h1", "kind": "text", "text": "我想找人工", "payload": {}}
    await asyncio.sleep(0.3)
    assert rasa.received == []
    assert _count(db_url, InboxMessage, external_key="web:handoff01:h1", status="relayed") == 1
    await relay.send_from_agent(app, "web:handoff01", "agent-1", "请讲。")
    (agent,) = await _bots(ws, 1)
    assert agent["kind"] == "agent" and agent["text"] == "请讲。"
    await relay.hand_back(app, "web:handoff01", "agent-1")
    (back,) = await _bots(ws, 1)
    assert back["kind"] == "handoff"
    await ws.send_json({"type": "message", "id": "h2", "text": "谢谢"})
    (bot,) = await _bots(ws, 1)
    assert bot["text"] == "请稍候：谢谢" and [r["message"] for r in rasa.received] == ["谢谢"]
    assert relay.owner(app, "web:handoff01") is None


async def test_ownership_survives_a_restart(aiohttp_client, rasa, db_url) -> None:
    first = await aiohttp_client(init_app(_settings(db_url, rasa.url)))
    await relay.take_over(first.server.app, "tg:4242", "agent-9")
    await first.close()
    second = await aiohttp_client(init_app(_settings(db_url, rasa.url)))
    assert relay.owner(second.server.app, "tg:4242") == "agent-9"


async def test_traditional_script_is_kept_for_buttons_and_notices(aiohttp_client, rasa, db_url) -> None:
    client = await aiohttp_client(init_app(_settings(db_url, rasa.url)))
    ws = await client.ws_connect("/ws?conversation=script001")
    rasa.buttons = [{"title": "同意", "payload": "/consent"}]
    await ws.send_json({"type": "message", "id": "t1", "text": "鄰居裝修噪音擾民"})
    await _bots(ws, 1)
    await ws.send_json({"type": "message", "id": "t2", "text": "/consent"})  # a button press
    (reply,) = await _bots(ws, 1)
    assert reply["text"] == "請稍候：/consent"  # a button press keeps the script
    await relay.take_over(client.server.app, "web:script001", "a")
    (notice,) = await _bots(ws, 1)
    assert notice["text"] == render(relay.NOTICE_TAKEN, "traditional") != relay.NOTICE_TAKEN


def test_long_replies_are_split_at_the_telegram_limit() -> None:
    text = ("第一段。" * 700) + "\n" + ("第二段，" * 700)
    pieces = split_text(text)
    assert len(pieces) == 2 and all(0 < len(p) <= 4096 for p in pieces)
    assert "".join(pieces) == text.replace("\n", "")
    assert split_text("短") == ["短"]
    assert all(len(p) <= 4096 for p in split_text("无" * 10000)) and len(split_text("无" * 10000)) == 3


def test_rate_limiter_per_chat_global_and_retry_after() -> None:
    now = [100.0]
    limiter = RateLimiter(per_chat=1.0, per_second=30, clock=lambda: now[0])
    assert limiter.chat_ready_in("tg:1") == 0
    limiter.note_sent("tg:1")
    assert limiter.chat_ready_in("tg:1") == pytest.approx(1.0)
    assert limiter.chat_ready_in("tg:2") == 0
    for i in range(29):
        limiter.note_sent(f"tg:x{i}")
    assert limiter.global_ready_in() == pytest.approx(1.0)
    now[0] += 1.01
    assert limiter.global_ready_in() == 0 and limiter.chat_ready_in("tg:1") == 0
    limiter.block("tg:1", 7)
    assert limiter.chat_ready_in("tg:1") == pytest.approx(7)


def test_status_changes_become_one_notification_each(database_url) -> None:
    engine = make_engine(database_url)
    sessions = make_session_factory(engine)
    service = CaseService(sessions, make_policy("stricter", sessions), lambda: date(2026, 4, 27), uows=units_of_work(sessions))
    scanner = NotificationScanner(sessions, render)
    scanner.SETTLE = 0.0
    assert scanner.scan() == []  # first start: the cursor begins at the newest event
    draft = CaseDraft(
        narrative_original="村口的路灯坏了一个月", narrative_normalised="村口的路灯坏了一个月", subject="路灯坏了",
        channel="tg", channel_user_id="tg:555", conversation_id="tg:555", location_text="诸暨市枫桥镇枫源村",
    )
    number = service.file_case(draft).view.case_number
    service.record(number, "note", "mediator-1", "电话联系群众")  # no status change: silent
    CaseLife(sessions, lambda: date(2026, 4, 27)).hand_to(number, "mediator-1", "u:m1", "调解员甲", "认领")
    assert scanner.scan() == ["tg:555"]
    assert scanner.scan() == []
    with sessions() as session:
        rows = session.execute(select(OutboxMessage).where(OutboxMessage.conversation_id == "tg:555")).scalars().all()
    engine.dispose()
    assert len(rows) == 1 and rows[0].kind == "notification" and rows[0].channel == "tg"
    assert number in rows[0].text and "已分派" in rows[0].text


async def test_telegram_conversations_are_answered_in_the_citizens_script(aiohttp_client, rasa, db_url) -> None:
    from gateway.inbox import Inbound
    from gateway.keys import MESSAGING

    client = await aiohttp_client(init_app(_settings(db_url, rasa.url)))
    m = client.server.app[MESSAGING]
    await asyncio.to_thread(m.inbox.store, Inbound("tg", "update:501", "tg:77", "鄰居裝修噪音擾民"))
    await asyncio.to_thread(m.inbox.store, Inbound("tg", "update:502", "tg:77", "/consent", kind="callback"))
    m.worker.kick("tg:77")
    for _ in range(50):
        if _count(db_url, InboxMessage, conversation_id="tg:77", status="done") == 2:
            break
        await asyncio.sleep(0.1)
    engine = make_engine(db_url)
    with make_session_factory(engine)() as session:
        rows = session.execute(select(OutboxMessage).where(OutboxMessage.conversation_id == "tg:77")
                               .order_by(OutboxMessage.id)).scalars().all()
    engine.dispose()
    assert [r.text for r in rows] == ["請稍候：鄰居裝修噪音擾民", "請稍候：/consent"]
    assert rows[0].reply_to == "update:501" and rows[0].status == "pending"  # waits for the relay
    assert [r["message"] for r in rasa.received] == ["鄰居裝修噪音擾民", "/consent"]


def test_the_citizen_is_not_notified_of_their_own_actions(database_url) -> None:
    """Withdraw, rate, review and booking are written as ``citizen:<sender>``: no notice for them."""
    from routing.cases.events import citizen_actor

    engine = make_engine(database_url)
    sessions = make_session_factory(engine)
    service = CaseService(sessions, make_policy("stricter", sessions), lambda: date(2026, 4, 27), uows=units_of_work(sessions))
    life = CaseLife(sessions, lambda: date(2026, 4, 27))
    scanner = NotificationScanner(sessions, render)
    scanner.SETTLE = 0.0
    assert scanner.scan() == []
    draft = CaseDraft(
        narrative_original="村口的路灯坏了一个月", narrative_normalised="村口的路灯坏了一个月", subject="路灯坏了",
        channel="tg", channel_user_id="tg:556", conversation_id="tg:556", location_text="诸暨市枫桥镇枫源村",
    )
    number = service.file_case(draft).view.case_number
    scanner.scan()
    assert life.withdraw(number, citizen_actor("tg:556"), channel_user_id="tg:556").status == "withdrawn"
    assert scanner.scan() == []
    with sessions() as session:
        rows = session.execute(select(OutboxMessage).where(OutboxMessage.conversation_id == "tg:556")).scalars().all()
    engine.dispose()
    assert rows == []


@pytest.mark.parametrize(
    ("turns", "expected"),
    [
        (["鄰居裝修噪音擾民", "13800138000"], "traditional"),  # a phone number keeps the script
        (["鄰居裝修噪音擾民", "確認"], "traditional"),
        (["鄰居裝修噪音擾民", "好的，是的。OK"], "traditional"),  # script-neutral characters
        (["鄰居裝修噪音擾民", "13800138000", "邻居装修噪音扰民"], "simplified"),  # Simplified flips it
        (["13800138000"], "simplified"),
    ],
)
def test_the_reply_script_sticks_until_the_citizen_writes_simplified(db_url, turns, expected) -> None:
    from gateway.inbox import Inbound, Inbox
    from routing.persistence.messaging_tables import ChatConversation

    engine = make_engine(db_url)
    sessions = make_session_factory(engine)
    inbox = Inbox(sessions)
    for i, text in enumerate(turns):
        inbox.store(Inbound("web", f"web:sticky:{i}", "web:sticky", text))
    with sessions() as session:
        script = session.get(ChatConversation, "web:sticky").script
    engine.dispose()
    assert script == expected
