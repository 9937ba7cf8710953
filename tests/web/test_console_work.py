"""Console case work: queue, claim, mediation, 调解协议书, close and reopen, reception office."""

from __future__ import annotations

import re
from datetime import date

import pytest
from sqlalchemy import select

from fengqiao.migrate import upgrade
from gateway.app import init_app
from gateway.console.keys import TODAY as TODAY_KEY
from routing.cases import reception_days as rec
from routing.cases.life import CaseLife
from routing.persistence.case_tables import Case, CaseEvent
from routing.persistence.console_tables import AuditEntry, CannedResponse, MediationAgreement
from tests.web.console_helpers import (
    TODAY,
    assign,
    console_settings,
    csrf_of,
    draft,
    file_unassigned,
    login,
    seed_world,
)


@pytest.fixture
def world(tmp_path):
    url = f"sqlite:///{tmp_path / 'console.db'}"
    upgrade(url)
    return seed_world(url)


@pytest.fixture
async def client(aiohttp_client, world):
    app = init_app(console_settings(world.url))
    app._subapps[0][TODAY_KEY] = lambda: TODAY
    return await aiohttp_client(app)


def file(world, story: str, user: str, who: str | None = None, **kw) -> str:
    if who is None:
        return file_unassigned(world, draft(story, user, **kw))
    number = world.service.file_case(draft(story, user, **kw)).view.case_number
    assign(world, number, who, who)
    return number


async def test_queue_shows_mine_and_unassigned_with_filters_sorted_by_deadline(client, world) -> None:
    a = file(world, "邻居家的狗整夜叫，影响休息。", "web:q0000001", "med.a")
    b = file(world, "村道被建筑垃圾堵住了。", "web:q0000002", None)
    c = file(world, "楼上漏水把我家天花板泡坏了。", "web:q0000003", "med.b")
    with world.sessions.begin() as s:
        s.execute(Case.__table__.update().where(Case.case_number == a).values(due_date=date(2026, 5, 20)))
        s.execute(Case.__table__.update().where(Case.case_number == b).values(due_date=date(2026, 4, 20), risk_level="red"))
    await login(client, "med.a")
    mine = await (await client.get("/console/?view=mine")).text()
    assert a in mine and b not in mine and c not in mine
    open_ = await (await client.get("/console/?view=unassigned")).text()
    assert b in open_ and a not in open_ and c not in open_
    assert "超期7天" in open_
    red = await (await client.get("/console/?view=unassigned&risk=red&due=overdue")).text()
    assert b in red
    blue = await (await client.get("/console/?view=unassigned&risk=blue")).text()
    assert b not in blue
    # a mediator cannot ask for the whole region
    region = await (await client.get("/console/?view=region")).text()
    assert c not in region


async def test_claim_mediate_agree_print_close_and_reopen(client, world) -> None:
    number = file(world, "隔壁在我家院墙边挖沟，雨水灌进我家。", "web:w0000001", None)
    await login(client, "med.a")
    token = await csrf_of(client)
    claimed = await client.post(f"/console/cases/{number}/action", data={"csrf_token": token, "action": "claim"},
                                allow_redirects=False)
    assert claimed.status == 303
    page = await (await client.get(f"/console/cases/{number}")).text()
    assert "调解员甲" in page
    for action in ("start_mediation",):
        r = await client.post(f"/console/cases/{number}/action", data={"csrf_token": token, "action": action},
                              allow_redirects=False)
        assert r.status == 303, await r.text()
    missing = await client.post(f"/console/cases/{number}/agreements", data={"csrf_token": token, "committee": "枫源村人民调解委员会", "party1_name": "张某"})
    assert missing.status == 400 and "两方当事人" in await missing.text()
    form = {
        "csrf_token": token, "committee": "枫源村人民调解委员会",
        "party1_name": "张某", "party1_role": "申请人", "party1_details": "男，52岁，枫源村村民",
        "party2_name": "李某", "party2_role": "被申请人", "party2_details": "男，48岁，枫源村村民",
        "facts": "李某在两家院墙之间挖排水沟，雨水流入张某院内。", "issues": "排水沟走向及损失赔偿。",
        "responsibilities": "李某挖沟未与邻居协商，负主要责任。", "terms": "李某改道排水沟并赔偿张某修缮费八百元。",
        "performance_method": "现金当面交付，改道由李某自行施工", "performance_deadline": "2026-05-15",
        "mediators": "调解员甲", "signed_on": "2026-04-27",
    }
    saved = await client.post(f"/console/cases/{number}/agreements", data=form, allow_redirects=False)
    assert saved.status == 303
    page = await (await client.get(f"/console/cases/{number}")).text()
    link = re.search(rf'/console/cases/{number}/agreements/(\d+)', page).group(0)
    printed = await (await client.get(link)).text()
    for part in ("调解协议书", "当事人的基本情况", "张某", "男，52岁", "纠纷的主要事实", "争议事项", "各方当事人的责任",
                 "履行方式", "2026-05-15", "枫源村人民调解委员会（印章）", "第二十九条"):
        assert part in printed, part
    resolved = await client.post(f"/console/cases/{number}/action",
                                 data={"csrf_token": token, "action": "resolve", "reason": "双方签订调解协议书"},
                                 allow_redirects=False)
    assert resolved.status == 303
    closed = await client.post(f"/console/cases/{number}/action", data={"csrf_token": token, "action": "close"},
                               allow_redirects=False)
    assert closed.status == 303
    with world.sessions() as s:
        case = s.execute(select(Case).where(Case.case_number == number)).scalar_one()
        assert case.status == "archived"
        kinds = [e.payload.get("action") for e in s.execute(select(CaseEvent).where(CaseEvent.case_id == case.id)).scalars()]
        assert kinds[-4:] == ["start_mediation", "resolve", "follow_up", "archive"]
        assert s.execute(select(MediationAgreement)).scalar_one().parties[1]["name"] == "李某"
        edits = s.execute(select(AuditEntry).where(AuditEntry.case_number == number, AuditEntry.action == "edit")).scalars().all()
        assert len(edits) >= 5
        exports = s.execute(select(AuditEntry).where(AuditEntry.action == "export")).scalars().all()
        assert len(exports) == 1
    no_reason = await client.post(f"/console/cases/{number}/action", data={"csrf_token": token, "action": "reopen"})
    assert no_reason.status == 400
    reopened = await client.post(f"/console/cases/{number}/action",
                                 data={"csrf_token": token, "action": "reopen", "reason": "一方未按期履行"},
                                 allow_redirects=False)
    assert reopened.status == 303
    with world.sessions() as s:
        assert s.execute(select(Case.status).where(Case.case_number == number)).scalar_one() == "handling"


