"""Two gateways on one PostgreSQL database share the inbox through leases (issue 15).

Each gateway here is the real inbox worker with its own lease holder, engine and HTTP client,
both in this test process, against a small server speaking Rasa's REST protocol that answers
after a random short delay (so turns of two gateways interleave). Checked: every message is
sent to the dialogue exactly once and in order per conversation, whichever gateway stored it;
a gateway that dies holding leases is taken over once its leases expire.
"""

from __future__ import annotations

import asyncio
import json
import random
from collections.abc import AsyncIterator
from dataclasses import dataclass

import pytest
from aiohttp import ClientSession, web
from sqlalchemy import func, select

from fengqiao.settings import Settings
from gateway import relay
from gateway.app import init_app
from gateway.inbox import Inbound, Inbox, InboxWorker, Messaging, rasa_turn
from gateway.keys import MESSAGING
from gateway.leases import Leader, Leases, inbox_lease
from gateway.outbox import Outbox, WebHub
from routing.persistence.db import make_engine, make_session_factory
from routing.persistence.messaging_tables import InboxMessage, OutboxMessage
from tests.web.test_inbox import serve_fake_rasa


class SlowRasa:
    """Rasa's REST webhook with a random delay; records what each sender sent, in arrival order."""

    def __init__(self) -> None:
        self.url = ""
        self.received: dict[str, list[str]] = {}
        self.busy: set[str] = set()
        self.overlaps = 0  # two turns of one conversation at the same time (must stay 0)

    async def webhook(self, request: web.Request) -> web.Response:
        body = await request.json()
        sender = body["sender"]
        if sender in self.busy:
            self.overlaps += 1
        self.busy.add(sender)
        try:
            self.received.setdefault(sender, []).append(body["message"])
            await asyncio.sleep(random.uniform(0.0, 0.05))
        finally:
            self.busy.discard(sender)
        return web.json_response([{"recipient_id": sender, "text": f"收到：{body['message']}"}])


@pytest.fixture
async def rasa(aiohttp_server) -> SlowRasa:
    return await serve_fake_rasa(aiohttp_server, SlowRasa())


@pytest.fixture
def pg_url(database_url: str) -> str:
    if not database_url.startswith("postgresql"):
        pytest.skip("several gateways need PostgreSQL; SQLite is the one-process set-up")
    return database_url


@dataclass
class Gateway:
    """One gateway's inbox worker, as `gateway.app` wires it."""

    m: Messaging
    worker: InboxWorker
    http: ClientSession
    task: asyncio.Task[None]
    engine: object


async def _gateway(url: str, rasa_url: str, ttl: float = 10.0) -> Gateway:
    engine = make_engine(url)
    sessions = make_session_factory(engine)
    outbox = Outbox(sessions)
    m = Messaging(sessions=sessions, inbox=Inbox(sessions), outbox=outbox, hub=WebHub(outbox))
    http = ClientSession()
    m.worker = InboxWorker(m, rasa_turn(lambda: http, rasa_url), retry_cap=0.5, sweep_interval=0.2,
                           leases=Leases(sessions, ttl=ttl))
    return Gateway(m, m.worker, http, asyncio.create_task(m.worker.run()), engine)


async def _close(gw: Gateway) -> None:
    gw.task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await gw.task
    await gw.worker.stop()
    await asyncio.sleep(0.3)  # a sweep's query cancelled mid-flight finishes in its thread first
    await gw.http.close()
    gw.engine.dispose()  # type: ignore[attr-defined]


async def _settle(m: Messaging, total: int, timeout: float = 30.0) -> None:
    def done() -> int:
        with m.sessions() as session:
            return int(session.execute(select(func.count()).select_from(InboxMessage)
                                       .where(InboxMessage.status == "done")).scalar() or 0)
    for _ in range(int(timeout / 0.1)):
        if await asyncio.to_thread(done) >= total:
            return
        await asyncio.sleep(0.1)
    raise AssertionError(f"only {await asyncio.to_thread(done)} of {total} messages done")


@pytest.fixture
async def two(pg_url: str, rasa: SlowRasa) -> AsyncIterator[tuple[Gateway, Gateway]]:
    a, b = await _gateway(pg_url, rasa.url), await _gateway(pg_url, rasa.url)
    yield a, b
    await _close(a)
    await _close(b)


@pytest.mark.parametrize("database_url", ["postgresql"], indirect=True)
async def test_two_gateways_answer_every_message_once_and_in_order(two, rasa) -> None:
    a, b = two
    conversations, turns = 20, 5
    for turn in range(turns):  # each message lands on either gateway, as a load balancer would
        for c in range(conversations):
            gw = random.choice((a, b))
            message = Inbound("web", f"web:lease{c:04d}:{turn}", f"web:lease{c:04d}", f"第{turn}句")
            await asyncio.to_thread(gw.m.inbox.store, message)
            gw.worker.kick(message.conversation_id)
        await asyncio.sleep(0.02)
    await _settle(a.m, conversations * turns)
    assert rasa.overlaps == 0
    assert len(rasa.received) == conversations
    for sent in rasa.received.values():
        assert sent == [f"第{t}句" for t in range(turns)]  # once each, in order
    with a.m.sessions() as session:
        replies = session.execute(select(OutboxMessage.conversation_id, OutboxMessage.text)
                                  .order_by(OutboxMessage.id)).all()
    assert len(replies) == conversations * turns
    assert sorted({r.text for r in replies if r.conversation_id == "web:lease0003"}) == sorted(
        f"收到：第{t}句" for t in range(turns))


