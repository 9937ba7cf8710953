"""Hostile input at every door of the real gateway (hypothesis, bounded examples).

Doors: chat text over the WebSocket, raw WebSocket frames, replayed client ids, Telegram webhook
updates (malformed, forged, wrong secret), and the console's query strings and forms. Every
answer is a polite notice or a 4xx with a reason — never a 5xx, a dropped socket without a close
code, a message stuck in the inbox, or a typed ``/intent{...}`` reaching Rasa as a payload.
The gateway and a small server speaking Rasa's REST protocol run on one loop in a thread.
"""

from __future__ import annotations

import asyncio
import json
import socket
import threading
import time
from collections import Counter
from collections.abc import Coroutine, Iterator
from dataclasses import dataclass, field, replace
from typing import Any, TypeVar

import aiohttp
import pytest
from aiohttp import web
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import func, select

from fengqiao.migrate import upgrade
from gateway.app import MESSAGING, init_app
from gateway.chat import NOTICE_BAD, NOTICE_EMPTY, NOTICE_TOO_LONG
from gateway.tg.channel import TelegramChannel
from routing.persistence.db import make_engine, make_session_factory
from routing.persistence.messaging_tables import InboxMessage
from tests.web.console_helpers import (
    CSRF_FIELD,
    PASSWORD,
    console_settings,
    draft,
    seed_world,
    totp_now,
)

T = TypeVar("T")
SECRET = "fuzz-secret"
FIGURES: Counter[str] = Counter()  # examples per door, printed at the end of the module
CONSENT = "/consent"
HOSTILE = [
    "", " ", "\u3000\t\n", "\u200b\u200c\u200d\ufeff", "\u202e\u2066反向\u2069", "a" * 20000, "邻" * 2001,
    "<script>alert(1)</script>", "<img src=x onerror=alert(1)>", "'; DROP TABLE cases; --", "1' OR '1'='1",
    '/inform{"contact_phone": "13800000000", "complaint_location": "北京"}', "/affirm", "/restart",
    '/intake_form{"requested_slot": null}', "/我不想活了", "  /consent", "\u200b/affirm",
    "👨‍👩‍👧‍👦🏳️‍🌈" * 40, "𠀀𪚥𰀀", "مرحبا שלום 你好", "\x00\x01\x7f", "%s%n{0}${jndi:ldap://x}", "\ud800",
]


@dataclass
class Live:
    """The gateway on a real port, its loop, and what the fake Rasa received."""

    url: str
    db_url: str
    loop: asyncio.AbstractEventLoop
    app: web.Application
    received: list[dict[str, Any]] = field(default_factory=list)
    http: aiohttp.ClientSession | None = None
    console: dict[str, aiohttp.ClientSession] = field(default_factory=dict)
    case_number: str = ""

    def run(self, coro: Coroutine[Any, Any, T], timeout: float = 60) -> T:
        return asyncio.run_coroutine_threadsafe(coro, self.loop).result(timeout)


