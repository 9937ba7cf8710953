"""Console security rules (RELIABILITY R8) against the real app on a migrated SQLite database."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from fengqiao.migrate import upgrade
from gateway.app import init_app
from routing.persistence.console_tables import AuditEntry, ConsoleSession
from tests.web.console_helpers import (
    CSRF_FIELD,
    PASSWORD,
    TODAY,
    assign,
    console_settings,
    csrf_of,
    draft,
    file_unassigned,
    login,
    seed_world,
    totp_now,
)


@pytest.fixture
def world(tmp_path):
    url = f"sqlite:///{tmp_path / 'console.db'}"
    upgrade(url)
    return seed_world(url)


@pytest.fixture
async def client(aiohttp_client, world):
    app = init_app(console_settings(world.url, origins=("https://allowed.example",)))
    from gateway.console.keys import TODAY as TODAY_KEY

    app._subapps[0][TODAY_KEY] = lambda: TODAY
    return await aiohttp_client(app)


@pytest.fixture
async def other(aiohttp_client, world):
    """A second browser (its own cookie jar) on the same app."""
    return await aiohttp_client(init_app(console_settings(world.url)))


def case_for(world, who: str | None, story: str = "邻居在两家之间的通道上堆放柴火，车子进不去。", user: str = "web:citizen01",
             phone: str | None = None) -> str:
    number = world.service.file_case(draft(story, user, phone=phone)).view.case_number
    if who:
        assign(world, number, who, who)
    return number


async def test_pages_need_a_session(client) -> None:
    response = await client.get("/console/", allow_redirects=False)
    assert response.status == 302
    assert response.headers["Location"] == "/console/login"
    assert (await client.post("/console/cases/FQ-2026-000001/notes", data={"body": "x"})).status in (401, 403)


async def test_login_cookie_is_httponly_strict_and_secure_by_default(aiohttp_client, world) -> None:
    settings = console_settings(world.url)
    from dataclasses import replace

    client = await aiohttp_client(init_app(replace(settings, console_cookie_secure=True)))
    page = await client.get("/console/login")
    token = CSRF_FIELD.search(await page.text()).group(1)
    # The pre-login CSRF cookie is Secure too, so a plain-http client cannot send it back:
    # read it from the Set-Cookie header and send it by hand.
    pre = page.cookies["fqc_pre"].value
    response = await client.post(
        "/console/login", data={"csrf_token": token, "username": "med.a", "password": PASSWORD},
        headers={"Cookie": f"fqc_pre={pre}"}, allow_redirects=False,
    )
    assert response.status == 302
    header = next(v for v in response.headers.getall("Set-Cookie") if v.startswith("__Host-fqc="))
    lowered = header.lower()
    assert "httponly" in lowered and "secure" in lowered and "samesite=strict" in lowered and "path=/" in lowered


async def test_mediator_cannot_open_another_mediators_case_by_number(client, world) -> None:
    theirs = case_for(world, "med.b")
    assert (await login(client, "med.a")).status == 302
    response = await client.get(f"/console/cases/{theirs}")
    assert response.status == 404
    token = await csrf_of(client)
    for path in ("notes", "action", "reveal", "contacts"):
        r = await client.post(f"/console/cases/{theirs}/{path}", data={"csrf_token": token, "body": "看看", "action": "claim"})
        assert r.status == 404, path
    # ... while the assignee opens it
    mine = case_for(world, "med.a", user="web:citizen02")
    assert (await client.get(f"/console/cases/{mine}")).status == 200
    with world.sessions() as s:
        denied = s.execute(select(AuditEntry).where(AuditEntry.action == "denied")).scalars().all()
    assert denied and denied[0].username == "med.a"


async def test_mediator_of_another_region_does_not_see_unassigned_cases(client, world) -> None:
    number = file_unassigned(world, draft("邻居在两家之间的通道上堆放柴火，车子进不去。", "web:citizen01"))
    await login(client, "med.far")
    assert (await client.get(f"/console/cases/{number}")).status == 404
    queue = await (await client.get("/console/?view=unassigned")).text()
    assert number not in queue


async def test_a_change_without_the_csrf_token_is_refused(client, world) -> None:
    mine = case_for(world, "med.a")
    await login(client, "med.a")
    refused = await client.post(f"/console/cases/{mine}/notes", data={"body": "没有令牌的备注"}, allow_redirects=False)
    assert refused.status == 403
    wrong = await client.post(f"/console/cases/{mine}/notes", data={"body": "错误令牌", "csrf_token": "x" * 43},
                              allow_redirects=False)
    assert wrong.status == 403
    token = await csrf_of(client)
    ok = await client.post(f"/console/cases/{mine}/notes", data={"body": "有令牌的备注", "csrf_token": token},
                           allow_redirects=False)
    assert ok.status == 303
    page = await (await client.get(f"/console/cases/{mine}")).text()
    assert "有令牌的备注" in page and "没有令牌的备注" not in page


async def test_login_itself_needs_the_csrf_token(client) -> None:
    await client.get("/console/login")
    response = await client.post("/console/login", data={"username": "med.a", "password": PASSWORD}, allow_redirects=False)
    assert response.status == 403


async def test_a_foreign_origin_is_refused_for_changes(client, world) -> None:
    mine = case_for(world, "med.a")
    await login(client, "med.a")
    token = await csrf_of(client)
    response = await client.post(f"/console/cases/{mine}/notes", data={"body": "x", "csrf_token": token},
                                 headers={"Origin": "https://evil.example"}, allow_redirects=False)
    assert response.status == 403


async def test_a_cookie_reused_after_logout_is_refused(client, other, world) -> None:
    mine = case_for(world, "med.a")
    await login(client, "med.a")
    cookie = next(c for c in client.session.cookie_jar if c.key == "fqc")
    stolen = cookie.value
    assert (await client.get(f"/console/cases/{mine}")).status == 200
    token = await csrf_of(client)
    out = await client.post("/console/logout", data={"csrf_token": token}, allow_redirects=False)
    assert out.status == 302
    with world.sessions() as s:
        assert s.execute(select(ConsoleSession)).scalars().all() == []
    replay = await other.get(f"/console/cases/{mine}", headers={"Cookie": f"fqc={stolen}"}, allow_redirects=False)
    assert replay.status == 302 and replay.headers["Location"] == "/console/login"
    post = await other.post(f"/console/cases/{mine}/notes", data={"body": "x", "csrf_token": token},
                            headers={"Cookie": f"fqc={stolen}"}, allow_redirects=False)
    assert post.status == 401


async def test_citizen_html_and_script_are_shown_as_text(client, world) -> None:
    story = '<script>alert("x")</script><img src=x onerror=alert(1)>我家门口的路灯坏了三个月'
    mine = case_for(world, "med.a", story=story)
    await login(client, "med.a")
    case_page = await client.get(f"/console/cases/{mine}")
    html = await case_page.text()
    assert "<script>alert" not in html and "<img src=x" not in html
    assert "&lt;script&gt;alert(&#34;x&#34;)&lt;/script&gt;" in html
    assert "script-src 'self'" in case_page.headers["Content-Security-Policy"]
    queue = await (await client.get("/console/?view=mine")).text()
    assert "<script>alert" not in queue and "&lt;script&gt;" in queue


async def test_login_is_throttled_per_account(client, world) -> None:
    for _ in range(5):
        assert (await login(client, "med.a", "wrong-password-123")).status == 401
    refused = await login(client, "med.a")  # the right password, but too late
    assert refused.status == 429
    assert "过多" in await refused.text()
    # another account from the same address still gets in
    assert (await login(client, "med.b")).status == 302


async def test_login_is_throttled_per_address(client, world) -> None:
    for n in range(20):
        await login(client, f"nobody{n}", "wrong-password-123")
    assert (await login(client, "med.b")).status == 429


async def test_supervisors_need_the_totp_code(client, world) -> None:
    first = await login(client, "dir.a")
    assert first.status == 302 and first.headers["Location"] == "/console/totp"
    # the half-open session reaches nothing but the code form
    assert (await client.get("/console/", allow_redirects=False)).headers["Location"] == "/console/totp"
    assert (await client.get("/console/audit", allow_redirects=False)).status == 302
    page = await client.get("/console/totp")
    token = CSRF_FIELD.search(await page.text()).group(1)
    wrong = await client.post("/console/totp", data={"csrf_token": token, "code": "000000"}, allow_redirects=False)
    assert wrong.status == 401
    assert (await login(client, "dir.a", code=totp_now())).status == 302
    audit_page = await client.get("/console/audit")
    assert audit_page.status == 200
    assert "login_failed" in await audit_page.text()


async def test_reveal_needs_permission_and_is_audited(client, other, world) -> None:
    mine = case_for(world, "med.a", story="我的身份证号330681199001011234，电话13912345678，邻居占道。", phone="13912345678")
    await login(client, "med.a")
    page = await (await client.get(f"/console/cases/{mine}")).text()
    assert "13912345678" not in page and "139****5678" in page
    assert "330681199001011234" not in page and "330681********1234" in page
    token = CSRF_FIELD.search(page).group(1)
    revealed = await (await client.post(f"/console/cases/{mine}/reveal", data={"csrf_token": token})).text()
    assert "13912345678" in revealed and "330681199001011234" in revealed
    # the grid worker of the village may not reveal (no permission): nothing shown, 403 or 404
    await login(other, "grid.a")
    grid_token = await csrf_of(other)
    denied = await other.post(f"/console/cases/{mine}/reveal", data={"csrf_token": grid_token})
    assert denied.status in (403, 404)
    with world.sessions() as s:
        actions = [(e.username, e.action) for e in s.execute(select(AuditEntry).where(AuditEntry.case_number == mine)).scalars()]
    assert ("med.a", "reveal") in actions and ("med.a", "view") in actions
    # only supervisors read the audit log
    assert (await client.get("/console/audit")).status == 403


async def test_websocket_with_a_foreign_origin_is_refused(client, world) -> None:
    mine = case_for(world, "med.a")
    await login(client, "med.a")
    from aiohttp import WSServerHandshakeError

    with pytest.raises(WSServerHandshakeError) as err:
        await client.ws_connect(f"/console/cases/{mine}/live", headers={"Origin": "https://evil.example"})
    assert err.value.status == 403
    # and without a session there is no socket either
    await client.post("/console/logout", data={"csrf_token": await csrf_of(client)})
    with pytest.raises(WSServerHandshakeError) as err:
        await client.ws_connect(f"/console/cases/{mine}/live")
    assert err.value.status == 401
