"""The gateway web app: web chat page, its WebSocket, and health."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

from aiohttp import ClientSession, web

from fengqiao.settings import Settings, get_settings
from gateway import chat
from gateway.keys import CONVERSATIONS, HTTP, SETTINGS

STATIC = Path(__file__).parent / "static"
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


@web.middleware
async def security_headers(request: web.Request, handler):  # type: ignore[no-untyped-def]
    """Add security headers to every response."""
    response = await handler(request)
    for name, value in SECURITY_HEADERS.items():
        response.headers.setdefault(name, value)
    return response


async def index(_request: web.Request) -> web.FileResponse:
    """Serve the phone-first chat page."""
    return web.FileResponse(STATIC / "chat.html")


async def health(_request: web.Request) -> web.Response:
    """Answer liveness probes."""
    return web.json_response({"status": "ok"})


def setup_routes(app: web.Application) -> None:
    """Attach every route."""
    app.router.add_get("/", index)
    app.router.add_get("/health", health)
    app.router.add_get("/ws", chat.websocket)
    app.router.add_static("/static", STATIC)


def init_app(settings: Settings | None = None) -> web.Application:
    """Build the web application (the app factory)."""
    app = web.Application(middlewares=[security_headers], client_max_size=256 * 1024)
    app[SETTINGS] = settings or get_settings()
    app[CONVERSATIONS] = {}
    app.cleanup_ctx.append(_http_client)
    setup_routes(app)
    return app


def main() -> None:
    """Run the web app on WEB_HOST:WEB_PORT."""
    import logging

    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s %(levelname)s %(message)s")
    settings = get_settings()
    web.run_app(init_app(settings), host=settings.web_host, port=settings.web_port, print=None)


if __name__ == "__main__":
    main()
