"""The citizen's rights: 查看我的信息 (masked), 删除我的信息, 撤回同意 (routing.privacy.citizen)."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from rasa_sdk import Action, Tracker
from rasa_sdk.events import ActiveLoop, EventType, SlotSet
from rasa_sdk.executor import CollectingDispatcher
from rasa_sdk.types import DomainDict

from actions.common import FORM_SLOTS, masked_phone
from fengqiao import bootstrap
from routing.privacy.citizen import erase, holdings
from routing.privacy.retention import load_policy

NOTHING = "目前我们没有保存您在本对话中提交的案件信息。"
FORM_NAME = "intake_form"


def _open_cases(owner: str) -> list[Any]:
    with bootstrap.sessions()() as session:
        return holdings(session, owner)


class ActionShowMyData(Action):
    """Tell what is held about this conversation's citizen, masked (第四十五条 查阅)."""

    def name(self) -> str:
        return "action_show_my_data"

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict) -> list[EventType]:
        """List the cases and this conversation's details, phone and ID numbers masked."""
        lines = []
        for case in _open_cases(tracker.sender_id):
            lines.append(f"· {case.case_number}（{case.status}）：{case.subject}；地点：{case.place or '未填'}；"
                         f"电话：{case.phone or '未留'}")
        phone = tracker.get_slot("contact_phone")
        if phone:
            lines.append(f"本次对话中您留的电话：{masked_phone(phone)}")
        days = load_policy().tracker_idle_days
        if not lines:
            dispatcher.utter_message(text=NOTHING + f"对话记录在对话结束{days}天后自动删除。")
            return []
        dispatcher.utter_message(text="我们保存的您的信息（已隐去部分号码）：\n" + "\n".join(lines) +
                                 f"\n对话记录在对话结束{days}天后自动删除。如需删除，请说“删除我的信息”。")
        return []


class ActionDeleteMyData(Action):
    """Delete what may be deleted now and say what the law requires to keep (第四十七条)."""

    def name(self) -> str:
        return "action_delete_my_data"

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict) -> list[EventType]:
        """Erase, then answer with what was deleted and what is kept, why and until when."""
        with bootstrap.sessions()() as session, session.begin():
            result = erase(session, tracker.sender_id, tracker.sender_id, datetime.now(UTC))
        parts = ["已删除本对话中的消息记录和您在对话中填写但尚未提交的信息。"]
        if result.erased:
            parts.append(f"已删除案件 {'、'.join(result.erased)} 中的个人信息。")
        for number, why, until in result.kept:
            parts.append(f"案件 {number} 依法暂不能删除：{why}" + (f"（至{until}）" if until else "") +
                         "；在此期间仅作保存，不再用于其他处理，期满自动删除。")
        dispatcher.utter_message(text="".join(parts))
        return [SlotSet(slot, None) for slot in FORM_SLOTS] + [ActiveLoop(None)]


class ActionWithdrawConsent(Action):
    """撤回同意: stop collecting, clear the form, say what happens to an open case."""

    def name(self) -> str:
        return "action_withdraw_consent"

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict) -> list[EventType]:
        """Clear consent and the unfiled form; tell what becomes of filed cases."""
        cases = [c for c in _open_cases(tracker.sender_id) if c.status not in ("已撤回", "已归档", "不予受理")]
        text = "已为您撤回同意：我们不再收集、使用您在本对话中提供的新信息，未提交的登记内容已清除。"
        if cases:
            numbers = "、".join(c.case_number for c in cases)
            text += (f"您已提交的案件 {numbers} 仍在办理中：撤回同意不会自动撤回案件，办理机关依法继续办理并保存档案；"
                     "如果不想再办理，请说“撤回案件”；如需删除个人信息，请说“删除我的信息”。")
        else:
            text += "如需删除已保存的信息，请说“删除我的信息”。"
        dispatcher.utter_message(text=text)
        return [SlotSet("consent_given", False), *[SlotSet(slot, None) for slot in FORM_SLOTS], ActiveLoop(None)]
