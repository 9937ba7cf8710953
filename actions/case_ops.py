"""What a citizen does with a filed case: urge, withdraw, add material, rate, review, leader."""

from __future__ import annotations

from rasa_sdk import Action, Tracker
from rasa_sdk.events import EventType, SlotSet
from rasa_sdk.executor import CollectingDispatcher
from rasa_sdk.types import DomainDict

from actions.common import (
    case_number_in,
    channel_of,
    due_text,
    log_failure,
    original_text,
    say_status,
)
from fengqiao.bootstrap import case_life, case_service
from routing.cases.service import CLOSED_STATUSES, CaseNotFound, CaseView
from routing.cases.statuses import TransitionError

OPEN = {"accepted", "assigned", "handling", "mediating", "reception_booked", "escalated"}
SATISFACTION = ("满意", "基本满意", "不满意")


def target_case(tracker: Tracker) -> CaseView | None:
    """Return the case the citizen means: a number they gave, else their newest open case."""
    service = case_service()
    number = case_number_in(tracker)
    if number:
        return service.get_case(number, channel_user_id=tracker.sender_id)
    latest = service.latest_open_case(channel_of(tracker), tracker.sender_id)
    if latest is not None:
        return latest
    views = service.cases_for_user(channel_of(tracker), tracker.sender_id, limit=1)
    return views[0] if views else None


class CaseAction(Action):
    """Base: find the target case, run `act`, turn lookup failures into clear answers."""

    action_name = ""

    def name(self) -> str:
        return self.action_name

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> list[EventType]:
        """Find the case and act on it."""
        try:
            view = target_case(tracker)
            if view is None:
                dispatcher.utter_message(response="utter_case_needed")
                return [SlotSet("pending_action", None)]
            return self.act(view, dispatcher, tracker)
        except CaseNotFound:
            dispatcher.utter_message(response="utter_case_not_found", case_number=case_number_in(tracker))
        except Exception as exc:  # noqa: BLE001 - the citizen must hear that it failed
            log_failure(self.action_name, exc, sender=tracker.sender_id)
            dispatcher.utter_message(response="utter_service_unavailable")
        return [SlotSet("pending_action", None)]

    def act(self, view: CaseView, dispatcher: CollectingDispatcher, tracker: Tracker) -> list[EventType]:
        """Do the action's work on `view` (overridden)."""
        raise NotImplementedError


class ActionUrgeCase(CaseAction):
    """Record an urge (催办) on the case."""

    action_name = "action_urge_case"

    def act(self, view: CaseView, dispatcher: CollectingDispatcher, tracker: Tracker) -> list[EventType]:
        """Append the urge event and repeat status and deadline."""
        view = case_service().record(
            view.case_number, "urged", "citizen", "群众催办", channel_user_id=tracker.sender_id
        )
        dispatcher.utter_message(
            response="utter_urge_recorded",
            case_number=view.case_number,
            status_label=view.status_label,
            due_date=due_text(view),
        )
        return [SlotSet("case_number", view.case_number)]


class ActionConfirmWithdraw(CaseAction):
    """Ask before withdrawing."""

    action_name = "action_confirm_withdraw"

    def act(self, view: CaseView, dispatcher: CollectingDispatcher, tracker: Tracker) -> list[EventType]:
        """Ask for confirmation unless the case is already closed."""
        if view.status in CLOSED_STATUSES:
            say_status(dispatcher, view, missing_body="—")
            return [SlotSet("pending_action", None)]
        dispatcher.utter_message(response="utter_confirm_withdraw", case_number=view.case_number)
        return [SlotSet("case_number", view.case_number), SlotSet("pending_action", "withdraw")]


