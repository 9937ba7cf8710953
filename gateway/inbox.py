"""Durable inbox: store first, acknowledge second, process in order, exactly once per key.

Every inbound message (web client message id, Telegram `update_id`) becomes a row under a
unique (channel, external_key) before the sender gets its acknowledgement (RELIABILITY R1).
A worker then takes each conversation's oldest pending row, runs the turn against Rasa and,
in one transaction, stores the replies in the outbox and marks the row done. When Rasa (or
the action server) is down the citizen is told once that the message was received, and the
row is retried with backoff until the service returns.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import Awaitable, Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import literal, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import sessionmaker

from gateway import payloads
from gateway.leases import Leases, inbox_lease
from gateway.outbox import (
    Outbox,
    Outgoing,
    _aware,
    add_outgoing,
    backoff,
    channel_of,
    describe,
    utcnow,
)
from gateway.rasa_client import BotReply, rasa_turn
from gateway.script import next_script, render, render_reply
from routing.persistence.messaging_tables import ChatConversation, InboxMessage, Lease
from routing.understanding.text import mask_pii

__all__ = ["Inbox", "InboxWorker", "Messaging", "rasa_turn"]  # rasa_turn: re-exported for the app

log = logging.getLogger("fengqiao.inbox")

NOTICE_RECEIVED = "您的消息已收到。系统正在恢复，恢复后会按顺序处理并回复您，请不要重复发送。"
NOTICE_UNSUPPORTED = "抱歉，目前只能处理文字消息。请用文字描述您的问题；照片或文件可以直接发送，会作为材料附在您的诉求上。"
NOTICE_MATERIAL_SAVED = "材料已收到，已附在您的诉求 {case_number} 上，承办人员会一并查看。"
NOTICE_MATERIAL_NO_CASE = "材料已收到。您还没有正在办理的诉求，请先用文字说明情况，登记后材料会一并提交。"
NOTICE_EMPTY_REPLY = "您的消息已收到，但系统这次未能完成处理。请稍后再发送一次，或拨打12345热线。"


@dataclass(frozen=True)
class Inbound:
    """A message to store."""

    channel: str
    external_key: str
    conversation_id: str
    text: str
    kind: str = "text"
    payload: dict[str, Any] = field(default_factory=dict)


class Inbox:
    """Database operations on the inbox (synchronous; call them through `asyncio.to_thread`)."""

    def __init__(self, sessions: sessionmaker, screen: Screen | None = None) -> None:
        """Bind to the case database's session factory.

        Args:
            sessions: the case database's session factory.
            screen: the danger pre-check, run on every stored message inside the storing
                transaction (gateway.crisis.CrisisScreen).
        """
        self.sessions = sessions
        self.screen = screen
        self.urgent: dict[str, Any] = {}  # conversation id → what the pre-check did (read by kick)

    def store(self, message: Inbound) -> tuple[int, bool]:
        """Store a message under its unique key.

        Returns:
            The row id and whether this call created it (False: a duplicate delivery).
        """
        try:
            with self.sessions.begin() as session:
                payload = message.payload
                if message.kind == "text" and payloads.typed(session, message.conversation_id, message.text):
                    payload = {**payload, "typed_payload": True}  # gateway.payloads: never a payload
                row = InboxMessage(
                    channel=message.channel, external_key=message.external_key,
                    conversation_id=message.conversation_id, kind=message.kind, text=message.text,
                    payload=payload, status="pending", attempts=0, delay_notified=False,
                )
                session.add(row)
                state = self._remember_script(session, message)
                session.flush()
                if self.screen is not None:
                    screened = self.screen(session, row, state)
                    if screened is not None:
                        self.urgent[message.conversation_id] = screened
                return row.id, True
        except IntegrityError:
            with self.sessions() as session:
                found = session.execute(
                    select(InboxMessage.id).where(
                        InboxMessage.channel == message.channel,
                        InboxMessage.external_key == message.external_key,
                    )
                ).scalar_one()
                return found, False

    @staticmethod
    def _remember_script(session, message: Inbound) -> ChatConversation:  # type: ignore[no-untyped-def]
        state = session.get(ChatConversation, message.conversation_id)
        if state is None:
            state = ChatConversation(conversation_id=message.conversation_id, channel=message.channel,
                                     script="simplified", updated_at=utcnow())
            session.add(state)
        if message.kind == "text" and message.text and not message.text.startswith("/"):
            state.script = next_script(state.script or "simplified", message.text)
            state.updated_at = utcnow()
        return state

    def pending_conversations(self, leases: Leases | None = None) -> list[str]:
        """Return every conversation with a pending message (for recovery after a restart).

        With `leases`, only those no live process holds (free, or their holder died).
        """
        with self.sessions() as session:
            query = select(InboxMessage.conversation_id).where(InboxMessage.status == "pending")
            if leases is not None:
                query = query.outerjoin(Lease, Lease.name == literal("inbox:") + InboxMessage.conversation_id) \
                    .where(leases.expired_or_free(session))
            return list(session.execute(query.distinct()).scalars())

    def has_pending(self, conversation_id: str) -> bool:
        """Tell whether the conversation has a pending message."""
        with self.sessions() as session:
            return session.execute(
                select(InboxMessage.id).where(InboxMessage.conversation_id == conversation_id,
                                              InboxMessage.status == "pending").limit(1)
            ).first() is not None

    def next_pending(self, conversation_id: str) -> InboxMessage | None:
        """Return the conversation's oldest pending message."""
        with self.sessions() as session:
            return session.execute(
                select(InboxMessage)
                .where(InboxMessage.conversation_id == conversation_id, InboxMessage.status == "pending")
                .order_by(InboxMessage.id)
                .limit(1)
            ).scalar()

    def claim(self, conversation_id: str, leases: Leases | None = None) -> Claimed | None:
        """Take the conversation's oldest pending message (one transaction, one round trip).

        When it is due and the bot would send it to Rasa, it is marked *dispatched* before
        the request goes out; `Claimed.already_sent` tells whether an earlier attempt was.

        Raises:
            LeaseLost: with `leases`, this process no longer holds the conversation's lease
                (another gateway took it over): it must not start the turn.
        """
        with self.sessions.begin() as session:
            if leases is not None and not leases.holds(session, inbox_lease(conversation_id)):
                raise LeaseLost(conversation_id)
            row = session.execute(
                select(InboxMessage)
                .where(InboxMessage.conversation_id == conversation_id, InboxMessage.status == "pending")
                .order_by(InboxMessage.id)
                .limit(1)
            ).scalar()
            if row is None:
                return None
            state = session.get(ChatConversation, conversation_id)
            agent = state.agent_id if state else None
            claimed = Claimed(row, state.script if state else "simplified", agent, bool(row.dispatched),
                              state.crisis_since if state else None)
            next_at = _aware(row.next_attempt_at)
            held = claimed.crisis_since is not None and not (row.payload or {}).get("release")
            if (next_at is None or next_at <= utcnow()) and agent is None and row.kind in TURN_KINDS \
                    and not held:
                row.dispatched = True
            return claimed

    def conversation(self, conversation_id: str) -> ChatConversation | None:
        """Return the conversation's state row."""
        with self.sessions() as session:
            return session.get(ChatConversation, conversation_id)

    def complete(self, row_id: int, status: str, replies: list[Outgoing]) -> list[int]:
        """Store the replies and close the message in one transaction (exactly once).

        Returns:
            The new outbox ids (empty if the message was already closed).
        """
        with self.sessions.begin() as session:
            row = session.get(InboxMessage, row_id, with_for_update=True)
            if row is None or row.status != "pending":
                return []
            row.status = status
            row.processed_at = utcnow()
            return add_outgoing(session, row.conversation_id, replies)

    def hold(self, row_id: int, replies: list[Outgoing]) -> list[int]:
        """Keep a message during a crisis (status ``held``: not sent to the dialogue, not lost)."""
        return self.complete(row_id, "held", replies)

    def resume(self, row_id: int) -> list[int]:
        """End the conversation's crisis: the person is safe or asks to go on.

        In one transaction: the crisis state is cleared, every held message is put back in the
        queue marked ``release`` (its grievance goes on to the dialogue, in order), and this
        message is answered. When nothing worth sending on was held, the bot's last question
        before the crisis is asked again, so the citizen knows where they were.
        """
        from gateway.crisis import MIN_GRIEVANCE, last_question, texts

        with self.sessions.begin() as session:
            row = session.get(InboxMessage, row_id, with_for_update=True)
            if row is None or row.status != "pending":
                return []
            state = session.get(ChatConversation, row.conversation_id, with_for_update=True)
            since = state.crisis_since if state else None
            held = list(session.execute(
                select(InboxMessage).where(InboxMessage.conversation_id == row.conversation_id,
                                           InboxMessage.status == "held").order_by(InboxMessage.id)
            ).scalars())
            forward = 0
            for item in held:
                payload = dict(item.payload or {})
                text = payload.get("grievance", item.text) if "danger" in payload else item.text
                payload["release"] = True
                payload["grievance"] = text if len(text or "") >= MIN_GRIEVANCE else ""
                forward += bool(payload["grievance"])
                item.payload = payload
                item.status = "pending"
                item.dispatched = False
            script = state.script if state else "simplified"
            if state is not None:
                state.crisis_since = None
                state.crisis_alert_id = None
            replies = texts()["replies"]
            items = [Outgoing(render(replies["resume" if forward else "resume_nothing_held"], script),
                              reply_to=row.external_key, kind="notice")]
            question = None if forward else last_question(session, row.conversation_id, since)
            if question is not None:
                items.append(question)
            row.status = "done"
            row.processed_at = utcnow()
            return add_outgoing(session, row.conversation_id, items)

    def postpone(self, row_id: int, delay: float, notice: Outgoing | None) -> list[int]:
        """Count a failed attempt, schedule the next one and maybe tell the citizen once."""
        with self.sessions.begin() as session:
            row = session.get(InboxMessage, row_id, with_for_update=True)
            if row is None:
                return []
            row.attempts += 1
            row.next_attempt_at = utcnow() + timedelta(seconds=delay)
            if notice is None or row.delay_notified:
                return []
            row.delay_notified = True
            return add_outgoing(session, row.conversation_id, [notice])


