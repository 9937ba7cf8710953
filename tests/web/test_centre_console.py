"""The centre's desk in the console: board and drill-down, the alert loop, 挂牌督办 reaching the
body's queue, and county scoping (county A gets 404 for anything of county B)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import select

from fengqiao.migrate import upgrade
from gateway.app import init_app
from gateway.console.accounts.store import create_user
from gateway.console.keys import TODAY as TODAY_KEY
from routing.cases.life import CaseLife
from routing.centre import warnings
from routing.centre.sweep import centre_pass
from routing.persistence.case_tables import Case, CaseEvent
from routing.persistence.centre_tables import CentreAlert, Supervision
from tests.integration.centre_support import PROPERTY, draft, many
from tests.web.console_helpers import (
    TODAY,
    TOTP_SECRET,
    console_settings,
    csrf_of,
    login,
    seed_world,
    totp_now,
)


@pytest.fixture
def world(tmp_path):
    url = f"sqlite:///{tmp_path / 'centre.db'}"
    upgrade(url)
    w = seed_world(url)
    with w.sessions.begin() as s:
        create_user(s, "centre.zj", "枫桥-test-password-1", "centre", ["330681"], display_name="诸暨中心值班员",
                    totp_secret=TOTP_SECRET)
        create_user(s, "centre.pj", "枫桥-test-password-1", "centre", ["330726"], display_name="浦江中心值班员",
                    totp_secret=TOTP_SECRET)
        create_user(s, "centre.sx", "枫桥-test-password-1", "centre", ["330600"], display_name="绍兴市中心值班员",
                    totp_secret=TOTP_SECRET)
    return w


@pytest.fixture
async def client(aiohttp_client, world):
    app = init_app(console_settings(world.url))
    app._subapps[0][TODAY_KEY] = lambda: TODAY
    return await aiohttp_client(app)


def _file(world, d) -> str:  # type: ignore[no-untyped-def]
    return world.service.file_case(d).view.case_number


def _hotspot(world, place: str, tag: str) -> tuple[int, list[str]]:  # type: ignore[no-untyped-def]
    numbers = [_file(world, d) for d in many(draft("老板拖欠工资三个月不发", place), 3, tag)]
    with world.sessions() as s:
        county = s.execute(select(Case.county_code).where(Case.case_number == numbers[0])).scalar_one()
        alert = s.execute(select(CentreAlert).where(CentreAlert.kind == "hotspot",
                                                    CentreAlert.county_code == county)).scalar_one()
        return alert.id, numbers


async def _post(client, path: str, data: dict, page: str) -> int:  # type: ignore[no-untyped-def]
    token = await csrf_of(client, page)
    response = await client.post(path, data={"csrf_token": token, **data}, allow_redirects=False)
    return response.status


async def test_board_numbers_link_to_their_cases(client, world) -> None:
    red = _file(world, draft("他们说再不给钱就去堵路拉横幅，还要同归于尽", "诸暨市枫桥镇枫源村", user="web:b1"))
    plain = _file(world, draft("物业不修电梯", "诸暨市店口镇", PROPERTY, user="web:b2", dispute_type="property_mgmt"))
    far = _file(world, draft("拖欠工资", "浦江县白马镇", user="web:b3"))
    assert (await login(client, "centre.zj", code=totp_now())).headers["Location"] == "/console/"
    page = await client.get("/console/centre")
    body = await page.text()
    assert page.status == 200 and "诸暨市" in body and "枫桥镇" in body
    numbers = (await (await client.get("/console/centre/board.json?region=330681")).json())["numbers"]
    assert numbers["total:open"] == 2 and numbers["total:red"] >= 1
    assert numbers["div:330681104000:open"] == 1 and numbers["div:330681102000:open"] == 1
    listing = await (await client.get("/console/centre/cases?region=330681&metric=open")).text()
    assert red in listing and plain in listing and far not in listing
    reds = await (await client.get("/console/centre/cases?region=330681&metric=red")).text()
    assert red in reds and plain not in reds
    assert (await client.get(f"/console/cases/{red}")).status == 200
    feed = await (await client.get("/console/centre")).text()
    assert "红色风险" in feed  # red at filing is on the early-warning panel at once


async def test_county_a_gets_404_for_anything_of_county_b(client, world) -> None:
    alert_id, numbers = _hotspot(world, "浦江县浦阳街道月泉社区", "pj")
    with world.sessions.begin() as s:
        from routing.centre.supervision import place_on_body

        sup = place_on_body(s, "pj-puyang-tw", "staff:centre.pj", "化解不力", TODAY + timedelta(days=5), TODAY)
        sup_id = sup.id
    await login(client, "centre.zj", code=totp_now())
    for path in (f"/console/centre/alerts/{alert_id}", f"/console/cases/{numbers[0]}",
                 f"/console/centre/supervisions/{sup_id}", "/console/centre?region=330726",
                 "/console/centre/board.json?region=330726", "/console/centre/cases?region=330726",
                 "/console/centre/cases?region=330681&div=330726001000", "/console/centre/admission?region=330726"):
        assert (await client.get(path)).status == 404, path
    assert await _post(client, f"/console/centre/alerts/{alert_id}/ack", {}, "/console/centre") == 404
    assert await _post(client, f"/console/centre/supervisions/{sup_id}/lift", {"reason": "x"}, "/console/centre") == 404
    assert await _post(client, "/console/centre/supervisions", {"target": "case", "case_number": numbers[0],
                                                                "reason": "x"}, "/console/centre") == 404
    listing = await (await client.get("/console/centre")).text()
    assert f"/console/centre/alerts/{alert_id}" not in listing
    # the other county's centre sees it
    await client.post("/console/logout", data={"csrf_token": await csrf_of(client, "/console/centre")})
    await login(client, "centre.pj", code=totp_now())
    assert (await client.get(f"/console/centre/alerts/{alert_id}")).status == 200


async def test_alert_loop_acknowledge_assess_assign_and_close(client, world) -> None:
    alert_id, numbers = _hotspot(world, "诸暨市枫桥镇枫源村", "zj")
    await login(client, "centre.zj", code=totp_now())
    page = f"/console/centre/alerts/{alert_id}"
    assert await _post(client, f"{page}/assign", {"kind": "body", "target_body": "fq-town-tw"}, page) == 400
    assert await _post(client, f"{page}/ack", {"note": "已看到"}, page) == 303
    assert await _post(client, f"{page}/assess", {"note": "同一企业欠薪，可能引发群体性事件"}, page) == 303
    assert await _post(client, f"{page}/assign", {"kind": "body", "target_body": "pj-puyang-tw"}, page) == 400
    assert await _post(client, f"{page}/assign", {"kind": "body", "target_body": "fq-town-tw", "note": "三日内反馈"},
                       page) == 303
    with world.sessions() as s:
        alert = s.get(CentreAlert, alert_id)
        assert alert.state == "assigned"
        assert [e.kind for e in warnings.history(s, alert_id)] == ["raised", "acknowledged", "assessed", "assigned"]
        assert all(e.actor == "staff:centre.zj" for e in warnings.history(s, alert_id)[1:])
        marked = s.execute(select(CaseEvent.case_id).where(CaseEvent.kind == "centre_assigned")).scalars().all()
        assert len(marked) == 3
    life = CaseLife(world.sessions, lambda: TODAY)
    for i, number in enumerate(numbers):
        life.start_handling(number, "staff:x") if _status(world, number) == "assigned" else None
        if _status(world, number) == "accepted":
            life.assign(number, "staff:x")
            life.start_handling(number, "staff:x")
        life.resolve(number, "staff:x", agreement=True, notes="已支付工资")
        if i < 2:
            assert centre_pass(world.sessions, TODAY, datetime.now(UTC)).closed == 0
    assert centre_pass(world.sessions, TODAY, datetime.now(UTC)).closed == 1
    with world.sessions() as s:
        assert s.get(CentreAlert, alert_id).state == "closed"


def _status(world, number: str) -> str:  # type: ignore[no-untyped-def]
    with world.sessions() as s:
        return s.execute(select(Case.status).where(Case.case_number == number)).scalar_one()


async def test_supervision_reaches_the_bodys_queue_and_the_case(client, world) -> None:
    number = _file(world, draft("物业不修电梯一个月", "诸暨市枫桥镇", PROPERTY, user="web:sv", dispute_type="property_mgmt"))
    await login(client, "centre.zj", code=totp_now())
    assert await _post(client, "/console/centre/supervisions",
                       {"target": "body", "body_id": "fq-town-tw", "reason": "矛盾纠纷化解不力",
                        "deadline": (TODAY + timedelta(days=3)).isoformat()}, "/console/centre/supervisions") == 303
    assert await _post(client, "/console/centre/supervisions",
                       {"target": "case", "case_number": number, "reason": "群众多次催办",
                        "deadline": (TODAY + timedelta(days=2)).isoformat()}, "/console/centre/supervisions") == 303
    listing = await (await client.get("/console/centre/supervisions")).text()
    assert "矛盾纠纷化解不力" in listing and "群众多次催办" in listing
    await client.post("/console/logout", data={"csrf_token": await csrf_of(client, "/console/centre")})
    await login(client, "med.a")
    queue = await (await client.get("/console/")).text()
    assert "挂牌督办" in queue and "矛盾纠纷化解不力" in queue
    with world.sessions() as s:
        sup_id = s.execute(select(Supervision.id).where(Supervision.target_kind == "body")).scalar_one()
    page = f"/console/centre/supervisions/{sup_id}"
    assert await _post(client, f"{page}/feedback", {"feedback": "已约谈当事双方，三日内办结"}, page) == 303
    assert (await client.get("/console/centre")).status == 403  # the mediator has no desk of the centre
    with world.sessions() as s:
        assert s.get(Supervision, sup_id).state == "answered"


async def test_overdue_supervision_and_unacknowledged_alert_go_one_level_up(world) -> None:
    with world.sessions.begin() as s:
        from routing.centre.supervision import place_on_body

        place_on_body(s, "fq-town-tw", "staff:c", "化解不力", TODAY, TODAY)
    out = centre_pass(world.sessions, TODAY + timedelta(days=2), datetime.now(UTC))
    assert out.supervision_overdue == 1
    with world.sessions() as s:
        alert = s.execute(select(CentreAlert).where(CentreAlert.kind == "supervision_overdue")).scalar_one()
        assert alert.level == 1 and alert.severity == "red"
    _hotspot(world, "诸暨市店口镇", "dk")
    later = datetime.now(UTC) + timedelta(hours=3)
    assert centre_pass(world.sessions, TODAY, later).escalated >= 1
    with world.sessions() as s:
        hot = s.execute(select(CentreAlert).where(CentreAlert.kind == "hotspot")).scalar_one()
        assert hot.level == 1 and warnings.history(s, hot.id)[-1].kind == "escalated"
    assert centre_pass(world.sessions, TODAY, later).escalated == 0  # not again within the acknowledgement time


async def test_the_city_centre_sees_what_the_county_left_unacknowledged(client, world) -> None:
    alert_id, _numbers = _hotspot(world, "诸暨市店口镇", "cy")
    await login(client, "centre.sx", code=totp_now())
    assert f"/console/centre/alerts/{alert_id}" not in await (await client.get("/console/centre")).text()
    centre_pass(world.sessions, TODAY, datetime.now(UTC) + timedelta(hours=3))
    page = await (await client.get("/console/centre")).text()
    assert f"/console/centre/alerts/{alert_id}" in page and "已上报上一级中心" in page
    assert (await client.get(f"/console/centre/alerts/{alert_id}")).status == 200


CASE_WORK = (  # (path suffix, form) — every way the console changes a case
    ("notes", {"body": "中心的批注"}),
    ("contacts", {"method": "phone", "summary": "中心打电话"}),
    ("mediations", {"summary": "中心调解"}),
    ("agreements", {"terms": "中心协议"}),
    ("action", {"action": "claim"}),
    ("action", {"action": "assign", "target": "med.a"}),
    ("action", {"action": "transfer", "target": "med.a", "reason": "转办"}),
    ("action", {"action": "escalate", "reason": "上报"}),
    ("action", {"action": "start_handling"}),
    ("action", {"action": "resolve"}),
    ("action", {"action": "close"}),
    ("takeover", {}),
    ("handback", {}),
)


def _events(world, number: str) -> list[str]:  # type: ignore[no-untyped-def]
    with world.sessions() as s:
        case_id = s.execute(select(Case.id).where(Case.case_number == number)).scalar_one()
        return list(s.execute(select(CaseEvent.kind).where(CaseEvent.case_id == case_id)).scalars())


async def test_the_centre_reads_cases_but_cannot_work_them(client, world) -> None:
    own = _file(world, draft("物业不修电梯两个月", "诸暨市枫桥镇", PROPERTY, user="web:ro1", dispute_type="property_mgmt"))
    other = _file(world, draft("老板拖欠工资", "浦江县白马镇", user="web:ro2"))
    before = {n: _events(world, n) for n in (own, other)}
    await login(client, "centre.zj", code=totp_now())
    page = await client.get(f"/console/cases/{own}")
    html = await page.text()
    assert page.status == 200 and own in html
    assert 'name="action"' not in html and "/notes" not in html  # no forms to work the case
    for suffix, form in CASE_WORK:
        assert await _post(client, f"/console/cases/{own}/{suffix}", form, f"/console/cases/{own}") == 403, suffix
        assert await _post(client, f"/console/cases/{other}/{suffix}", form, "/console/centre") == 404, suffix
    token = await csrf_of(client, f"/console/cases/{own}")
    for number, status in ((own, 403), (other, 404)):  # the live reply takes JSON
        reply = await client.post(f"/console/cases/{number}/reply", json={"text": "您好"},
                                  headers={"X-CSRF-Token": token})
        assert reply.status == status, number
    assert await _post(client, "/console/reception/days", {"date": TODAY.isoformat(), "leader": "某"},
                       "/console/centre") == 403
    assert {n: _events(world, n) for n in (own, other)} == before  # nothing changed on either case
    # the centre's own actions on the same case still work: 挂牌督办
    assert await _post(client, "/console/centre/supervisions", {"target": "case", "case_number": own,
                                                                "reason": "群众多次催办"}, "/console/centre") == 303
