"""Web chat: a WebSocket per browser tab, relayed turn by turn to Rasa's REST channel."""

from __future__ import annotations

import asyncio
import json
import logging
import re
from collections import OrderedDict
from dataclasses import dataclass, field
from typing import Any

from aiohttp import WSMsgType, web

from gateway.keys import CONVERSATIONS, HTTP, SETTINGS
from gateway.rasa_client import BotReply, RasaUnavailable, send_turn
from gateway.script import match_script
from routing.text import clean

log = logging.getLogger("fengqiao.web")

MAX_TEXT = 2000
_CONVERSATION_ID = re.compile(r"^[A-Za-z0-9-]{8,64}$")
_CLIENT_ID = re.compile(r"^[A-Za-z0-9_-]{1,64}$")
NOTICE_UNAVAILABLE = "您的消息已收到，但系统暂时繁忙，未能处理。请稍后再发送一次，或拨打12345热线。"
NOTICE_TOO_LONG = f"消息太长了（最多{MAX_TEXT}字），请分几次发送。"
NOTICE_EMPTY = "消息是空的，请输入文字。"
NOTICE_BAD = "无法识别这条消息，请刷新页面后重试。"


@dataclass
class Conversation:
    """Per-conversation state: one turn at a time, and the ids already answered."""

    lock: asyncio.Lock = field(default_factory=asyncio.Lock)
    answered: OrderedDict[str, list[dict[str, Any]]] = field(default_factory=OrderedDict)

    def remember(self, client_id: str, replies: list[dict[str, Any]]) -> None:
        """Keep the replies of a client message id (bounded) so a resend is not a new turn."""
        self.answered[client_id] = replies
        while len(self.answered) > 200:
            self.answered.popitem(last=False)


def origin_allowed(request: web.Request) -> bool:
    """Accept same-origin browsers and configured origins; refuse foreign ones (CSWSH)."""
    origin = request.headers.get("Origin")
    if origin is None:
        return True  # not a browser (curl, tests, the terminal client)
    allowed = request.app[SETTINGS].allowed_origins
    same = origin in (f"http://{request.host}", f"https://{request.host}")
    return same or origin in allowed


async def websocket(request: web.Request) -> web.StreamResponse:
    """Serve one chat WebSocket: `{type: message, id, text}` in, replies out."""
    if not origin_allowed(request):
        raise web.HTTPForbidden(text="origin not allowed")
    conversation_id = request.query.get("conversation", "")
    if not _CONVERSATION_ID.match(conversation_id):
        raise web.HTTPBadRequest(text="conversation must be 8-64 letters, digits or '-'")
    ws = web.WebSocketResponse(heartbeat=25, max_msg_size=64 * 1024)
    await ws.prepare(request)
    state = request.app[CONVERSATIONS].setdefault(conversation_id, Conversation())
    async for msg in ws:
        if msg.type != WSMsgType.TEXT:
            continue
        await _handle(ws, request, f"web:{conversation_id}", state, msg.data)
    return ws


def _parse(raw: str) -> tuple[str, str] | str:
    try:
        data = json.loads(raw)
    except ValueError:
        return NOTICE_BAD
    if not isinstance(data, dict) or data.get("type") != "message":
        return NOTICE_BAD
    client_id, text = data.get("id"), data.get("text")
    if not isinstance(client_id, str) or not _CLIENT_ID.match(client_id) or not isinstance(text, str):
        return NOTICE_BAD
    text = clean(text)
    if not text:
        return NOTICE_EMPTY
    if len(text) > MAX_TEXT:
        return NOTICE_TOO_LONG
    return client_id, text


async def _handle(ws: web.WebSocketResponse, request: web.Request, sender: str, state: Conversation, raw: str) -> None:
    parsed = _parse(raw)
    if isinstance(parsed, str):
        await ws.send_json({"type": "error", "text": parsed})
        return
    client_id, text = parsed
    await ws.send_json({"type": "ack", "id": client_id})
    async with state.lock:  # one turn at a time per conversation (R4)
        if client_id in state.answered:
            replies = state.answered[client_id]
        else:
            await ws.send_json({"type": "typing"})
            replies = await _turn(request, sender, text)
            if replies is not None:
                state.remember(client_id, replies)
    if replies is None:
        await ws.send_json({"type": "bot", "reply_to": client_id, "text": NOTICE_UNAVAILABLE, "buttons": []})
        return
    for reply in replies:
        await ws.send_json({"type": "bot", "reply_to": client_id, **reply})


async def _turn(request: web.Request, sender: str, text: str) -> list[dict[str, Any]] | None:
    settings = request.app[SETTINGS]
    try:
        replies = await send_turn(
            request.app[HTTP], settings.rasa_url, sender, text, {"channel": "web"}
        )
    except RasaUnavailable as exc:
        log.warning("rasa turn failed for %s: %s", sender[:12], exc)
        return None
    if not replies:
        # No reply means an action failed inside Rasa: never pretend it worked.
        replies = [BotReply(NOTICE_UNAVAILABLE)]
    return [match_script(text, r).to_dict() for r in replies]
