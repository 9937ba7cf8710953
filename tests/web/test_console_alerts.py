"""Crisis alerts in the console: region scope, the banner feed, acknowledgement as an event."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from fengqiao.migrate import upgrade
from gateway.app import init_app
from gateway.console.keys import TODAY as TODAY_KEY
from routing.cases import alerts
from routing.persistence.case_tables import AlertEvent
from routing.persistence.console_tables import AuditEntry
from routing.understanding.safety.verdict import DangerVerdict
from tests.web.console_helpers import TODAY, console_settings, csrf_of, login, seed_world

FENGQIAO_VILLAGE = "330681104201"


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


def _raise(world, conversation: str, region: str | None, place: str | None, text: str) -> int:  # type: ignore[no-untyped-def]
    verdict = DangerVerdict(danger=True, kinds=("self_harm",), score=1.0, evidence=("跳楼",))
    with world.sessions.begin() as s:
        alert = alerts.raise_crisis(s, conversation, "web", verdict, text, alerts.Where(region, place))
        return alert.id


async def test_staff_see_alerts_of_their_region_and_those_with_no_place(client, world) -> None:
    here = _raise(world, "web:p1", "330681104000", "诸暨市枫桥镇", "我在枫桥镇的桥上，不想活了，电话13912345678")
    nowhere = _raise(world, "web:p2", None, None, "不想活了")
    far = _raise(world, "web:p3", "330726", "浦江县", "不想活了")
    assert (await login(client, "med.a")).status == 302
    feed = await (await client.get("/console/alerts.json")).json()
    assert {a["id"] for a in feed["alerts"]} == {here, nowhere} and feed["open"] == 2
    page = await client.get(f"/console/alerts/{here}")
    body = await page.text()
    assert page.status == 200 and "13912345678" not in body and "139****5678" in body
    assert (await client.get(f"/console/alerts/{far}")).status == 404
    assert (await client.get("/console/alerts/abc")).status == 404
    listing = await (await client.get("/console/alerts")).text()
    assert f"/console/alerts/{here}" in listing and f"/console/alerts/{far}" not in listing


async def test_acknowledging_is_an_event_and_clears_the_banner(client, world) -> None:
    alert_id = _raise(world, "web:p4", "330681104000", "诸暨市枫桥镇", "他拿着刀在门口")
    await login(client, "med.a")
    token = await csrf_of(client, f"/console/alerts/{alert_id}")
    refused = await client.post(f"/console/alerts/{alert_id}/ack", data={"note": "x"}, allow_redirects=False)
    assert refused.status == 403  # no CSRF token
    done = await client.post(f"/console/alerts/{alert_id}/ack",
                             data={"csrf_token": token, "note": "已电话联系，派出所已出警"}, allow_redirects=False)
    assert done.status == 303
    feed = await (await client.get("/console/alerts.json")).json()
    assert feed["open"] == 0
    with world.sessions() as s:
        steps = s.execute(select(AlertEvent).where(AlertEvent.alert_id == alert_id)
                          .order_by(AlertEvent.id)).scalars().all()
        entries = s.execute(select(AuditEntry.action)).scalars().all()
    assert [e.kind for e in steps] == ["raised", "acknowledged"]
    assert steps[1].actor == "staff:med.a" and steps[1].reason == "已电话联系，派出所已出警"
    assert "acknowledge_alert" in entries and "view_alert" in entries


async def test_the_banner_needs_a_signed_in_user(client, world) -> None:
    _raise(world, "web:p5", None, None, "不想活了")
    response = await client.get("/console/alerts.json", allow_redirects=False)
    assert response.status in (302, 303, 401)
