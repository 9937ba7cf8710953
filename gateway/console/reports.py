"""The centre's situation reports: download (html, pdf, xlsx, csv), stored reports, the cases behind a rate.

Roles and regions as the desk (``gateway.console.centre``): a region outside the user's answers 404.
A month that has a stored report downloads that report as it was; another is built from the
monthly tallies, refreshed first for the region's counties.
"""

from __future__ import annotations

import asyncio
import re
from typing import Any
from urllib.parse import quote, urlencode

from aiohttp import web
from sqlalchemy.orm import Session

from gateway.console import db
from gateway.console.accounts.store import audit
from gateway.console.centre import _codes, _filter, _me
from gateway.console.keys import SESSIONS
from gateway.console.views import ip_of, render, today
from routing.centre import places
from routing.persistence.rates_tables import StoredReport
from routing.rates import archive, monthly, report
from routing.rates import render as formats
from routing.rates.compute import figures
from routing.rates.definitions import load_rates
from routing.rates.facts import derive_all
from routing.rates.store import load

PERIOD = re.compile(r"^\d{4}-(0[1-9]|1[0-2])$")


def _period(request: web.Request) -> str:
    value = request.query.get("period", "")
    if not value:
        return report.shift(archive.month_of(today(request)), -1)
    if not PERIOD.match(value):
        raise web.HTTPBadRequest(text="期间格式应为 YYYY-MM")
    if value > archive.month_of(today(request)):
        raise web.HTTPBadRequest(text="期间不能晚于本月")
    return value


def _rate_link(region: str, period: str) -> Any:
    return lambda rid: "/console/centre/rates/cases?" + urlencode({"region": region, "period": period, "rate": rid})


async def reports_page(request: web.Request) -> web.StreamResponse:
    """The download form and the stored reports of the user's regions."""
    me = _me(request)
    flt = _filter(request, me)

    def work(s: Session) -> list[StoredReport]:
        return archive.listing(s, _codes(me))

    stored = await db.run(request, work)
    return render(request, "centre_reports.html", flt=flt, stored=stored, formats=formats.FORMATS,
                  period=report.shift(archive.month_of(today(request)), -1), label=places.label)


async def download(request: web.Request) -> web.StreamResponse:
    """One report in the asked format, as an attachment."""
    me = _me(request)
    flt = _filter(request, me)
    fmt = request.match_info["fmt"]
    if fmt not in formats.FORMATS:
        raise web.HTTPNotFound(text="未知格式")
    period = _period(request)
    sessions = request.app[SESSIONS]

    def build() -> dict[str, Any]:
        with sessions.begin() as s:
            row = archive.latest(s, flt.region, period)
            audit(s, me.user_id, me.username, "report_download", {"region": flt.region, "period": period,
                                                                  "format": fmt}, ip=ip_of(request))
            if row is not None:
                return dict(row.data)
        with sessions() as s:
            months = monthly.stale(s, flt.region, [report.shift(period, -1), period])
        if months:
            monthly.refresh(sessions, months, flt.region)
        with sessions() as s:
            return report.build(s, flt.region, period)

    data = await asyncio.to_thread(build)
    try:
        body = await asyncio.to_thread(formats.render, data, fmt,
                                       **({"link": _rate_link(flt.region, period)} if fmt == "html" else {}))
    except formats.RenderError as exc:
        raise web.HTTPServiceUnavailable(text=f"无法生成该格式：{exc}") from exc
    name = f"{places.label(flt.region)}-{period}-平安形势分析.{fmt}"
    disposition = "inline" if fmt == "html" else f"attachment; filename*=UTF-8''{quote(name)}"
    return web.Response(body=body, headers={"Content-Type": formats.CONTENT_TYPES[fmt],
                                            "Content-Disposition": disposition, "Cache-Control": "no-store"})


async def stored_page(request: web.Request) -> web.StreamResponse:
    """A stored report exactly as it was generated."""
    me = _me(request)
    rid = request.match_info["id"]

    def work(s: Session) -> str:
        row = s.get(StoredReport, int(rid)) if rid.isdigit() and len(rid) < 10 else None
        if row is None or row.region not in _codes(me):
            raise web.HTTPNotFound(text="报告不存在或无权查看")
        audit(s, me.user_id, me.username, "report_stored", {"report": row.id}, ip=ip_of(request))
        return row.html

    return web.Response(text=await db.run(request, work), content_type="text/html")


async def rate_cases(request: web.Request) -> web.StreamResponse:
    """The cases behind one rate of a region and month: the denominator, those counted above marked."""
    me = _me(request)
    flt = _filter(request, me)
    period = _period(request)
    book = load_rates()
    rid = request.query.get("rate", "")
    if rid not in book.ids:
        raise web.HTTPNotFound(text="未知比率")

    def work(s: Session) -> Any:
        fig = figures(derive_all(load(s, flt.region, [period]), today(request)), book, [period])[rid]
        audit(s, me.user_id, me.username, "rate_cases", {"region": flt.region, "rate": rid}, ip=ip_of(request))
        return fig

    fig = await db.run(request, work)
    return render(request, "centre_rate_cases.html", fig=fig, region=places.label(flt.region), period=period,
                  counted=set(fig.numerator_cases))


def setup(app: web.Application) -> None:
    """Attach the report routes."""
    r = app.router
    r.add_get("/centre/reports", reports_page, name="centre.reports")
    r.add_get("/centre/report.{fmt}", download, name="centre.report")
    r.add_get("/centre/reports/{id}", stored_page, name="centre.stored_report")
    r.add_get("/centre/rates/cases", rate_cases, name="centre.rate_cases")
