"""Console security: session cookie, CSRF on every change, Origin checks, headers.

RELIABILITY R8: server-side sessions (logout deletes the row), HttpOnly + Secure + SameSite=Strict
cookies, a CSRF token compared in constant time on every state change, the WebSocket Origin
checked, and the pages never cached.
"""

from __future__ import annotations

import secrets
from collections.abc import Awaitable, Callable

from aiohttp import web

from gateway.console import db
from gateway.console.accounts.store import ActiveSession, csrf_ok, resolve_session
from gateway.console.keys import CONSOLE_SETTINGS

ACTIVE = web.RequestKey("console_active", object)
PRE_CSRF = "fqc_pre"  # double-submit token for the login form (before there is a session)
SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})
PUBLIC_ROUTES = frozenset({"console.login", "console.login_post"})
TOTP_ROUTES = frozenset({"console.totp", "console.totp_post", "console.logout"})
CONSOLE_HEADERS = {
    "Content-Security-Policy": (
        "default-src 'self'; connect-src 'self'; img-src 'self' data:; style-src 'self'; "
        "script-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'"
    ),
    "Cache-Control": "no-store",
    "X-Content-Type-Options": "nosniff",
    # same-origin, not no-referrer: with no-referrer browsers send `Origin: null` on form posts.
    "Referrer-Policy": "same-origin",
    "X-Frame-Options": "DENY",
}

Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]


def cookie_name(request: web.Request) -> str:
    """Return the session cookie's name (``__Host-`` prefixed when Secure)."""
    return "__Host-fqc" if request.app[CONSOLE_SETTINGS].console_cookie_secure else "fqc"


def set_session_cookie(request: web.Request, response: web.StreamResponse, token: str) -> None:
    """Set the session cookie: HttpOnly, SameSite=Strict, Secure unless configured off."""
    response.set_cookie(
        cookie_name(request), token, path="/", httponly=True, samesite="Strict",
        secure=request.app[CONSOLE_SETTINGS].console_cookie_secure,
    )


def clear_session_cookie(request: web.Request, response: web.StreamResponse) -> None:
    """Expire the session cookie in the browser."""
    response.del_cookie(cookie_name(request), path="/")


def pre_csrf(request: web.Request) -> tuple[str, bool]:
    """Return the login form's CSRF token and whether it is new (its cookie must be set)."""
    token = request.cookies.get(PRE_CSRF, "")
    if token and len(token) <= 64:
        return token, False
    return secrets.token_urlsafe(32), True


def set_pre_csrf_cookie(request: web.Request, response: web.StreamResponse, token: str) -> None:
    """Set the login form's double-submit CSRF cookie."""
    response.set_cookie(
        PRE_CSRF, token, path="/console", httponly=True, samesite="Strict",
        secure=request.app[CONSOLE_SETTINGS].console_cookie_secure,
    )


def same_origin(request: web.Request) -> bool:
    """Tell whether the request's Origin (if any) is this site or an allowed origin."""
    origin = request.headers.get("Origin")
    if origin is None:
        return True
    if origin in (f"http://{request.host}", f"https://{request.host}"):
        return True
    return origin in request.app[CONSOLE_SETTINGS].allowed_origins


def active(request: web.Request) -> ActiveSession:
    """Return the request's session (the middleware guarantees one on protected routes)."""
    value = request.get(ACTIVE)
    if not isinstance(value, ActiveSession):
        raise web.HTTPUnauthorized()
    return value


async def _given_csrf(request: web.Request) -> str | None:
    header = request.headers.get("X-CSRF-Token")
    if header:
        return header
    if request.content_type in ("application/x-www-form-urlencoded", "multipart/form-data"):
        form = await request.post()
        value = form.get("csrf_token")
        return value if isinstance(value, str) else None
    return None


def _login_redirect(request: web.Request) -> web.HTTPFound:
    return web.HTTPFound("/console/login")


@web.middleware
async def console_middleware(request: web.Request, handler: Handler) -> web.StreamResponse:
    """Authenticate, enforce the TOTP stage and CSRF, and add the console's headers."""
    try:
        response = await _guarded(request, handler)
    except web.HTTPException as exc:
        for name, value in CONSOLE_HEADERS.items():
            exc.headers[name] = value
        raise
    for name, value in CONSOLE_HEADERS.items():
        response.headers[name] = value
    return response


async def _guarded(request: web.Request, handler: Handler) -> web.StreamResponse:
    route = request.match_info.route.name or ""
    unsafe = request.method not in SAFE_METHODS
    if unsafe and not same_origin(request):
        raise web.HTTPForbidden(text="origin not allowed")
    token = request.cookies.get(cookie_name(request), "")
    session = await db.run(request, lambda s: resolve_session(s, token)) if token else None
    request[ACTIVE] = session
    if route in PUBLIC_ROUTES:
        if unsafe and not csrf_ok(request.cookies.get(PRE_CSRF, ""), await _given_csrf(request)):
            raise web.HTTPForbidden(text="CSRF token missing or wrong")
        return await handler(request)
    if session is None:
        if unsafe or request.headers.get("Upgrade", "").lower() == "websocket":
            raise web.HTTPUnauthorized(text="not signed in")
        raise _login_redirect(request)
    if session.stage != "full" and route not in TOTP_ROUTES:
        if unsafe:
            raise web.HTTPUnauthorized(text="two-factor code required")
        raise web.HTTPFound("/console/totp")
    if unsafe and not csrf_ok(session.csrf_token, await _given_csrf(request)):
        raise web.HTTPForbidden(text="CSRF token missing or wrong")
    return await handler(request)
