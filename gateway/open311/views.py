"""Handlers of /open311/v2/: discovery, services, requests (list, one, file), department updates."""

from __future__ import annotations

import asyncio
import logging
import re
from typing import Any

from aiohttp import web

from gateway.open311.keys import API, LIFE, LIMITER
from gateway.open311.render import errors, respond
from routing.open311.keys import Client, authenticate
from routing.open311.requests import ApiError, parse_w3c
from routing.open311.services import Service, attributes, catalogue

FORMATS = ("json", "xml")
_CASE_NUMBER = re.compile(r"^[A-Za-z0-9-]{1,30}$")
_IDEM = re.compile(r"^[\x21-\x7e]{1,200}$")
log = logging.getLogger("fengqiao.open311")
ANONYMOUS_LIMIT = 120  # requests per minute per address without a key


def fmt_of(request: web.Request) -> str:
    """Return the format the path asks for (json when it names none we serve)."""
    fmt = request.match_info.get("fmt", "json")
    return fmt if fmt in FORMATS else "json"


async def _params(request: web.Request) -> dict[str, str]:
    params = {k: v for k, v in request.query.items()}
    if request.method == "POST":
        if request.content_type not in ("application/x-www-form-urlencoded", "multipart/form-data"):
            raise ApiError(400, "send the request form-encoded (application/x-www-form-urlencoded)")
        form = await request.post()
        params.update({k: v for k, v in form.items() if isinstance(v, str)})
    return params


async def _client(request: web.Request, params: dict[str, str], required: str | None) -> Client | None:
    key = params.get("api_key", "").strip()
    client = None
    if key:
        client = await asyncio.to_thread(_authenticate, request.app[API].sessions, key)
        if client is None:
            raise ApiError(403, "api_key is not valid")
    if required and (client is None or not client.can(required)):
        raise ApiError(403, f"this call needs an api_key with the {required} scope")
    who, limit = (f"key:{client.id}", client.rate_limit) if client else (f"ip:{request.remote}", ANONYMOUS_LIMIT)
    wait = request.app[LIMITER].wait(who, limit)
    if wait > 0:
        raise web.HTTPTooManyRequests(headers={"Retry-After": str(int(wait) + 1)})
    return client


def _authenticate(sessions, key: str) -> Client | None:  # type: ignore[no-untyped-def]
    """Check the key in autocommit: one SELECT (and, once a minute per key, the last-used UPDATE),
    no BEGIN/COMMIT round trips on every API call."""
    with sessions() as session:
        session.connection(execution_options={"isolation_level": "AUTOCOMMIT"})
        client = authenticate(session, key)
        session.commit()
        return client


# ---------------------------------------------------------------------- discovery and services
async def discovery(request: web.Request) -> web.Response:
    """Describe this endpoint (GeoReport v2 service discovery)."""
    fmt = fmt_of(request)
    base = f"{request.scheme}://{request.host}/open311/v2/"
    body = {
        "changeset": "2026-12-04T00:00:00+08:00",
        "contact": "浙江省社会治理中心 数据共享 (fengqiao)",
        "key_service": "API keys are issued by the centre's administrator (fengqiao apikey add)",
        "endpoints": [{"specification": "http://wiki.open311.org/GeoReport_v2", "url": base,
                       "changeset": "2026-12-04T00:00:00+08:00", "type": "production",
                       "formats": ["application/json", "text/xml"]}],
    }
    return respond(fmt, "discovery", body)


def service_record(service: Service) -> dict[str, Any]:
    """One entry of services.{fmt}."""
    return {"service_code": service.code, "service_name": service.name, "description": service.description,
            "metadata": True, "type": "realtime", "keywords": ",".join(service.keywords), "group": service.group}


async def services(request: web.Request) -> web.Response:
    """List the hotline taxonomy as services."""
    await _client(request, dict(request.query), None)
    return respond(fmt_of(request), "services", [service_record(s) for s in catalogue().values()])


