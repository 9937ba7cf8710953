"""The social governance centre's desk at ``/console/centre`` (roles centre and director).

Board (refreshes itself by polling ``board.json``), drill-down lists, the early-warning feed with
its closed loop, 挂牌督办, and the grid admission list. Every figure comes from
``routing.centre``; nothing here edits a count. Anything outside the user's regions answers 404.
"""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any

from aiohttp import web
from sqlalchemy import select
from sqlalchemy.orm import Session

from gateway.console import db
from gateway.console.accounts import casework as cw
from gateway.console.accounts.access import Principal, covered_codes
from gateway.console.accounts.store import audit
from gateway.console.security import active
from gateway.console.views import format_datetime, ip_of, render, today
from routing.cases.statuses import STATUS_LABELS
from routing.centre import board as desk
from routing.centre import places, supervision, warnings
from routing.centre.config import load_grid_admission
from routing.centre.feed import feed, level_of, visible
from routing.persistence.case_tables import Case, CaseEvent
from routing.persistence.centre_tables import CentreAlert, Supervision

CENTRE_ROLES = frozenset({"centre", "director"})
MAX_TEXT = 2000


def _me(request: web.Request, centre_only: bool = True) -> Principal:
    me = active(request).principal
    if centre_only and me.role not in CENTRE_ROLES:
        raise web.HTTPForbidden(text="仅社会治理中心和调委会主任可以使用")
    return me


def _codes(me: Principal) -> frozenset[str]:
    return covered_codes(me.regions)


def _date(value: str | None) -> date | None:
    try:
        return date.fromisoformat(value) if value else None
    except ValueError:
        return None


def _filter(request: web.Request, me: Principal) -> desk.DeskFilter:
    q = request.query
    region = q.get("region") or (me.regions[0] if me.regions else "")
    if region not in _codes(me) or places.division(region) is None:
        raise web.HTTPNotFound(text="辖区不存在或无权查看")
    return desk.DeskFilter(region=region, category=q.get("category", "")[:32], category_l2=q.get("l2", "")[:64],
                           category_l3=q.get("l3", "")[:64], dispute_type=q.get("dispute_type", "")[:32],
                           risk=q.get("risk", "") if q.get("risk", "") in desk.RISKS else "",
                           channel=q.get("channel", "")[:16], date_from=_date(q.get("from")), date_to=_date(q.get("to")))


def _link(flt: desk.DeskFilter, **extra: str | None) -> str:
    from urllib.parse import urlencode

    return "/console/centre/cases?" + urlencode({**flt.query_args(), **{k: v for k, v in extra.items() if v is not None}})


def _numbers(board: desk.Board) -> dict[str, int]:
    out = {f"total:{m}": board.total.values[m] for m in desk.METRICS}
    for row in board.divisions:
        out.update({f"div:{row.key}:{m}": row.counts.values[m] for m in desk.METRICS})
    for row in board.bodies:
        out.update({f"body:{row.key}:{m}": row.counts.values[m] for m in desk.METRICS})
    return out


# ---------------------------------------------------------------- board and lists

async def board_page(request: web.Request) -> web.StreamResponse:
    """The live board with the early-warning panel and workload."""
    me = _me(request)
    flt = _filter(request, me)
    day = today(request)

    def work(s: Session) -> dict[str, Any]:
        board = desk.build(s, flt, day)
        audit(s, me.user_id, me.username, "centre_board", {"region": flt.region}, ip=ip_of(request))
        return {"board": board, "alerts": feed(s, _codes(me), min_level=level_of(me.regions))[:30],
                "loads": desk.workload(s, flt)[:30]}

    ctx = await db.run(request, work)
    from routing.orgs.registry import load_orgs
    from routing.understanding.classifier.data import level1_categories

    regions = [(c, places.label(c)) for c in me.regions if places.division(c)]
    return render(request, "centre.html", flt=flt, link=lambda **kw: _link(flt, **kw), metrics=desk.METRICS,
                  metric_labels=desk.METRIC_LABELS, risks=desk.RISKS, channels=desk.CHANNELS,
                  categories=level1_categories(), dispute_types=load_orgs().dispute_types, regions=regions,
                  children=[(d.code, d.name) for d in places.index().children(flt.region)], **ctx)


async def board_json(request: web.Request) -> web.Response:
    """The board's numbers (polled by the page every 30 seconds)."""
    me = _me(request)
    flt = _filter(request, me)
    day = today(request)

    def work(s: Session) -> dict[str, Any]:
        board = desk.build(s, flt, day)
        items = feed(s, _codes(me), min_level=level_of(me.regions))
        return {"numbers": _numbers(board), "alerts_open": sum(1 for i in items if i.is_open)}

    return web.json_response(await db.run(request, work), headers={"Cache-Control": "no-store"})


