"""``/public`` and its survey through the real app on SQLite: closed outside the week, 4xx on bad
input, one answer per browser per day (kept without the cookie itself), the rate limit."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from fengqiao.migrate import upgrade
from fengqiao.settings import Settings
from gateway.app import init_app
from routing.persistence.db import make_engine, make_session_factory
from routing.persistence.rates_tables import SurveyAnswer

ANSWER = {"region": "330681", "participated": "yes", "satisfied": "basically", "aware": "no"}


@pytest.fixture
def db_url(tmp_path) -> str:  # type: ignore[no-untyped-def]
    url = f"sqlite:///{tmp_path / 'public.db'}"
    upgrade(url)
    return url


def _app(db_url: str):  # type: ignore[no-untyped-def]
    return init_app(Settings(database_url=db_url, rasa_url="http://127.0.0.1:9", rasa_token="", action_port=0,
                             web_host="127.0.0.1", web_port=0, deadline_rules="stricter", allowed_origins=(),
                             inbox_retry_cap=0.5))


async def test_survey_once_a_day_and_bad_input(aiohttp_client, db_url, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    monkeypatch.setenv("SURVEY_WEEK", "open")
    client = await aiohttp_client(_app(db_url))
    page = await client.get("/public?region=330681")
    assert page.status == 200 and "平安浙江文化周" in await page.text()
    token = client.session.cookie_jar.filter_cookies(client.make_url("/public"))["fq_visitor"].value
    assert (await client.post("/public/survey", data=ANSWER)).status == 201
    again = await client.post("/public/survey", data=ANSWER)
    assert again.status == 409 and "已经回答过" in (await again.json())["error"]
    for bad in ({**ANSWER, "aware": "perhaps"}, {k: v for k, v in ANSWER.items() if k != "satisfied"},
                {**ANSWER, "region": "999999"}):
        r = await client.post("/public/survey", data=bad)
        assert r.status == 400, bad
    assert (await client.get("/public?region=nowhere")).status == 400
    engine = make_engine(db_url)
    with make_session_factory(engine)() as s:
        rows = list(s.execute(select(SurveyAnswer)).scalars())
    engine.dispose()
    assert len(rows) == 1 and token not in rows[0].visitor and rows[0].satisfied == "basically"


async def test_survey_closed_outside_the_week_and_rate_limited(aiohttp_client, db_url, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    monkeypatch.setenv("SURVEY_WEEK", "closed")
    client = await aiohttp_client(_app(db_url))
    page = await client.get("/public")
    assert page.status == 200 and "平安浙江文化周" not in await page.text()
    statuses = [(await client.post("/public/survey", data=ANSWER)).status for _ in range(12)]
    assert statuses[:10] == [403] * 10 and statuses[10:] == [429, 429]
