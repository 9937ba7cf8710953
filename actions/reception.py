"""Pujiang reception days in the chat: offer, book, cancel and move a slot with a leader."""

from __future__ import annotations

from collections.abc import Collection

from rasa_sdk import Tracker
from rasa_sdk.events import EventType, SlotSet
from rasa_sdk.executor import CollectingDispatcher

from actions.case_ops import CaseAction
from fengqiao.bootstrap import case_life, case_service
from routing.cases import reception_days as rec
from routing.cases.service import CaseView
from routing.cases.statuses import TransitionError


def day_buttons(offers: tuple[rec.SlotOffer, ...], exclude: Collection[str] = frozenset()) -> list[dict[str, str]]:
    """One button per open day: date, leader, place and places left."""
    return [
        {
            "title": f"{o.day.date.isoformat()} {o.day.start} {o.day.leader}（{o.day.place}，余{o.remaining}个）",
            "payload": f'/inform{{"reception_day": "{o.day.id}"}}',
        }
        for o in offers
        if o.day.id not in exclude
    ]


def _booked_text(result) -> dict[str, str]:  # type: ignore[no-untyped-def]
    day = result.day
    return {"date": day.date.isoformat(), "start": day.start, "leader": day.leader, "place": day.place}


class ActionOfferReception(CaseAction):
    """Record the wish to see a leader and offer the next fitting reception days."""

    action_name = "action_offer_reception"

    def act(self, view: CaseView, dispatcher: CollectingDispatcher, tracker: Tracker) -> list[EventType]:
        """Offer days as buttons, or say the wish is recorded when none is open."""
        case_service().record(
            view.case_number, "leader_requested", "citizen", "群众希望面见领导（浦江经验接访日）",
            channel_user_id=tracker.sender_id,
        )
        offers = case_life().offer_slots_for_case(
            view.case_number, channel_user_id=tracker.sender_id, citizen_asks=True
        ).offers
        buttons = day_buttons(offers)
        if not buttons:
            dispatcher.utter_message(response="utter_leader_requested")
            return [SlotSet("case_number", view.case_number)]
        dispatcher.utter_message(response="utter_reception_offer", buttons=buttons)
        return [SlotSet("case_number", view.case_number), SlotSet("pending_action", "reception")]


class ActionBookReception(CaseAction):
    """Book the day the citizen picked."""

    action_name = "action_book_reception"

    def act(self, view: CaseView, dispatcher: CollectingDispatcher, tracker: Tracker) -> list[EventType]:
        """Book through the case-life service (≤ 5 representatives, capacity, status checked)."""
        day_id = tracker.get_slot("reception_day")
        if not day_id:
            dispatcher.utter_message(response="utter_reception_full")
            return [SlotSet("pending_action", None)]
        try:
            result = case_life().book_slot(view.case_number, day_id, channel_user_id=tracker.sender_id)
        except (rec.DayFull, rec.ReceptionError):
            dispatcher.utter_message(response="utter_reception_full")
            return [SlotSet("pending_action", None), SlotSet("reception_day", None)]
        except TransitionError:
            dispatcher.utter_message(
                response="utter_reception_not_possible", case_number=view.case_number,
                status_label=view.status_label,
            )
            return [SlotSet("pending_action", None), SlotSet("reception_day", None)]
        dispatcher.utter_message(
            response="utter_reception_booked", case_number=view.case_number, **_booked_text(result)
        )
        return [SlotSet("pending_action", None), SlotSet("reception_day", None)]


class ActionCancelReception(CaseAction):
    """Cancel the case's reception booking."""

    action_name = "action_cancel_reception"

    def act(self, view: CaseView, dispatcher: CollectingDispatcher, tracker: Tracker) -> list[EventType]:
        """Cancel, or say there is no booking."""
        try:
            case_life().cancel_booking(view.case_number, "群众取消预约", channel_user_id=tracker.sender_id)
        except (rec.ReceptionError, TransitionError):
            dispatcher.utter_message(response="utter_no_booking")
            return []
        dispatcher.utter_message(response="utter_reception_cancelled", case_number=view.case_number)
        return []


class ActionOfferReschedule(CaseAction):
    """Offer other days for an existing booking."""

    action_name = "action_offer_reschedule"

    def act(self, view: CaseView, dispatcher: CollectingDispatcher, tracker: Tracker) -> list[EventType]:
        """List open days other than the booked one."""
        if view.status != "reception_booked":
            dispatcher.utter_message(response="utter_no_booking")
            return []
        offers = case_life().offer_slots_for_case(
            view.case_number, channel_user_id=tracker.sender_id, citizen_asks=True, limit=4
        ).offers
        booked = case_life().booked_day_ids(view.case_number, channel_user_id=tracker.sender_id)
        buttons = day_buttons(offers, exclude=booked)
        if not buttons:
            dispatcher.utter_message(response="utter_reception_full")
            return []
        dispatcher.utter_message(response="utter_reschedule_offer", buttons=buttons)
        return [SlotSet("case_number", view.case_number), SlotSet("pending_action", "reschedule")]


class ActionRescheduleReception(CaseAction):
    """Move the booking to the day the citizen picked."""

    action_name = "action_reschedule_reception"

    def act(self, view: CaseView, dispatcher: CollectingDispatcher, tracker: Tracker) -> list[EventType]:
        """Move the booking (the new place is taken before the old one is freed)."""
        day_id = tracker.get_slot("reception_day")
        try:
            result = case_life().reschedule_booking(
                view.case_number, day_id or "", channel_user_id=tracker.sender_id
            )
        except (rec.DayFull, rec.ReceptionError, TransitionError):
            dispatcher.utter_message(response="utter_reception_full")
            return [SlotSet("pending_action", None), SlotSet("reception_day", None)]
        dispatcher.utter_message(response="utter_reception_rescheduled", **_booked_text(result))
        return [SlotSet("pending_action", None), SlotSet("reception_day", None)]
