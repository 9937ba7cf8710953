"""Outbox: every message to a citizen is a row until delivered (RELIABILITY R3).

Bot replies, delay notices, agent messages and case status notifications are all stored
here first. Web conversations are delivered by pushing the rows after a socket's cursor
(a reconnecting browser asks for everything after the last id it saw); Telegram
conversations by `TelegramRelay`, at least once, in order per chat, ≤ 1 message/s per chat
and ≤ 30/s overall, honouring `retry_after`.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import Awaitable, Callable, Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any, Protocol

from sqlalchemy import func, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, sessionmaker

from routing.cases.channels import channel_of
from routing.cases.events import is_citizen
from routing.cases.service import STATUS_LABELS
from routing.persistence.case_tables import Case, CaseEvent
from routing.persistence.messaging_tables import ChatConversation, OutboxMessage, RelayCursor

__all__ = ["channel_of"]  # re-exported for gateway.inbox and gateway.relay

log = logging.getLogger("fengqiao.outbox")

TELEGRAM_LIMIT = 4096


def utcnow() -> datetime:
    """Return the current time, timezone-aware UTC."""
    return datetime.now(UTC)


def _aware(moment: datetime | None) -> datetime | None:
    # SQLite returns naive datetimes even for timezone=True columns.
    if moment is not None and moment.tzinfo is None:
        return moment.replace(tzinfo=UTC)
    return moment


def describe(exc: BaseException) -> str:
    """Name an exception for a log line without its message (SQL errors carry the citizen's
    text as parameters; tracebacks are not logged for the same reason)."""
    where = exc.__traceback__
    while where is not None and where.tb_next is not None:
        where = where.tb_next
    place = f" at {where.tb_frame.f_code.co_filename.rsplit('/', 1)[-1]}:{where.tb_lineno}" if where else ""
    return f"{type(exc).__module__}.{type(exc).__name__}{place}"


def split_text(text: str, limit: int = TELEGRAM_LIMIT) -> list[str]:
    """Split a long reply into pieces of at most `limit` characters, at line breaks if possible.

    Args:
        text: the reply.
        limit: the channel's maximum message length (Telegram: 4096).

    Returns:
        One or more non-empty pieces whose concatenation (modulo the break) is the text.
    """
    pieces: list[str] = []
    rest = text
    while len(rest) > limit:
        cut = rest.rfind("\n", limit // 2, limit)
        if cut == -1:
            for mark in ("。", "！", "？", "；", "，", " "):
                cut = rest.rfind(mark, limit // 2, limit)
                if cut != -1:
                    cut += 1
                    break
        if cut <= 0:
            cut = limit
        pieces.append(rest[:cut].rstrip("\n"))
        rest = rest[cut:].lstrip("\n")
    if rest or not pieces:
        pieces.append(rest)
    return pieces


@dataclass(frozen=True)
class Outgoing:
    """A message to enqueue."""

    text: str
    buttons: list[dict[str, str]] = field(default_factory=list)
    kind: str = "reply"
    reply_to: str | None = None
    dedupe_key: str | None = None


def add_outgoing(session: Session, conversation_id: str, items: Iterable[Outgoing]) -> list[int]:
    """Add outbox rows inside the caller's transaction (Telegram text split at 4096).

    Returns:
        The new row ids, in order.
    """
    channel = channel_of(conversation_id)
    rows = []
    for item in items:
        pieces = split_text(item.text) if channel == "tg" else [item.text]
        # Telegram rows wait for the relay; web rows are read by cursor, never "sent".
        status = "pending" if channel == "tg" else "stored"
        for index, piece in enumerate(pieces):
            last = index == len(pieces) - 1
            key = item.dedupe_key if index == 0 else (f"{item.dedupe_key}#{index}" if item.dedupe_key else None)
            row = OutboxMessage(
                channel=channel, conversation_id=conversation_id, kind=item.kind,
                reply_to=item.reply_to, dedupe_key=key, text=piece,
                buttons=item.buttons if last else [], status=status, attempts=0,
            )
            session.add(row)
            rows.append(row)
    session.flush()
    return [r.id for r in rows]


class Outbox:
    """Database operations on the outbox (synchronous; call them through `asyncio.to_thread`)."""

    def __init__(self, sessions: sessionmaker) -> None:
        """Bind to the case database's session factory."""
        self.sessions = sessions

    def enqueue(self, conversation_id: str, items: list[Outgoing]) -> list[int]:
        """Store messages for a conversation; a repeated `dedupe_key` is ignored.

        Returns:
            The ids of the rows added (empty when every item was a duplicate).
        """
        try:
            with self.sessions.begin() as session:
                return add_outgoing(session, conversation_id, items)
        except IntegrityError:
            ids: list[int] = []
            for item in items:  # one by one: keep the new ones, skip the duplicates
                with contextlib.suppress(IntegrityError), self.sessions.begin() as session:
                    ids += add_outgoing(session, conversation_id, [item])
            return ids

    def after(self, conversation_id: str, after_id: int, limit: int = 200) -> list[OutboxMessage]:
        """Return the conversation's rows with id > `after_id`, oldest first."""
        with self.sessions() as session:
            return list(
                session.execute(
                    select(OutboxMessage)
                    .where(OutboxMessage.conversation_id == conversation_id, OutboxMessage.id > after_id)
                    .order_by(OutboxMessage.id)
                    .limit(limit)
                ).scalars()
            )

    def last_id(self, conversation_id: str) -> int:
        """Return the conversation's newest outbox id (0 when none)."""
        with self.sessions() as session:
            found = session.execute(
                select(func.max(OutboxMessage.id)).where(OutboxMessage.conversation_id == conversation_id)
            ).scalar()
            return int(found or 0)

    def newest(self, conversation_ids: list[str]) -> dict[str, int]:
        """Return the newest outbox id of each conversation that has one (one query)."""
        if not conversation_ids:
            return {}
        with self.sessions() as session:
            rows = session.execute(
                select(OutboxMessage.conversation_id, func.max(OutboxMessage.id))
                .where(OutboxMessage.conversation_id.in_(conversation_ids))
                .group_by(OutboxMessage.conversation_id)
            ).all()
            return {conversation_id: int(newest) for conversation_id, newest in rows}

    def texts_of(self, ids: list[int]) -> list[str]:
        """Return the texts of outbox rows, in order (for the live feed)."""
        if not ids:
            return []
        with self.sessions() as session:
            return list(session.execute(
                select(OutboxMessage.text).where(OutboxMessage.id.in_(ids)).order_by(OutboxMessage.id)
            ).scalars())

    def replies_to(self, conversation_id: str, reply_to: str) -> list[OutboxMessage]:
        """Return the stored replies to one inbound message."""
        with self.sessions() as session:
            return list(
                session.execute(
                    select(OutboxMessage)
                    .where(OutboxMessage.conversation_id == conversation_id, OutboxMessage.reply_to == reply_to)
                    .order_by(OutboxMessage.id)
                ).scalars()
            )

    def mark_sent(self, ids: list[int]) -> None:
        """Mark rows as delivered."""
        if not ids:
            return
        with self.sessions.begin() as session:
            session.execute(
                update(OutboxMessage)
                .where(OutboxMessage.id.in_(ids), OutboxMessage.status != "sent")
                .values(status="sent", sent_at=utcnow())
            )

    def due(self, channel: str, limit: int = 500) -> list[OutboxMessage]:
        """Return, per conversation, the oldest undelivered row if it is due (order kept)."""
        now = utcnow()
        with self.sessions() as session:
            rows = session.execute(
                select(OutboxMessage)
                .where(OutboxMessage.status == "pending", OutboxMessage.channel == channel)
                .order_by(OutboxMessage.id)
                .limit(limit)
            ).scalars()
            seen: set[str] = set()
            due = []
            for row in rows:
                if row.conversation_id in seen:
                    continue
                seen.add(row.conversation_id)
                next_at = _aware(row.next_attempt_at)
                if next_at is None or next_at <= now:
                    due.append(row)
            return due

    def reschedule(self, row_id: int, delay: float, error: str, give_up: bool = False) -> None:
        """Record a failed delivery: retry after `delay` seconds, or give up."""
        with self.sessions.begin() as session:
            row = session.get(OutboxMessage, row_id)
            if row is None:
                return
            row.attempts += 1
            row.last_error = error[:200]
            row.next_attempt_at = utcnow() + timedelta(seconds=delay)
            if give_up:
                row.status = "failed"

    def row(self, row_id: int) -> OutboxMessage | None:
        """Return one row."""
        with self.sessions() as session:
            return session.get(OutboxMessage, row_id)


