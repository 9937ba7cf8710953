"""The gateway web app: web chat page, its WebSocket, and health."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from aiohttp import ClientSession, web
from sqlalchemy import text

from fengqiao.settings import Settings, get_settings, rasa_api_token
from gateway import cards, chat, console, open311, public
from gateway.bus import Bus
from gateway.crisis import CrisisScreen, CrisisWatch
from gateway.inbox import Inbox, InboxWorker, Messaging
from gateway.keys import HTTP, LEADER, MESSAGING, SETTINGS
from gateway.leases import Leader, Leases
from gateway.outbox import (
    NotificationScanner,
    Outbox,
    RateLimiter,
    TelegramRelay,
    WebHub,
    catch_up_forever,
    scan_forever,
)
from gateway.rasa_client import Backend, rasa_turn
from gateway.script import render
from routing.persistence.db import make_engine, make_session_factory
from routing.persistence.messaging_tables import InboxMessage
from routing.understanding import safety

log = logging.getLogger("fengqiao.gateway")

STATIC = Path(__file__).parent / "static"
DB_THREADS = 16
SECURITY_HEADERS = {
    "Content-Security-Policy": "default-src 'self'; connect-src 'self' ws: wss:; img-src 'self' data:; style-src 'self'; script-src 'self'",
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "no-referrer",
    "X-Frame-Options": "DENY",
}


async def _http_client(app: web.Application) -> AsyncIterator[None]:
    app[HTTP] = ClientSession()
    yield
    await app[HTTP].close()


def _material_recorder(sessions, settings: Settings):  # type: ignore[no-untyped-def]
    """Return a function attaching a Telegram photo/document to the sender's open case."""
    from fengqiao.bootstrap import build_services
    from routing.cases.service import CaseNotFound

    service = build_services(settings, sessions).cases

    def record(row: InboxMessage) -> str | None:
        view = service.latest_open_case(row.channel, row.conversation_id)
        if view is None:
            return None
        payload = {k: v for k, v in row.payload.items() if k != "callback_query_id"}
        payload["inbox_key"] = row.external_key
        if row.text:
            payload["caption"] = row.text[:1000]
        try:
            service.record(view.case_number, "material_added", "citizen", "群众通过Telegram提交材料",
                           payload, channel_user_id=row.conversation_id)
        except CaseNotFound:
            return None
        return view.case_number

    return record


async def _messaging(app: web.Application) -> AsyncIterator[None]:
    """Start the inbox worker, the bus and, on the elected gateway, the singleton loops.

    Any number of gateways may run on one PostgreSQL database: conversations are shared through
    leases (gateway.leases), and one gateway, elected by a lease, polls Telegram, sends its
    outbox and runs the notification scanner and the crisis watch; another takes over within
    `lease_ttl` seconds when it dies. Sockets and live feeds on other gateways hear of new rows
    and events through the bus (PostgreSQL LISTEN/NOTIFY).
    """
    settings = app[SETTINGS]
    # Every database call runs on the default thread pool: size it to the engine's pool (5 + 10),
    # not to the cores (6 threads on 2 cores would queue turns behind the danger check).
    asyncio.get_running_loop().set_default_executor(ThreadPoolExecutor(DB_THREADS, thread_name_prefix="gateway-db"))
    engine = make_engine(settings.database_url)
    sessions = make_session_factory(engine)
    outbox = Outbox(sessions)
    screen = CrisisScreen(settings.crisis_notify_telegram, settings.crisis_roster)
    await asyncio.to_thread(safety.check, "启动预热")  # load the danger model before the first citizen
    m = Messaging(sessions=sessions, inbox=Inbox(sessions, screen), outbox=outbox, hub=WebHub(outbox))
    m.material = _material_recorder(sessions, settings)
    backends = [Backend(url, health) for url, health in
                zip(settings.rasa_urls, settings.action_health_urls or ("",) * len(settings.rasa_urls), strict=True)]
    turn = rasa_turn(lambda: app[HTTP], settings.rasa_url, settings.action_health_url,
                     settings.rasa_token or rasa_api_token(), backends or None)
    leases = Leases(sessions, ttl=settings.lease_ttl)
    m.worker = InboxWorker(m, turn, retry_cap=settings.inbox_retry_cap, leases=leases)
    m.bus = Bus(settings.database_url, leases.holder, m.heard, m.flush_all)
    app[MESSAGING] = m
    scanner = NotificationScanner(sessions, render)
    watch = CrisisWatch(sessions, screen, settings.crisis_escalate_minutes, m.deliver)
    loops = [lambda: scan_forever(scanner, m.deliver), watch.run]
    if settings.telegram_bot_token:
        from gateway.tg.channel import TelegramChannel

        m.telegram = TelegramChannel(settings, m)
        m.relay = TelegramRelay(outbox, m.telegram, RateLimiter(settings.telegram_chat_interval, 30))
        await m.telegram.start(poll=False)
        loops.append(m.relay.run)  # one sender: the bot's 30 messages/s limit is per bot
        if not m.telegram.webhook_mode:
            loops.append(m.telegram.poll_forever)  # webhook updates land on every gateway
    else:
        log.info("Telegram is off (no TELEGRAM_BOT_TOKEN)")
    leader = Leader(leases, loops)
    app[LEADER] = leader
    tasks = [asyncio.create_task(m.worker.run(), name="inbox-worker"),
             asyncio.create_task(m.bus.run(), name="bus"),
             asyncio.create_task(leader.run(), name="leader"),
             asyncio.create_task(catch_up_forever(m.hub), name="socket-catch-up")]
    try:
        yield
    finally:
        for task in tasks:
            task.cancel()
        for task in tasks:
            with contextlib.suppress(asyncio.CancelledError):
                await task
        await m.worker.stop()
        if m.relay is not None:
            for task in list(m.relay.tasks):
                task.cancel()
        if m.telegram is not None:
            await m.telegram.stop()
        engine.dispose()


