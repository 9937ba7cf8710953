"""Shared set-up for the console tests: a migrated database, staff accounts and cases."""

from __future__ import annotations

import re
from dataclasses import dataclass, replace
from datetime import date

import pyotp
from sqlalchemy.orm import sessionmaker

from fengqiao.bootstrap import units_of_work
from fengqiao.settings import Settings
from gateway.console.accounts.store import create_user
from routing.cases.filing_policy import make_policy
from routing.cases.life import CaseLife
from routing.cases.service import CaseDraft, CaseService, Routed
from routing.persistence.db import make_engine, make_session_factory
from routing.understanding.places import load_divisions
from routing.understanding.text import normalise

TODAY = date(2026, 4, 27)
PASSWORD = "枫桥-test-password-1"
FENGQIAO = "330681104000"  # 枫桥镇
CSRF_FIELD = re.compile(r'name="csrf_token" value="([^"]+)"')
TOTP_SECRET = "JBSWY3DPEHPK3PXPJBSWY3DPEHPK3PXP"


def console_settings(url: str, origins: tuple[str, ...] = ()) -> Settings:
    """Settings for a console on `url` over plain http (cookie Secure off for the test client)."""
    return Settings(
        database_url=url, rasa_url="http://127.0.0.1:9", rasa_token="", action_port=0, web_host="127.0.0.1",
        web_port=0, deadline_rules="stricter", allowed_origins=origins, console_cookie_secure=False,
    )


def draft(story: str, user: str, place: str = "诸暨市枫桥镇枫源村", phone: str | None = None,
          category: str = "城乡建设") -> CaseDraft:
    """A filed-by-chat complaint in `place`."""
    match = load_divisions().resolve(place)
    assert match is not None
    return CaseDraft(
        narrative_original=story, narrative_normalised=normalise(story), subject=story[:40],
        channel=user.split(":")[0], channel_user_id=user, conversation_id=user,
        category=category, location_text=match.label, location_code=match.division.code,
        county_code=match.county.code if match.county else None, respondent="隔壁邻居", demand="恢复原状",
        contact_phone=phone,
    )


@dataclass
class World:
    """The seeded database."""

    url: str
    sessions: sessionmaker
    service: CaseService


def seed_world(url: str) -> World:
    """Create staff accounts in 枫桥镇 and elsewhere; return handles to add cases."""
    engine = make_engine(url)
    sessions = make_session_factory(engine)
    with sessions.begin() as s:
        create_user(s, "med.a", PASSWORD, "mediator", [FENGQIAO], display_name="调解员甲")
        create_user(s, "med.b", PASSWORD, "mediator", [FENGQIAO], display_name="调解员乙")
        create_user(s, "med.far", PASSWORD, "mediator", ["330726"], display_name="浦江调解员")
        create_user(s, "grid.a", PASSWORD, "grid_worker", ["330681104801"], display_name="网格员甲")
        create_user(s, "dir.a", PASSWORD, "director", [FENGQIAO], display_name="主任甲", totp_secret=TOTP_SECRET)
        create_user(s, "recv.a", PASSWORD, "reception", ["330681"], display_name="接访办甲")
    service = CaseService(sessions, make_policy("stricter", sessions), lambda: TODAY, uows=units_of_work(sessions))
    return World(url, sessions, service)


def assign(world: World, case_number: str, username: str, name: str) -> None:
    """Put a case in a worker's hands (as routing or a director would), through the case life."""
    life = CaseLife(world.sessions, lambda: TODAY)
    life.hand_to(case_number, "system", f"u:{username}", name, f"分派给{name}")


def file_unassigned(world: World, d: CaseDraft) -> str:
    """File a case the router could route but found nobody free for (受理, register clock running)."""
    routed = make_policy("stricter", world.sessions)

    def nobody_free(draft: CaseDraft, today: date) -> Routed:
        r = routed(draft, today)
        return replace(r, status="accepted", person_id=None, person_name=None)

    return CaseService(world.sessions, nobody_free, lambda: TODAY, uows=units_of_work(world.sessions)).file_case(d).view.case_number


def totp_now() -> str:
    """The director's current TOTP code."""
    return pyotp.TOTP(TOTP_SECRET).now()


async def login(client, username: str, password: str = PASSWORD, code: str | None = None):  # type: ignore[no-untyped-def]
    """Sign in through the login form (and the TOTP form when a code is given); return the last response."""
    page = await client.get("/console/login")
    token = CSRF_FIELD.search(await page.text()).group(1)
    response = await client.post("/console/login", data={"csrf_token": token, "username": username,
                                                        "password": password}, allow_redirects=False)
    if code is not None and response.status == 302 and response.headers["Location"] == "/console/totp":
        page = await client.get("/console/totp")
        token = CSRF_FIELD.search(await page.text()).group(1)
        response = await client.post("/console/totp", data={"csrf_token": token, "code": code}, allow_redirects=False)
    return response


async def csrf_of(client, path: str = "/console/") -> str:  # type: ignore[no-untyped-def]
    """Read the CSRF token from a signed-in page."""
    page = await client.get(path)
    assert page.status == 200, await page.text()
    return CSRF_FIELD.search(await page.text()).group(1)
