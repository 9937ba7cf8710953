"""Property: at the summary, no sequence of repair messages files a case without an explicit
confirmation of the summary shown last (validation + filing actions, real SQLite store)."""

from __future__ import annotations

import asyncio
import itertools

import pytest

hypothesis = pytest.importorskip("hypothesis", reason="pip install -e .[dev] brings hypothesis")
from hypothesis import HealthCheck, given, settings  # noqa: E402
from hypothesis import strategies as st  # noqa: E402
from sqlalchemy import func, select  # noqa: E402

from fengqiao import bootstrap  # noqa: E402
from routing.persistence.case_tables import Case  # noqa: E402
from routing.understanding.repair import is_explicit_confirmation  # noqa: E402
from tests.actions.form_sim import FormSim  # noqa: E402

REPAIR_MESSAGES = [
    "修改", "改一下", "地点说错了，是诸暨市店口镇", "对方不是他，是物业公司", "电话错了，是13700001111",
    "诉求改成赔偿五千元", "地点", "对方", "电话", "诉求", "为什么要电话", "我不想留电话", "都不是",
    "我想见领导", "对，但地点错了", "嗯……", "什么时候能办好", "不对", "好像不太对", "提交吗？",
    "确认一下地点", "地點說錯了，是浦江縣黃宅鎮", "不是枫桥镇，是店口镇", "帮我看看", "/deny", "是物业公司",
    "浦江县黄宅镇", "13812345678", "错了", "你好",
]
INTENTS = ["affirm", "deny", "inform", "correct", "ask_why", "decline", "none_of_these", "request_leader", "out_of_scope"]
CONFIRMATIONS = ["确认", "对", "没问题", "确认提交", "/affirm", "確認"]
SENDERS = itertools.count()
BASE = {
    "consent_given": True,
    "narrative": "我在诸暨市枫桥镇枫源村，隔壁邻居把围墙砌到我家门口的路上。",
    "complaint_subject": "我在诸暨市枫桥镇枫源村，隔壁邻居把围墙砌到我家门口的路上。",
    "complaint_location": "浙江省绍兴市诸暨市枫桥镇枫源村",
    "location_code": "330681104001",
    "complaint_respondent": "隔壁邻居",
    "complaint_demand": "要求拆掉围墙",
    "contact_phone": "13906754321",
    "category": "城乡建设",
    "dispute_type": "neighbour",
    "requested_slot": "summary_confirmed",
}


def filed_for(sender: str) -> int:
    with bootstrap.case_service()._sessions() as session:
        query = select(func.count()).select_from(Case).where(Case.channel_user_id == sender)
        return session.execute(query).scalar_one()


async def play(turns: list[tuple[str, str]]) -> tuple[FormSim, list[bool]]:
    """Play the turns at the summary; for each, whether it was an explicit confirmation of the
    summary that was the bot's last message."""
    sim = FormSim(BASE, sender=f"web:prop-{next(SENDERS)}")
    await sim.ask()
    confirmed_summary = []
    for text, intent in turns:
        if not sim.active:
            break
        last = sim.messages[-1].get("response") if sim.messages else None
        confirmed_summary.append(last == "utter_summary" and is_explicit_confirmation(text))
        before = len(sim.filed)
        await sim.say(text, intent=intent)
        if len(sim.filed) > before:
            assert confirmed_summary[-1], f"filed after {text!r} ({intent}) with last message {last}"
    return sim, confirmed_summary


repair_turns = st.lists(st.tuples(st.sampled_from(REPAIR_MESSAGES), st.sampled_from(INTENTS)), max_size=8)
any_turns = st.lists(
    st.tuples(st.sampled_from(REPAIR_MESSAGES + CONFIRMATIONS), st.sampled_from(INTENTS)), max_size=8
)


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(turns=repair_turns)
def test_repairs_alone_never_file(app_database, turns) -> None:
    sim, _ = asyncio.run(play(turns))
    assert sim.filed == [] and filed_for(sim.sender) == 0


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(turns=any_turns)
def test_a_filing_follows_only_a_confirmation_of_the_summary_shown_last(app_database, turns) -> None:
    sim, confirmed = asyncio.run(play(turns))
    assert filed_for(sim.sender) == len(sim.filed) <= 1
    if sim.filed:
        assert any(confirmed)
