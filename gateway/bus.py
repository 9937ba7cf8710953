"""The gateways' bus: PostgreSQL LISTEN/NOTIFY between gateways on one database (issue 15).

A citizen's WebSocket, the console's live feed and the gateway running the conversation's turn
may be three different gateways. Whoever stores outbox rows or puts an event on a live feed
also posts it here; every other gateway hears it and pushes to its own sockets and feeds
(``outbox``: flush the conversation's sockets and wake the Telegram relay; ``feed``: the
console's live events). Nothing is lost when a notification is: the outbox is the truth and a
socket replays by cursor, so after (re)connecting the listener flushes every local socket.
On SQLite (one gateway) the bus is off and everything stays in the process, as before.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
from collections.abc import Awaitable, Callable
from typing import Any

from gateway.outbox import describe

log = logging.getLogger("fengqiao.bus")

CHANNEL = "fq_gateway_bus"
MAX_PAYLOAD = 7000  # PostgreSQL refuses NOTIFY payloads of 8000 bytes or more
QUEUE_SIZE = 10000

Handler = Callable[[dict[str, Any]], Awaitable[None]]


def libpq_url(database_url: str) -> str | None:
    """Return a libpq URL for a PostgreSQL SQLAlchemy URL, None for anything else."""
    scheme, sep, rest = database_url.partition("://")
    if not sep or scheme.split("+", 1)[0] not in ("postgresql", "postgres"):
        return None
    return f"postgresql://{rest}"


def encode(origin: str, kind: str, conversation_id: str, event: dict[str, Any] | None) -> str:
    """Return the notification payload, the event's text shortened if it would not fit."""
    body: dict[str, Any] = {"o": origin, "k": kind, "c": conversation_id}
    if event is not None:
        body["e"] = event
    raw = json.dumps(body, ensure_ascii=False)
    if len(raw.encode()) > MAX_PAYLOAD and event is not None:
        short = dict(event)
        short["text"] = str(short.get("text", ""))[:1500] + "…"
        short.pop("payload", None)
        body["e"] = short
        raw = json.dumps(body, ensure_ascii=False)
    return raw


class Bus:
    """Posts to and listens on the gateways' channel (start it with `run`)."""

    def __init__(self, database_url: str, origin: str, handler: Handler,
                 on_connect: Callable[[], Awaitable[None]] | None = None) -> None:
        """Wire the bus.

        Args:
            database_url: the case database; the bus is off unless it is PostgreSQL.
            origin: this gateway's name (its own notifications are ignored).
            handler: runs for every notification from another gateway.
            on_connect: runs after each (re)connection of the listener.
        """
        self.dsn = libpq_url(database_url)
        self.origin = origin
        self.handler = handler
        self.on_connect = on_connect
        self.queue: asyncio.Queue[str] = asyncio.Queue(maxsize=QUEUE_SIZE)
        self.listening = asyncio.Event()

    @property
    def enabled(self) -> bool:
        """Tell whether there are other gateways to tell (PostgreSQL only)."""
        return self.dsn is not None

    def post(self, kind: str, conversation_id: str, event: dict[str, Any] | None = None) -> None:
        """Queue a notification for the other gateways (never blocks; dropped when full)."""
        if not self.enabled:
            return
        with contextlib.suppress(asyncio.QueueFull):
            self.queue.put_nowait(encode(self.origin, kind, conversation_id, event))

    async def run(self) -> None:
        """Listen and send until cancelled, reconnecting after failures."""
        if not self.enabled:
            return
        sender = asyncio.create_task(self._send_forever())
        try:
            await self._listen_forever()
        finally:
            sender.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await sender

    async def _listen_forever(self) -> None:
        import psycopg

        while True:
            try:
                async with await psycopg.AsyncConnection.connect(self.dsn or "", autocommit=True) as conn:
                    await conn.execute(f"LISTEN {CHANNEL}")
                    self.listening.set()
                    if self.on_connect is not None:
                        await self.on_connect()
                    async for note in conn.notifies():
                        await self._dispatch(note.payload)
            except asyncio.CancelledError:
                raise
            except Exception as exc:  # the database restarts: listen again
                self.listening.clear()
                log.warning("bus listener lost its connection: %s", describe(exc))
                await asyncio.sleep(1.0)

    async def _dispatch(self, payload: str) -> None:
        try:
            data = json.loads(payload)
        except ValueError:
            return
        if not isinstance(data, dict) or data.get("o") == self.origin:
            return
        try:
            await self.handler(data)
        except Exception as exc:
            log.error("bus handler failed: %s", describe(exc))

    async def _send_forever(self) -> None:
        import psycopg

        conn: Any = None
        wait = 0.2
        try:
            while True:
                payload = await self.queue.get()
                while True:  # keep it until it is sent: a lost notification leaves a socket waiting
                    try:
                        if conn is None or conn.closed:
                            conn = await psycopg.AsyncConnection.connect(self.dsn or "", autocommit=True)
                        await conn.execute("SELECT pg_notify(%s, %s)", (CHANNEL, payload))
                        wait = 0.2
                        break
                    except Exception as exc:
                        log.warning("bus send failed: %s", describe(exc))
                        if conn is not None:
                            with contextlib.suppress(Exception):
                                await conn.close()
                        conn = None
                        await asyncio.sleep(wait)
                        wait = min(wait * 2, 5.0)
        finally:
            if conn is not None:
                with contextlib.suppress(Exception):
                    await conn.close()
