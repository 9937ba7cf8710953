# ruff: noqa: F811  (pytest fixtures imported by name)
"""A person in danger, end to end: real Rasa, real action server, real gateway (web and Telegram).

Danger as the first message, inside the form, after filing and during a mediator's live
takeover; Traditional script; the grievance written with the danger is filed later without
being told again; the on-duty staff's Telegram chat is told.
"""

from __future__ import annotations

import asyncio
import json
import re
import uuid

import aiohttp
import pytest
from sqlalchemy import select

from gateway.console.accounts.store import create_user
from routing.persistence.case_tables import Alert, Case
from routing.persistence.db import make_engine, make_session_factory
from tests.e2e.conftest import ARTIFACTS
from tests.e2e.messaging_support import (  # noqa: F401  (fixtures)
    CASE_NUMBER,
    TelegramCitizen,
    emulator,
    messaging_env,
    texts,
)

pytestmark = pytest.mark.e2e
PASSWORD = "枫桥-crisis-e2e-1"
CSRF = re.compile(r'name="csrf_token" value="([^"]+)"')
WAGE_AND_POISON = (
    "我在诸暨市枫桥镇枫源村的电机厂干了半年，老板欠了我三万多块工资一直拖着不给，"
    "找了好几次都说没钱，我实在没办法了，农药已经买好了，今晚就喝下去"
)
NARRATIVE = (
    "我住在诸暨市枫桥镇枫源村，隔壁邻居老陈去年在两家中间的过道上砌了一堵墙，"
    "我家的三轮车从此进不了院子，村里调解过一次没有结果。要求他把墙拆掉，恢复通道。"
)


class WebPerson:
    """The web chat's protocol: each bot message with its kind (reply, crisis, notice …)."""

    def __init__(self, port: int) -> None:
        self.port = port
        self.conversation = uuid.uuid4().hex[:16]
        self.count = 0
        self.buttons: list[dict[str, str]] = []
        self.transcript: list[str] = []

    async def __aenter__(self) -> WebPerson:
        self.session = aiohttp.ClientSession()
        self.ws = await self.session.ws_connect(f"http://127.0.0.1:{self.port}/ws?conversation={self.conversation}")
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.ws.close()
        await self.session.close()

    async def say(self, text: str, timeout: float = 60, quiet: float = 2.0) -> list[dict]:
        """Send a message; return every bot message that arrives until `quiet` seconds pass."""
        self.count += 1
        self.transcript.append(f"群众：{text}")
        await self.ws.send_json({"type": "message", "id": f"m{self.count}", "text": text})
        got: list[dict] = []
        self.buttons = []
        while True:
            try:
                msg = await self.ws.receive(timeout=timeout if not got else quiet)
            except TimeoutError:
                break
            data = json.loads(msg.data)
            if data["type"] == "bot":
                got.append(data)
                self.buttons.extend(data.get("buttons") or [])
                self.transcript.append(f"助手[{data['kind']}]：{data['text']}")
        return got

    async def more(self, timeout: float = 60, quiet: float = 2.0) -> list[dict]:
        """Wait for bot messages that answer an earlier message (a released grievance)."""
        got: list[dict] = []
        while True:
            try:
                msg = await self.ws.receive(timeout=timeout if not got else quiet)
            except TimeoutError:
                return got
            data = json.loads(msg.data)
            if data["type"] == "bot":
                got.append(data)
                self.buttons.extend(data.get("buttons") or [])
                self.transcript.append(f"助手[{data['kind']}]：{data['text']}")


def joined(messages: list[dict], kind: str | None = None) -> str:
    return " ".join(m["text"] for m in messages if kind is None or m["kind"] == kind)


def _query(url: str, statement):  # type: ignore[no-untyped-def]
    engine = make_engine(url)
    try:
        with make_session_factory(engine)() as session:
            return list(session.execute(statement).scalars())
    finally:
        engine.dispose()