def _port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.fixture(scope="module")
def live(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Live]:
    db_url = f"sqlite:///{tmp_path_factory.mktemp('hostile') / 'gateway.db'}"
    upgrade(db_url)
    world = seed_world(db_url)
    case_number = world.service.file_case(draft("楼道被邻居堆满杂物", "web:hostile01", phone="13911112222")).view.case_number
    loop = asyncio.new_event_loop()
    rasa_port, port = _port(), _port()
    received: list[dict[str, Any]] = []

    async def webhook(request: web.Request) -> web.Response:
        body = await request.json()
        received.append(body)
        return web.json_response([{"recipient_id": body["sender"], "text": "请说说您遇到的事情。",
                                    "buttons": [{"title": "同意", "payload": CONSENT}]}])

    rasa_app = web.Application()
    rasa_app.router.add_post("/webhooks/rest/webhook", webhook)
    settings_ = replace(console_settings(db_url), rasa_url=f"http://127.0.0.1:{rasa_port}", inbox_retry_cap=0.5)
    app = init_app(settings_)
    runners = [web.AppRunner(rasa_app), web.AppRunner(app)]
    started = threading.Event()

    def serve() -> None:
        asyncio.set_event_loop(loop)
        for runner, p in zip(runners, (rasa_port, port), strict=True):
            loop.run_until_complete(runner.setup())
            loop.run_until_complete(web.TCPSite(runner, "127.0.0.1", p).start())
        started.set()
        loop.run_forever()

    thread = threading.Thread(target=serve, daemon=True)
    thread.start()
    assert started.wait(60)
    state = Live(f"http://127.0.0.1:{port}", db_url, loop, app, received, case_number=case_number)
    # Telegram in webhook mode, never started (no API calls but answering callback queries,
    # which go to a closed port and are ignored).
    tg = replace(settings_, telegram_bot_token="123456:fuzz", telegram_mode="webhook",
                 telegram_webhook_secret=SECRET, telegram_api_base_url="http://127.0.0.1:9")
    app[MESSAGING].telegram = TelegramChannel(tg, app[MESSAGING])

    async def sessions() -> None:
        state.http = aiohttp.ClientSession()
        for user, code in (("med.a", None), ("dir.a", totp_now())):
            s = aiohttp.ClientSession(base_url=state.url, cookie_jar=aiohttp.CookieJar(unsafe=True))
            page = await s.get("/console/login")
            token = CSRF_FIELD.search(await page.text()).group(1)  # type: ignore[union-attr]
            r = await s.post("/console/login", data={"csrf_token": token, "username": user, "password": PASSWORD},
                             allow_redirects=False)
            if code is not None and r.headers.get("Location") == "/console/totp":
                page = await s.get("/console/totp")
                token = CSRF_FIELD.search(await page.text()).group(1)  # type: ignore[union-attr]
                await s.post("/console/totp", data={"csrf_token": token, "code": code}, allow_redirects=False)
            state.console[user] = s

    state.run(sessions())
    yield state

    async def close() -> None:
        for s in (state.http, *state.console.values()):
            if s is not None:
                await s.close()
        for runner in reversed(runners):
            await runner.cleanup()

    state.run(close())
    loop.call_soon_threadsafe(loop.stop)
    thread.join(10)
    loop.close()
    print("\nhostile input examples per door:", dict(FIGURES))


def _pending(db_url: str) -> int:
    engine = make_engine(db_url)
    try:
        with make_session_factory(engine)() as s:
            return int(s.execute(select(func.count()).select_from(InboxMessage)
                                 .where(InboxMessage.status.in_(("pending",)))).scalar() or 0)
    finally:
        engine.dispose()


async def _first_answer(ws: aiohttp.ClientWebSocketResponse) -> dict[str, Any]:
    while True:
        msg = await ws.receive(timeout=10)
        assert msg.type == aiohttp.WSMsgType.TEXT, msg
        data = json.loads(msg.data)
        if data["type"] in ("ack", "error"):
            return data  # type: ignore[no-any-return]


_chat_text = st.one_of(st.sampled_from(HOSTILE), st.text(max_size=300),
                       st.text(st.characters(codec="utf-8", categories=("Cc", "Cf", "Zs", "Mn", "So")), max_size=80),
                       st.builds(lambda a, b: f"/{a}{json.dumps(b, ensure_ascii=False)}",
                                 st.sampled_from(["inform", "affirm", "consent", "intake_form", "request_human"]),
                                 st.dictionaries(st.sampled_from(["contact_phone", "complaint_location",
                                                                  "requested_slot", "case_number"]),
                                                 st.text(max_size=20), max_size=3)))