async def test_an_illegal_move_is_refused_with_a_message(client, world) -> None:
    number = file(world, "小区电梯坏了一个月没人修。", "web:w0000002", "med.a")
    await login(client, "med.a")
    token = await csrf_of(client)
    r = await client.post(f"/console/cases/{number}/action", data={"csrf_token": token, "action": "close"})
    assert r.status == 400
    assert "当前状态下不能" in await r.text()


async def test_notes_contacts_materials_and_canned_replies(client, world) -> None:
    number = file(world, "厂房噪音每天到半夜，多次反映无果。", "web:w0000003", "med.a", category="环境保护")
    world.service.record(number, "material_added", "citizen", "群众补充材料", {"text": "补充：噪音从晚上八点持续到凌晨一点。"})
    with world.sessions.begin() as s:
        s.add(CannedResponse(title="受理告知", body="您反映的问题已收到，我们将在规定期限内办理。", category=None))
        s.add(CannedResponse(title="劳动类", body="请提供劳动合同。", category="劳动和社会保障"))
    await login(client, "med.a")
    token = await csrf_of(client)
    r = await client.post(f"/console/cases/{number}/contacts",
                          data={"csrf_token": token, "method": "phone", "party": "投诉人", "summary": "约定周五上门查看"},
                          allow_redirects=False)
    assert r.status == 303
    bad = await client.post(f"/console/cases/{number}/contacts",
                            data={"csrf_token": token, "method": "carrier-pigeon", "party": "x", "summary": "y"})
    assert bad.status == 400
    page = await (await client.get(f"/console/cases/{number}")).text()
    assert "约定周五上门查看" in page and "电话" in page
    assert "噪音从晚上八点持续到凌晨一点" in page
    assert "受理告知" in page and "劳动类" not in page


async def test_reception_office_publishes_a_day_and_records_a_booking(client, world) -> None:
    number = file(world, "征地补偿款三年没发到位，找了好几个部门。", "web:r0000001", "med.a", category="国土资源")
    await login(client, "recv.a")
    token = await csrf_of(client, "/console/reception")
    r = await client.post("/console/reception/days", data={
        "csrf_token": token, "leader": "诸暨市副市长", "date": "2026-05-08", "start": "09:00",
        "place": "枫桥镇社会治理中心", "division": "330681104000", "topics": "land, 国土资源", "capacity": "5",
    }, allow_redirects=False)
    assert r.status == 303, await r.text()
    outside = await client.post("/console/reception/days", data={
        "csrf_token": token, "leader": "外地领导", "date": "2026-05-08", "place": "外地", "division": "330726",
        "topics": "land", "capacity": "5"})
    assert outside.status == 400
    life = CaseLife(world.sessions, lambda: TODAY)
    page = await (await client.get("/console/reception")).text()
    day_id = re.search(r'id="day-(rd-[0-9a-f]+)"', page).group(1)
    booked = life.book_slot(number, day_id, representatives=2)
    page = await (await client.get("/console/reception")).text()
    assert number in page and "国土资源（1）" in page and "剩余 4" in page
    done = await client.post(f"/console/reception/bookings/{booked.booking.id}/record", data={
        "csrf_token": token, "notes": "副市长听取陈述，责成自然资源局两周内答复", "take_charge": "1",
        "target_date": "2026-06-30"}, allow_redirects=False)
    assert done.status == 303, await done.text()
    page = await (await client.get("/console/reception")).text()
    assert "包案跟踪" in page and "2026-06-30" in page
    with world.sessions() as s:
        assert s.execute(select(Case.status).where(Case.case_number == number)).scalar_one() == "handling"
    # a mediator has no reception office
    await client.post("/console/logout", data={"csrf_token": token})
    assert (await login(client, "med.a")).status == 302
    assert (await client.get("/console/reception")).status == 403
    with pytest.raises(rec.ReceptionError):
        life.book_slot(number, "no-such-day")


