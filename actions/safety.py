"""Crisis: emergency numbers first, then a red alert for the centre."""

from __future__ import annotations

from rasa_sdk import Action, Tracker
from rasa_sdk.events import EventType
from rasa_sdk.executor import CollectingDispatcher
from rasa_sdk.types import DomainDict

from actions.common import log_failure, original_text
from fengqiao.bootstrap import case_service


class ActionHandleCrisis(Action):
    """Answer at once with 110 / 120 / 12356 and raise a red alert."""

    def name(self) -> str:
        return "action_handle_crisis"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> list[EventType]:
        """The emergency answer never depends on the database being up."""
        dispatcher.utter_message(response="utter_crisis")
        try:
            case_service().raise_alert(
                tracker.sender_id, "red", "对话中出现危机表述（人身安全/自伤）", original_text(tracker)
            )
        except Exception as exc:  # noqa: BLE001 - logged; the citizen already has the numbers
            log_failure("action_handle_crisis", exc, sender=tracker.sender_id)
        return []