async def cases_page(request: web.Request) -> web.StreamResponse:
    """The cases behind one board number (each row opens the case)."""
    me = _me(request)
    flt = _filter(request, me)
    q = request.query
    metric = q.get("metric", "open") if q.get("metric", "open") in desk.METRICS else "open"
    division = q.get("div", "")
    if division and division not in _codes(me):
        raise web.HTTPNotFound(text="辖区不存在或无权查看")
    body = q.get("body")
    try:
        page = max(1, int(q.get("page", "1")))
    except ValueError:
        page = 1
    day = today(request)

    def work(s: Session) -> tuple[list[Case], bool]:
        rows, more = desk.list_cases(s, flt, day, metric, division, body, page)
        audit(s, me.user_id, me.username, "centre_list", {"metric": metric, "region": flt.region}, ip=ip_of(request))
        return rows, more

    rows, more = await db.run(request, work)
    return render(request, "centre_cases.html", rows=rows, more=more, page=page, flt=flt, metric=metric,
                  metric_label=desk.METRIC_LABELS[metric], statuses=STATUS_LABELS, risks=desk.RISKS, day=day,
                  division_label=places.label(division) if division else "", body=body,
                  here=_link(flt, metric=metric, div=division or None, body=body))


# ---------------------------------------------------------------- alerts

def _alert(s: Session, me: Principal, alert_id: str) -> CentreAlert:
    alert = s.get(CentreAlert, int(alert_id)) if alert_id.isdigit() and len(alert_id) < 10 else None
    if alert is None or not visible(alert, _codes(me)):
        raise web.HTTPNotFound(text="预警不存在或无权查看")
    return alert


def _targets(s: Session, me: Principal, day: date) -> dict[str, list[tuple[str, str]]]:
    from routing.orgs.registry import load_orgs
    from routing.persistence.life_tables import ReceptionDayRow

    codes = _codes(me)
    bodies = [(b.id, b.name + ("（默认）" if b.default else "")) for b in load_orgs().bodies.values()
              if b.division in codes and b.tier != "department"]
    people = [(u.username, f"{u.display_name}（{u.role}）") for u in cw.colleagues(s, me)]
    days = [(d.id, f"{d.date.isoformat()} {d.leader}（{d.place}）") for d in s.execute(
        select(ReceptionDayRow).where(ReceptionDayRow.date >= day, ReceptionDayRow.division.in_(sorted(codes)))
        .order_by(ReceptionDayRow.date).limit(20)).scalars()]
    return {"body": bodies, "person": people, "reception": days}


async def alert_page(request: web.Request) -> web.StreamResponse:
    """One alert: reason, member cases, steps, and the next step of the loop."""
    me = _me(request)
    day = today(request)

    def work(s: Session) -> dict[str, Any]:
        alert = _alert(s, me, request.match_info["alert"])
        audit(s, me.user_id, me.username, "centre_alert", {"alert": alert.id}, ip=ip_of(request))
        steps = [{"kind": e.kind, "actor": e.actor, "reason": e.reason or "", "at": format_datetime(e.created_at)}
                 for e in warnings.history(s, alert.id)]
        return {"alert": alert, "members": warnings.member_cases(s, alert), "steps": steps,
                "targets": _targets(s, me, day)}

    ctx = await db.run(request, work)
    return render(request, "centre_alert.html", kinds=warnings.KIND_LABELS, states=warnings.STATE_LABELS,
                  levels=warnings.LEVEL_LABELS, statuses=STATUS_LABELS, **ctx)


async def _alert_step(request: web.Request, change) -> web.StreamResponse:  # type: ignore[no-untyped-def]
    me = _me(request)
    form = {k: v for k, v in (await request.post()).items() if isinstance(v, str)}
    alert_id = request.match_info["alert"]
    day = today(request)

    def work(s: Session) -> int:
        alert = _alert(s, me, alert_id)
        change(s, me, alert, form, day)
        audit(s, me.user_id, me.username, "centre_alert_step", {"alert": alert.id, "state": alert.state},
              ip=ip_of(request))
        return alert.id

    try:
        found = await db.run(request, work)
    except (warnings.AlertError, supervision.SupervisionError) as exc:
        raise web.HTTPBadRequest(text=str(exc)) from None
    raise web.HTTPSeeOther(f"/console/centre/alerts/{found}")


