"""One REST turn against Rasa: send a citizen's message, get the bot's replies."""

from __future__ import annotations

import hashlib
import logging
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import quote

from aiohttp import ClientConnectorError, ClientError, ClientSession, ClientTimeout

from gateway import payloads
from routing.persistence.messaging_tables import InboxMessage
from routing.understanding.text import mask_pii

log = logging.getLogger("fengqiao.inbox")

TURN_TIMEOUT = ClientTimeout(total=60)


class RasaUnavailable(RuntimeError):
    """Rasa did not answer the turn (down, restarting or erroring)."""


@dataclass(frozen=True)
class BotReply:
    """One bot message: text and optional buttons."""

    text: str
    buttons: list[dict[str, str]] = field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        """Return the JSON form sent to clients."""
        return {"text": self.text, "buttons": self.buttons}


def _parse(items: list[dict[str, Any]]) -> list[BotReply]:
    replies = []
    for item in items:
        text = str(item.get("text") or "")
        buttons = [
            {"title": str(b.get("title", "")), "payload": str(b.get("payload", ""))}
            for b in item.get("buttons") or []
        ]
        if text or buttons:
            replies.append(BotReply(text, buttons))
    return replies


async def send_turn(
    http: ClientSession, rasa_url: str, sender: str, text: str, metadata: dict[str, Any] | None = None
) -> list[BotReply]:
    """Send one message to Rasa's REST channel and return its replies.

    Args:
        http: a shared client session.
        rasa_url: base URL of the Rasa server.
        sender: conversation id (``web:<uuid>``, ``tg:<chat id>``).
        text: the message as the citizen wrote it (Rasa normalises it for NLU).
        metadata: passed through to the tracker.

    Raises:
        RasaUnavailable: Rasa is down or answered with an error.
    """
    body = {"sender": sender, "message": text, "metadata": metadata or {}}
    try:
        async with http.post(
            f"{rasa_url}/webhooks/rest/webhook", json=body, timeout=TURN_TIMEOUT
        ) as response:
            if response.status != 200:
                raise RasaUnavailable(f"Rasa answered HTTP {response.status}")
            return _parse(await response.json())
    except (TimeoutError, ClientError, ValueError) as exc:
        raise RasaUnavailable(type(exc).__name__) from exc


# ---------------------------------------------------------------------------------------------
# The gateway's turn: one conversation, one Rasa process (of several), the action server checked.

HEALTH_TTL = 0.5
DOWN_FOR = 5.0  # a Rasa process that refused a connection is tried last for this long


@dataclass(frozen=True)
class Backend:
    """One Rasa process and the health URL of the action server it calls."""

    rasa_url: str
    action_health_url: str = ""


def backends_for(conversation_id: str, backends: list[Backend]) -> list[Backend]:
    """Order the Rasa processes for a conversation: the same first choice every time
    (rendezvous hashing, so adding a process moves only its share), then the fail-overs."""
    def weight(backend: Backend) -> bytes:
        return hashlib.blake2b(f"{backend.rasa_url}|{conversation_id}".encode(), digest_size=8).digest()

    return sorted(backends, key=weight, reverse=True)


def _reached(exc: RasaUnavailable) -> bool:
    """Tell whether a failed turn may have reached Rasa (a refused connection did not)."""
    return not isinstance(exc.__cause__, ClientConnectorError)


Turn = Callable[[InboxMessage, bool], Awaitable[list[BotReply] | None]]


