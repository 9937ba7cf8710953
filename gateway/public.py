"""``/public``: the county's figures without login, and the 平安浙江文化周 survey.

The page reads only the precomputed monthly tallies (``routing.rates.public``), cached for a
minute per region, so it stays fast at a million cases. During the second week of May it shows a
banner and a three-question survey: one answer per browser per day (a random cookie, kept only as
a keyed hash with the day), rate-limited per address in memory, nothing personal stored.
"""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import json
import os
import secrets
import time
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from aiohttp import web
from jinja2 import Environment, FileSystemLoader, StrictUndefined, select_autoescape
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import sessionmaker

from gateway.keys import SETTINGS
from routing.centre import places
from routing.persistence.db import make_engine, make_session_factory
from routing.persistence.rates_tables import SurveyAnswer
from routing.rates import public as figures_of
from routing.rates.render import ASSETS, echarts_path

SESSIONS = web.AppKey("public_sessions", sessionmaker)
CACHE = web.AppKey("public_cache", dict)
LIMITER = web.AppKey("public_limiter", dict)
TEMPLATES = Path(__file__).resolve().parent / "templates"
COOKIE = "fq_visitor"
CACHE_SECONDS = 60.0
ANSWERS = {"participated": ("yes", "no"), "satisfied": ("satisfied", "basically", "unsatisfied"),
           "aware": ("yes", "no")}
RATE_LIMIT = (10, 60.0)  # posts per address per window (seconds)
PAGE_CSP = ("default-src 'self'; img-src 'self' data:; style-src 'self'; script-src 'self'; "
            "form-action 'self'; frame-ancestors 'none'; base-uri 'none'")


def _today() -> Any:
    return (datetime.now(UTC) + timedelta(hours=8)).date()


def default_region() -> str:
    """The county the page opens on (``PUBLIC_REGION``, default 诸暨市)."""
    return os.environ.get("PUBLIC_REGION", "330681")


def survey_mode() -> str:
    """``auto`` (the second week of May), ``open`` or ``closed`` (``SURVEY_WEEK``)."""
    mode = os.environ.get("SURVEY_WEEK", "auto")
    return mode if mode in ("auto", "open", "closed") else "auto"


def _secret(app: web.Application) -> bytes:
    raw = os.environ.get("SURVEY_SECRET") or app[SETTINGS].database_url
    return hashlib.sha256(("fq-survey:" + raw).encode()).digest()


async def _database(app: web.Application) -> AsyncIterator[None]:
    engine = make_engine(app[SETTINGS].database_url)
    app[SESSIONS] = make_session_factory(engine)
    yield
    engine.dispose()


def _env() -> Environment:
    return Environment(loader=FileSystemLoader(str(TEMPLATES)), autoescape=select_autoescape(default=True),
                       undefined=StrictUndefined, trim_blocks=True, lstrip_blocks=True)


_ENV = _env()


def _region(request: web.Request) -> str:
    region = request.query.get("region", "") or default_region()
    div = places.division(region) if len(region) <= 16 else None
    if div is None or div.level not in ("province", "city", "county"):
        raise web.HTTPBadRequest(text="未知的地区代码（应为县、市或省的代码）")
    return region


async def _figures(request: web.Request, region: str) -> dict[str, Any]:
    cache = request.app[CACHE]
    hit = cache.get(region)
    now = time.monotonic()
    if hit and now - hit[0] < CACHE_SECONDS:
        return hit[1]  # type: ignore[no-any-return]
    sessions = request.app[SESSIONS]

    def work() -> dict[str, Any]:
        with sessions() as s:
            return figures_of.figures(s, region, _today())

    data = await asyncio.to_thread(work)
    cache[region] = (now, data)
    return data