@settings(max_examples=60, deadline=None, suppress_health_check=list(HealthCheck))
@given(texts=st.lists(_chat_text, min_size=1, max_size=4))
def test_chat_text_gets_a_polite_answer_and_payloads_typed_are_words(live: Live, texts: list[str]) -> None:
    async def go() -> None:
        assert live.http is not None
        ws = await live.http.ws_connect(f"{live.url}/ws?conversation=hostile-{time.monotonic_ns()}")
        for i, text in enumerate(texts):
            FIGURES["chat text"] += 1
            ascii_only = text.encode("utf-8", "surrogatepass").decode("utf-8", "ignore") != text  # lone surrogates
            await ws.send_str(json.dumps({"type": "message", "id": f"m{i}", "text": text}, ensure_ascii=ascii_only))
            answer = await _first_answer(ws)
            FIGURES[f"chat {answer['type']}"] += 1
            assert answer["type"] == "ack" or answer["text"] in (NOTICE_BAD, NOTICE_EMPTY, NOTICE_TOO_LONG), answer
        await ws.close()

    live.run(go())


@settings(max_examples=60, deadline=None, suppress_health_check=list(HealthCheck))
@given(frame=st.one_of(
    st.text(max_size=200), st.binary(max_size=200),
    st.recursive(st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=20),
                 lambda c: st.lists(c, max_size=4) | st.dictionaries(st.sampled_from(
                     ["type", "id", "text", "after", "x"]), c, max_size=4), max_leaves=10).map(json.dumps),
    st.fixed_dictionaries({"type": st.sampled_from(["message", "hello", "typing", ""]),
                           "id": st.one_of(st.text(max_size=80), st.integers()),
                           "after": st.one_of(st.integers(), st.text(max_size=5), st.booleans()),
                           "text": st.one_of(st.text(max_size=30), st.none(), st.integers())}).map(json.dumps)))
def test_websocket_frames_that_are_not_messages_get_a_notice_or_are_ignored(live: Live, frame: str | bytes) -> None:
    async def go() -> None:
        assert live.http is not None
        FIGURES["websocket frames"] += 1
        ws = await live.http.ws_connect(f"{live.url}/ws?conversation=frames-{time.monotonic_ns()}")
        if isinstance(frame, bytes):
            await ws.send_bytes(frame)
        else:
            await ws.send_str(frame)
        await ws.send_str(json.dumps({"type": "message", "id": "after", "text": "还在吗"}))
        answers = []
        while not any(a.get("id") == "after" for a in answers):
            answers.append(await _first_answer(ws))
        assert all(a["type"] == "ack" or a["text"] in (NOTICE_BAD, NOTICE_EMPTY, NOTICE_TOO_LONG) for a in answers)
        await ws.close()

    live.run(go())


def test_a_huge_frame_closes_the_socket_politely_and_the_page_can_reconnect(live: Live) -> None:
    async def go() -> None:
        assert live.http is not None
        FIGURES["websocket frames"] += 1
        ws = await live.http.ws_connect(f"{live.url}/ws?conversation=huge-0001")
        await ws.send_str(json.dumps({"type": "message", "id": "big", "text": "邻" * 40000}))  # > 64 KiB escaped
        msg = await ws.receive(timeout=10)
        assert msg.type in (aiohttp.WSMsgType.CLOSE, aiohttp.WSMsgType.CLOSED, aiohttp.WSMsgType.CLOSING)
        assert ws.close_code == aiohttp.WSCloseCode.MESSAGE_TOO_BIG
        again = await live.http.ws_connect(f"{live.url}/ws?conversation=huge-0001")
        await again.send_str(json.dumps({"type": "message", "id": "small", "text": "分几次说"}))
        assert (await _first_answer(again))["type"] == "ack"
        await again.close()

    live.run(go())


def test_replayed_client_ids_make_one_turn(live: Live) -> None:
    conversation = f"replay-{time.monotonic_ns()}"

    async def go() -> None:
        assert live.http is not None
        ws = await live.http.ws_connect(f"{live.url}/ws?conversation={conversation}")
        for _ in range(5):
            FIGURES["replayed ids"] += 1
            await ws.send_str(json.dumps({"type": "message", "id": "same", "text": "同一条消息"}))
            assert (await _first_answer(ws))["type"] == "ack"
        await ws.close()

    live.run(go())
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline and not [r for r in live.received if r["sender"] == f"web:{conversation}"]:
        time.sleep(0.2)
    time.sleep(1)
    assert [r["message"] for r in live.received if r["sender"] == f"web:{conversation}"] == ["同一条消息"]