TURN_KINDS = ("text", "command", "callback")
SLOW_TURN = 15.0  # seconds: a turn this slow is logged (Rasa overloaded, a backend hanging)


class LeaseLost(RuntimeError):
    """Another process holds the conversation's lease now."""


@dataclass(frozen=True)
class Claimed:
    """A pending message taken by the worker, with its conversation's state."""

    row: InboxMessage
    script: str
    agent: str | None
    already_sent: bool
    crisis_since: datetime | None = None


Turn = Callable[[InboxMessage, bool], Awaitable[list[BotReply] | None]]
Screen = Callable[[Any, InboxMessage, ChatConversation], Any]


@dataclass
class Messaging:
    """Everything the messaging layer holds for one gateway process."""

    sessions: sessionmaker
    inbox: Inbox
    outbox: Outbox
    hub: Any  # gateway.outbox.WebHub
    subscribers: dict[str, set[asyncio.Queue[dict[str, Any]]]] = field(default_factory=dict)
    telegram: Any = None  # gateway.tg.channel.TelegramChannel when enabled
    relay: Any = None  # gateway.outbox.TelegramRelay when Telegram is on
    worker: InboxWorker | None = None
    material: Callable[[InboxMessage], str] | None = None
    bus: Any = None  # gateway.bus.Bus: the other gateways' sockets, feeds and relay (PostgreSQL)

    def publish(self, conversation_id: str, event: dict[str, Any], local: bool = False) -> None:
        """Put an event on every live feed of the conversation (the handoff console), on
        every gateway (`local`: this one only, for an event heard on the bus)."""
        for queue in list(self.subscribers.get(conversation_id, ())):
            with contextlib.suppress(asyncio.QueueFull):
                queue.put_nowait(event)
        if self.bus is not None and not local:
            self.bus.post("feed", conversation_id, event)

    async def deliver(self, conversation_ids: list[str] | set[str], local: bool = False) -> None:
        """Push new outbox rows: web sockets now, Telegram through the relay (on every gateway
        unless `local`: the socket may sit on one gateway and the relay run on another)."""
        for conversation_id in set(conversation_ids):
            if channel_of(conversation_id) == "tg":
                if self.relay is not None:
                    self.relay.kick()
            else:
                await self.hub.flush(conversation_id)
            if self.bus is not None and not local:
                self.bus.post("outbox", conversation_id)

    async def heard(self, data: dict[str, Any]) -> None:
        """Act on another gateway's bus notification."""
        conversation_id = str(data.get("c", ""))
        if data.get("k") == "outbox":
            await self.deliver([conversation_id], local=True)
        elif data.get("k") == "feed" and isinstance(data.get("e"), dict):
            self.publish(conversation_id, data["e"], local=True)

    async def flush_all(self) -> None:
        """Push whatever every local socket has not seen (after the bus reconnects)."""
        for conversation_id in list(self.hub.clients):
            await self.hub.flush(conversation_id)
        if self.relay is not None:
            self.relay.kick()


