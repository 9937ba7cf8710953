"""A stand-in for a Rasa process on a shared tracker store, for the gateway chaos test.

It speaks the two parts of Rasa's HTTP interface the gateway uses (REST channel webhook,
tracker read) and keeps its "tracker" in a PostgreSQL table shared by every stand-in, as Rasa
processes share the SQL tracker store; a per-sender advisory lock plays the Redis lock store.
It records the message first and answers after a short pause, so a kill -9 can land between
the two, the case the gateway must recover from without a second turn. Run it as a process:
``python -m tests.e2e.standin_rasa PORT DATABASE_URL``.
"""

from __future__ import annotations

import asyncio
import sys
import zlib

import psycopg
from aiohttp import web

PAUSE = 0.05
TABLE = """CREATE TABLE IF NOT EXISTS standin_tracker (
    id bigserial PRIMARY KEY, sender text NOT NULL, message_key text NOT NULL, text text NOT NULL,
    reply text NOT NULL, port int NOT NULL)"""


def reply_to(text: str) -> str:
    """Return the stand-in's answer to a message."""
    return f"收到：{text}"


class Tracker:
    """The shared table, one connection per request (a restarted PostgreSQL is simply reconnected)."""

    def __init__(self, dsn: str, port: int) -> None:
        self.dsn, self.port = dsn, port
        self.connections = asyncio.Semaphore(4)  # the machine's PostgreSQL is shared: few connections

    async def record(self, sender: str, key: str, text: str) -> None:
        async with self.connections, await psycopg.AsyncConnection.connect(self.dsn) as conn, conn.transaction():
            await conn.execute("SELECT pg_advisory_xact_lock(%s)", (zlib.crc32(sender.encode()),))
            await conn.execute(
                "INSERT INTO standin_tracker (sender, message_key, text, reply, port) VALUES (%s, %s, %s, %s, %s)",
                (sender, key, text, reply_to(text), self.port))

    async def events(self, sender: str) -> list[dict[str, object]]:
        async with self.connections, await psycopg.AsyncConnection.connect(self.dsn) as conn:
            rows = await (await conn.execute(
                "SELECT message_key, text, reply FROM standin_tracker WHERE sender = %s ORDER BY id", (sender,)
            )).fetchall()
        events: list[dict[str, object]] = []
        for key, text, reply in rows:
            events.append({"event": "user", "text": text, "metadata": {"message_key": key}})
            events.append({"event": "bot", "text": reply})
        return events


def make_app(tracker: Tracker) -> web.Application:
    async def webhook(request: web.Request) -> web.Response:
        body = await request.json()
        key = str((body.get("metadata") or {}).get("message_key", ""))
        try:
            await tracker.record(body["sender"], key, body["message"])
        except psycopg.Error:
            return web.json_response({"error": "tracker store unavailable"}, status=500)
        await asyncio.sleep(PAUSE)
        return web.json_response([{"recipient_id": body["sender"], "text": reply_to(body["message"])}])

    async def conversation(request: web.Request) -> web.Response:
        try:
            events = await tracker.events(request.match_info["sender"])
        except psycopg.Error:
            return web.json_response({"error": "tracker store unavailable"}, status=500)
        return web.json_response({"events": events})

    async def health(_request: web.Request) -> web.Response:
        return web.Response(text="Hello from the stand-in")

    app = web.Application()
    app.router.add_post("/webhooks/rest/webhook", webhook)
    app.router.add_get("/conversations/{sender}/tracker", conversation)
    app.router.add_get("/", health)
    return app


def main() -> None:
    port, url = int(sys.argv[1]), sys.argv[2]
    dsn = "postgresql://" + url.split("://", 1)[1]
    with psycopg.connect(dsn, autocommit=True) as conn:
        conn.execute("SELECT pg_advisory_lock(42)")  # two stand-ins starting together
        conn.execute(TABLE)
    web.run_app(make_app(Tracker(dsn, port)), host="127.0.0.1", port=port, print=None)


if __name__ == "__main__":
    main()