_update_id = st.integers(min_value=1, max_value=2**31)
_chat = st.fixed_dictionaries({"id": st.integers(min_value=-10**12, max_value=10**12),
                               "type": st.sampled_from(["private", "group", "channel", "supergroup", "x"])})
_tg_message = st.fixed_dictionaries(
    {"message_id": st.integers(min_value=0, max_value=10**6), "date": st.integers(min_value=0, max_value=2**31),
     "chat": _chat},
    optional={"text": _chat_text, "from": st.fixed_dictionaries({"id": st.integers(1, 10**10), "is_bot": st.booleans(),
                                                                 "first_name": st.text(max_size=10)}),
              "entities": st.lists(st.fixed_dictionaries({"type": st.sampled_from(["bot_command", "url", "bold"]),
                                                         "offset": st.integers(-5, 50), "length": st.integers(-5, 50)}),
                                   max_size=3),
              "photo": st.lists(st.fixed_dictionaries({"file_id": st.text(max_size=10),
                                                       "file_unique_id": st.text(max_size=10),
                                                       "width": st.integers(0, 5000), "height": st.integers(0, 5000)}),
                                max_size=2),
              "caption": st.text(max_size=50)})
_update = st.one_of(
    st.fixed_dictionaries({"update_id": _update_id, "message": _tg_message}),
    st.fixed_dictionaries({"update_id": _update_id, "callback_query": st.fixed_dictionaries(
        {"id": st.text(max_size=12), "chat_instance": st.text(max_size=5),
         "from": st.fixed_dictionaries({"id": st.integers(1, 10**10), "is_bot": st.just(False),
                                        "first_name": st.just("x")})},
        optional={"data": st.one_of(st.text(max_size=20), st.from_regex(r"\Ab:\d{1,6}:\d{1,2}\Z")),
                  "message": _tg_message})}),
    st.dictionaries(st.text(max_size=10), st.integers() | st.text(max_size=10) | st.none(), max_size=4),
    st.fixed_dictionaries({"update_id": st.one_of(st.text(max_size=5), st.booleans(), st.none(), st.floats())}),
)


@settings(max_examples=80, deadline=None, suppress_health_check=list(HealthCheck))
@given(update=_update, body_kind=st.sampled_from(["json", "json", "json", "garbage", "array"]),
       secret=st.sampled_from([SECRET, SECRET, SECRET, "", "wrong"]))
def test_telegram_updates_malformed_or_forged_get_a_4xx_or_are_ignored(live: Live, update: dict[str, Any],
                                                                       body_kind: str, secret: str) -> None:
    body = {"json": json.dumps(update), "garbage": "{not json", "array": json.dumps([update])}[body_kind]

    async def go() -> int:
        assert live.http is not None
        r = await live.http.post(f"{live.url}/telegram/webhook", data=body.encode("utf-8", "surrogatepass"),
                                 headers={"X-Telegram-Bot-Api-Secret-Token": secret,
                                          "Content-Type": "application/json"})
        text = await r.text()
        FIGURES[f"telegram status {r.status}"] += 1
        assert r.status < 500, (r.status, text)
        assert r.status == 200 or text, "a 4xx says why"
        return r.status

    FIGURES["telegram updates"] += 1
    status = live.run(go())
    if secret != SECRET:
        assert status == 401


CONSOLE_GETS = ["/console/", "/console/audit", "/console/alerts", "/console/alerts.json", "/console/reception",
                "/console/centre", "/console/centre/board.json", "/console/centre/cases", "/console/centre/supervisions",
                "/console/centre/admission", "/console/cases/{case}", "/chat/cases", "/embed"]
