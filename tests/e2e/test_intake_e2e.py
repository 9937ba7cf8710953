"""A citizen files a complaint over the web chat WebSocket; the case is in the database.

Real Rasa server, real action server, real web app; run once on SQLite and once on
PostgreSQL (the `stack` fixture's parameters).
"""

from __future__ import annotations

import json
import re

import aiohttp
import pytest
from sqlalchemy import select

from routing.persistence.case_tables import Alert, Case
from routing.persistence.db import make_engine, make_session_factory

pytestmark = pytest.mark.e2e
NARRATIVE = (
    "我住在诸暨市枫桥镇枫源村，隔壁邻居老陈去年在两家中间的过道上砌了一堵墙，"
    "我家的三轮车从此进不了院子，村里调解过一次没有结果。要求他把墙拆掉，恢复通道。"
)
CASE_NUMBER = re.compile(r"FQ-\d{4}-\d{6}")


class Citizen:
    """A simulated citizen on the web chat WebSocket."""

    def __init__(self, ws: aiohttp.ClientWebSocketResponse) -> None:
        self.ws = ws
        self.count = 0
        self.transcript: list[str] = []
        self.buttons: list[dict[str, str]] = []

    async def say(self, text: str, timeout: float = 60) -> list[str]:
        """Send a message and return the bot texts that answer it."""
        self.count += 1
        client_id = f"c{self.count}"
        self.transcript.append(f"群众：{text}")
        await self.ws.send_json({"type": "message", "id": client_id, "text": text})
        texts: list[str] = []
        self.buttons = []
        while True:
            try:
                msg = await self.ws.receive(timeout=timeout if not texts else 1.5)
            except TimeoutError:
                break
            data = json.loads(msg.data)
            if data["type"] == "bot" and data["reply_to"] == client_id:
                texts.append(data["text"])
                self.buttons.extend(data.get("buttons") or [])
                self.transcript.append(f"助手：{data['text']}")
        return texts


async def open_citizen(stack, conversation_id: str) -> tuple[aiohttp.ClientSession, Citizen]:
    session = aiohttp.ClientSession()
    ws = await session.ws_connect(f"{stack.ws_url}/ws?conversation={conversation_id}")
    return session, Citizen(ws)


def cases(url: str) -> list[Case]:
    engine = make_engine(url)
    try:
        with make_session_factory(engine)() as session:
            return list(session.execute(select(Case).order_by(Case.id)).scalars())
    finally:
        engine.dispose()


async def test_a_complaint_is_filed_and_its_number_told(stack, conversation_id) -> None:
    session, citizen = await open_citizen(stack, conversation_id)
    try:
        greeting = " ".join(await citizen.say("你好"))
        assert "同意" in greeting or "个人信息" in greeting
        asked = " ".join(await citizen.say("/consent"))
        assert "发生了什么" in asked
        replies = " ".join(await citizen.say(NARRATIVE))
        if "属于哪一类" in replies:  # the classifier was unsure: it offers its top three
            assert len(citizen.buttons) == 4 and citizen.buttons[-1]["title"] == "都不是，我再说说"
            replies = " ".join(await citizen.say(citizen.buttons[0]["payload"]))
        # the narrative told place, party and demand: only the phone is still missing
        assert "联系电话" in replies, replies
        summary = " ".join(await citizen.say("我的手机是１３９０６７５４３２１"))
        assert "139****4321" in summary and "枫桥镇枫源村" in summary
        filed = " ".join(await citizen.say("/affirm"))
        found = CASE_NUMBER.search(filed)
        assert found, filed
        status = " ".join(await citizen.say(f"查询一下{found.group(0)}的进度"))
        assert found.group(0) in status and "已分派" in status and "枫源村人民调解委员会" in status
    finally:
        await session.close()
    stored = [c for c in cases(stack.database_url) if c.case_number == found.group(0)]
    assert len(stored) == 1
    case = stored[0]
    assert case.location_code == "330681104001"
    assert case.category
    assert case.contact_phone == "13906754321"
    assert case.conversation_id == f"web:{conversation_id}"
    assert case.narrative_original.startswith("我住在诸暨市枫桥镇枫源村")


async def test_crisis_words_get_emergency_numbers_and_an_alert(stack, conversation_id) -> None:
    session, citizen = await open_citizen(stack, conversation_id)
    try:
        reply = " ".join(await citizen.say("我真的不想活了，准备今晚从楼上跳下去"))
    finally:
        await session.close()
    assert "110" in reply and "120" in reply and "12356" in reply
    engine = make_engine(stack.database_url)
    with make_session_factory(engine)() as db:
        alerts = db.execute(select(Alert).where(Alert.conversation_id == f"web:{conversation_id}")).scalars().all()
    engine.dispose()
    assert [a.level for a in alerts] == ["red"]


async def test_out_of_scope_is_answered_not_guessed(stack, conversation_id) -> None:
    session, citizen = await open_citizen(stack, conversation_id)
    try:
        reply = " ".join(await citizen.say("今天杭州天气怎么样，适合去西湖玩吗"))
    finally:
        await session.close()
    assert "服务范围" in reply or "换个说法" in reply
    assert not CASE_NUMBER.search(reply)


async def test_no_confirmation_when_the_action_server_is_down(stack, conversation_id) -> None:
    session, citizen = await open_citizen(stack, conversation_id)
    before = len(cases(stack.database_url))
    try:
        await citizen.say("你好")
        await citizen.say("/consent")
        if "属于哪一类" in " ".join(await citizen.say(NARRATIVE)):
            await citizen.say(citizen.buttons[0]["payload"])
        await citizen.say("13906754321")
        stack.actions.stop()
        reply = " ".join(await citizen.say("/affirm"))
    finally:
        await session.close()
        stack.actions.start()
        stack.actions.wait_ready(60)
    assert not CASE_NUMBER.search(reply), reply
    assert "已为您登记" not in reply
    assert len(cases(stack.database_url)) == before