def _actor(me: Principal) -> str:
    return f"staff:{me.username}"


async def alert_ack(request: web.Request) -> web.StreamResponse:
    """预警 → 确认."""
    return await _alert_step(request, lambda s, me, a, f, d: warnings.acknowledge(s, a, _actor(me),
                                                                                 f.get("note", "")[:MAX_TEXT]))


async def alert_assess(request: web.Request) -> web.StreamResponse:
    """研判."""
    return await _alert_step(request, lambda s, me, a, f, d: warnings.assess(s, a, _actor(me),
                                                                            f.get("note", "")[:MAX_TEXT]))


async def alert_assign(request: web.Request) -> web.StreamResponse:
    """交办 to a body, a person or a reception day of the user's region."""
    def change(s: Session, me: Principal, alert: CentreAlert, form: dict[str, str], day: date) -> None:
        kind = form.get("kind", "")
        target = form.get(f"target_{kind}", "")
        options = dict(_targets(s, me, day).get(kind, []))
        if target not in options:
            raise warnings.AlertError("交办对象不在本辖区")
        warnings.assign(s, alert, _actor(me), kind, target, options[target], form.get("note", "")[:MAX_TEXT])

    return await _alert_step(request, change)


# ---------------------------------------------------------------- 挂牌督办

def _supervision(s: Session, me: Principal, sup_id: str) -> Supervision:
    sup = s.get(Supervision, int(sup_id)) if sup_id.isdigit() and len(sup_id) < 10 else None
    codes = _codes(me)
    if sup is None or not ({sup.division_code, sup.county_code} & codes):
        raise web.HTTPNotFound(text="督办事项不存在或无权查看")
    return sup


def visible_supervisions(s: Session, me: Principal, active_only: bool = False) -> list[Supervision]:
    """Supervisions of the user's regions, newest first."""
    codes = sorted(_codes(me))
    q = select(Supervision).where((Supervision.division_code.in_(codes)) | (Supervision.county_code.in_(codes)))
    if active_only:
        q = q.where(Supervision.state.in_(supervision.ACTIVE))
    return list(s.execute(q.order_by(Supervision.id.desc()).limit(200)).scalars())


async def supervisions_page(request: web.Request) -> web.StreamResponse:
    """Everything under 挂牌督办 in my regions, with its state; the form to add one."""
    me = _me(request)
    day = today(request)

    def work(s: Session) -> dict[str, Any]:
        rows = visible_supervisions(s, me)
        numbers = dict(s.execute(select(Case.id, Case.case_number).where(
            Case.id.in_([r.case_id for r in rows if r.case_id]))).all())
        return {"rows": rows, "numbers": numbers, "bodies": _targets(s, me, day)["body"]}

    ctx = await db.run(request, work)
    return render(request, "centre_supervisions.html", states=supervision.STATE_LABELS, day=day,
                  default_deadline=day + timedelta(days=7), sup=None, **ctx)


async def supervision_create(request: web.Request) -> web.StreamResponse:
    """Put a case or a body under 挂牌督办."""
    me = _me(request)
    form = {k: v for k, v in (await request.post()).items() if isinstance(v, str)}
    day = today(request)
    deadline = _date(form.get("deadline")) or day + timedelta(days=7)

    def work(s: Session) -> int:
        reason = form.get("reason", "")[:MAX_TEXT]
        if form.get("target") == "case":
            try:
                case = cw.load_case(s, me, form.get("case_number", "")[:20])
            except cw.CaseHidden:
                raise web.HTTPNotFound(text="案件不存在或无权查看") from None
            sup = supervision.place_on_case(s, case, _actor(me), reason, deadline, day)
        else:
            if form.get("body_id", "") not in dict(_targets(s, me, day)["body"]):
                raise web.HTTPNotFound(text="单位不存在或无权督办")
            sup = supervision.place_on_body(s, form["body_id"], _actor(me), reason, deadline, day)
        audit(s, me.user_id, me.username, "supervise", {"supervision": sup.id}, ip=ip_of(request))
        return sup.id

    try:
        sup_id = await db.run(request, work)
    except supervision.SupervisionError as exc:
        raise web.HTTPBadRequest(text=str(exc)) from None
    raise web.HTTPSeeOther(f"/console/centre/supervisions/{sup_id}")


