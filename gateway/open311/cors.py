"""CORS for /open311/v2/, as browser Open311 clients expect it.

Reading is open to any web page (``Access-Control-Allow-Origin: *``), as the specification
and the existing clients expect reads to need no key. Filing and department updates are allowed
from any origin too: they authenticate with the ``api_key`` form field, never with a cookie,
so a foreign page gains nothing it could not do from a server (no credentials are ever allowed:
``*`` and no ``Access-Control-Allow-Credentials``). A preflight (``OPTIONS`` with
``Access-Control-Request-Method``, sent when a client adds ``Idempotency-Key``) is answered
``204`` for GET and POST with the headers a client may send; ``Retry-After`` is exposed so that a
rate-limited browser client can back off.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable

from aiohttp import web

ALLOW_METHODS = "GET, POST, OPTIONS"
ALLOW_HEADERS = "Content-Type, Idempotency-Key, Accept"
EXPOSE_HEADERS = "Retry-After"
MAX_AGE = "86400"

Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]


def _headers(response: web.StreamResponse) -> None:
    response.headers["Access-Control-Allow-Origin"] = "*"
    response.headers["Access-Control-Expose-Headers"] = EXPOSE_HEADERS
    vary = response.headers.get("Vary")
    if vary is None or "Origin" not in vary:
        response.headers["Vary"] = f"{vary}, Origin" if vary else "Origin"


@web.middleware
async def cors(request: web.Request, handler: Handler) -> web.StreamResponse:
    """Answer preflights; add the CORS headers to every answer (errors included)."""
    if request.method == "OPTIONS" and "Access-Control-Request-Method" in request.headers:
        wanted = request.headers["Access-Control-Request-Method"].upper()
        preflight = web.Response(status=204 if wanted in ("GET", "POST", "HEAD") else 405)
        preflight.headers["Access-Control-Allow-Methods"] = ALLOW_METHODS
        preflight.headers["Access-Control-Allow-Headers"] = ALLOW_HEADERS
        preflight.headers["Access-Control-Max-Age"] = MAX_AGE
        _headers(preflight)
        return preflight
    try:
        response = await handler(request)
    except web.HTTPException as exc:
        _headers(exc)
        raise
    _headers(response)
    return response
