"""Run blocking database work off the event loop, one transaction per call."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from typing import TypeVar

from aiohttp import web
from sqlalchemy.orm import Session

from gateway.console.keys import SESSIONS

T = TypeVar("T")


async def run(request: web.Request, work: Callable[[Session], T]) -> T:
    """Run ``work(session)`` in a worker thread inside one committed transaction."""
    sessions = request.app[SESSIONS]

    def call() -> T:
        with sessions.begin() as session:
            return work(session)

    return await asyncio.to_thread(call)
