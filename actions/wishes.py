"""Act, after filing, on the wishes the citizen wrote in the narrative or said in the form."""

from __future__ import annotations

from rasa_sdk import Tracker
from rasa_sdk.events import EventType
from rasa_sdk.executor import CollectingDispatcher

from actions.common import log_failure
from fengqiao.bootstrap import case_service
from routing.cases.service import CaseView


def act_on_wishes(
    dispatcher: CollectingDispatcher, tracker: Tracker, view: CaseView, wishes: list[str]
) -> list[EventType]:
    """Offer reception days, explain anonymity, note urgency, point litigation to its channel."""
    events: list[EventType] = []
    if "urgent" in wishes:
        _raise_priority(view, tracker)
        dispatcher.utter_message(response="utter_urgent_noted")
    if "anonymous" in wishes:
        dispatcher.utter_message(response="utter_anonymity_explained")
    if "litigation" in wishes:
        dispatcher.utter_message(response="utter_litigation_channel")
    if "leader" in wishes:
        from actions.reception import ActionOfferReception

        try:
            events += ActionOfferReception().act(view, dispatcher, tracker)
        except Exception as exc:  # noqa: BLE001 - the case is filed; say the wish is noted
            log_failure("offer reception after filing", exc, sender=tracker.sender_id)
            dispatcher.utter_message(response="utter_leader_requested")
    return events


def _raise_priority(view: CaseView, tracker: Tracker) -> None:
    """Raise a blue case to yellow, with an event that says why (the citizen called it urgent)."""
    try:
        case_service().raise_priority(view.case_number, "citizen", "群众称情况紧急，提高优先级",
                                      channel_user_id=tracker.sender_id)
    except Exception as exc:  # noqa: BLE001 - the priority note must not undo the filing
        log_failure("raise priority", exc, sender=tracker.sender_id)