async def telegram_webhook(request: web.Request) -> web.StreamResponse:
    """Receive a Telegram update (only when Telegram runs in webhook mode)."""
    channel = request.app[MESSAGING].telegram
    if channel is None or not channel.webhook_mode:
        raise web.HTTPNotFound()
    return await channel.webhook(request)


@web.middleware
async def security_headers(request: web.Request, handler):  # type: ignore[no-untyped-def]
    """Add security headers to every response."""
    response = await handler(request)
    framed = "frame-ancestors" in response.headers.get("Content-Security-Policy", "")
    for name, value in SECURITY_HEADERS.items():
        if framed and name == "X-Frame-Options":
            continue  # the widget's frame: CSP frame-ancestors names who may embed it
        response.headers.setdefault(name, value)
    return response


async def index(_request: web.Request) -> web.FileResponse:
    """Serve the phone-first chat page."""
    return web.FileResponse(STATIC / "chat.html")


async def health(_request: web.Request) -> web.Response:
    """Answer liveness probes."""
    return web.json_response({"status": "ok"})


async def ready(request: web.Request) -> web.Response:
    """Answer readiness probes: 200 when the database answers (this gateway can take work).

    The body says whether this gateway is the elected leader and how many conversations it
    holds; 503 while the database is unreachable (a load balancer sends chats elsewhere).
    """
    m = request.app[MESSAGING]
    leader = request.app[LEADER]

    def ping() -> None:
        with m.sessions() as session:
            session.execute(text("SELECT 1"))

    try:
        await asyncio.wait_for(asyncio.to_thread(ping), 3)
    except Exception:
        return web.json_response({"status": "unavailable", "reason": "database"}, status=503)
    worker = m.worker
    return web.json_response({"status": "ready", "leader": leader.leading,
                              "conversations": len(worker.held) if worker else 0,
                              "bus": bool(m.bus and m.bus.listening.is_set())})


def setup_routes(app: web.Application) -> None:
    """Attach every route."""
    app.router.add_get("/", index)
    app.router.add_get("/health", health)
    app.router.add_get("/ready", ready)
    app.router.add_get("/ws", chat.websocket)
    app.router.add_get("/embed", cards.embed)
    app.router.add_get("/chat/cases", cards.conversation_cases)
    app.router.add_post("/telegram/webhook", telegram_webhook)
    app.router.add_static("/static", STATIC)
    public.setup(app)
    console.mount(app, app[SETTINGS])
    settings = app[SETTINGS]
    open311.mount(app, settings.database_url, settings.deadline_rules,
                  allow_loopback=settings.webhook_allow_loopback)


def init_app(settings: Settings | None = None) -> web.Application:
    """Build the web application (the app factory)."""
    app = web.Application(middlewares=[security_headers], client_max_size=256 * 1024)
    app[SETTINGS] = settings or get_settings()
    app.cleanup_ctx.append(_http_client)
    app.cleanup_ctx.append(_messaging)
    setup_routes(app)
    return app


def main() -> None:
    """Run the web app on WEB_HOST:WEB_PORT."""
    import logging

    from routing.privacy.logmask import install

    install()  # no phone or ID number in any log line
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s %(levelname)s %(message)s")
    settings = get_settings()
    web.run_app(init_app(settings), host=settings.web_host, port=settings.web_port, print=None)


if __name__ == "__main__":
    main()
