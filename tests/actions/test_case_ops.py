"""Status, urge, withdraw, material, rating, review, handoff and crisis actions."""

from __future__ import annotations

from sqlalchemy import select

from actions.case_ops import (
    ActionAddMaterial,
    ActionConfirmWithdraw,
    ActionUrgeCase,
    ActionWithdrawCase,
)
from actions.handoff import ActionRequestHuman
from actions.safety import ActionHandleCrisis
from actions.status import ActionCaseStatus
from fengqiao import bootstrap
from routing.cases.service import CaseDraft
from routing.persistence.case_tables import Alert
from tests.actions.conftest import make_tracker, responses, slot_events

SENDER = "web:test-conversation"


def file_one(sender: str = SENDER) -> str:
    draft = CaseDraft(
        narrative_original="物业不修电梯",
        narrative_normalised="物业不修电梯",
        subject="物业不修电梯",
        channel="web",
        channel_user_id=sender,
        conversation_id=sender,
        category="城乡建设",
    )
    return bootstrap.case_service().file_case(draft).view.case_number


async def test_status_by_number_for_the_owner(dispatcher, app_database) -> None:
    number = file_one()
    text = f"查询{number.lower()}"
    await ActionCaseStatus().run(dispatcher, make_tracker(text, intent="ask_status"), {})
    assert dispatcher.messages[0]["response"] == "utter_case_status"
    assert dispatcher.messages[0]["case_number"] == number
    assert dispatcher.messages[0]["status_label"] == "已受理"


async def test_status_of_someone_elses_case_is_not_found(dispatcher, app_database) -> None:
    number = file_one(sender="web:another-person")
    await ActionCaseStatus().run(dispatcher, make_tracker(f"查询{number}", intent="ask_status"), {})
    assert responses(dispatcher) == ["utter_case_not_found"]


async def test_my_cases_lists_them(dispatcher, app_database) -> None:
    first, second = file_one(), None
    await ActionCaseStatus().run(dispatcher, make_tracker("我的案件", intent="ask_status"), {})
    assert responses(dispatcher) == ["utter_my_cases"]
    assert first in dispatcher.messages[0]["case_lines"]
    assert second is None


async def test_my_cases_when_there_are_none(dispatcher, app_database) -> None:
    await ActionCaseStatus().run(dispatcher, make_tracker("我的案件", intent="ask_status"), {})
    assert responses(dispatcher) == ["utter_no_cases"]


async def test_urge_is_recorded_on_the_latest_open_case(dispatcher, app_database) -> None:
    number = file_one()
    await ActionUrgeCase().run(dispatcher, make_tracker("怎么还没人管", intent="urge"), {})
    assert responses(dispatcher) == ["utter_urge_recorded"]
    kinds = [e["kind"] for e in bootstrap.case_service().get_case(number).events]
    assert kinds[-1] == "urged"


async def test_withdraw_needs_confirmation_then_withdraws(dispatcher, app_database) -> None:
    number = file_one()
    events = await ActionConfirmWithdraw().run(dispatcher, make_tracker("我要撤回", intent="withdraw"), {})
    assert slot_events(events)["pending_action"] == "withdraw"
    tracker = make_tracker("确认", intent="affirm", slots={"case_number": number, "pending_action": "withdraw"})
    await ActionWithdrawCase().run(dispatcher, tracker, {})
    assert responses(dispatcher) == ["utter_confirm_withdraw", "utter_withdrawn"]
    assert bootstrap.case_service().get_case(number).status == "withdrawn"


async def test_material_is_attached_after_being_asked(dispatcher, app_database) -> None:
    number = file_one()
    events = await ActionAddMaterial().run(dispatcher, make_tracker("补充材料", intent="add_material"), {})
    assert slot_events(events)["pending_action"] == "material"
    tracker = make_tracker("对方昨天又把垃圾堆到了楼道里", slots={"pending_action": "material"})
    await ActionAddMaterial().run(dispatcher, tracker, {})
    assert responses(dispatcher) == ["utter_ask_material", "utter_material_added"]
    assert bootstrap.case_service().get_case(number).events[-1]["kind"] == "material_added"


async def test_request_human_flags_the_case(dispatcher, app_database) -> None:
    number = file_one()
    events = await ActionRequestHuman().run(dispatcher, make_tracker("转人工", intent="request_human"), {})
    assert responses(dispatcher) == ["utter_human_requested"]
    assert slot_events(events)["case_number"] == number


async def test_crisis_answers_and_raises_a_red_alert(dispatcher, app_database) -> None:
    await ActionHandleCrisis().run(dispatcher, make_tracker("我不想活了", intent="crisis"), {})
    assert responses(dispatcher) == ["utter_crisis"]
    with bootstrap.case_service()._sessions() as session:
        alert = session.execute(select(Alert)).scalar_one()
    assert alert.level == "red" and alert.conversation_id == SENDER


async def test_crisis_answer_survives_a_broken_store(dispatcher, app_database, tmp_path, monkeypatch) -> None:
    from fengqiao import settings

    blocker = tmp_path / "file"
    blocker.write_text("x")
    monkeypatch.setenv("DATABASE_URL", f"sqlite:///{blocker}/x.db")
    settings.get_settings.cache_clear()
    bootstrap.reset()
    await ActionHandleCrisis().run(dispatcher, make_tracker("他拿刀砍门", intent="crisis"), {})
    assert responses(dispatcher) == ["utter_crisis"]
