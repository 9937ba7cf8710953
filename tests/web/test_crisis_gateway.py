"""The danger pre-check inside a real gateway app: before Rasa, in every state, never silent.

The app runs on a migrated SQLite database with a small aiohttp server playing Rasa's REST
channel (as in test_inbox.py), so what is checked is the gateway's own rule: the crisis reply
goes out without the dialogue, the intake pauses and keeps what the citizen wrote, the alert
is stored with its steps, and it escalates when nobody answers.
"""

from __future__ import annotations

import asyncio
import json
from datetime import UTC, datetime, timedelta

import pytest
from aiohttp import web
from sqlalchemy import select

from fengqiao.migrate import upgrade
from fengqiao.settings import Settings
from gateway import relay
from gateway.app import init_app
from gateway.crisis import CrisisScreen, CrisisWatch, grievance_of, is_resume
from gateway.keys import MESSAGING
from routing.cases import alerts
from routing.persistence.case_tables import Alert, AlertEvent
from routing.persistence.db import make_engine, make_session_factory
from routing.persistence.messaging_tables import ChatConversation, InboxMessage, OutboxMessage
from tests.web.test_inbox import FakeRasa as InboxFakeRasa
from tests.web.test_inbox import serve_fake_rasa

DANGER = "老板欠了我三个月工资一直不给，我实在活不下去了，今晚就去跳楼"
GRIEVANCE_PART = "老板欠了我三个月工资一直不给"


class FakeRasa(InboxFakeRasa):
    """The inbox tests' Rasa stand-in, which can also be down (503)."""

    def __init__(self) -> None:
        super().__init__()
        self.down = False

    async def webhook(self, request: web.Request) -> web.Response:
        if self.down:
            return web.Response(status=503)
        return await super().webhook(request)


@pytest.fixture
async def rasa(aiohttp_server):
    return await serve_fake_rasa(aiohttp_server, FakeRasa())


@pytest.fixture
def db_url(tmp_path) -> str:
    url = f"sqlite:///{tmp_path / 'gateway.db'}"
    upgrade(url)
    return url


def _settings(db_url: str, rasa_url: str, **extra) -> Settings:  # type: ignore[no-untyped-def]
    return Settings(database_url=db_url, rasa_url=rasa_url, rasa_token="", action_port=0, web_host="127.0.0.1",
                    web_port=0, deadline_rules="stricter", allowed_origins=(), inbox_retry_cap=0.5, **extra)


async def _bots(ws, count: int, timeout: float = 5) -> list[dict]:
    got: list[dict] = []
    while len(got) < count:
        data = json.loads((await ws.receive(timeout=timeout)).data)
        if data["type"] == "bot":
            got.append(data)
    return got


def _query(url: str, statement):  # type: ignore[no-untyped-def]
    engine = make_engine(url)
    with make_session_factory(engine)() as session:
        rows = list(session.execute(statement).scalars())
    engine.dispose()
    return rows


async def _until(predicate, seconds: float = 5.0) -> None:  # type: ignore[no-untyped-def]
    for _ in range(int(seconds / 0.05)):
        if predicate():
            return
        await asyncio.sleep(0.05)
    raise AssertionError("condition not reached in time")


async def test_danger_as_first_message_gets_numbers_without_the_dialogue(aiohttp_client, rasa, db_url) -> None:
    client = await aiohttp_client(init_app(_settings(db_url, rasa.url)))
    ws = await client.ws_connect("/ws?conversation=crisis001")
    await ws.send_json({"type": "message", "id": "c1", "text": DANGER})
    (reply,) = await _bots(ws, 1)
    assert reply["kind"] == "crisis"
    assert "12356" in reply["text"] and "110" in reply["text"] and "您现在" in reply["text"]
    await asyncio.sleep(0.3)
    assert rasa.received == []  # the intake does not answer a person in danger
    (alert,) = _query(db_url, select(Alert))
    assert alert.level == "red" and alert.kind == "self_harm" and alert.channel == "web"
    assert alert.conversation_id == "web:crisis001" and not alert.acknowledged
    steps = [e.kind for e in _query(db_url, select(AlertEvent).where(AlertEvent.alert_id == alert.id))]
    assert steps == ["raised"]
    (state,) = _query(db_url, select(ChatConversation))
    assert state.crisis_since is not None and state.crisis_alert_id == alert.id