async def page(request: web.Request) -> web.StreamResponse:
    """The public page."""
    region = _region(request)
    data = await _figures(request, region)
    open_ = figures_of.survey_open(_today(), survey_mode())
    path = places.index().path(region)
    city = next((d.code for d in path if d.level == "city"), region)
    counties = [(d.code, d.name) for d in places.index().children(city) if d.level == "county"]
    body = _ENV.get_template("public.html").render(d=data, data_json=json.dumps(data, ensure_ascii=False)
                                                   .replace("</", "<\\/"), survey=open_, counties=counties)
    resp = web.Response(text=body, content_type="text/html", headers={"Content-Security-Policy": PAGE_CSP,
                                                                     "Cache-Control": "no-store"})
    if open_ and COOKIE not in request.cookies:
        resp.set_cookie(COOKIE, secrets.token_urlsafe(18), max_age=400 * 86400, httponly=True, samesite="Strict",
                        path="/public", secure=request.secure)
    return resp


async def data_json(request: web.Request) -> web.Response:
    """The same figures as JSON."""
    return web.json_response(await _figures(request, _region(request)), dumps=lambda o: json.dumps(o, ensure_ascii=False))


def _limited(request: web.Request) -> bool:
    n, window = RATE_LIMIT
    now = time.monotonic()
    buckets = request.app[LIMITER]
    if len(buckets) > 10000:
        buckets.clear()
    key = hashlib.sha256((request.remote or "?").encode()).hexdigest()[:16]  # never the address itself
    hits = [t for t in buckets.get(key, []) if now - t < window]
    hits.append(now)
    buckets[key] = hits
    return len(hits) > n


async def survey(request: web.Request) -> web.Response:
    """One answer: 201, or 4xx with the reason (closed, bad input, answered today, too many)."""
    if _limited(request):
        return web.json_response({"error": "提交过于频繁，请稍后再试"}, status=429)
    day = _today()
    if not figures_of.survey_open(day, survey_mode()):
        return web.json_response({"error": "问卷仅在平安浙江文化周（每年五月第二周）开放"}, status=403)
    token = request.cookies.get(COOKIE, "")
    if not 16 <= len(token) <= 64:
        return web.json_response({"error": "请先打开问卷页面再提交"}, status=400)
    if request.content_length is not None and request.content_length > 2048:
        return web.json_response({"error": "提交内容过长"}, status=413)
    form = await request.post()
    answer: dict[str, str] = {}
    for field, allowed in ANSWERS.items():
        value = form.get(field)
        if not isinstance(value, str) or value not in allowed:
            return web.json_response({"error": f"请回答每一个问题（{field}）"}, status=400)
        answer[field] = value
    region = form.get("region")
    if not isinstance(region, str) or places.division(region) is None:
        return web.json_response({"error": "未知的地区代码"}, status=400)
    visitor = hmac.new(_secret(request.app), f"{token}|{day.isoformat()}".encode(), hashlib.sha256).hexdigest()[:40]
    sessions = request.app[SESSIONS]

    def work() -> bool:
        try:
            with sessions.begin() as s:
                s.add(SurveyAnswer(day=day, visitor=visitor, region=region, **answer))
            return True
        except IntegrityError:
            return False

    if not await asyncio.to_thread(work):
        return web.json_response({"error": "您今天已经回答过了，感谢参与"}, status=409)
    return web.json_response({"ok": True, "message": "感谢您的评价"}, status=201)


async def asset(request: web.Request) -> web.StreamResponse:
    """The report's and the page's own CSS and JS (``routing/rates/assets``)."""
    name = request.match_info["name"]
    if name not in ("report.css", "report.js", "public.js", "public.css"):
        raise web.HTTPNotFound()
    return web.FileResponse(ASSETS / name, headers={"Cache-Control": "max-age=3600"})


async def echarts(_request: web.Request) -> web.StreamResponse:
    """Apache ECharts from its npm package (installed by ``make setup`` into vendor/node_modules)."""
    path = echarts_path()
    if not path.exists():
        raise web.HTTPNotFound(text="ECharts is not installed (make setup)")
    return web.FileResponse(path, headers={"Cache-Control": "max-age=86400", "Content-Type": "text/javascript"})


def setup(app: web.Application) -> None:
    """Attach ``/public``, its survey and the served scripts."""
    app[CACHE] = {}
    app[LIMITER] = {}
    app.cleanup_ctx.append(_database)
    app.router.add_get("/public", page)
    app.router.add_get("/public/data.json", data_json)
    app.router.add_post("/public/survey", survey)
    app.router.add_get("/assets/{name}", asset)
    app.router.add_get("/vendor/echarts.min.js", echarts)
