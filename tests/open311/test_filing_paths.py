"""An API filing lives the chat's life: console queue, the centre's desk, status, alerts, notifications."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest
from aiohttp import web
from aiohttp.test_utils import TestClient, TestServer
from sqlalchemy import select

from fengqiao.migrate import upgrade
from gateway.console.accounts.casework import QueueFilter, load_case, queue
from gateway.console.accounts.store import create_user, principal_of
from gateway.open311 import PREFIX, build
from gateway.outbox import NotificationScanner
from routing.persistence.case_tables import Alert, Case
from routing.persistence.console_tables import ConsoleUser
from routing.persistence.messaging_tables import OutboxMessage
from routing.understanding.intake import analyse
from tests.open311.conftest import TODAY, Api, form, make_keys
from tests.web.console_helpers import PASSWORD, draft, seed_world


@pytest.fixture
async def world_api(tmp_path) -> AsyncIterator[Api]:  # type: ignore[no-untyped-def]
    """The API on a SQLite store with the console's staff (and a centre account for the province)."""
    url = f"sqlite:///{tmp_path / 'world.db'}"
    upgrade(url)
    world = seed_world(url)
    with world.sessions.begin() as s:
        create_user(s, "centre.zj", PASSWORD, "centre", ["330000"], display_name="省中心")
    keys = make_keys(world.sessions)
    app = web.Application()
    app.add_subapp(PREFIX, build(url, "stricter", today=lambda: TODAY, sender=False))
    async with TestClient(TestServer(app)) as client:
        yield Api(client, url, world.sessions, world.service, keys)


async def _file(api: Api, **extra: str) -> str:
    resp = await api.client.post(api.path("requests.json"), data=form(api.keys["writer"], **extra))
    assert resp.status == 200, await resp.text()
    return str((await resp.json())[0]["service_request_id"])


def _queue_numbers(api: Api, username: str) -> list[str]:
    with api.sessions() as s:
        user = s.execute(select(ConsoleUser).where(ConsoleUser.username == username)).scalar_one()
        me = principal_of(s, user)
        page = queue(s, me, QueueFilter(view="region"), TODAY)
        return [r.case_number for r in page.rows]


async def test_api_filing_shows_in_the_console_the_centre_and_the_status_query(world_api: Api) -> None:
    api = world_api
    number = await _file(api, email="citizen@example.cn")
    assert number in _queue_numbers(api, "dir.a")  # the 枫桥镇 director's console queue
    assert number in _queue_numbers(api, "centre.zj")  # the centre's desk
    assert number not in _queue_numbers(api, "med.far")  # 浦江's mediator does not see it
    with api.sessions() as s:
        user = s.execute(select(ConsoleUser).where(ConsoleUser.username == "dir.a")).scalar_one()
        case = load_case(s, principal_of(s, user), number)
        owner = case.channel_user_id
    assert owner.startswith("open311:") and "citizen@example.cn" not in owner
    view = api.service.get_case(number, channel_user_id=owner)  # the status query a citizen makes
    assert view.status_label and view.handling_body and view.due_date
    assert [v.case_number for v in api.service.cases_for_user("open311", owner)] == [number]
    public = await (await api.client.get(api.path(f"requests/{number}.json"))).json()
    assert public[0]["status_notes"] == view.status_label


async def test_red_risk_filing_raises_the_alert(world_api: Api) -> None:
    text = "邻居天天半夜装修，我实在受不了了，活不下去了，再不管我就跳楼"
    assert analyse(text).crisis
    number = await _file(world_api, description=text)
    with world_api.sessions() as s:
        case = s.execute(select(Case).where(Case.case_number == number)).scalar_one()
        alerts = s.execute(select(Alert).where(Alert.case_id == case.id)).scalars().all()
    assert case.risk_level == "red"
    assert [a.level for a in alerts] == ["red"]


async def test_department_update_reaches_the_citizens_chat(world_api: Api) -> None:
    api = world_api
    filed = api.service.file_case(draft("楼上邻居每天半夜装修，噪音太大了", "web:citizen-42"))
    scanner = NotificationScanner(api.sessions, lambda text, script: text)
    scanner.SETTLE = 0.0
    scanner.scan()  # the first scan only places the cursor
    update = {"api_key": api.keys["writer"], "status": "in_progress", "description": "社区已约双方明早调解",
              "update_id": "dept-1"}
    resp = await api.client.post(api.path(f"requests/{filed.view.case_number}/updates.json"), data=update)
    assert resp.status == 200, await resp.text()
    assert "web:citizen-42" in scanner.scan()
    with api.sessions() as s:
        texts = s.execute(select(OutboxMessage.text).where(OutboxMessage.conversation_id == "web:citizen-42")
                          ).scalars().all()
    assert any("社区已约双方明早调解" in t and filed.view.case_number in t for t in texts)