async def test_the_intake_pauses_until_safe_then_the_grievance_goes_on_without_retelling(
    aiohttp_client, rasa, db_url
) -> None:
    client = await aiohttp_client(init_app(_settings(db_url, rasa.url)))
    ws = await client.ws_connect("/ws?conversation=crisis002")
    await ws.send_json({"type": "message", "id": "a1", "text": DANGER})
    await _bots(ws, 1)
    await ws.send_json({"type": "message", "id": "a2", "text": "他还欠我工友老李两万块钱没给"})
    (stay,) = await _bots(ws, 1)
    assert stay["kind"] == "crisis" and "我安全了" in stay["text"]
    assert rasa.received == []
    await ws.send_json({"type": "message", "id": "a3", "text": "我现在安全了，继续办吧"})
    resumed, first_turn, second_turn = await _bots(ws, 3)
    assert "很高兴您现在安全" in resumed["text"]
    sent = [r["message"] for r in rasa.received]
    assert sent[0].startswith(GRIEVANCE_PART) and "跳楼" not in sent[0] and "活不下去" not in sent[0]
    assert sent[1] == "他还欠我工友老李两万块钱没给"
    assert all(r["metadata"]["crisis_handled"] is True for r in rasa.received)
    assert first_turn["text"].startswith("请稍候：" + GRIEVANCE_PART)
    await ws.send_json({"type": "message", "id": "a4", "text": "对方叫张三"})
    (normal,) = await _bots(ws, 1)
    assert normal["text"] == "请稍候：对方叫张三"  # the ordinary intake is back
    statuses = {r.external_key: r.status for r in _query(db_url, select(InboxMessage))}
    assert set(statuses.values()) == {"done"}


async def test_danger_inside_the_form_with_nothing_else_asks_the_last_question_again(
    aiohttp_client, rasa, db_url
) -> None:
    client = await aiohttp_client(init_app(_settings(db_url, rasa.url)))
    ws = await client.ws_connect("/ws?conversation=crisis003")
    await ws.send_json({"type": "message", "id": "f1", "text": "楼上装修太吵了"})
    (question,) = await _bots(ws, 1)
    await ws.send_json({"type": "message", "id": "f2", "text": "我不想活了"})
    (crisis,) = await _bots(ws, 1)
    assert crisis["kind"] == "crisis"
    await ws.send_json({"type": "message", "id": "f3", "text": "我没事了"})
    resumed, again = await _bots(ws, 2)
    assert "如果有需要反映的问题" in resumed["text"]
    assert again["text"] == question["text"]  # where they were, asked again
    assert [r["message"] for r in rasa.received] == ["楼上装修太吵了"]


async def test_danger_while_rasa_is_down_is_answered_at_once(aiohttp_client, rasa, db_url) -> None:
    rasa.down = True
    client = await aiohttp_client(init_app(_settings(db_url, rasa.url)))
    ws = await client.ws_connect("/ws?conversation=crisis004")
    await ws.send_json({"type": "message", "id": "d1", "text": "邻居家的狗天天叫"})
    (delay,) = await _bots(ws, 1)
    assert delay["kind"] == "delay"
    await ws.send_json({"type": "message", "id": "d2", "text": "他拿着刀正在砸我家的门"})
    (crisis,) = await _bots(ws, 1, timeout=2)
    assert crisis["kind"] == "crisis" and crisis["text"].index("110") < crisis["text"].index("120")


async def test_danger_during_a_takeover_alerts_the_mediator_and_still_gives_numbers(
    aiohttp_client, rasa, db_url
) -> None:
    client = await aiohttp_client(init_app(_settings(db_url, rasa.url)))
    app = client.server.app
    feed = relay.subscribe(app, "web:crisis005")
    await relay.take_over(app, "web:crisis005", "agent-1")
    ws = await client.ws_connect("/ws?conversation=crisis005")
    await ws.send_json({"type": "message", "id": "t1", "text": "我不想活了，一整瓶安眠药都准备好了"})
    (crisis,) = await _bots(ws, 1)
    assert crisis["kind"] == "crisis" and "工作人员已收到" in crisis["text"]
    events = [await asyncio.wait_for(feed.get(), 5) for _ in range(3)]
    crisis_events = [e for e in events if e.get("event") == "crisis"]
    assert crisis_events and crisis_events[0]["alert_id"] is not None
    assert rasa.received == []
    (state,) = _query(db_url, select(ChatConversation))
    assert state.crisis_since is None  # the human owns the chat; the bot's intake is not involved