async def test_baoan_of_another_region_is_neither_shown_nor_closable(client, world) -> None:
    """包案 are scoped like cases: 诸暨's reception office does not see or close 浦江's."""
    from datetime import timedelta

    number = file(world, "浦江的厂房拆迁补偿一直谈不拢，找了好几个部门。", "web:r0000002", None,
                  place="浦江县浦阳街道", category="国土资源")
    life = CaseLife(world.sessions, lambda: TODAY)
    day = rec.ReceptionDay(id="rd-pujiang01", leader="浦江县县长", date=TODAY + timedelta(days=7),
                           place="浦江县社会治理中心", division="330726", topics=("land", "国土资源"), capacity=5)
    life.publish_day(day, "recv.other")
    booked = life.book_slot(number, day.id)
    life.record_reception(booked.booking.id, notes="县长接访，包案", actor="recv.other", take_charge=True,
                          target_date=TODAY + timedelta(days=40))
    await login(client, "recv.a")
    token = await csrf_of(client, "/console/reception")
    page = await (await client.get("/console/reception")).text()
    assert number not in page
    closed = await client.post(f"/console/reception/baoan/{number}/close", data={"csrf_token": token},
                               allow_redirects=False)
    assert closed.status == 404


async def test_a_received_booking_still_takes_its_place_as_the_bot_counts(client, world) -> None:
    """The console shows as many free places as the domain offers: a received booking is taken."""
    from datetime import timedelta

    number = file(world, "征地补偿款三年没发到位，找了好几个部门。", "web:r0000003", "med.a", category="国土资源")
    life = CaseLife(world.sessions, lambda: TODAY)
    day = rec.ReceptionDay(id="rd-fengqiao1", leader="诸暨市副市长", date=TODAY + timedelta(days=7),
                           place="枫桥镇社会治理中心", division="330681104000", topics=("land", "国土资源"),
                           capacity=5)
    life.publish_day(day, "recv.a")
    booked = life.book_slot(number, day.id)
    life.record_reception(booked.booking.id, notes="副市长听取陈述", actor="recv.a")
    offered = {o.day.id: o.remaining for o in rec.offer_slots(
        [day], {day.id: [b for b in life_bookings(world, day.id)]}, today=TODAY, topics=["land"],
        divisions=["330681104000"])}
    assert offered == {day.id: 4}
    await login(client, "recv.a")
    page = await (await client.get("/console/reception")).text()
    assert "剩余 4" in page and "剩余 5" not in page


def life_bookings(world, day_id: str) -> list[rec.Booking]:
    from routing.persistence.reception import SqlReceptionRepository

    with world.sessions() as s:
        return list(SqlReceptionRepository(s).bookings_for_day(day_id))


def _clocks(world, number: str) -> dict[str, str]:
    from routing.persistence.life_tables import CaseClock

    with world.sessions() as s:
        case = s.execute(select(Case).where(Case.case_number == number)).scalar_one()
        rows = s.execute(select(CaseClock).where(CaseClock.case_id == case.id).order_by(CaseClock.id)).scalars()
        return {r.clock: r.state for r in rows}


async def test_console_claim_and_transfer_go_through_the_case_life(client, world) -> None:
    """Claiming stops the register clock (信访工作条例 第二十二条) and the due date follows the duty clock."""
    number = file_unassigned(world, draft("隔壁在我家院墙边挖沟，雨水灌进我家。", "web:w0000009"))
    assert _clocks(world, number)["petition_register"] == "running"
    await login(client, "med.a")
    token = await csrf_of(client)
    claimed = await client.post(f"/console/cases/{number}/action", data={"csrf_token": token, "action": "claim"},
                                allow_redirects=False)
    assert claimed.status == 303, await claimed.text()
    assert _clocks(world, number)["petition_register"] == "stopped"
    moved = await client.post(f"/console/cases/{number}/action", data={
        "csrf_token": token, "action": "transfer", "target": "med.b", "reason": "乙熟悉该村情况"},
        allow_redirects=False)
    assert moved.status == 303, await moved.text()
    life = CaseLife(world.sessions, lambda: TODAY)
    view = life.view(number)
    assert view.status == "assigned"
    running = [c for c in life.clocks(number) if c.state == "running" and c.clock != "petition_register"]
    assert running and view.due_date == running[-1].due
    life.audit(number)  # the stored status replays from the events
    # the register clock is not swept as overdue once the case is in someone's hands
    report = life.sweep(date(2026, 5, 8), escalate=False)
    assert all(i.clock != "petition_register" for i in report.overdue + report.near_due)