async def _finish_intake(person: WebPerson, replies: list[dict]) -> str:
    """Answer what the intake still asks until a case number is told; return it."""
    for _ in range(8):
        said = joined(replies)
        found = CASE_NUMBER.search(said)
        if found:
            return found.group(0)
        titles = [b["title"] for b in person.buttons]
        if "同意" in titles:
            replies = await person.say("/consent")
        elif any("确认" in t for t in titles):
            replies = await person.say(next(b["payload"] for b in person.buttons if "确认" in b["title"]))
        elif any(t.startswith("都不是") for t in titles):
            replies = await person.say(person.buttons[0]["payload"])
        elif "电话" in said:
            replies = await person.say("我的手机是13906754321")
        elif "发生了什么" in said or "具体情况" in said:
            replies = await person.say(NARRATIVE)
        elif "对方" in said:
            replies = await person.say("电机厂的老板王某")
        elif "地点" in said or "哪里" in said:
            replies = await person.say("诸暨市枫桥镇枫源村")
        elif "诉求" in said or "希望" in said:
            replies = await person.say("要求结清工资")
        else:
            raise AssertionError("\n".join(person.transcript))
    raise AssertionError("\n".join(person.transcript))


async def test_danger_first_then_safe_then_the_grievance_is_filed_without_retelling(messaging_env) -> None:
    _, port = messaging_env.gateway("crisis-first")
    async with WebPerson(port) as person:
        first = await person.say(WAGE_AND_POISON)
        crisis = joined(first, "crisis")
        assert crisis and all(n in crisis for n in ("110", "120", "12356")), person.transcript
        assert "您现在" in crisis and not joined(first, "reply"), person.transcript  # no intake answer
        sender = f"web:{person.conversation}"
        assert messaging_env.rasa_user_turns(sender) == []  # the dialogue never saw it
        (alert,) = _query(messaging_env.database_url, select(Alert).where(Alert.conversation_id == sender))
        assert alert.level == "red" and alert.kind == "self_harm" and "枫桥镇" in (alert.place or "")
        stay = await person.say("你们会帮我要工资吗")
        assert "我安全了" in joined(stay, "crisis") and not joined(stay, "reply")
        resumed = await person.say("我现在安全了，家里人陪着我")
        assert "很高兴您现在安全" in joined(resumed), person.transcript
        if not joined(resumed, "reply"):  # the grievance's own answer comes from the dialogue
            resumed += await person.more()
        turns = messaging_env.rasa_user_turns(sender)
        assert turns and "三万多块工资" in turns[0] and "农药" not in turns[0], turns
        number = await _finish_intake(person, resumed)
    transcript = ARTIFACTS / "crisis-first-transcript.txt"
    transcript.write_text("\n".join(person.transcript), encoding="utf-8")
    (case,) = _query(messaging_env.database_url, select(Case).where(Case.case_number == number))
    assert "三万多块工资" in case.narrative_original, f"see {transcript}"
    assert "农药" not in case.narrative_original
    assert case.risk_level == "red"
    (alert,) = _query(messaging_env.database_url, select(Alert).where(Alert.conversation_id == sender))
    assert alert.case_id == case.id


async def test_danger_inside_the_form_and_after_filing(messaging_env) -> None:
    _, port = messaging_env.gateway("crisis-form")
    async with WebPerson(port) as person:
        await person.say("你好")
        await person.say("/consent")
        replies = await person.say(NARRATIVE)
        if any(b["title"].startswith("都不是") for b in person.buttons):  # the classifier was unsure
            replies = await person.say(person.buttons[0]["payload"])
        question = joined(replies, "reply")
        assert "联系电话" in question, person.transcript
        crisis = await person.say("我真的撑不下去了，不想活了")
        assert joined(crisis, "crisis") and not joined(crisis, "reply"), person.transcript
        resumed = await person.say("没事了，继续吧")
        assert "联系电话" in joined(resumed, "reply"), person.transcript  # asked again where they were
        number = await _finish_intake(person, await person.say("13906754321"))
        after = await person.say("老陈拿着菜刀在我家门口，说今天要砍死我")
        reply = joined(after, "crisis")
        assert reply.index("110") < reply.index("12356"), person.transcript
    sender = f"web:{person.conversation}"
    (case,) = _query(messaging_env.database_url, select(Case).where(Case.case_number == number))
    alerts = _query(messaging_env.database_url, select(Alert).where(Alert.conversation_id == sender)
                    .order_by(Alert.id))
    assert case.risk_level == "red" and alerts[-1].case_id == case.id


async def test_traditional_script_gets_a_traditional_answer(messaging_env) -> None:
    _, port = messaging_env.gateway("crisis-traditional")
    async with WebPerson(port) as person:
        replies = await person.say("這些年受夠了，我真的不想活了，準備今晚去跳河")
    reply = joined(replies, "crisis")
    assert "12356" in reply and "現在" in reply and "现在" not in reply


