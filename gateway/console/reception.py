"""Reception office (浦江经验): leaders' reception days, bookings by topic, the reception record, 包案."""

from __future__ import annotations

import asyncio
import uuid
from collections import defaultdict
from datetime import date, timedelta
from typing import Any

from aiohttp import web
from sqlalchemy import select
from sqlalchemy.orm import Session

from gateway.console import db
from gateway.console.accounts.access import Principal, covered_codes
from gateway.console.accounts.store import audit
from gateway.console.keys import LIFE
from gateway.console.security import active
from gateway.console.views import _form_dict, ip_of, render, today
from routing.cases import reception_days as rec
from routing.cases.statuses import TransitionError
from routing.cases.statuses import label as status_label
from routing.persistence.case_tables import Case
from routing.persistence.life_tables import ReceptionBookingRow, ReceptionDayRow
from routing.persistence.reception import SqlReceptionRepository
from routing.understanding.places import load_divisions

TOPIC_LABELS = {
    "labour": "劳动保障", "land": "土地山林", "property": "物业住房", "marriage_family": "婚姻家庭",
    "medical": "医疗纠纷", "traffic": "交通事故", "environment": "生态环境", "consumer": "消费维权",
    "general": "综合", "education": "教育", "fraud": "反诈", "market": "市场监管", "emergency": "应急",
}


def _require(me: Principal) -> None:
    if not me.can("reception"):
        raise web.HTTPForbidden(text="无权管理接访日")


def _case_in_region(s: Session, case_number: str, codes: set[str] | frozenset[str]) -> bool:
    """Tell whether a case's place lies in the user's region (包案 are scoped like cases)."""
    code = s.execute(select(Case.location_code).where(Case.case_number == case_number)).scalar()
    return code is not None and code in codes


def _overview(s: Session, me: Principal, day0: date) -> dict[str, Any]:
    codes = covered_codes(me.regions)
    rows = s.execute(
        select(ReceptionDayRow)
        .where(ReceptionDayRow.date >= day0 - timedelta(days=30), ReceptionDayRow.date <= day0 + timedelta(days=120))
        .order_by(ReceptionDayRow.date, ReceptionDayRow.id)
    ).scalars().all()
    days = []
    for row in rows:
        if row.division not in codes:
            continue
        bookings = s.execute(
            select(ReceptionBookingRow, Case)
            .join(Case, Case.case_number == ReceptionBookingRow.case_number)
            .where(ReceptionBookingRow.day_id == row.id)
            .order_by(ReceptionBookingRow.created_at)
        ).all()
        groups: dict[str, list[dict[str, Any]]] = defaultdict(list)
        taken = sum(1 for booking, _case in bookings if booking.status in rec.TAKING_PLACE)
        for booking, case in bookings:
            topic = case.category or "未分类"
            groups[topic].append({
                "id": booking.id, "status": booking.status, "representatives": booking.representatives,
                "case_number": case.case_number, "subject": case.subject[:60], "case_status": status_label(case.status),
            })
        days.append({"row": row, "groups": dict(sorted(groups.items())), "remaining": row.capacity - taken,
                     "topics": [TOPIC_LABELS.get(t, t) for t in row.topics or []]})
    repo = SqlReceptionRepository(s)
    baoan = [b for b in repo.open_baoan() if _case_in_region(s, b.case_id, codes)]
    index = load_divisions()
    divisions = sorted((index.get(c) for c in codes), key=lambda d: d.code if d else "")
    return {"days": days, "baoan": baoan, "divisions": [d for d in divisions if d is not None]}


async def reception_page(request: web.Request, error: str | None = None, status: int = 200) -> web.Response:
    """Reception days of the user's region, their bookings grouped by topic, and open 包案."""
    me = active(request).principal
    _require(me)
    day0 = today(request)
    ctx = await db.run(request, lambda s: _overview(s, me, day0))
    return render(request, "reception.html", status=status, error=error, today=day0, topic_labels=TOPIC_LABELS,
                  **ctx)


async def reception_get(request: web.Request) -> web.StreamResponse:
    """GET handler of the reception page."""
    return await reception_page(request)