def rasa_turn(http: Callable[[], ClientSession], rasa_url: str, action_health_url: str = "",
              api_token: str = "", backends: list[Backend] | None = None) -> Turn:
    """Return a `Turn` that sends the message to Rasa's REST channel.

    With `action_health_url`, the action server is probed first: a turn whose actions would
    fail is not sent (Rasa would record the message, lose the action's events and go on).
    With `api_token`, a message that was sent before (the worker marks it *dispatched* when
    it claims it; the gateway then crashed or the answer was lost) is looked up in Rasa's
    tracker first (by the ``message_key`` metadata) and, if Rasa has it, its replies are
    taken from the tracker instead of sending it a second time.

    With `backends` (several Rasa processes on one SQL tracker store and one Redis lock
    store), a conversation goes to its own process and, when that one is down or its action
    server is, to the next: the shared tracker store lets any process continue it, and the
    lock store keeps its turns one at a time. A turn that may have reached the failed process
    is first looked up in the tracker (with `api_token`), so it is not run twice.
    """
    pool = backends or [Backend(rasa_url, action_health_url)]
    healthy_until: dict[str, float] = {}  # a probe that succeeded vouches for HEALTH_TTL seconds
    down_until: dict[str, float] = {}

    async def healthy(session: ClientSession, backend: Backend) -> bool:
        url = backend.action_health_url
        if not url or time.monotonic() < healthy_until.get(url, 0.0):
            return True
        try:
            async with session.get(url, timeout=ClientTimeout(total=3)) as response:
                if response.status != 200:
                    return False
        except (TimeoutError, ClientError, OSError):
            return False
        healthy_until[url] = time.monotonic() + HEALTH_TTL
        return True

    async def one(session: ClientSession, backend: Backend, row: InboxMessage, sent: bool) -> list[BotReply]:
        if api_token and sent:
            known = await replies_in_tracker(session, backend.rasa_url, api_token, row.conversation_id,
                                             row.external_key)
            if known is not None:
                log.info("turn %s was already in Rasa's tracker: replies recovered", row.id)
                return known
        payload = row.payload or {}
        text = row.text
        metadata: dict[str, Any] = {"channel": row.channel, "message_key": row.external_key}
        if payload.get("release"):  # held during a crisis: only the grievance goes on
            text = payload.get("grievance") or row.text
            metadata["crisis_handled"] = True
        if payload.get("typed_payload"):  # a payload the citizen typed, not one a button offered
            text = payloads.as_words(text)
        return await send_turn(session, backend.rasa_url, row.conversation_id, text, metadata)

    async def turn(row: InboxMessage, already_sent: bool) -> list[BotReply] | None:
        session = http()
        now = time.monotonic()
        order = backends_for(row.conversation_id, pool) if len(pool) > 1 else pool
        order = sorted(order, key=lambda b: down_until.get(b.rasa_url, 0.0) > now)  # stable: live first
        sent = already_sent
        for backend in order:
            if not await healthy(session, backend):
                continue
            try:
                return await one(session, backend, row, sent)
            except RasaUnavailable as exc:
                log.warning("rasa turn failed for %s at %s: %s", mask_pii(row.conversation_id)[:16],
                            backend.rasa_url, exc)
                if _reached(exc):
                    sent = True
                else:
                    down_until[backend.rasa_url] = time.monotonic() + DOWN_FOR
        return None

    return turn
async def replies_in_tracker(http: ClientSession, rasa_url: str, token: str, sender: str,
                             message_key: str) -> list[BotReply] | None:
    """Return the bot replies Rasa gave to a message, or None when Rasa never got it.

    Raises:
        RasaUnavailable: the tracker could not be read.
    """
    url = f"{rasa_url}/conversations/{quote(sender, safe='')}/tracker"
    try:
        async with http.get(url, params={"include_events": "ALL", "token": token},
                            timeout=ClientTimeout(total=30)) as response:
            if response.status in (401, 403, 404):  # API off or another token: cannot tell
                log.warning("Rasa's tracker API answered %s: resending (at least once)", response.status)
                return None
            if response.status != 200:
                raise RasaUnavailable(f"tracker: HTTP {response.status}")
            events = (await response.json()).get("events") or []
    except (TimeoutError, ClientError, ValueError) as exc:
        raise RasaUnavailable(type(exc).__name__) from exc
    start = None
    for index, event in enumerate(events):
        if event.get("event") == "user" and (event.get("metadata") or {}).get("message_key") == message_key:
            start = index
    if start is None:
        return None
    replies = []
    for event in events[start + 1:]:
        if event.get("event") == "user":
            break
        if event.get("event") == "bot":
            data = event.get("data") or {}
            buttons = [{"title": str(b.get("title", "")), "payload": str(b.get("payload", ""))}
                       for b in data.get("buttons") or []]
            if event.get("text") or buttons:
                replies.append(BotReply(str(event.get("text") or ""), buttons))
    return replies