async def _console_login(session: aiohttp.ClientSession, base: str, username: str) -> None:
    page = await (await session.get(f"{base}/console/login")).text()
    token = CSRF.search(page).group(1)
    response = await session.post(f"{base}/console/login", data={"csrf_token": token, "username": username,
                                                                   "password": PASSWORD}, allow_redirects=False)
    assert response.status == 302, await response.text()


async def test_danger_during_a_live_takeover_alerts_the_mediator(messaging_env) -> None:
    username = f"med.crisis.{uuid.uuid4().hex[:6]}"
    engine = make_engine(messaging_env.database_url)
    with make_session_factory(engine).begin() as s:
        create_user(s, username, PASSWORD, "reception", ["330681"], display_name="值班人员丙")
    engine.dispose()
    _, port = messaging_env.gateway("crisis-takeover", CONSOLE_COOKIE_SECURE="0")
    base = f"http://127.0.0.1:{port}"
    async with WebPerson(port) as person:
        await person.say("你好")
        await person.say("/consent")
        number = await _finish_intake(person, await person.say(NARRATIVE))
        jar = aiohttp.CookieJar(unsafe=True)
        async with aiohttp.ClientSession(cookie_jar=jar) as staff:
            await _console_login(staff, base, username)
            page = await (await staff.get(f"{base}/console/cases/{number}")).text()
            token = re.search(r'data-csrf="([^"]+)"', page).group(1)
            taken = await staff.post(f"{base}/console/cases/{number}/takeover", headers={"X-CSRF-Token": token})
            assert taken.status == 200, await taken.text()
            live = await staff.ws_connect(f"{base}/console/cases/{number}/live", headers={"Origin": base})
            await live.receive_json(timeout=10)  # the owner state
            replies = await person.say("我刚才吞了一整瓶安眠药，头很晕")
            reply = joined(replies, "crisis")
            assert reply.index("120") < reply.index("110") and "工作人员已收到" in reply, person.transcript
            feed = []
            while not any(item.get("type") == "crisis" for item in feed):
                feed.append(await asyncio.wait_for(live.receive_json(), 10))
            await live.close()
    sender = f"web:{person.conversation}"
    alert = _query(messaging_env.database_url, select(Alert).where(Alert.conversation_id == sender))[-1]
    assert alert.kind == "medical"


def test_danger_over_telegram_gets_110_and_the_staff_chat_is_told(messaging_env, emulator) -> None:
    token = f"{uuid.uuid4().int % 10**9}:TEST{uuid.uuid4().hex[:20]}"
    staff = TelegramCitizen(emulator, token)
    messaging_env.gateway("crisis-tg", TELEGRAM_BOT_TOKEN=token, TELEGRAM_API_BASE_URL=emulator.base_url,
                          TELEGRAM_MODE="polling", TELEGRAM_CHAT_INTERVAL="0.3",
                          CRISIS_NOTIFY_TELEGRAM=str(staff.chat_id))
    citizen = TelegramCitizen(emulator, token)
    citizen.send("救命，我老公正在打我，把我锁在卧室里出不去，我在浦江县浦阳街道")
    said = texts(citizen.replies())
    assert said.startswith("如果您或家人正在遭受暴力，请立即拨打 110"), citizen.transcript
    told = texts(staff.replies())
    assert "危机预警" in told and "浦阳街道" in told, told


async def test_a_gateway_whose_danger_check_fails_still_shows_the_numbers(messaging_env, tmp_path) -> None:
    """A separate gateway process whose danger model cannot be read (a corrupt file in the
    operator-set folder): an ordinary message still gets the emergency numbers and an alert."""
    from routing.understanding.safety.model import ENV_MODEL_DIR, MODEL_FILE

    (tmp_path / MODEL_FILE).write_bytes(b"not a pickled model")
    _, port = messaging_env.gateway("crisis-failed-check", **{ENV_MODEL_DIR: str(tmp_path)})
    async with WebPerson(port) as person:
        replies = await person.say("村口的路灯坏了一个月了，晚上出门看不清")
    crisis = joined(replies, "crisis")
    assert all(n in crisis for n in ("110", "120", "12356")) and "您现在安全吗" in crisis, person.transcript
    assert not joined(replies, "reply"), person.transcript  # the intake waits
    sender = f"web:{person.conversation}"
    (alert,) = _query(messaging_env.database_url, select(Alert).where(Alert.conversation_id == sender))
    assert alert.level == "red" and "未能完成" in alert.reason, alert.reason
    assert (tmp_path / MODEL_FILE).read_bytes() == b"not a pickled model"  # not silently retrained
