# ruff: noqa: F811  (pytest fixtures imported by name)
"""Fault tests of the durable inbox, with real processes (RELIABILITY R1).

- the action server stops: the turn waits and is processed once when it is back;
- the gateway is killed (SIGKILL) right after acknowledging: nothing is lost;
- Rasa stops mid-conversation: messages wait, then complete in order, none lost or doubled
  (checked in Rasa's own tracker store). This restarts the session's Rasa once, so it runs last.
"""

from __future__ import annotations

import asyncio
import signal

import aiohttp
import pytest

from gateway.inbox import NOTICE_RECEIVED
from routing.persistence.db import make_engine, make_session_factory
from tests.e2e.messaging_support import (  # noqa: F401  (fixtures)
    NARRATIVE,
    InboxMessage,
    OutboxMessage,
    WebCitizen,
    messaging_env,
)

pytestmark = pytest.mark.e2e


async def test_a_turn_waits_for_the_action_server(messaging_env) -> None:
    _, port = messaging_env.gateway("faults-actions")
    citizen = WebCitizen(port)
    await citizen.connect()
    sender = f"web:{citizen.conversation}"
    try:
        assert "个人信息" in await citizen.say("a1", "你好")
        messaging_env.actions.stop()
        await citizen.send("a2", "/consent")
        await citizen.until(lambda c: c.replies_to("a2", "delay"), 30)
        assert citizen.replies_to("a2", "delay")[0]["text"] == NOTICE_RECEIVED
        assert messaging_env.rasa_user_turns(sender) == ["你好"]  # not sent while actions are down
        messaging_env.actions.start()
        await asyncio.to_thread(messaging_env.actions.wait_ready, 60)
        await citizen.until(lambda c: c.replies_to("a2", "reply"), 60)
        assert "发生了什么" in " ".join(m["text"] for m in citizen.replies_to("a2", "reply"))
    finally:
        await citizen.close()
    assert messaging_env.rasa_user_turns(sender) == ["你好", "/consent"]


async def test_kill_9_right_after_the_ack_loses_nothing(messaging_env) -> None:
    gateway, port = messaging_env.gateway("faults-kill")
    citizen = WebCitizen(port)
    await citizen.connect()
    sender = f"web:{citizen.conversation}"
    try:
        await citizen.send("k1", "你好")  # returns as soon as the ack arrived
        gateway.stop(signal.SIGKILL)
    finally:
        await citizen.close()
    assert messaging_env.count(InboxMessage, conversation_id=sender) == 1
    gateway.start()
    await asyncio.to_thread(gateway.wait_ready, 60)
    again = WebCitizen(port, citizen.conversation)
    try:
        await again.connect(after=0)  # a reloaded page asks for everything
        await again.send("k1", "你好")  # and resends what got no answer: not a second turn
        await again.until(lambda c: c.replies_to("k1", "reply"), 60)
        await again._settle(2.0)
        replies = again.replies_to("k1", "reply")
    finally:
        await again.close()
    assert "个人信息" in " ".join(m["text"] for m in replies)
    assert len({m["id"] for m in replies}) == len(replies)
    assert messaging_env.count(OutboxMessage, conversation_id=sender, reply_to=f"{sender}:k1") == len(replies)
    assert messaging_env.rasa_user_turns(sender) == ["你好"]


async def test_rasa_stopped_mid_conversation(messaging_env) -> None:
    _, port = messaging_env.gateway("faults-rasa")
    citizen = WebCitizen(port)
    await citizen.connect()
    sender = f"web:{citizen.conversation}"
    rasa = messaging_env.rasa
    try:
        assert "个人信息" in await citizen.say("r1", "你好")
        await asyncio.to_thread(rasa.stop)
        try:
            await citizen.send("r2", "/consent")
            await citizen.send("r3", NARRATIVE)
            await citizen.until(lambda c: c.replies_to("r2", "delay"), 30)
            assert messaging_env.count(InboxMessage, conversation_id=sender, status="pending") == 2
        finally:
            rasa.start()
            await asyncio.to_thread(rasa.wait_ready, 240)  # ~1 min: keep the loop (and socket) alive
        await citizen.until(lambda c: c.replies_to("r3", "reply"), 120)
        await citizen._settle(2.0)
    finally:
        await citizen.close()
    r2, r3 = citizen.replies_to("r2", "reply"), citizen.replies_to("r3", "reply")
    assert r2 and r3 and max(m["id"] for m in r2) < min(m["id"] for m in r3)  # in order
    assert "发生了什么" in " ".join(m["text"] for m in r2)
    # none lost, none doubled (the gateway sends the NFKC-cleaned text)
    # none lost, none doubled (the gateway sends the text as written, invisible characters removed)
    assert messaging_env.count(InboxMessage, conversation_id=sender, status="done") == 3


async def test_a_turn_rasa_got_before_a_crash_is_not_sent_twice(messaging_env) -> None:
    citizen = WebCitizen(0)
    sender = f"web:{citizen.conversation}"
    key = f"{sender}:c1"
    # The gateway had sent this message to Rasa and died before storing the answer:
    body = {"sender": sender, "message": "你好", "metadata": {"channel": "web", "message_key": key}}
    rasa = f"http://127.0.0.1:{messaging_env.rasa_port}/webhooks/rest/webhook"
    async with aiohttp.ClientSession() as http, http.post(rasa, json=body) as response:
        assert response.status == 200
    engine = make_engine(messaging_env.database_url)
    with make_session_factory(engine).begin() as session:
        session.add(InboxMessage(channel="web", external_key=key, conversation_id=sender, kind="text", text="你好",
                                 payload={}, status="pending", attempts=0, delay_notified=False, dispatched=True))
    engine.dispose()
    _, citizen.port = messaging_env.gateway("faults-recover")
    try:
        await citizen.connect(after=0)
        await citizen.until(lambda c: c.replies_to("c1", "reply"), 60)
        await citizen._settle(1.5)
    finally:
        await citizen.close()
    assert "个人信息" in " ".join(m["text"] for m in citizen.replies_to("c1", "reply"))  # recovered from the tracker
    assert messaging_env.rasa_user_turns(sender) == ["你好"]
