"""Web chat: a WebSocket per browser tab, backed by the durable inbox and the outbox.

Protocol. In: ``{type: message, id, text}`` (``id`` is the client's message id, the inbox key)
and ``{type: hello, after}`` (replay every outbox message after that id, for a reconnecting
page). Out: ``ack`` (the message is stored), ``typing``, ``bot {id, reply_to, kind, text,
buttons}`` (``id`` is the outbox id; a page keeps the largest it saw) and ``error``.
"""

from __future__ import annotations

import asyncio
import json
import logging
import re

from aiohttp import WSMsgType, web

from gateway.inbox import Inbound, Messaging
from gateway.keys import MESSAGING, SETTINGS
from gateway.outbox import WebClient, describe, web_message
from routing.understanding.text import strip_invisible

log = logging.getLogger("fengqiao.web")

MAX_TEXT = 2000
_CONVERSATION_ID = re.compile(r"^[A-Za-z0-9-]{8,64}$")
_CLIENT_ID = re.compile(r"^[A-Za-z0-9_-]{1,64}$")
NOTICE_UNAVAILABLE = "您的消息已收到，但系统暂时繁忙，未能保存。请稍后再发送一次，或拨打12345热线。"
NOTICE_TOO_LONG = f"消息太长了（最多{MAX_TEXT}字），请分几次发送。"
NOTICE_EMPTY = "消息是空的，请输入文字。"
NOTICE_BAD = "无法识别这条消息，请刷新页面后重试。"


def origin_allowed(request: web.Request) -> bool:
    """Accept same-origin browsers and configured origins; refuse foreign ones (CSWSH)."""
    origin = request.headers.get("Origin")
    if origin is None:
        return True  # not a browser (curl, tests, the terminal client)
    allowed = request.app[SETTINGS].allowed_origins
    same = origin in (f"http://{request.host}", f"https://{request.host}")
    return same or origin in allowed


async def websocket(request: web.Request) -> web.StreamResponse:
    """Serve one chat WebSocket."""
    if not origin_allowed(request):
        raise web.HTTPForbidden(text="origin not allowed")
    conversation_id = request.query.get("conversation", "")
    if not _CONVERSATION_ID.match(conversation_id):
        raise web.HTTPBadRequest(text="conversation must be 8-64 letters, digits or '-'")
    m: Messaging = request.app[MESSAGING]
    sender = f"web:{conversation_id}"
    try:
        last_id = await asyncio.to_thread(m.outbox.last_id, sender)
    except Exception as exc:  # the database restarts: the page reconnects (to this or another gateway)
        log.error("could not open a chat socket: %s", describe(exc))
        raise web.HTTPServiceUnavailable(text="database unavailable, try again") from None
    ws = web.WebSocketResponse(heartbeat=25, max_msg_size=64 * 1024)
    await ws.prepare(request)
    client = WebClient(ws, sender, last_id)
    m.hub.add(client)
    try:
        async for msg in ws:
            if msg.type != WSMsgType.TEXT:
                continue
            try:
                await _handle(m, client, msg.data)
            except ConnectionError:  # the page went away while we answered; it replays on return
                break
    finally:
        m.hub.remove(client)
    return ws


def _parse(raw: str) -> tuple[str, str] | int | str:
    try:
        data = json.loads(raw)
    except ValueError:
        return NOTICE_BAD
    if not isinstance(data, dict):
        return NOTICE_BAD
    if data.get("type") == "hello":
        after = data.get("after", 0)
        if not isinstance(after, int) or isinstance(after, bool) or after < 0:
            return NOTICE_BAD
        return after
    if data.get("type") != "message":
        return NOTICE_BAD
    client_id, text = data.get("id"), data.get("text")
    if not isinstance(client_id, str) or not _CLIENT_ID.match(client_id) or not isinstance(text, str):
        return NOTICE_BAD
    text = strip_invisible(text)  # kept as written: it is the citizen's evidence
    if not text:
        return NOTICE_EMPTY
    if len(text) > MAX_TEXT:
        return NOTICE_TOO_LONG
    return client_id, text


async def _handle(m: Messaging, client: WebClient, raw: str) -> None:
    ws = client.ws
    parsed = _parse(raw)
    if isinstance(parsed, str):
        await ws.send_json({"type": "error", "text": parsed})
        return
    if isinstance(parsed, int):  # hello: replay what the page has not seen
        async with client.lock:
            client.last_id = min(client.last_id, parsed)
        await m.hub.flush_client(client)
        return
    client_id, text = parsed
    message = Inbound("web", f"{client.conversation_id}:{client_id}", client.conversation_id, text)
    try:
        _, created = await asyncio.to_thread(m.inbox.store, message)
    except Exception as exc:
        log.error("could not store a web message: %s", describe(exc))
        await ws.send_json({"type": "error", "text": NOTICE_UNAVAILABLE})
        return
    await ws.send_json({"type": "ack", "id": client_id})
    if created:
        await ws.send_json({"type": "typing"})
        if m.worker is not None:
            m.worker.kick(client.conversation_id)
        return
    # A resent id (reconnect): answer with what is stored, never a second turn.
    replies = await asyncio.to_thread(m.outbox.replies_to, client.conversation_id, message.external_key)
    for row in replies:
        if row.id <= client.last_id:
            await ws.send_json(web_message(row))
