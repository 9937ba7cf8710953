"""Case status by number or 'my cases'."""

from __future__ import annotations

from rasa_sdk import Action, Tracker
from rasa_sdk.events import EventType, SlotSet
from rasa_sdk.executor import CollectingDispatcher
from rasa_sdk.types import DomainDict

from actions.common import case_number_in, channel_of, due_text, log_failure, say_status
from fengqiao.bootstrap import case_service
from routing.cases.service import CaseNotFound, CaseView


def _line(view: CaseView) -> str:
    return f"• {view.case_number}｜{view.category or '待分类'}｜{view.status_label}｜期限 {due_text(view)}"


class ActionCaseStatus(Action):
    """Tell the status of one case, or list the citizen's cases."""

    def name(self) -> str:
        return "action_case_status"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> list[EventType]:
        """Answer from the case store; a citizen only sees their own cases."""
        number = case_number_in(tracker)
        service = case_service()
        try:
            if number:
                view = service.get_case(number, channel_user_id=tracker.sender_id)
                say_status(dispatcher, view)
                return [SlotSet("case_number", view.case_number)]
            views = service.cases_for_user(channel_of(tracker), tracker.sender_id)
        except CaseNotFound:
            dispatcher.utter_message(response="utter_case_not_found", case_number=number)
            return []
        except Exception as exc:  # noqa: BLE001 - the citizen must hear that lookup failed
            log_failure("action_case_status", exc, sender=tracker.sender_id)
            dispatcher.utter_message(response="utter_service_unavailable")
            return []
        if not views:
            dispatcher.utter_message(response="utter_no_cases")
            return []
        dispatcher.utter_message(response="utter_my_cases", case_lines="\n".join(map(_line, views)))
        return []