async def service_definition(request: web.Request) -> web.Response:
    """Describe a service's attributes (the facts intake asks for)."""
    await _client(request, dict(request.query), None)
    code = request.match_info["code"]
    service = catalogue().get(code)
    if service is None:
        raise ApiError(404, f"service_code {code[:40]} is not a service of this endpoint")
    attrs = [
        {"variable": a.variable, "code": a.code, "datatype": a.datatype, "required": a.required,
         "datatype_description": None, "order": order, "description": a.description,
         **({"values": [{"key": k, "name": n} for k, n in a.values]} if a.values else {})}
        for order, a in enumerate(attributes(), start=1)
    ]
    return respond(fmt_of(request), "service_definition", {"service_code": service.code, "attributes": attrs})


# ---------------------------------------------------------------------- requests
def _comma(value: str | None) -> list[str]:
    return [v.strip() for v in (value or "").split(",") if v.strip()]


async def list_requests(request: web.Request) -> web.Response:
    """Search requests (≤ 90 days, ≤ 1,000 results, newest first)."""
    params = await _params(request)
    client = await _client(request, params, None)
    ids = _comma(params.get("service_request_id"))
    if any(not _CASE_NUMBER.match(i) for i in ids):
        raise ApiError(400, "service_request_id must be a comma list of request ids")
    status = {s.lower() for s in _comma(params.get("status"))}
    if status - {"open", "closed"}:
        raise ApiError(400, "status must be open, closed or open,closed")
    found = await asyncio.to_thread(
        request.app[API].search, client, ids=ids or None, codes=_comma(params.get("service_code")) or None,
        start=parse_w3c(params.get("start_date"), "start_date"), end=parse_w3c(params.get("end_date"), "end_date"),
        status=status)
    return respond(fmt_of(request), "service_requests", found)


async def one_request(request: web.Request) -> web.Response:
    """Read one request (a one-element list, as the specification shows)."""
    client = await _client(request, dict(request.query), None)
    number = request.match_info["id"]
    if not _CASE_NUMBER.match(number):
        raise ApiError(404, "no such request")
    found = await asyncio.to_thread(request.app[API].one, client, number)
    return respond(fmt_of(request), "service_requests", found)


async def file_request(request: web.Request) -> web.Response:
    """File a request with a key that has the write scope."""
    params = await _params(request)
    client = await _client(request, params, "write")
    assert client is not None
    idem = request.headers.get("Idempotency-Key")
    if idem is not None and not _IDEM.match(idem):
        raise ApiError(400, "Idempotency-Key must be 1-200 printable ASCII characters")
    answer = await asyncio.to_thread(request.app[API].file, client, params, idem)
    return respond(fmt_of(request), "service_requests", answer)


async def post_update(request: web.Request) -> web.Response:
    """Take a department's progress or closure of a request (write scope)."""
    params = await _params(request)
    client = await _client(request, params, "write")
    assert client is not None
    number = request.match_info["id"]
    if not _CASE_NUMBER.match(number):
        raise ApiError(404, "no such request")
    api = request.app[API]
    answer = await asyncio.to_thread(api.update, client, number, params, request.app[LIFE])
    return respond(fmt_of(request), "service_request_updates", answer)


async def not_found(request: web.Request) -> web.Response:
    """Anything else under /open311/v2/."""
    raise ApiError(404, "no such resource; see discovery.json")


@web.middleware
async def spec_errors(request: web.Request, handler):  # type: ignore[no-untyped-def]
    """Answer every failure as a GeoReport v2 error list in the requested format."""
    fmt = fmt_of(request)
    try:
        return await handler(request)
    except ApiError as exc:
        return errors(fmt, exc.status, exc.description)
    except web.HTTPException as exc:
        if exc.status < 400:
            raise
        headers = {k: v for k, v in exc.headers.items() if k in ("Retry-After", "Allow")}
        return errors(fmt, exc.status, exc.reason, headers)
    except Exception:
        log.exception("open311 %s %s failed", request.method, request.path)
        return errors(fmt, 500, "internal error; the request was not completed")