# ---------------------------------------------------------------------------------------------
# Web delivery: push rows after each socket's cursor.


class WebSocketLike(Protocol):
    """What the hub needs of a socket."""

    @property
    def closed(self) -> bool:  # pragma: no cover - protocol
        """Whether the socket is closed."""

    async def send_json(self, data: Any) -> None:  # pragma: no cover - protocol
        """Send one JSON message."""


def web_message(row: OutboxMessage) -> dict[str, Any]:
    """Return the JSON a browser gets for an outbox row."""
    reply_to = row.reply_to
    if reply_to and reply_to.startswith(row.conversation_id + ":"):
        reply_to = reply_to[len(row.conversation_id) + 1:]  # the page knows its own message id
    return {"type": "bot", "id": row.id, "reply_to": reply_to, "kind": row.kind,
            "text": row.text, "buttons": list(row.buttons or [])}


@dataclass(eq=False)
class WebClient:
    """One open browser socket and the last outbox id it was sent."""

    ws: WebSocketLike
    conversation_id: str
    last_id: int = 0
    lock: asyncio.Lock = field(default_factory=asyncio.Lock)


class WebHub:
    """The open web sockets per conversation."""

    def __init__(self, outbox: Outbox) -> None:
        """Create an empty hub."""
        self.outbox = outbox
        self.clients: dict[str, set[WebClient]] = {}

    def add(self, client: WebClient) -> None:
        """Register a socket."""
        self.clients.setdefault(client.conversation_id, set()).add(client)

    def remove(self, client: WebClient) -> None:
        """Forget a socket."""
        group = self.clients.get(client.conversation_id)
        if group is not None:
            group.discard(client)
            if not group:
                del self.clients[client.conversation_id]

    async def flush_client(self, client: WebClient) -> None:
        """Send the socket every row after its cursor, in order, once."""
        async with client.lock:
            rows = await asyncio.to_thread(self.outbox.after, client.conversation_id, client.last_id)
            for row in rows:
                if client.ws.closed:
                    break
                try:
                    await client.ws.send_json(web_message(row))
                except (ConnectionError, RuntimeError):
                    break
                client.last_id = row.id
            # web rows are replayed by cursor: no per-row delivery state to write

    async def flush(self, conversation_id: str) -> None:
        """Push new rows to every socket of a conversation."""
        for client in list(self.clients.get(conversation_id, ())):
            await self.flush_client(client)

    async def catch_up(self) -> int:
        """Push what any socket has not seen yet, whoever wrote it (one query for all sockets).

        The safety net under the gateways' bus: a notification lost while the database
        restarted delays a reply by one interval instead of leaving the page waiting.
        Returns the number of conversations flushed.
        """
        behind = {c: min(client.last_id for client in group) for c, group in list(self.clients.items()) if group}
        newest = await asyncio.to_thread(self.outbox.newest, list(behind))
        stale = [c for c, last in behind.items() if newest.get(c, 0) > last]
        for conversation_id in stale:
            await self.flush(conversation_id)
        return len(stale)


