"""Leases: named claims with an expiry, so any number of gateways share one database.

A lease is a row of ``leases`` (name, holder, expires_at). Taking it is one atomic statement,
an insert that on conflict updates the row only when the caller already holds it or it has
expired (``INSERT … ON CONFLICT DO UPDATE … WHERE``, PostgreSQL and SQLite alike), so two
processes can never both hold a name. The holder renews its leases well before they expire;
a process that dies (kill -9, lost machine) stops renewing and, ``ttl`` seconds later, another
takes the lease over. Expiry is judged by the database's clock on PostgreSQL, so gateways on
several machines need not agree on the time.

Names in use: ``inbox:<conversation id>`` (the conversation's turn lock: only its holder runs
turns, one at a time, in order) and ``gateway-leader`` (the one gateway that polls Telegram,
sends its outbox and runs the scanners).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import socket
import uuid
from collections.abc import Callable, Coroutine
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import ColumnElement, delete, func, literal, select, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session, sessionmaker

from gateway.outbox import describe, utcnow
from routing.persistence.messaging_tables import Lease

log = logging.getLogger("fengqiao.leases")

LEADER = "gateway-leader"


def inbox_lease(conversation_id: str) -> str:
    """Return the lease name of a conversation's turn lock."""
    return f"inbox:{conversation_id}"


def new_holder_id() -> str:
    """Name this process: host, pid and a random tail (a restarted pid is another holder)."""
    return f"{socket.gethostname()[:32]}:{os.getpid()}:{uuid.uuid4().hex[:8]}"


class Leases:
    """Take, renew, check and give back leases (synchronous; call through `asyncio.to_thread`)."""

    def __init__(self, sessions: sessionmaker, holder: str | None = None, ttl: float = 10.0) -> None:
        """Bind to the database.

        Args:
            sessions: the case database's session factory.
            holder: this process's name (default: host, pid, random).
            ttl: seconds a lease lives without renewal.
        """
        self.sessions = sessions
        self.holder = holder or new_holder_id()
        self.ttl = ttl

    def _postgres(self, session: Session) -> bool:
        return session.get_bind().dialect.name == "postgresql"

    def _now(self, session: Session) -> ColumnElement[datetime] | datetime:
        # PostgreSQL: the database's clock (statement time), one clock for every machine.
        return func.statement_timestamp() if self._postgres(session) else utcnow()

    def _until(self, session: Session) -> Any:
        if self._postgres(session):
            return func.statement_timestamp() + literal(timedelta(seconds=self.ttl))
        return utcnow() + timedelta(seconds=self.ttl)

    def acquire(self, name: str) -> bool:
        """Take the lease (or renew it if ours); False when another live holder has it."""
        with self.sessions.begin() as session:
            dialect = postgresql if self._postgres(session) else sqlite
            stmt = dialect.insert(Lease).values(name=name, holder=self.holder, expires_at=self._until(session))
            stmt = stmt.on_conflict_do_update(
                index_elements=[Lease.name],
                set_={"holder": stmt.excluded.holder, "expires_at": stmt.excluded.expires_at},
                where=(Lease.holder == stmt.excluded.holder) | (Lease.expires_at < self._now(session)),
            ).returning(Lease.name)
            return session.execute(stmt).first() is not None

    def renew(self, names: list[str]) -> set[str]:
        """Extend the leases we still hold; return their names (a missing one was taken over)."""
        if not names:
            return set()
        held: set[str] = set()
        with self.sessions.begin() as session:
            for start in range(0, len(names), 500):
                chunk = names[start:start + 500]
                held.update(session.execute(
                    update(Lease).where(Lease.name.in_(chunk), Lease.holder == self.holder)
                    .values(expires_at=self._until(session)).returning(Lease.name)
                ).scalars())
        return held

    def release(self, name: str) -> None:
        """Give the lease back (nothing happens when another process holds it)."""
        with self.sessions.begin() as session:
            session.execute(delete(Lease).where(Lease.name == name, Lease.holder == self.holder))

    def holds(self, session: Session, name: str) -> bool:
        """Inside the caller's transaction: lock our lease row and tell whether we hold it.

        The row lock makes the answer hold until the caller commits: a process taking over
        waits for that commit (the fencing check before a turn is started).
        """
        found = session.execute(
            select(Lease.holder).where(Lease.name == name).with_for_update()
        ).scalar()
        return found == self.holder

    def expired_or_free(self, session: Session) -> ColumnElement[bool]:
        """Return a condition for a query joined to `Lease`: no live lease (none or expired)."""
        return Lease.name.is_(None) | (Lease.expires_at < self._now(session))


class Leader:
    """Elects one process for the singleton loops and runs them while it leads.

    `loops` are started when this process takes the lease and cancelled as soon as a renewal
    fails (another process has taken over, or the database is unreachable for a whole ttl).
    """

    def __init__(self, leases: Leases, loops: list[Callable[[], Coroutine[Any, Any, None]]], name: str = LEADER,
                 interval: float | None = None) -> None:
        """Wire the election; `interval` defaults to a third of the lease's ttl."""
        self.leases = leases
        self.loops = loops
        self.name = name
        self.interval = interval if interval is not None else leases.ttl / 3
        self.tasks: list[asyncio.Task[None]] = []
        self.changes: list[bool] = []  # True: became leader, False: lost it (for tests and logs)

    @property
    def leading(self) -> bool:
        """Tell whether this process runs the singleton loops now."""
        return bool(self.tasks)

    async def run(self) -> None:
        """Try to lead every `interval` seconds until cancelled."""
        try:
            while True:
                try:
                    mine = await asyncio.to_thread(self.leases.acquire, self.name)
                except Exception as exc:  # the database may be restarting: stop leading, retry
                    log.warning("leader election failed: %s", describe(exc))
                    mine = False
                if mine and not self.leading:
                    log.info("this gateway leads (%s)", self.leases.holder)
                    self.changes.append(True)
                    self.tasks = [asyncio.create_task(loop()) for loop in self.loops]
                elif not mine and self.leading:
                    log.warning("this gateway lost the lead")
                    self.changes.append(False)
                    await self._stop()
                await asyncio.sleep(self.interval)
        finally:
            await self._stop()
            with contextlib.suppress(Exception):
                await asyncio.to_thread(self.leases.release, self.name)

    async def _stop(self) -> None:
        tasks, self.tasks = self.tasks, []
        for task in tasks:
            task.cancel()
        for task in tasks:
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await task