class ActionWithdrawCase(CaseAction):
    """Withdraw the case the citizen confirmed."""

    action_name = "action_withdraw_case"

    def act(self, view: CaseView, dispatcher: CollectingDispatcher, tracker: Tracker) -> list[EventType]:
        """Move the case to 撤回 through the lifecycle (refused once it is closed)."""
        try:
            view = case_life().withdraw(
                view.case_number, f"citizen:{tracker.sender_id}", channel_user_id=tracker.sender_id
            )
        except TransitionError:
            dispatcher.utter_message(response="utter_withdraw_kept")
            return [SlotSet("pending_action", None)]
        dispatcher.utter_message(response="utter_withdrawn", case_number=view.case_number)
        return [SlotSet("pending_action", None)]


class ActionAddMaterial(CaseAction):
    """Attach what the citizen adds to the case, or ask them to send it."""

    action_name = "action_add_material"

    def act(self, view: CaseView, dispatcher: CollectingDispatcher, tracker: Tracker) -> list[EventType]:
        """Store the message as material when it carries content, else ask for it."""
        text = original_text(tracker)
        asked_before = tracker.get_slot("pending_action") == "material"
        if not asked_before and len(text) < 15:
            dispatcher.utter_message(response="utter_ask_material", case_number=view.case_number)
            return [SlotSet("case_number", view.case_number), SlotSet("pending_action", "material")]
        case_service().record(
            view.case_number, "material_added", "citizen", "群众补充材料",
            {"text": text[:4000]}, channel_user_id=tracker.sender_id,
        )
        dispatcher.utter_message(response="utter_material_added", case_number=view.case_number)
        return [SlotSet("pending_action", None)]


def _satisfaction(tracker: Tracker) -> str | None:
    value = tracker.get_slot("satisfaction")
    if value in SATISFACTION:
        return value
    text = original_text(tracker)
    for level in ("不满意", "基本满意", "满意"):  # longest first: 不满意 contains 满意
        if level in text:
            return level
    return None


class ActionRateCase(CaseAction):
    """Record satisfaction; 不满意 triggers a supervisor follow-up and the review right."""

    action_name = "action_rate_case"

    def act(self, view: CaseView, dispatcher: CollectingDispatcher, tracker: Tracker) -> list[EventType]:
        """Rate through the lifecycle: only a case in 回访评价 can be rated."""
        level = _satisfaction(tracker)
        if level is None:
            dispatcher.utter_message(response="utter_ask_satisfaction", case_number=view.case_number)
            return []
        try:
            result = case_life().rate(
                view.case_number, level, f"citizen:{tracker.sender_id}", channel_user_id=tracker.sender_id
            )
        except TransitionError:
            dispatcher.utter_message(response="utter_rating_too_early", case_number=view.case_number)
            return [SlotSet("satisfaction", None)]
        if result.review_due is not None:
            dispatcher.utter_message(
                response="utter_rating_unsatisfied", review_deadline=result.review_due.isoformat()
            )
        else:
            dispatcher.utter_message(
                response="utter_rating_recorded", case_number=view.case_number, satisfaction=level
            )
        return [SlotSet("satisfaction", None)]


class ActionRequestReview(CaseAction):
    """Register a request for 复查 (信访工作条例 Art. 35) once the case has an outcome."""

    action_name = "action_request_review"

    def act(self, view: CaseView, dispatcher: CollectingDispatcher, tracker: Tracker) -> list[EventType]:
        """Request the review through the lifecycle; too early or too late is explained."""
        try:
            case_life().request_review(
                view.case_number, f"citizen:{tracker.sender_id}", "群众请求复查",
                channel_user_id=tracker.sender_id,
            )
        except TransitionError:
            dispatcher.utter_message(response="utter_review_not_possible", case_number=view.case_number)
            return []
        dispatcher.utter_message(response="utter_review_requested", case_number=view.case_number)
        return []


class ActionResetPending(Action):
    """Forget a pending confirmation."""

    def name(self) -> str:
        return "action_reset_pending"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> list[EventType]:
        """Clear `pending_action`."""
        return [SlotSet("pending_action", None)]