async def catch_up_forever(hub: WebHub, interval: float = 3.0) -> None:
    """Run `WebHub.catch_up` every `interval` seconds until cancelled."""
    while True:
        await asyncio.sleep(interval)
        try:
            await hub.catch_up()
        except Exception as exc:  # the database may be restarting
            log.warning("socket catch-up failed: %s", describe(exc))


# ---------------------------------------------------------------------------------------------
# Telegram delivery.


class DeliveryError(Exception):
    """A send failed; `retry_after` (seconds) is set when the server asked to wait."""

    def __init__(self, message: str, retry_after: float | None = None, permanent: bool = False):
        """Describe the failure."""
        super().__init__(message)
        self.retry_after = retry_after
        self.permanent = permanent


class Transport(Protocol):
    """Sends one message to a chat (the Telegram channel implements it)."""

    async def send(self, conversation_id: str, row_id: int, text: str, buttons: list[dict[str, str]]) -> None:
        """Send, raising `DeliveryError` on failure."""


class RateLimiter:
    """≤ 1 message per `per_chat` seconds in each chat and ≤ `per_second` overall."""

    def __init__(self, per_chat: float = 1.0, per_second: int = 30, clock: Callable[[], float] = time.monotonic):
        """Configure the limits."""
        self.per_chat = per_chat
        self.per_second = per_second
        self.clock = clock
        self.last: dict[str, float] = {}
        self.blocked_until: dict[str, float] = {}
        self.window: list[float] = []

    def chat_ready_in(self, chat: str) -> float:
        """Seconds until the chat may get its next message (0: now)."""
        now = self.clock()
        wait = max(self.last.get(chat, -1e9) + self.per_chat - now, self.blocked_until.get(chat, 0) - now)
        return max(wait, 0.0)

    def global_ready_in(self) -> float:
        """Seconds until the global budget allows one more message."""
        now = self.clock()
        self.window = [t for t in self.window if t > now - 1.0]
        if len(self.window) < self.per_second:
            return 0.0
        return self.window[0] + 1.0 - now

    def note_sent(self, chat: str) -> None:
        """Count a message sent now."""
        now = self.clock()
        self.last[chat] = now
        self.window.append(now)

    def block(self, chat: str, seconds: float) -> None:
        """Honour a `retry_after` for a chat."""
        self.blocked_until[chat] = self.clock() + seconds


