"""Handoff to a human: flag the conversation and its open case."""

from __future__ import annotations

from rasa_sdk import Action, Tracker
from rasa_sdk.events import EventType, SlotSet
from rasa_sdk.executor import CollectingDispatcher
from rasa_sdk.types import DomainDict

from actions.common import channel_of, log_failure
from fengqiao.bootstrap import case_service


class ActionRequestHuman(Action):
    """Record the request for a human and tell the citizen what happens next."""

    def name(self) -> str:
        return "action_request_human"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> list[EventType]:
        """Flag the newest open case (if any) and answer clearly."""
        try:
            number = case_service().request_human(
                tracker.sender_id, channel_of(tracker), tracker.sender_id
            )
        except Exception as exc:  # noqa: BLE001 - the answer must not depend on the store
            log_failure("action_request_human", exc, sender=tracker.sender_id)
            number = None
        if number:
            dispatcher.utter_message(response="utter_human_requested")
            return [SlotSet("case_number", number)]
        dispatcher.utter_message(response="utter_human_requested_no_case")
        return []
