# ruff: noqa: F811  (pytest fixtures imported by name)
"""The Telegram outbox relay against the emulator: order per chat, ≤ 1 message per interval in
a chat, long texts split at 4096, flood control (`retry_after`) honoured. No Rasa needed."""

from __future__ import annotations

import asyncio
import time
import uuid

import pytest
from sqlalchemy import select

from fengqiao.migrate import upgrade
from fengqiao.settings import Settings
from gateway.inbox import Inbox, Messaging
from gateway.outbox import Outbox, Outgoing, RateLimiter, TelegramRelay, WebHub
from gateway.tg.channel import TelegramChannel
from routing.persistence.db import make_engine, make_session_factory
from routing.persistence.messaging_tables import OutboxMessage
from tests.e2e.messaging_support import emulator  # noqa: F401

pytestmark = pytest.mark.e2e


async def test_relay_keeps_order_limits_rate_and_honours_retry_after(emulator, tmp_path) -> None:
    url = f"sqlite:///{tmp_path / 'relay.db'}"
    upgrade(url)
    token = f"{uuid.uuid4().int % 10**9}:RELAY{uuid.uuid4().hex[:16]}"
    settings = Settings(database_url=url, rasa_url="http://127.0.0.1:9", rasa_token="", action_port=0,
                        web_host="127.0.0.1", web_port=0, deadline_rules="stricter", allowed_origins=(),
                        telegram_bot_token=token, telegram_api_base_url=emulator.base_url)
    engine = make_engine(url)
    sessions = make_session_factory(engine)
    outbox = Outbox(sessions)
    channel = TelegramChannel(settings, Messaging(sessions, Inbox(sessions), outbox, WebHub(outbox)))
    await channel.bot.initialize()
    relay = TelegramRelay(outbox, channel, RateLimiter(per_chat=0.5, per_second=30))
    long_text = "这是一段很长的答复。" * 500  # 5000 characters
    emulator.call("/control/flood", {"count": 1, "retry_after": 2})
    start = time.time()
    outbox.enqueue("tg:111", [Outgoing("一"), Outgoing("二", [{"title": "满意", "payload": '/rate_satisfaction{"satisfaction": "满意"}'}]),
                              Outgoing(long_text)])
    outbox.enqueue("tg:222", [Outgoing("甲")])
    task = asyncio.create_task(relay.run())
    try:
        deadline = time.monotonic() + 30
        while True:
            with sessions() as session:
                rows = session.execute(select(OutboxMessage).order_by(OutboxMessage.id)).scalars().all()
            if all(r.status == "sent" for r in rows):
                break
            assert time.monotonic() < deadline, [(r.id, r.status, r.last_error) for r in rows]
            await asyncio.sleep(0.1)
    finally:
        task.cancel()
        await channel.bot.shutdown()
        engine.dispose()
    assert len(rows) == 5  # the long text became two rows
    flooded = [r for r in rows if r.attempts == 1]
    assert len(flooded) == 1 and flooded[0].last_error == "flood control"
    log = emulator.call("/control/sendLog", {})
    mine = [e for e in log if e["chat_id"] in ("111", "222") and e["at"] >= start - 1]
    chat_111 = [e["at"] for e in mine if e["chat_id"] == "111"]
    assert len(chat_111) == 4
    assert all(b - a >= 0.45 for a, b in zip(chat_111, chat_111[1:], strict=False)), chat_111
    # the flooded chat waited its retry_after (2 s) before its first delivered message
    first_of_flooded = min(e["at"] for e in mine if e["chat_id"] == flooded[0].conversation_id[3:])
    assert first_of_flooded - start >= 1.9
    delivered = emulator.call("/getUpdates", {"token": token, "chatId": 111})
    texts = [d["message"]["text"] for d in delivered]
    assert texts[:2] == ["一", "二"] and "".join(texts[2:]) == long_text
    assert all(len(t) <= 4096 for t in texts)
    markup = delivered[1]["message"]["reply_markup"]
    assert markup["inline_keyboard"][0][0]["callback_data"] == f"o{rows[1].id}:0"  # ≤ 64 bytes, resolved on press