class InboxWorker:
    """Processes each conversation's pending messages in order, one at a time.

    Any number of gateways may run one on the same database: a conversation is processed only
    by the gateway holding its lease (``inbox:<conversation id>``), so its turns stay one at a
    time and in order whichever gateway stored the message. A dead gateway's leases expire
    and the sweep of another gateway takes its conversations over.
    """

    def __init__(self, messaging: Messaging, turn: Turn, concurrency: int = 64,
                 retry_cap: float = 30.0, sweep_interval: float = 5.0, leases: Leases | None = None) -> None:
        """Wire the worker.

        Args:
            messaging: stores, hub and feeds.
            turn: runs one message against the dialogue engine; None means unavailable.
            concurrency: conversations processed at the same time.
            retry_cap: longest wait between two attempts, in seconds.
            sweep_interval: how often pending rows nobody kicked (or whose holder died) are looked for.
            leases: the lease store (default: one on the messaging database, ttl 10 s).
        """
        self.m = messaging
        self.leases = leases or Leases(messaging.sessions)
        self.held: set[str] = set()  # conversations whose lease this process holds
        self.turn = turn
        self.slots = asyncio.Semaphore(concurrency)
        self.retry_cap = retry_cap
        self.sweep_interval = sweep_interval
        self.running: dict[str, asyncio.Task[None]] = {}
        self.dirty: set[str] = set()
        self.background: set[asyncio.Task[None]] = set()

    def kick(self, conversation_id: str) -> None:
        """Make sure the conversation's pending messages get processed.

        A crisis reply stored by the danger pre-check goes out now, ahead of any backlog, and a
        mediator watching the conversation is alerted at once.
        """
        screened = self.m.inbox.urgent.pop(conversation_id, None)
        if screened is not None:
            self.m.publish(conversation_id, {"from": "system", "event": "crisis", "alert_id": screened.alert_id,
                                             "kind": screened.verdict.kind,
                                             "numbers": list(screened.verdict.numbers)})
            task = asyncio.create_task(self.m.deliver([conversation_id]))
            self.background.add(task)
            task.add_done_callback(self.background.discard)
        self.dirty.add(conversation_id)
        if conversation_id not in self.running:
            task = asyncio.create_task(self._drain(conversation_id))
            self.running[conversation_id] = task

    async def run(self) -> None:
        """Recover pending work, then sweep periodically until cancelled (and renew leases)."""
        heartbeat = asyncio.create_task(self._heartbeat())
        try:
            while True:
                try:
                    for conversation_id in await asyncio.to_thread(self.m.inbox.pending_conversations,
                                                                   self.leases):
                        if conversation_id not in self.running:
                            self.kick(conversation_id)
                except Exception as exc:
                    log.error("inbox sweep failed: %s", describe(exc))
                await asyncio.sleep(self.sweep_interval)
        finally:
            heartbeat.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await heartbeat

    async def _heartbeat(self) -> None:
        """Renew the held leases; stop a conversation whose lease another gateway took over.

        Renewals run on a thread of their own, so a busy thread pool (turns, the danger check)
        cannot delay them past the ttl and hand live conversations to another gateway.
        """
        loop = asyncio.get_running_loop()
        with ThreadPoolExecutor(1, thread_name_prefix="lease-heartbeat") as beat:
            while True:
                await asyncio.sleep(self.leases.ttl / 3)
                names = {inbox_lease(c): c for c in self.held}
                tasks = {c: self.running.get(c) for c in names.values()}
                try:
                    kept = await loop.run_in_executor(beat, self.leases.renew, list(names))
                except Exception as exc:  # the database may be restarting: try again next beat
                    log.warning("lease renewal failed: %s", describe(exc))
                    continue
                for name, conversation_id in names.items():
                    task = self.running.get(conversation_id)
                    # only the task that held it then: a newer one may have taken the lease again since
                    if name not in kept and task is not None and task is tasks[conversation_id]:
                        log.warning("lease of %s taken over: stopping here", mask_pii(conversation_id)[:16])
                        self.held.discard(conversation_id)
                        task.cancel()

    async def stop(self) -> None:
        """Cancel the conversation tasks and give their leases back (pending rows stay pending)."""
        tasks = list(self.running.values())
        held = list(self.held)
        for task in tasks:
            task.cancel()
        for task in tasks:
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await task
        for conversation_id in held:
            with contextlib.suppress(Exception):
                await asyncio.to_thread(self.leases.release, inbox_lease(conversation_id))

    async def _drain(self, conversation_id: str) -> None:
        name = inbox_lease(conversation_id)
        try:
            if not await asyncio.to_thread(self.leases.acquire, name):
                self.dirty.discard(conversation_id)  # the holder looks for new rows before it lets go
                return
            self.held.add(conversation_id)
            while True:
                self.dirty.discard(conversation_id)
                async with self.slots:
                    claimed = await asyncio.to_thread(self.m.inbox.claim, conversation_id, self.leases)
                    if claimed is None:
                        if conversation_id in self.dirty:
                            continue
                        break
                    wait = self._wait_for(claimed.row)
                    if wait <= 0:
                        began = time.monotonic()
                        await self._process(claimed)
                        if time.monotonic() - began > SLOW_TURN:
                            log.warning("slow turn for %s: %.1fs", mask_pii(conversation_id)[:16],
                                        time.monotonic() - began)
                        continue
                await asyncio.sleep(wait)
            # Give the lease back, then look once more: another gateway may have stored a message
            # while we held it (its own attempt to take the lease failed).
            self.held.discard(conversation_id)
            await asyncio.to_thread(self.leases.release, name)
            if await asyncio.to_thread(self.m.inbox.has_pending, conversation_id):
                self.dirty.add(conversation_id)
        except asyncio.CancelledError:
            raise
        except LeaseLost:
            log.warning("conversation %s taken over by another gateway", mask_pii(conversation_id)[:16])
        except Exception as exc:
            log.error("inbox worker failed for %s: %s", mask_pii(conversation_id), describe(exc))
            if conversation_id in self.held:  # let the next sweep retry now, not after the ttl
                with contextlib.suppress(Exception):
                    await asyncio.to_thread(self.leases.release, name)
        finally:
            self.held.discard(conversation_id)  # an unreleased lease expires after its ttl
            self.running.pop(conversation_id, None)
            if conversation_id in self.dirty:  # a kick arrived while we were leaving
                self.kick(conversation_id)

    @staticmethod
    def _wait_for(row: InboxMessage) -> float:
        next_at = _aware(row.next_attempt_at)
        if next_at is None:
            return 0.0
        return max((next_at - utcnow()).total_seconds(), 0.0)

    async def _process(self, claimed: Claimed) -> None:
        row, script, agent = claimed.row, claimed.script, claimed.agent
        conversation_id = row.conversation_id
        self.m.publish(conversation_id, {"from": "citizen", "id": row.external_key, "kind": row.kind,
                                         "text": row.text, "payload": _public(row.payload)})
        replies: list[Outgoing]
        if claimed.crisis_since is not None and not agent and row.kind in TURN_KINDS \
                and not (row.payload or {}).get("release"):
            await self._during_crisis(claimed)
            return
        if (row.payload or {}).get("danger") and not (row.payload or {}).get("release"):
            # answered by the pre-check; with a human owning the chat it is relayed, not held
            ids = await asyncio.to_thread(self.m.inbox.complete, row.id, "relayed" if agent else "held", [])
            if ids:
                await self.m.deliver([conversation_id])
            return
        if row.kind == "material" and self.m.material is not None:
            number = await asyncio.to_thread(self.m.material, row)
            text = NOTICE_MATERIAL_SAVED.format(case_number=number) if number else NOTICE_MATERIAL_NO_CASE
            replies = [Outgoing(render(text, script), reply_to=row.external_key, kind="notice")]
            if agent:
                replies = []
        elif agent:
            replies = []  # a human owns the conversation: the bot stays silent
        elif row.kind == "unsupported":
            replies = [Outgoing(render(NOTICE_UNSUPPORTED, script), reply_to=row.external_key, kind="notice")]
        elif (row.payload or {}).get("release") and not (row.payload or {}).get("grievance"):
            replies = []  # held during a crisis, nothing in it for the intake
        else:
            bot = await self.turn(row, claimed.already_sent)
            if bot is None:
                delay = backoff(row.attempts, self.retry_cap)
                notice = Outgoing(render(NOTICE_RECEIVED, script), reply_to=row.external_key, kind="delay")
                ids = await asyncio.to_thread(self.m.inbox.postpone, row.id, delay, notice)
                log.warning("turn of %s postponed %.0fs (attempt %d)", mask_pii(conversation_id), delay,
                            row.attempts + 1)
                if ids:
                    await self.m.deliver([conversation_id])
                return
            if not bot:
                bot = [BotReply(NOTICE_EMPTY_REPLY)]
            replies = [
                Outgoing(r.text, r.buttons, reply_to=row.external_key)
                for r in (render_reply(b, script) for b in bot)
            ]
        ids = await asyncio.to_thread(self.m.inbox.complete, row.id, "relayed" if agent else "done", replies)
        for reply in replies:
            self.m.publish(conversation_id, {"from": "bot", "reply_to": row.external_key, "text": reply.text,
                                             "buttons": reply.buttons})
        if ids:
            await self.m.deliver([conversation_id])


    async def _during_crisis(self, claimed: Claimed) -> None:
        """A message while the person may be in danger: resume when safe, else hold and stay."""
        from gateway.crisis import follow_up, is_resume

        row = claimed.row
        payload = row.payload or {}
        if not payload.get("danger") and is_resume(row.text):
            ids = await asyncio.to_thread(self.m.inbox.resume, row.id)
            self.kick(row.conversation_id)  # the released messages go on to the dialogue, in order
        else:
            replies = [] if payload.get("danger") else [
                Outgoing(follow_up(("110", "120", "12356"), claimed.script), reply_to=row.external_key,
                         kind="crisis")]
            ids = await asyncio.to_thread(self.m.inbox.hold, row.id, replies)
        for item in await asyncio.to_thread(self.m.outbox.texts_of, ids):
            self.m.publish(row.conversation_id, {"from": "bot", "reply_to": row.external_key, "text": item})
        if ids:
            await self.m.deliver([row.conversation_id])


def _public(payload: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in payload.items() if k in ("file_id", "file_name", "mime_type", "command")}