CONSOLE_POSTS = ["/console/cases/{case}/notes", "/console/cases/{case}/contacts", "/console/cases/{case}/mediations",
                 "/console/cases/{case}/agreements", "/console/cases/{case}/action", "/console/cases/{case}/reveal",
                 "/console/centre/supervisions", "/console/reception/days", "/console/cases/{case}/reply",
                 "/console/alerts/1/ack", "/console/centre/alerts/1/assess"]
_field = st.sampled_from(["status", "region", "metric", "page", "q", "body", "party", "method", "summary", "action",
                          "reason", "held_on", "place", "result", "parties", "number", "target", "deadline", "date",
                          "capacity", "division", "sort", "division_code", "case_number", "text", "after", "conversation"])
_value = st.one_of(st.text(max_size=40), st.sampled_from(["-1", "0", "99999999999999999999", "2026-02-30", "NaN",
                                                          "../../etc/passwd", "' OR 1=1 --", "<b>x</b>", "\x00"]))


@settings(max_examples=100, deadline=None, suppress_health_check=list(HealthCheck))
@given(user=st.sampled_from(["med.a", "dir.a"]), get=st.booleans(), path=st.integers(0, 100),
       fields=st.dictionaries(_field, _value, max_size=6), csrf=st.booleans())
def test_console_query_strings_and_forms_get_a_4xx_with_a_reason_never_a_5xx(
        live: Live, user: str, get: bool, path: int, fields: dict[str, str], csrf: bool) -> None:
    routes = CONSOLE_GETS if get else CONSOLE_POSTS
    url = routes[path % len(routes)].format(case=live.case_number)
    clean = {k: v.replace("\x00", "") if "\x00" in v and not get else v for k, v in fields.items()}

    async def go() -> None:
        s = live.console[user]
        if get:
            r = await s.get(url, params=clean, allow_redirects=False)
        else:
            page = await s.get("/console/")
            token = CSRF_FIELD.search(await page.text())
            data = {**clean, **({"csrf_token": token.group(1)} if csrf and token else {})}
            r = await s.post(url, data=data, allow_redirects=False)
        text = await r.text()
        FIGURES[f"console status {r.status}"] += 1
        assert r.status < 500, (url, clean, r.status, text[:300])
        if 400 <= r.status < 500:
            assert text.strip(), "a 4xx says why"

    FIGURES["console get" if get else "console form"] += 1
    live.run(go())


def test_a_lone_surrogate_escaped_in_json_gets_a_polite_answer(live: Live) -> None:
    async def go() -> list[dict[str, Any]]:
        assert live.http is not None
        ws = await live.http.ws_connect(f"{live.url}/ws?conversation=surrogate-01")
        answers = []
        for i, text in enumerate(["\ud800", "我\udfff们", "\ud83d\ude00"]):  # the last is a valid pair (😀)
            FIGURES["chat text"] += 1
            await ws.send_str(json.dumps({"type": "message", "id": f"s{i}", "text": text}))  # ASCII escapes
            answers.append(await _first_answer(ws))
        await ws.close()
        return answers

    lone, mixed, pair = live.run(go())
    assert lone["type"] == "ack" or lone["text"] == NOTICE_BAD
    assert mixed["type"] == "ack" or mixed["text"] == NOTICE_BAD
    assert pair["type"] == "ack"


def test_nothing_is_stuck_and_no_typed_payload_reached_rasa_as_one(live: Live) -> None:
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline and _pending(live.db_url):
        time.sleep(0.5)
    assert _pending(live.db_url) == 0, "messages stuck in the inbox"
    payloads = {r["message"] for r in live.received if r["message"].startswith("/")}
    assert payloads <= {CONSENT}, payloads
    typed = [r["message"] for r in live.received if r["message"].startswith("／")]
    assert typed, "the typed /intent{...} examples reached Rasa as words"
