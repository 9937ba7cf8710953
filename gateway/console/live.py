"""Live takeover: watch a citizen's conversation, take it over, reply, hand it back.

Uses the handoff relay (:mod:`gateway.relay`) of the gateway app: while a worker owns the
conversation the bot is silent, and replies reach the citizen on their own channel.
"""

from __future__ import annotations

import asyncio
import json
import re
from typing import Any

from aiohttp import WSMsgType, web
from sqlalchemy.orm import Session

from gateway import relay
from gateway.console import db
from gateway.console.accounts import casework as cw
from gateway.console.accounts.access import may_work
from gateway.console.accounts.store import audit
from gateway.console.keys import CONSOLE_SETTINGS, MAIN_APP
from gateway.console.security import active
from gateway.console.views import denied, ip_of
from gateway.keys import MESSAGING
from routing.understanding.text import mask_pii

MAX_REPLY = 2000
# Control and invisible characters are dropped from replies; no NFKC, which would turn the
# worker's full-width Chinese punctuation into ASCII.
_STRIP = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f\u200b-\u200f\u202a-\u202e\u2060-\u2064\u2066-\u2069\ufeff]")
NOTICE_OFF = "实时对话服务未启用。"


def origin_ok(request: web.Request) -> bool:
    """A console WebSocket must come from this site (browsers always send Origin)."""
    origin = request.headers.get("Origin")
    if origin is None:
        return False
    own = (f"http://{request.host}", f"https://{request.host}")
    return origin in own or origin in request.app[CONSOLE_SETTINGS].allowed_origins


def _main(request: web.Request) -> web.Application | None:
    main = request.app.get(MAIN_APP)
    if main is None or MESSAGING not in main:
        return None
    return main


async def _case(request: web.Request, need_work: bool) -> tuple[str, str]:
    """Return (case number, conversation id) of a visible case, or raise 404/403.

    Under ``/alerts/{alert}/…`` the target is the conversation of a crisis alert (there may be
    no case yet): the label is ``alert:<id>``.
    """
    me = active(request).principal
    if "alert" in request.match_info:
        from gateway.console.alerts import conversation_of

        label, conversation_id = await conversation_of(request)
        if need_work and not me.can("takeover"):
            raise web.HTTPForbidden(text="无权接管此对话")
        return label, conversation_id
    number = request.match_info["number"]

    def work(s: Session) -> tuple[str, str, bool]:
        case = cw.load_case(s, me, number)
        return case.case_number, case.conversation_id, may_work(me, case) and me.can("takeover")

    try:
        case_number, conversation_id, can = await db.run(request, work)
    except cw.CaseHidden:
        await denied(request, me, number, "live")
        raise web.HTTPNotFound(text="案件不存在或无权查看") from None
    if need_work and not can:
        await denied(request, me, number, "takeover")
        raise web.HTTPForbidden(text="无权接管此对话")
    return case_number, conversation_id


def _number(label: str) -> str | None:
    """The case number of a live target (None for an alert's conversation)."""
    return None if label.startswith("alert:") else label


def _feed_item(event: dict[str, Any], me_id: str) -> dict[str, Any] | None:
    source = event.get("from")
    if source == "system":
        kind = event.get("event")
        agent = event.get("agent_id")
        if kind == "taken_over":
            return {"type": "owner", "owner": agent, "mine": agent == me_id}
        if kind == "handed_back":
            return {"type": "owner", "owner": None, "mine": False}
        if kind == "crisis":
            return {"type": "crisis", "alert_id": event.get("alert_id"), "kind": event.get("kind"),
                    "numbers": event.get("numbers") or []}
        return None
    text = event.get("text")
    if not isinstance(text, str) or not text:
        return None
    return {"type": "message", "from": source if source in ("citizen", "bot", "agent") else "system",
            "text": mask_pii(text) if source == "citizen" else text}