@pytest.mark.parametrize("database_url", ["postgresql"], indirect=True)
async def test_a_dead_gateways_conversation_is_taken_over_after_its_lease_expires(pg_url, rasa) -> None:
    engine = make_engine(pg_url)
    sessions = make_session_factory(engine)
    dead = Leases(sessions, holder="dead-gateway", ttl=1.5)  # took the lease, then was killed -9
    assert await asyncio.to_thread(dead.acquire, inbox_lease("web:orphan01"))
    await asyncio.to_thread(Inbox(sessions).store, Inbound("web", "web:orphan01:1", "web:orphan01", "还在吗"))
    alive = await _gateway(pg_url, rasa.url, ttl=1.5)
    try:
        alive.worker.kick("web:orphan01")  # the lease is live: this gateway must leave it alone
        await asyncio.sleep(0.8)
        assert rasa.received == {}
        await _settle(alive.m, 1, timeout=10)  # expired: the sweep takes it over
        assert rasa.received == {"web:orphan01": ["还在吗"]}
    finally:
        await _close(alive)
        engine.dispose()


@pytest.mark.parametrize("database_url", ["postgresql"], indirect=True)
async def test_exactly_one_leader_and_a_quick_takeover(pg_url) -> None:
    engine = make_engine(pg_url)
    sessions = make_session_factory(engine)
    running: list[str] = []

    def loop(name: str):  # type: ignore[no-untyped-def]
        async def body() -> None:
            running.append(name)
            try:
                await asyncio.Event().wait()
            finally:
                running.remove(name)
        return body

    first = Leader(Leases(sessions, holder="first", ttl=1.5), [loop("first")], interval=0.3)
    second = Leader(Leases(sessions, holder="second", ttl=1.5), [loop("second")], interval=0.3)
    t1 = asyncio.create_task(first.run())
    await asyncio.sleep(0.2)
    t2 = asyncio.create_task(second.run())
    await asyncio.sleep(1.0)
    assert running == ["first"]
    t1.cancel()  # a clean stop gives the lease back: the other leads within one interval
    with pytest.raises(asyncio.CancelledError):
        await t1
    await asyncio.sleep(0.8)
    assert running == ["second"]
    t2.cancel()
    with pytest.raises(asyncio.CancelledError):
        await t2
    engine.dispose()


def _app_settings(url: str, rasa_url: str) -> Settings:
    return Settings(database_url=url, rasa_url=rasa_url, rasa_token="", action_port=0, web_host="127.0.0.1",
                    web_port=0, deadline_rules="stricter", allowed_origins=(), inbox_retry_cap=0.5, lease_ttl=3)


@pytest.mark.parametrize("database_url", ["postgresql"], indirect=True)
async def test_a_socket_and_a_live_feed_on_different_gateways_hear_each_other(aiohttp_client, pg_url, rasa) -> None:
    a = await aiohttp_client(init_app(_app_settings(pg_url, rasa.url)))
    b = await aiohttp_client(init_app(_app_settings(pg_url, rasa.url)))
    for client in (a, b):
        await asyncio.wait_for(client.server.app[MESSAGING].bus.listening.wait(), 10)
    feed = relay.subscribe(b.server.app, "web:busfeed01")  # the mediator's console is on gateway B
    ws = await a.ws_connect("/ws?conversation=busfeed01")  # the citizen's socket is on gateway A
    await ws.send_json({"type": "message", "id": "m1", "text": "邻居装修太吵"})
    events = [await asyncio.wait_for(feed.get(), 10) for _ in range(2)]
    assert events[0]["from"] == "citizen" and events[0]["text"] == "邻居装修太吵"
    assert events[1] == {"from": "bot", "reply_to": "web:busfeed01:m1", "text": "收到：邻居装修太吵", "buttons": []}
    await relay.take_over(b.server.app, "web:busfeed01", "agent-9")  # written on B, read by A's socket
    await relay.send_from_agent(b.server.app, "web:busfeed01", "agent-9", "您好，我来处理。")
    got: list[tuple[str, str]] = []
    while len(got) < 3:
        data = json.loads((await ws.receive(timeout=10)).data)
        if data["type"] == "bot":
            got.append((data["kind"], data["text"]))
    assert got[0] == ("reply", "收到：邻居装修太吵")
    assert got[2] == ("agent", "您好，我来处理。")
    ready = [await (await c.get("/ready")).json() for c in (a, b)]
    assert sorted(r["leader"] for r in ready) == [False, True]  # exactly one leads
    assert all(r["status"] == "ready" and r["bus"] for r in ready)
