"""The webhook sender: queue new events, post due messages, log every attempt.

Connections go through a resolver that drops private and reserved addresses, so a host that
re-resolves to an internal address after its subscription was checked still cannot be reached
(the SSRF guard holds against DNS rebinding). Redirects are not followed.
"""

from __future__ import annotations

import asyncio
import logging
import socket
import time
from typing import Any

from aiohttp import ClientSession, ClientTimeout, TCPConnector
from aiohttp.abc import AbstractResolver, ResolveResult
from aiohttp.resolver import DefaultResolver
from sqlalchemy.orm import sessionmaker

from routing.open311 import webhooks as wh

log = logging.getLogger("fengqiao.webhooks")


class GuardedResolver(AbstractResolver):
    """Resolve as usual, then keep only the addresses the SSRF guard allows."""

    def __init__(self, allow_loopback: bool) -> None:
        """Wrap aiohttp's default resolver."""
        self.inner = DefaultResolver()
        self.allow_loopback = allow_loopback

    async def resolve(self, host: str, port: int = 0, family: socket.AddressFamily = socket.AF_INET) -> list[ResolveResult]:
        """Return only public (or, in development, loopback) addresses."""
        found = await self.inner.resolve(host, port, family)
        kept = [r for r in found if wh.address_allowed(r["host"], self.allow_loopback)]
        if not kept:
            raise OSError(f"{host} resolves only to private or reserved addresses")
        return kept

    async def close(self) -> None:
        """Close the wrapped resolver."""
        await self.inner.close()


def _retry_after(value: str | None) -> float | None:
    if value and value.strip().isdigit():
        return float(value.strip())
    return None


class WebhookSender:
    """Scan for new events and deliver due messages, round after round."""

    def __init__(self, sessions: sessionmaker, allow_loopback: bool = False, scale: float = 1.0,
                 interval: float = 1.0, timeout: float = 10.0) -> None:
        """Wire the sender; `scale` shrinks the retry schedule (tests), `interval` is the pause."""
        self.sessions = sessions
        self.allow_loopback = allow_loopback
        self.scale = scale
        self.interval = interval
        self.timeout = timeout
        self.scanner = wh.WebhookScanner(sessions)
        self.http: ClientSession | None = None

    async def start(self) -> None:
        """Open the HTTP client."""
        connector = TCPConnector(resolver=GuardedResolver(self.allow_loopback), use_dns_cache=False)
        self.http = ClientSession(connector=connector, timeout=ClientTimeout(total=self.timeout))

    async def close(self) -> None:
        """Close the HTTP client."""
        if self.http is not None:
            await self.http.close()

    async def round(self) -> int:
        """Queue new events, then send every due message once; return how many were sent."""
        await asyncio.to_thread(self.scanner.scan)
        due = await asyncio.to_thread(self._due)
        if due:
            await asyncio.gather(*(self._send(*item) for item in due))
        return len(due)

    def _due(self) -> list[tuple[int, str, str, str, list[str]]]:
        with self.sessions() as session:
            return [(m.id, m.msg_id, m.body, e.url, list(e.secrets)) for m, e in wh.due_messages(session)]

    async def _send(self, row_id: int, msg_id: str, body: str, url: str, secrets: list[str]) -> None:
        assert self.http is not None
        stamp = int(time.time())
        headers = {"content-type": "application/json", "webhook-id": msg_id, "webhook-timestamp": str(stamp),
                   "webhook-signature": wh.signature_header(secrets, msg_id, stamp, body),
                   "user-agent": "fengqiao-webhooks/1"}
        started = time.monotonic()
        try:
            await asyncio.to_thread(wh.check_url, url, self.allow_loopback)
            async with self.http.post(url, data=body.encode("utf-8"), headers=headers, allow_redirects=False) as resp:
                await resp.read()
                outcome = wh.Outcome(resp.status, None if resp.status < 300 else f"HTTP {resp.status}",
                                     _retry_after(resp.headers.get("Retry-After")), _ms(started))
        except Exception as exc:  # noqa: BLE001 - any transport failure is a failed attempt
            outcome = wh.Outcome(None, f"{type(exc).__name__}: {exc}"[:200], None, _ms(started))
        await asyncio.to_thread(self._record, row_id, outcome)

    def _record(self, row_id: int, outcome: wh.Outcome) -> None:
        with self.sessions.begin() as session:
            status = wh.record_outcome(session, row_id, outcome, self.scale)
        if status != "delivered":
            log.info("webhook message %s: %s (%s)", row_id, status, outcome.error)

    async def run(self) -> None:
        """Run rounds until cancelled."""
        while True:
            try:
                await self.round()
            except Exception as exc:  # noqa: BLE001 - keep the sender alive; it retries next round
                log.error("webhook round failed: %s", type(exc).__name__)
            await asyncio.sleep(self.interval)


def _ms(started: float) -> int:
    return int((time.monotonic() - started) * 1000)


async def run_sender(sender: WebhookSender) -> Any:
    """Start, run and close a sender (for the app's cleanup context)."""
    await sender.start()
    try:
        await sender.run()
    finally:
        await sender.close()