def backoff(attempts: int, cap: float = 60.0) -> float:
    """Return the wait before retry number `attempts + 1` (1, 2, 4 … seconds, capped)."""
    return float(min(cap, 2 ** min(attempts, 16)))


class TelegramRelay:
    """Delivers pending Telegram rows: in order per chat, rate-limited, retried with backoff."""

    MAX_ATTEMPTS = 30

    def __init__(self, outbox: Outbox, transport: Transport, limiter: RateLimiter | None = None) -> None:
        """Wire the relay (start it with `run`)."""
        self.outbox = outbox
        self.transport = transport
        self.limiter = limiter or RateLimiter()
        self.wake = asyncio.Event()
        self.in_flight: set[str] = set()
        self.tasks: set[asyncio.Task[None]] = set()

    def kick(self) -> None:
        """Tell the relay new rows are waiting."""
        self.wake.set()

    async def run(self) -> None:
        """Loop until cancelled (then stop the sends in flight: another gateway may lead now)."""
        try:
            while True:
                self.wake.clear()
                try:
                    wait = await self.round()
                except Exception as exc:  # the database may be restarting: never let the relay die
                    log.error("telegram relay round failed: %s", describe(exc))
                    wait = 2.0
                with contextlib.suppress(asyncio.TimeoutError):
                    await asyncio.wait_for(self.wake.wait(), timeout=wait)
        finally:
            for task in list(self.tasks):
                task.cancel()

    async def round(self) -> float:
        """Start a send for each due row whose chat is free; return how long to sleep."""
        rows = await asyncio.to_thread(self.outbox.due, "tg")
        sleep = 1.0
        for row in rows:
            chat = row.conversation_id
            if chat in self.in_flight:
                continue
            chat_wait = self.limiter.chat_ready_in(chat)
            if chat_wait > 0:
                sleep = min(sleep, chat_wait)
                continue
            global_wait = self.limiter.global_ready_in()
            if global_wait > 0:
                return min(sleep, global_wait)
            self.limiter.note_sent(chat)
            self.in_flight.add(chat)
            task = asyncio.create_task(self._deliver(row))
            self.tasks.add(task)
            task.add_done_callback(self.tasks.discard)
        return sleep

    async def _deliver(self, row: OutboxMessage) -> None:
        try:
            await self.transport.send(row.conversation_id, row.id, row.text, list(row.buttons or []))
        except DeliveryError as exc:
            if exc.retry_after is not None:
                self.limiter.block(row.conversation_id, exc.retry_after)
                delay = exc.retry_after
            else:
                delay = backoff(row.attempts)
            give_up = exc.permanent or row.attempts + 1 >= self.MAX_ATTEMPTS
            log.warning("telegram delivery of outbox %s failed (%s); %s", row.id, exc,
                        "giving up" if give_up else f"retry in {delay:.0f}s")
            await asyncio.to_thread(self.outbox.reschedule, row.id, delay, str(exc), give_up)
        except Exception as exc:  # unknown failure: retry later, never lose the row
            log.error("telegram delivery of outbox %s failed: %s", row.id, describe(exc))
            await asyncio.to_thread(self.outbox.reschedule, row.id, backoff(row.attempts), type(exc).__name__)
        else:
            await asyncio.to_thread(self.outbox.mark_sent, [row.id])
        finally:
            self.in_flight.discard(row.conversation_id)
            self.kick()


# ---------------------------------------------------------------------------------------------
# Case status notifications: read new case events (a cursor), enqueue at least once.

NOTIFY_KINDS = {"due_soon", "please_rate", "rate_requested", "reception_booked", "assigned", "resolved",
                "department_update"}
