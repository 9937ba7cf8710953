"""查看我的信息 / 删除我的信息 / 撤回同意, run against a real migrated database."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from sqlalchemy import select, update

from actions.privacy import ActionDeleteMyData, ActionShowMyData, ActionWithdrawConsent
from fengqiao import bootstrap
from routing.cases.service import CaseDraft
from routing.persistence.case_tables import Case
from routing.persistence.messaging_tables import InboxMessage
from routing.persistence.privacy_tables import LegalHold
from routing.privacy.retention import PURGED
from tests.actions.conftest import make_tracker, slot_events

SENDER = "web:privacy-conversation"
PHONE = "13812345678"


def file_one(story: str = "物业不修电梯，老人上下楼很困难") -> str:
    draft = CaseDraft(narrative_original=story, narrative_normalised=story, subject=story, channel="web",
                      channel_user_id=SENDER, conversation_id=SENDER, category="城乡建设", contact_phone=PHONE)
    return bootstrap.case_service().file_case(draft).view.case_number


def texts(dispatcher) -> str:  # type: ignore[no-untyped-def]
    return "\n".join(m.get("text") or "" for m in dispatcher.messages)


async def test_show_lists_the_cases_masked(dispatcher, app_database) -> None:
    number = file_one()
    await ActionShowMyData().run(dispatcher, make_tracker("查看我的信息", intent="view_my_data", sender=SENDER,
                                                          slots={"contact_phone": PHONE}), {})
    said = texts(dispatcher)
    assert number in said and "138****5678" in said and PHONE not in said


async def test_show_with_nothing_held_says_so(dispatcher, app_database) -> None:
    await ActionShowMyData().run(dispatcher, make_tracker("查看我的信息", intent="view_my_data", sender=SENDER), {})
    assert "没有保存" in texts(dispatcher)


async def test_delete_keeps_an_open_or_held_case_and_says_why(dispatcher, app_database) -> None:
    number = file_one()
    with bootstrap.sessions().begin() as s:
        s.add(InboxMessage(channel="web", external_key="k1", conversation_id=SENDER, text=f"电话{PHONE}",
                           status="done", processed_at=datetime.now(UTC)))
        case_id = s.execute(select(Case.id).where(Case.case_number == number)).scalar_one()
        s.add(LegalHold(case_id=case_id, reason="诉讼保全", placed_by="legal"))
    events = await ActionDeleteMyData().run(
        dispatcher, make_tracker("删除我的信息", intent="delete_my_data", sender=SENDER), {})
    said = texts(dispatcher)
    assert number in said and "依法暂不能删除" in said and "保全" in said
    assert slot_events(events)["contact_phone"] is None
    with bootstrap.sessions()() as s:
        case = s.execute(select(Case).where(Case.case_number == number)).scalar_one()
        assert case.contact_phone == PHONE and case.purged_at is None  # kept, as the law requires
        assert s.execute(select(InboxMessage).where(InboxMessage.conversation_id == SENDER)).first() is None


async def test_delete_removes_a_case_whose_retention_is_over(dispatcher, app_database) -> None:
    number = file_one()
    bootstrap.case_life().withdraw(number, "citizen")
    with bootstrap.sessions().begin() as s:
        s.execute(update(Case).where(Case.case_number == number)
                  .values(updated_at=datetime.now(UTC) - timedelta(days=3000)))
    await ActionDeleteMyData().run(dispatcher, make_tracker("删除我的信息", intent="delete_my_data", sender=SENDER), {})
    assert number in texts(dispatcher) and "已删除案件" in texts(dispatcher)
    with bootstrap.sessions()() as s:
        case = s.execute(select(Case).where(Case.case_number == number)).scalar_one()
        assert (case.narrative_original, case.contact_phone) == (PURGED, None)


async def test_withdrawing_consent_stops_the_form_and_explains_the_open_case(dispatcher, app_database) -> None:
    number = file_one()
    tracker = make_tracker("撤回同意", intent="withdraw_consent", sender=SENDER, active_loop="intake_form",
                           slots={"consent_given": True, "contact_phone": PHONE, "complaint_subject": "电梯"})
    events = await ActionWithdrawConsent().run(dispatcher, tracker, {})
    slots = slot_events(events)
    assert slots["consent_given"] is False and slots["contact_phone"] is None and slots["complaint_subject"] is None
    assert any(e.get("event") == "active_loop" and e.get("name") is None for e in events)
    said = texts(dispatcher)
    assert number in said and "撤回案件" in said and "继续办理" in said