async def test_a_traditional_message_gets_a_traditional_reply(aiohttp_client, rasa, db_url) -> None:
    client = await aiohttp_client(init_app(_settings(db_url, rasa.url)))
    ws = await client.ws_connect("/ws?conversation=crisis006")
    await ws.send_json({"type": "message", "id": "r1", "text": "我真的不想活了，準備今晚去跳河"})
    (reply,) = await _bots(ws, 1)
    assert reply["kind"] == "crisis" and "12356" in reply["text"] and "現在" in reply["text"]


async def test_a_failing_check_shows_the_numbers_anyway(aiohttp_client, rasa, db_url, monkeypatch) -> None:
    import routing.understanding.safety.detector as detector

    def broken(text: str):  # type: ignore[no-untyped-def]
        raise RuntimeError("model did not load")

    monkeypatch.setattr(detector, "detect", broken)
    client = await aiohttp_client(init_app(_settings(db_url, rasa.url)))
    ws = await client.ws_connect("/ws?conversation=crisis007")
    await ws.send_json({"type": "message", "id": "x1", "text": "小区门口的路灯坏了"})
    (reply,) = await _bots(ws, 1)
    assert reply["kind"] == "crisis" and all(n in reply["text"] for n in ("110", "120", "12356"))
    (alert,) = _query(db_url, select(Alert))
    assert alert.kind == "unknown" and "识别未能完成" in alert.reason


async def test_staff_are_told_and_an_unanswered_alert_escalates(aiohttp_client, rasa, db_url) -> None:
    client = await aiohttp_client(init_app(_settings(db_url, rasa.url, crisis_notify_telegram=("9001",))))
    ws = await client.ws_connect("/ws?conversation=crisis008")
    await ws.send_json({"type": "message", "id": "e1", "text": "诸暨市店口镇，我老公正在打我，门锁着出不去"})
    (reply,) = await _bots(ws, 1)
    assert reply["text"].startswith("如果您或家人正在遭受暴力，请立即拨打 110")
    (alert,) = _query(db_url, select(Alert))
    assert alert.kind == "violence_now" and alert.place and "店口镇" in alert.place
    (told,) = _query(db_url, select(OutboxMessage).where(OutboxMessage.conversation_id == "tg:9001"))
    assert "危机预警" in told.text and "店口镇" in told.text
    m = client.server.app[MESSAGING]
    watch = CrisisWatch(m.sessions, CrisisScreen(("9001",)), minutes=5, deliver=m.deliver)
    assert await asyncio.to_thread(watch.tick, datetime.now(UTC) + timedelta(minutes=2)) == []
    assert await asyncio.to_thread(watch.tick, datetime.now(UTC) + timedelta(minutes=6)) == [alert.id]
    with m.sessions.begin() as session:
        alerts.acknowledge(session, alert.id, "agent-3", "已电话联系")
    assert await asyncio.to_thread(watch.tick, datetime.now(UTC) + timedelta(minutes=30)) == []
    steps = [e.kind for e in _query(db_url, select(AlertEvent).order_by(AlertEvent.id))]
    assert steps == ["raised", "notified", "escalated", "notified", "acknowledged"]
    staff = _query(db_url, select(OutboxMessage).where(OutboxMessage.conversation_id == "tg:9001"))
    assert len(staff) == 2 and "升级" in staff[1].text


