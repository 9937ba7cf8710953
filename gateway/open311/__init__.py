"""The Open311 GeoReport v2 API at /open311/v2/ and the webhook sender, as one sub-application."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator, Callable
from datetime import date

from aiohttp import web

from fengqiao.bootstrap import units_of_work
from gateway.open311 import openapi, views
from gateway.open311.cors import cors
from gateway.open311.delivery import WebhookSender, run_sender
from gateway.open311.keys import API, LIFE, LIMITER
from gateway.open311.limits import RateLimiter
from routing.cases.filing_policy import make_policy
from routing.cases.life import CaseLife
from routing.cases.service import CaseService, utc_today
from routing.open311.requests import Open311
from routing.persistence.db import make_engine, make_session_factory

PREFIX = "/open311/v2"


def build(database_url: str, rules: str, *, today: Callable[[], date] = utc_today, sender: bool = True,
          allow_loopback: bool = False, retry_scale: float = 1.0, interval: float = 1.0) -> web.Application:
    """Build the sub-application (the API; the webhook sender when `sender`)."""
    api = web.Application(middlewares=[cors, views.spec_errors])

    async def state(app: web.Application) -> AsyncIterator[None]:
        engine = make_engine(database_url)
        sessions = make_session_factory(engine)
        cases = CaseService(sessions, make_policy(rules, sessions), today, uows=units_of_work(sessions))
        app[API] = Open311(sessions, cases)
        app[LIFE] = CaseLife(sessions, today, rules=rules)
        app[LIMITER] = RateLimiter()
        task = None
        if sender:
            worker = WebhookSender(sessions, allow_loopback, retry_scale, interval)
            task = asyncio.create_task(run_sender(worker), name="webhook-sender")
        try:
            yield
        finally:
            if task is not None:
                task.cancel()
                with contextlib.suppress(asyncio.CancelledError):
                    await task
            engine.dispose()

    api.cleanup_ctx.append(state)
    for fmt in ("{fmt:json|xml}",):
        api.router.add_get(f"/discovery.{fmt}", views.discovery)
        api.router.add_get(f"/services.{fmt}", views.services)
        api.router.add_get(f"/services/{{code:[^/]+?}}.{fmt}", views.service_definition)
        api.router.add_get(f"/requests.{fmt}", views.list_requests)
        api.router.add_post(f"/requests.{fmt}", views.file_request)
        api.router.add_get(f"/requests/{{id:[^/]+?}}.{fmt}", views.one_request)
        api.router.add_post(f"/requests/{{id:[^/]+?}}/updates.{fmt}", views.post_update)
    api.router.add_get("/openapi.json", openapi.serve)
    api.router.add_route("*", "/{tail:.*}", views.not_found)
    return api


def mount(app: web.Application, database_url: str, rules: str, **options: object) -> None:
    """Add the API under /open311/v2 to the gateway."""
    app.add_subapp(PREFIX, build(database_url, rules, **options))  # type: ignore[arg-type]