async def day_post(request: web.Request) -> web.StreamResponse:
    """Publish a reception day (leader, date, place, topics, capacity)."""
    me = active(request).principal
    _require(me)
    form = _form_dict(await request.post())
    try:
        division = form.get("division", "")
        if division not in covered_codes(me.regions):
            raise ValueError("接访地点须在本辖区内。")
        leader, place = form.get("leader", "").strip()[:64], form.get("place", "").strip()[:200]
        if not leader or not place:
            raise ValueError("请填写接访领导和地点。")
        topics = tuple(t.strip() for t in form.get("topics", "").replace("，", ",").split(",") if t.strip())
        day = rec.ReceptionDay(
            id=f"rd-{uuid.uuid4().hex[:10]}", leader=leader, date=date.fromisoformat(form.get("date", "")),
            place=place, division=division, topics=topics or ("general",), capacity=int(form.get("capacity", "0")),
            start=form.get("start", "09:00") or "09:00",
        )
        if day.capacity < 1 or day.capacity > 100:
            raise ValueError("接待名额应为1至100。")
        published = await asyncio.to_thread(request.app[LIFE].publish_day, day, me.person_id)
    except (ValueError, rec.ReceptionError) as exc:
        message = str(exc) if any("\u4e00" <= ch <= "\u9fff" for ch in str(exc)) else "接访日信息有误，请检查日期和名额。"
        return await reception_page(request, error=message, status=400)
    await db.run(request, lambda s: audit(s, me.user_id, me.username, "edit",
                                          {"what": "reception_day", "day": published.id}, ip=ip_of(request)))
    raise web.HTTPSeeOther("/console/reception")


async def record_post(request: web.Request) -> web.StreamResponse:
    """Record a reception; optionally the leader takes the case in charge (包案) until a target date."""
    me = active(request).principal
    _require(me)
    booking_id = request.match_info["booking"]
    form = _form_dict(await request.post())
    codes = covered_codes(me.regions)

    def check(s: Session) -> str:
        row = s.get(ReceptionBookingRow, booking_id)
        day = s.get(ReceptionDayRow, row.day_id) if row else None
        if row is None or day is None or day.division not in codes:
            raise LookupError(booking_id)
        return row.case_number

    try:
        case_number = await db.run(request, check)
    except LookupError:
        raise web.HTTPNotFound(text="预约不存在或不在本辖区") from None
    notes = form.get("notes", "").strip()[:4000]
    take_charge = form.get("take_charge") == "1"
    try:
        if not notes:
            raise ValueError("请填写接访情况。")
        target = date.fromisoformat(form["target_date"]) if form.get("target_date") else None
        await asyncio.to_thread(request.app[LIFE].record_reception, booking_id, notes=notes, actor=me.person_id,
                                take_charge=take_charge, target_date=target)
    except (ValueError, rec.ReceptionError, TransitionError) as exc:
        message = str(exc) if any("\u4e00" <= ch <= "\u9fff" for ch in str(exc)) else "无法记录此次接访。"
        return await reception_page(request, error=message, status=400)
    await db.run(request, lambda s: audit(s, me.user_id, me.username, "edit",
                                          {"what": "reception_record", "booking": booking_id, "baoan": take_charge},
                                          case_number=case_number, ip=ip_of(request)))
    raise web.HTTPSeeOther("/console/reception")


async def baoan_close_post(request: web.Request) -> web.StreamResponse:
    """Close the open 包案 of a resolved case."""
    me = active(request).principal
    _require(me)
    number = request.match_info["number"]
    codes = covered_codes(me.regions)
    if not await db.run(request, lambda s: _case_in_region(s, number, codes)):
        raise web.HTTPNotFound(text="没有这个案件")
    try:
        await asyncio.to_thread(request.app[LIFE].close_baoan, number, me.person_id)
    except (ValueError, LookupError) as exc:
        return await reception_page(request, error=f"无法结束包案：{exc}", status=400)
    await db.run(request, lambda s: audit(s, me.user_id, me.username, "edit", {"what": "baoan_close"},
                                          case_number=number[:20], ip=ip_of(request)))
    raise web.HTTPSeeOther("/console/reception")


def setup(app: web.Application) -> None:
    """Attach the reception-office routes."""
    app.router.add_get("/reception", reception_get, name="console.reception")
    app.router.add_post("/reception/days", day_post, name="console.reception_day")
    app.router.add_post("/reception/bookings/{booking}/record", record_post, name="console.reception_record")
    app.router.add_post("/reception/baoan/{number}/close", baoan_close_post, name="console.baoan_close")
