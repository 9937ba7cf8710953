"""Handoff relay: while a human owns a conversation the bot stays silent.

The console calls these functions with the gateway's `web.Application`. Ownership is a
column of `chat_conversations`, so it survives a restart; citizen messages are still stored
in the inbox (and marked ``relayed``), and every citizen, bot and agent message is put on the
conversation's live feeds (`subscribe`). Agent messages reach the citizen through the outbox,
on the channel the citizen used.
"""

from __future__ import annotations

import asyncio
from typing import Any

from aiohttp import web

from gateway.inbox import Messaging
from gateway.keys import MESSAGING
from gateway.outbox import Outgoing, channel_of, utcnow
from gateway.script import render
from routing.persistence.messaging_tables import ChatConversation

NOTICE_TAKEN = "人工坐席已接入，接下来由工作人员为您服务。"
NOTICE_BACK = "人工服务已结束，智能助手继续为您服务。如需办理其他事项，请直接告诉我。"
FEED_SIZE = 1000


class NotOwner(PermissionError):
    """The agent does not own the conversation."""


class AlreadyOwned(PermissionError):
    """Another agent owns the conversation."""


def _m(app: web.Application) -> Messaging:
    return app[MESSAGING]


def _set_owner(m: Messaging, conversation_id: str, agent_id: str | None, expect: str | None) -> str:
    """Change the owner atomically; return the script of the conversation."""
    with m.sessions.begin() as session:
        state = session.get(ChatConversation, conversation_id, with_for_update=True)
        if state is None:
            state = ChatConversation(conversation_id=conversation_id, channel=channel_of(conversation_id),
                                     script="simplified", updated_at=utcnow())
            session.add(state)
        if agent_id is not None and state.agent_id not in (None, agent_id):
            raise AlreadyOwned(conversation_id)
        if agent_id is None and state.agent_id != expect:
            raise NotOwner(conversation_id)
        state.agent_id = agent_id
        state.agent_since = utcnow() if agent_id else None
        state.updated_at = utcnow()
        return state.script


async def _say(m: Messaging, conversation_id: str, item: Outgoing) -> None:
    await asyncio.to_thread(m.outbox.enqueue, conversation_id, [item])
    await m.deliver([conversation_id])


async def take_over(app: web.Application, conversation_id: str, agent_id: str) -> None:
    """Give the conversation to a human agent: the bot stops answering.

    Raises:
        AlreadyOwned: another agent owns it.
    """
    m = _m(app)
    before = owner(app, conversation_id)
    script = await asyncio.to_thread(_set_owner, m, conversation_id, agent_id, None)
    m.publish(conversation_id, {"from": "system", "event": "taken_over", "agent_id": agent_id})
    if before != agent_id:
        await _say(m, conversation_id, Outgoing(render(NOTICE_TAKEN, script), kind="handoff"))


async def hand_back(app: web.Application, conversation_id: str, agent_id: str) -> None:
    """Return the conversation to the bot.

    Raises:
        NotOwner: `agent_id` does not own it.
    """
    m = _m(app)
    script = await asyncio.to_thread(_set_owner, m, conversation_id, None, agent_id)
    m.publish(conversation_id, {"from": "system", "event": "handed_back", "agent_id": agent_id})
    await _say(m, conversation_id, Outgoing(render(NOTICE_BACK, script), kind="handoff"))
    if m.worker is not None:
        m.worker.kick(conversation_id)


async def send_from_agent(app: web.Application, conversation_id: str, agent_id: str, text: str) -> None:
    """Deliver an agent's message to the citizen (outbox, the citizen's channel).

    Raises:
        NotOwner: `agent_id` does not own the conversation.
        ValueError: the text is empty.
    """
    if not text.strip():
        raise ValueError("empty message")
    if owner(app, conversation_id) != agent_id:
        raise NotOwner(conversation_id)
    m = _m(app)
    await _say(m, conversation_id, Outgoing(text, kind="agent"))
    m.publish(conversation_id, {"from": "agent", "agent_id": agent_id, "text": text})


def subscribe(app: web.Application, conversation_id: str) -> asyncio.Queue[dict[str, Any]]:
    """Return a live feed of the conversation's citizen, bot, agent and system messages."""
    queue: asyncio.Queue[dict[str, Any]] = asyncio.Queue(maxsize=FEED_SIZE)
    _m(app).subscribers.setdefault(conversation_id, set()).add(queue)
    return queue


def unsubscribe(app: web.Application, conversation_id: str, queue: asyncio.Queue[dict[str, Any]]) -> None:
    """Stop a live feed."""
    feeds = _m(app).subscribers.get(conversation_id)
    if feeds is not None:
        feeds.discard(queue)
        if not feeds:
            del _m(app).subscribers[conversation_id]


def owner(app: web.Application, conversation_id: str) -> str | None:
    """Return the agent who owns the conversation, or None when the bot does."""
    state = _m(app).inbox.conversation(conversation_id)
    return state.agent_id if state else None