async def live_socket(request: web.Request) -> web.StreamResponse:
    """Watch a case's conversation live (the Origin must be this site)."""
    if not origin_ok(request):
        raise web.HTTPForbidden(text="origin not allowed")
    case_number, conversation_id = await _case(request, need_work=False)
    me = active(request).principal
    ws = web.WebSocketResponse(heartbeat=25, max_msg_size=4096)
    await ws.prepare(request)
    main = _main(request)
    if main is None:
        await ws.send_json({"type": "unavailable", "text": NOTICE_OFF})
        await ws.close()
        return ws
    await db.run(request, lambda s: audit(s, me.user_id, me.username, "watch", {"target": case_number},
                                          case_number=_number(case_number), ip=ip_of(request)))
    feed = relay.subscribe(main, conversation_id)
    try:
        current = await asyncio.to_thread(relay.owner, main, conversation_id)
        await ws.send_json({"type": "owner", "owner": current, "mine": current == me.person_id})
        reader = asyncio.create_task(_drain(ws))
        while not ws.closed:
            getter = asyncio.create_task(feed.get())
            done, _ = await asyncio.wait({getter, reader}, return_when=asyncio.FIRST_COMPLETED)
            if getter not in done:
                getter.cancel()
                break
            item = _feed_item(getter.result(), me.person_id)
            if item is not None:
                await ws.send_json(item)
        reader.cancel()
    finally:
        relay.unsubscribe(main, conversation_id, feed)
    return ws


async def _drain(ws: web.WebSocketResponse) -> None:
    """Read (and ignore) what the browser sends until it closes the socket."""
    async for msg in ws:
        if msg.type in (WSMsgType.ERROR, WSMsgType.CLOSE):
            break


async def _relay_call(request: web.Request, action: str, text: str | None = None) -> web.Response:
    me = active(request).principal
    case_number, conversation_id = await _case(request, need_work=True)
    main = _main(request)
    if main is None:
        return web.json_response({"ok": False, "error": NOTICE_OFF}, status=503)
    try:
        if action == "takeover":
            await relay.take_over(main, conversation_id, me.person_id)
        elif action == "handback":
            await relay.hand_back(main, conversation_id, me.person_id)
        else:
            await relay.send_from_agent(main, conversation_id, me.person_id, text or "")
    except relay.AlreadyOwned:
        return web.json_response({"ok": False, "error": "对话已由其他工作人员接管。"}, status=409)
    except relay.NotOwner:
        return web.json_response({"ok": False, "error": "请先接管对话。"}, status=409)
    detail = {"conversation": mask_pii(conversation_id)[:40]}
    if text is not None:
        detail["length"] = str(len(text))
    detail["target"] = case_number
    await db.run(request, lambda s: audit(s, me.user_id, me.username, action, detail,
                                          case_number=_number(case_number), ip=ip_of(request)))
    return web.json_response({"ok": True})


async def takeover_post(request: web.Request) -> web.Response:
    """Take the conversation over: the bot falls silent."""
    return await _relay_call(request, "takeover")


async def handback_post(request: web.Request) -> web.Response:
    """Give the conversation back to the bot."""
    return await _relay_call(request, "handback")


async def reply_post(request: web.Request) -> web.Response:
    """Send the worker's reply to the citizen on their channel."""
    try:
        body = await request.json()
    except (ValueError, json.JSONDecodeError):
        return web.json_response({"ok": False, "error": "格式错误"}, status=400)
    text = _STRIP.sub("", str(body.get("text", ""))).strip() if isinstance(body, dict) else ""
    if not text or len(text) > MAX_REPLY:
        return web.json_response({"ok": False, "error": f"回复须为1至{MAX_REPLY}字"}, status=400)
    return await _relay_call(request, "reply", text)


def setup(app: web.Application) -> None:
    """Attach the live-takeover routes."""
    app.router.add_get("/cases/{number}/live", live_socket, name="console.live")
    app.router.add_post("/cases/{number}/takeover", takeover_post, name="console.takeover")
    app.router.add_post("/cases/{number}/handback", handback_post, name="console.handback")
    app.router.add_post("/cases/{number}/reply", reply_post, name="console.reply")
    app.router.add_get("/alerts/{alert}/live", live_socket, name="console.alert_live")
    app.router.add_post("/alerts/{alert}/takeover", takeover_post, name="console.alert_takeover")
    app.router.add_post("/alerts/{alert}/handback", handback_post, name="console.alert_handback")
    app.router.add_post("/alerts/{alert}/reply", reply_post, name="console.alert_reply")

