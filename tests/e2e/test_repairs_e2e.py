"""Repairs over the real web chat: cancel, decline the phone, correct at the summary, 修改 —
real Rasa, action server and gateway; the case store is checked after each conversation."""

from __future__ import annotations

import pytest

from routing.understanding.text import normalise
from tests.e2e.test_intake_e2e import CASE_NUMBER, NARRATIVE, cases, open_citizen

pytestmark = pytest.mark.e2e


async def start(citizen) -> str:
    """Greet, consent, tell the narrative; pick the first choice if the bot was unsure."""
    await citizen.say("你好")
    await citizen.say("/consent")
    replies = " ".join(await citizen.say(NARRATIVE))
    if "属于哪一类" in replies:
        replies = " ".join(await citizen.say(citizen.buttons[0]["payload"]))
    return replies


async def test_cancel_at_the_phone_question_files_nothing(stack, conversation_id) -> None:
    before = len(cases(stack.database_url))
    session, citizen = await open_citizen(stack, conversation_id)
    try:
        assert "联系电话" in await start(citizen)
        reply = " ".join(await citizen.say("算了不办了"))
        assert "已取消" in reply and "格式" not in reply
        again = " ".join(await citizen.say("算了不办了"))
        assert "没能理解" not in again and "不会提交" in again
    finally:
        await session.close()
    assert len(cases(stack.database_url)) == before


async def test_declining_the_phone_then_contact_in_the_chat(stack, conversation_id) -> None:
    session, citizen = await open_citizen(stack, conversation_id)
    try:
        await start(citizen)
        reply = " ".join(await citizen.say("我不想留电话"))
        assert "格式" not in reply and "在本对话里联系我" in reply
        why = " ".join(await citizen.say("为什么一定要电话"))
        assert "联系您" in why and "格式" not in why
        summary = " ".join(await citizen.say("在本对话里联系我"))
        assert "在本对话中联系" in summary and "请核对" in summary
        filed = " ".join(await citizen.say("确认"))
        number = CASE_NUMBER.search(filed)
        assert number, filed
    finally:
        await session.close()
    stored = [c for c in cases(stack.database_url) if c.case_number == number.group(0)]
    assert stored and stored[0].contact_phone is None


async def test_a_wrong_place_at_the_summary_is_corrected_before_filing(stack, conversation_id) -> None:
    session, citizen = await open_citizen(stack, conversation_id)
    try:
        await start(citizen)
        await citizen.say("13906754321")
        corrected = " ".join(await citizen.say("地点说错了，是诸暨市店口镇"))
        assert "店口镇" in corrected and "请核对" in corrected and not CASE_NUMBER.search(corrected)
        change = " ".join(await citizen.say("修改"))
        assert "哪一项" in change and not CASE_NUMBER.search(change)
        shown = normalise(" ".join(await citizen.say("對方不是他，是村委會")))  # answered in Traditional
        assert "村委会" in shown and "请核对" in shown and not CASE_NUMBER.search(shown)
        filed = " ".join(await citizen.say("确认提交"))
        number = CASE_NUMBER.search(filed)
        assert number, filed
    finally:
        await session.close()
    stored = [c for c in cases(stack.database_url) if c.case_number == number.group(0)]
    assert stored[0].location_text.endswith("诸暨市店口镇")
    assert stored[0].respondent == "村委会"