SILENT_KINDS = {"filed", "routed"}
RATE_BUTTONS = [
    {"title": level, "payload": f'/rate_satisfaction{{"satisfaction": "{level}"}}'}
    for level in ("满意", "基本满意", "不满意")
]


def notification_text(case: Case, event: CaseEvent) -> tuple[str, list[dict[str, str]]]:
    """Return the Chinese notice for a case event and its buttons."""
    label = STATUS_LABELS.get(case.status, case.status)
    if event.kind == "due_soon":
        text = f"您的诉求 {case.case_number} 即将到办理期限，承办单位正在加紧办理。"
    else:
        text = f"您的诉求 {case.case_number} 有新进展：{label}。"
        if case.handling_body:
            text += f"承办单位：{case.handling_body}。"
        if case.due_date and case.status not in ("resolved", "archived", "follow_up"):
            text += f"办理期限：{case.due_date.isoformat()}。"
        if event.kind == "department_update" and event.reason:  # posted through the Open311 API
            text += f"承办单位反馈：{event.reason[:500]}"
    buttons: list[dict[str, str]] = []
    if case.status == "follow_up" or event.kind in ("please_rate", "rate_requested"):
        text += "请您对办理结果作出评价。"
        buttons = RATE_BUTTONS
    return text, buttons


FILING_WINDOW = timedelta(seconds=5)


def _notifiable(session: Session, case: Case, event: CaseEvent) -> bool:
    if event.kind in SILENT_KINDS or is_citizen(event.actor):
        return False
    created, at = _aware(case.created_at), _aware(event.created_at)
    if event.actor == "system" and created and at and at - created < FILING_WINDOW:
        return False  # written by the filing itself: the citizen was just told in the chat
    if event.kind in NOTIFY_KINDS:
        return True
    previous = session.execute(
        select(CaseEvent.status_after).where(CaseEvent.case_id == event.case_id, CaseEvent.seq < event.seq)
        .order_by(CaseEvent.seq.desc()).limit(1)
    ).scalar()
    return previous is not None and event.status_after != previous


class NotificationScanner:
    """Turns status-changing case events into outbox rows (dedupe key: the event id)."""

    CURSOR = "case_events"
    SETTLE = 1.0

    def __init__(self, sessions: sessionmaker, convert: Callable[[str, str], str]) -> None:
        """Wire the scanner; `convert(text, script)` renders text in the citizen's script."""
        self.sessions = sessions
        self.convert = convert

    def scan(self, batch: int = 200) -> list[str]:
        """Enqueue notifications for new events and advance the cursor in one transaction.

        Returns:
            The conversation ids that got a notification.
        """
        touched: list[str] = []
        # Events younger than SETTLE seconds wait: a concurrent transaction may still commit a
        # smaller id (PostgreSQL sequences), which a cursor would otherwise skip.
        settled = utcnow() - timedelta(seconds=self.SETTLE)
        with self.sessions.begin() as session:
            cursor = session.get(RelayCursor, self.CURSOR)
            if cursor is None:  # first start: history is not news
                newest = session.execute(select(func.max(CaseEvent.id))).scalar() or 0
                session.add(RelayCursor(name=self.CURSOR, position=int(newest)))
                return touched
            events = list(
                session.execute(
                    select(CaseEvent)
                    .where(CaseEvent.id > cursor.position, CaseEvent.created_at <= settled)
                    .order_by(CaseEvent.id)
                    .limit(batch)
                ).scalars()
            )
            for event in events:
                cursor.position = event.id
                case = session.get(Case, event.case_id)
                if case is None or case.channel not in ("web", "tg") or not _notifiable(session, case, event):
                    continue
                text, buttons = notification_text(case, event)
                state = session.get(ChatConversation, case.conversation_id)
                script = state.script if state else case.script
                buttons = [{"title": self.convert(b["title"], script), "payload": b["payload"]} for b in buttons]
                add_outgoing(session, case.conversation_id, [Outgoing(
                    self.convert(text, script), buttons, kind="notification", dedupe_key=f"case-event:{event.id}"
                )])
                touched.append(case.conversation_id)
        return touched


async def scan_forever(scanner: NotificationScanner, deliver: Callable[[list[str]], Awaitable[None]],
                       interval: float = 2.0) -> None:
    """Run the scanner every `interval` seconds until cancelled."""
    while True:
        try:
            touched = await asyncio.to_thread(scanner.scan)
            if touched:
                await deliver(touched)
        except Exception as exc:
            log.error("notification scan failed: %s", describe(exc))
        await asyncio.sleep(interval)
