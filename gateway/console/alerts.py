"""Crisis alerts in the console: a banner and a sound on every page, a list, acknowledgement.

Staff see the alerts of their region, and every alert whose place is not known yet (a person
in danger who has not said where they are must reach someone). Acknowledging is an alert event
and an audit entry; a live takeover of the person's conversation works from the alert, even
before any case exists.
"""

from __future__ import annotations

from typing import Any

from aiohttp import web
from sqlalchemy.orm import Session

from gateway.console import db
from gateway.console.accounts.access import Principal, covered_codes
from gateway.console.accounts.store import audit
from gateway.console.security import active
from gateway.console.views import format_datetime, ip_of, render
from routing.cases import alerts as domain
from routing.persistence.case_tables import Alert, Case

MAX_NOTE = 500


def may_see(me: Principal, alert: Alert) -> bool:
    """Tell whether the user is on duty for the alert's place (or the place is unknown)."""
    return alert.region_code is None or alert.region_code in covered_codes(me.regions)


def _view(session: Session, alert: Alert, with_steps: bool = False) -> dict[str, Any]:
    case = session.get(Case, alert.case_id) if alert.case_id else None
    view = {
        "id": alert.id, "kind": alert.kind or "", "kind_label": domain.KIND_LABELS.get(alert.kind or "unknown",
                                                                                      alert.reason),
        "reason": alert.reason, "excerpt": alert.excerpt, "place": alert.place or "未知",
        "channel": {"web": "网页对话", "tg": "Telegram"}.get(alert.channel or "", alert.channel or "对话"),
        "created_at": format_datetime(alert.created_at, "%m-%d %H:%M:%S"),
        "acknowledged": bool(alert.acknowledged), "acknowledged_by": alert.acknowledged_by or "",
        "escalations": alert.escalations or 0, "case_number": case.case_number if case else "",
        "url": f"/console/alerts/{alert.id}",
    }
    if with_steps:
        view["steps"] = [{"kind": e.kind, "actor": e.actor, "reason": e.reason or "",
                          "at": format_datetime(e.created_at, "%m-%d %H:%M:%S")}
                         for e in domain.history(session, alert.id)]
    return view


def _visible(session: Session, me: Principal, open_only: bool) -> list[dict[str, Any]]:
    rows = domain.visible_alerts(session, None, open_only=open_only, limit=200)
    return [_view(session, a) for a in rows if may_see(me, a)][:50]


async def banner_json(request: web.Request) -> web.Response:
    """The open alerts for the banner (polled by every console page)."""
    me = active(request).principal
    items = await db.run(request, lambda s: _visible(s, me, open_only=True))
    return web.json_response({"open": len(items), "alerts": items[:5]},
                             headers={"Cache-Control": "no-store"})


async def list_page(request: web.Request) -> web.StreamResponse:
    """Every alert of my region: open ones first."""
    me = active(request).principal
    items = await db.run(request, lambda s: _visible(s, me, open_only=False))
    return render(request, "alerts.html", alerts=items, alert=None)


def _load(session: Session, me: Principal, alert_id: str) -> Alert:
    alert = session.get(Alert, int(alert_id)) if alert_id.isdigit() and len(alert_id) < 10 else None
    if alert is None or not may_see(me, alert):
        raise web.HTTPNotFound(text="预警不存在或无权查看")
    return alert


async def detail_page(request: web.Request) -> web.StreamResponse:
    """One alert: what the person wrote (masked), where, its steps, the live conversation."""
    me = active(request).principal
    alert_id = request.match_info["alert"]

    def work(s: Session) -> dict[str, Any]:
        alert = _load(s, me, alert_id)
        audit(s, me.user_id, me.username, "view_alert", {"alert": alert.id}, ip=ip_of(request))
        return _view(s, alert, with_steps=True)

    view = await db.run(request, work)
    return render(request, "alerts.html", alerts=[], alert=view)


async def acknowledge_post(request: web.Request) -> web.StreamResponse:
    """Acknowledge an alert: someone on duty has it in hand (an alert event and an audit entry)."""
    me = active(request).principal
    form = await request.post()
    note = str(form.get("note", ""))[:MAX_NOTE].strip()
    alert_id = request.match_info["alert"]

    def work(s: Session) -> int:
        alert = _load(s, me, alert_id)
        domain.acknowledge(s, alert.id, f"staff:{me.username}", note)
        audit(s, me.user_id, me.username, "acknowledge_alert", {"alert": alert.id}, ip=ip_of(request))
        return alert.id

    found = await db.run(request, work)
    raise web.HTTPSeeOther(f"/console/alerts/{found}")


async def conversation_of(request: web.Request) -> tuple[str, str]:
    """Return (label, conversation id) of a visible alert (for the live takeover)."""
    me = active(request).principal
    alert_id = request.match_info["alert"]

    def work(s: Session) -> tuple[str, str]:
        alert = _load(s, me, alert_id)
        return f"alert:{alert.id}", alert.conversation_id

    return await db.run(request, work)


def setup(app: web.Application) -> None:
    """Attach the alert routes."""
    app.router.add_get("/alerts", list_page, name="console.alerts")
    app.router.add_get("/alerts.json", banner_json, name="console.alerts_json")
    app.router.add_get("/alerts/{alert}", detail_page, name="console.alert")
    app.router.add_post("/alerts/{alert}/ack", acknowledge_post, name="console.alert_ack")