async def supervision_page(request: web.Request) -> web.StreamResponse:
    """One supervision with its steps; the body answers here, the centre lifts it here."""
    me = _me(request, centre_only=False)

    def work(s: Session) -> dict[str, Any]:
        sup = _supervision(s, me, request.match_info["sup"])
        number = s.execute(select(Case.case_number).where(Case.id == sup.case_id)).scalar() if sup.case_id else None
        steps = [{"kind": e.kind, "actor": e.actor, "reason": e.reason or "", "at": format_datetime(e.created_at)}
                 for e in supervision.history(s, sup.id)]
        audit(s, me.user_id, me.username, "view_supervision", {"supervision": sup.id}, ip=ip_of(request))
        return {"sup": sup, "number": number, "steps": steps}

    ctx = await db.run(request, work)
    return render(request, "centre_supervisions.html", states=supervision.STATE_LABELS, rows=[], numbers={},
                  bodies=[], day=today(request), default_deadline=today(request), centre=me.role in CENTRE_ROLES,
                  **ctx)


async def _supervision_step(request: web.Request, change, centre_only: bool) -> web.StreamResponse:  # type: ignore[no-untyped-def]
    me = _me(request, centre_only=centre_only)
    form = {k: v for k, v in (await request.post()).items() if isinstance(v, str)}

    def work(s: Session) -> int:
        sup = _supervision(s, me, request.match_info["sup"])
        change(s, me, sup, form)
        audit(s, me.user_id, me.username, "supervision_step", {"supervision": sup.id, "state": sup.state},
              ip=ip_of(request))
        return sup.id

    try:
        sup_id = await db.run(request, work)
    except supervision.SupervisionError as exc:
        raise web.HTTPBadRequest(text=str(exc)) from None
    raise web.HTTPSeeOther(f"/console/centre/supervisions/{sup_id}")


async def supervision_feedback(request: web.Request) -> web.StreamResponse:
    """反馈 by the supervised body (anyone who works cases in its region)."""
    def change(s: Session, me: Principal, sup: Supervision, form: dict[str, str]) -> None:
        if not me.can("work"):
            raise web.HTTPForbidden(text="无权反馈")
        supervision.answer(s, sup, _actor(me), form.get("feedback", "")[:4000])

    return await _supervision_step(request, change, centre_only=False)


async def supervision_lift(request: web.Request) -> web.StreamResponse:
    """撤销督办 (the centre)."""
    return await _supervision_step(
        request, lambda s, me, sup, form: supervision.lift(s, sup, _actor(me), form.get("reason", "")[:MAX_TEXT]),
        centre_only=True)


# ---------------------------------------------------------------- 网格事务准入清单

async def admission_page(request: web.Request) -> web.StreamResponse:
    """The grid admission list and, per month, how many matters it sent past the grid."""
    me = _me(request)
    flt = _filter(request, me)

    def work(s: Session) -> list[tuple[str, int]]:
        from collections import Counter

        stamps = s.execute(select(CaseEvent.created_at).join(Case, Case.id == CaseEvent.case_id)
                           .where(CaseEvent.kind == "grid_not_admitted", desk.region_condition(flt.region))).scalars()
        months = Counter(format_datetime(t, "%Y-%m") for t in stamps)
        return sorted(months.items(), reverse=True)[:12]

    counts = await db.run(request, work)
    return render(request, "centre_admission.html", admission=load_grid_admission(), counts=counts, flt=flt)


def setup(app: web.Application) -> None:
    """Attach the centre's routes."""
    r = app.router
    r.add_get("/centre", board_page, name="centre.board")
    r.add_get("/centre/board.json", board_json, name="centre.board_json")
    r.add_get("/centre/cases", cases_page, name="centre.cases")
    r.add_get("/centre/alerts/{alert}", alert_page, name="centre.alert")
    r.add_post("/centre/alerts/{alert}/ack", alert_ack, name="centre.alert_ack")
    r.add_post("/centre/alerts/{alert}/assess", alert_assess, name="centre.alert_assess")
    r.add_post("/centre/alerts/{alert}/assign", alert_assign, name="centre.alert_assign")
    r.add_get("/centre/supervisions", supervisions_page, name="centre.supervisions")
    r.add_post("/centre/supervisions", supervision_create, name="centre.supervision_create")
    r.add_get("/centre/supervisions/{sup}", supervision_page, name="centre.supervision")
    r.add_post("/centre/supervisions/{sup}/feedback", supervision_feedback, name="centre.supervision_feedback")
    r.add_post("/centre/supervisions/{sup}/lift", supervision_lift, name="centre.supervision_lift")
    r.add_get("/centre/admission", admission_page, name="centre.admission")