async def test_escalation_climbs_the_duty_roster(aiohttp_client, rasa, db_url) -> None:
    roster = (("9102",), ("9103", "9104"))
    client = await aiohttp_client(init_app(_settings(db_url, rasa.url, crisis_notify_telegram=("9101",),
                                                     crisis_roster=roster)))
    ws = await client.ws_connect("/ws?conversation=crisis010")
    await ws.send_json({"type": "message", "id": "r1", "text": "我老公正在打我，门锁着出不去"})
    await _bots(ws, 1)
    (alert,) = _query(db_url, select(Alert))
    m = client.server.app[MESSAGING]
    watch = CrisisWatch(m.sessions, CrisisScreen(("9101",), roster), minutes=5, deliver=m.deliver)
    start = datetime.now(UTC)
    for minutes in (6, 12, 18, 24):  # the third escalation is the last one
        await asyncio.to_thread(watch.tick, start + timedelta(minutes=minutes))

    def told(chat: str) -> list[str]:
        rows = _query(db_url, select(OutboxMessage).where(OutboxMessage.conversation_id == f"tg:{chat}")
                      .order_by(OutboxMessage.id))
        return [row.text for row in rows]

    assert len(told("9101")) == 1 and "升级" not in told("9101")[0]  # level 1: raised only
    assert len(told("9102")) == 1 and "第1次" in told("9102")[0]  # level 2: first escalation
    for chat in ("9103", "9104"):  # level 3: second and third escalations
        assert [("第2次" in t, "第3次" in t) for t in told(chat)] == [(True, False), (False, True)]
    levels = [e.payload.get("level") for e in _query(db_url, select(AlertEvent).where(
        AlertEvent.alert_id == alert.id, AlertEvent.kind == "notified").order_by(AlertEvent.id))]
    assert levels == [1, 2, 3, 3]


def test_an_empty_roster_level_passes_the_escalation_down() -> None:
    screen = CrisisScreen(("1",), ((), ("3",)))
    assert [screen.chats_for(n) for n in range(4)] == [("1",), ("1",), ("3",), ("3",)]
    assert CrisisScreen(("1",)).chats_for(2) == ("1",)  # no roster: the on-duty chats as before
    assert CrisisScreen().chats_for(1) == ()


async def test_a_duplicate_delivery_raises_no_second_alert(aiohttp_client, rasa, db_url) -> None:
    from gateway.inbox import Inbound

    client = await aiohttp_client(init_app(_settings(db_url, rasa.url)))
    m = client.server.app[MESSAGING]
    for _ in range(2):
        await asyncio.to_thread(m.inbox.store, Inbound("tg", "update:900", "tg:55", "我不想活了"))
    assert len(_query(db_url, select(Alert))) == 1
    crisis = _query(db_url, select(OutboxMessage).where(OutboxMessage.conversation_id == "tg:55"))
    assert len(crisis) == 1 and crisis[0].status == "pending"  # waits for the Telegram relay


def test_resume_words_and_their_negations() -> None:
    for text in ("我安全了", "没事了，继续吧", "警察已经来了", "我冷静下来了，接着说我的事", "我現在安全了"):
        assert is_resume(text), text
    for text in ("我不安全", "一点都不好", "他还在继续打我", "你们能管管吗"):
        assert not is_resume(text), text


async def test_answers_during_a_crisis_stay_with_the_person_until_they_are_safe(aiohttp_client, rasa, db_url) -> None:
    client = await aiohttp_client(init_app(_settings(db_url, rasa.url)))
    ws = await client.ws_connect("/ws?conversation=crisis009")
    await ws.send_json({"type": "message", "id": "s1", "text": DANGER})
    await _bots(ws, 1)
    for index, text in enumerate(("我在我妈家", "我把药扔了", "我现在安全了，但是药还在手里，今晚还是想喝")):
        await ws.send_json({"type": "message", "id": f"s{index + 2}", "text": text})
        (stay,) = await _bots(ws, 1)
        assert stay["kind"] == "crisis" and "我安全了" in stay["text"], (text, stay)
    await ws.send_json({"type": "message", "id": "s9", "text": "我现在安全了，家里人陪着我"})
    resumed, turn = await _bots(ws, 2)
    assert "很高兴您现在安全" in resumed["text"] and turn["text"].startswith("请稍候：" + GRIEVANCE_PART)
    (alert,) = _query(db_url, select(Alert))
    messages = _query(db_url, select(AlertEvent).where(AlertEvent.kind == "message"))
    assert len(messages) >= 1 and alert.conversation_id == "web:crisis009"


def test_the_grievance_is_kept_without_the_danger_sentences() -> None:
    kept = grievance_of(DANGER)
    assert kept.startswith(GRIEVANCE_PART) and "跳楼" not in kept
    assert grievance_of("我不想活了") == ""
