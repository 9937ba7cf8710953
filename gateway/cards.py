"""Case cards for the web chat, and the embeddable page the widget frames.

The chat page shows a card (number, status, handling body, due date) under a bot message that
names one of the conversation's cases. The conversation id is the page's own random secret, so
a card lists only cases filed from that conversation.
"""

from __future__ import annotations

import asyncio
import re
from typing import Any

from aiohttp import web

from gateway.keys import MESSAGING, SETTINGS

_CONVERSATION_ID = re.compile(r"^[A-Za-z0-9-]{8,64}$")
STATIC_CHAT = "chat.html"


def _cards(sessions, conversation_id: str) -> list[dict[str, Any]]:  # type: ignore[no-untyped-def]
    from sqlalchemy import select

    from routing.cases.service import STATUS_LABELS
    from routing.persistence.case_tables import Case

    with sessions() as session:
        rows = session.execute(
            select(Case).where(Case.channel == "web", Case.channel_user_id == f"web:{conversation_id}")
            .order_by(Case.id.desc()).limit(20)
        ).scalars()
        return [
            {
                "case_number": c.case_number,
                "status": STATUS_LABELS.get(c.status, c.status),
                "handling_body": c.handling_body or "待分派",
                "tier": c.tier or "",
                "due_date": c.due_date.isoformat() if c.due_date else "",
                "category": c.category or "",
            }
            for c in rows
        ]


async def conversation_cases(request: web.Request) -> web.Response:
    """Return the cases of one web conversation as cards (`GET /chat/cases?conversation=…`)."""
    conversation_id = request.query.get("conversation", "")
    if not _CONVERSATION_ID.match(conversation_id):
        raise web.HTTPBadRequest(text="conversation must be 8-64 letters, digits or '-'")
    sessions = request.app[MESSAGING].sessions
    cards = await asyncio.to_thread(_cards, sessions, conversation_id)
    return web.json_response({"cases": cards}, headers={"Cache-Control": "no-store"})


async def embed(request: web.Request) -> web.FileResponse:
    """Serve the chat page for the widget's frame, frameable only by allowed origins."""
    from gateway.app import STATIC

    ancestors = " ".join(["'self'", *request.app[SETTINGS].allowed_origins])
    response = web.FileResponse(STATIC / STATIC_CHAT)
    response.headers["Content-Security-Policy"] = (
        "default-src 'self'; connect-src 'self' ws: wss:; img-src 'self' data:; style-src 'self'; "
        f"script-src 'self'; frame-ancestors {ancestors}"
    )
    return response
