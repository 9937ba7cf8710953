"""Intake: consent, narrative analysis, the complaint form, summary and filing."""

from __future__ import annotations

from typing import Any

from rasa_sdk import Action, Tracker
from rasa_sdk.events import EventType, SlotSet
from rasa_sdk.executor import CollectingDispatcher
from rasa_sdk.types import DomainDict

from actions.common import (
    FORM_SLOTS,
    channel_of,
    crisis_handled,
    log_failure,
    original_text,
)
from actions.wishes import act_on_wishes
from fengqiao.bootstrap import case_service
from routing.cases.service import CaseDraft
from routing.understanding.choices import plain_choices
from routing.understanding.intake import Analysis, analyse, find_phone, place_label, resolve_place
from routing.understanding.repair import wishes_in
from routing.understanding.text import normalise

INTAKE_STATE_SLOTS = (
    "awaiting_change", "awaiting_more_detail", "summary_shown", "summary_confirmed",
    "repair_kind", "phone_attempts", "wishes", "complaint_body",
)
ANALYSIS_SLOTS = (
    "narrative",
    "category",
    "dispute_type",
    "location_code",
    "category_choice",
    "category_low_confidence",
    "category_alternatives",
)


def analysis_slots(result: Analysis) -> dict[str, Any]:
    """Turn an analysis into slot values: only what the narrative really contains."""
    slots: dict[str, Any] = {
        "narrative": result.original,
        "complaint_subject": result.original,
        "category": result.category,
        "dispute_type": result.dispute_type,
    }
    if result.place is not None:
        slots["complaint_location"] = place_label(result.place, result.normalised, narrative=True)
        slots["location_code"] = result.place.division.code
    if result.respondent:
        slots["complaint_respondent"] = result.respondent
    if result.asked_bodies:
        slots["complaint_body"] = "、".join(result.asked_bodies)
    if result.demand:
        slots["complaint_demand"] = result.demand
    if result.phone:
        slots["contact_phone"] = result.phone
    # Low confidence: the form first offers the top three categories instead of guessing.
    slots["category_low_confidence"] = bool(result.low_confidence)
    slots["category_alternatives"] = plain_choices(result.original) if result.low_confidence else []
    slots["category_choice"] = None
    slots["wishes"] = list(wishes_in(result.original))
    return slots


def crisis_net(dispatcher: CollectingDispatcher, tracker: Tracker, result: Analysis) -> None:
    """Safety net: danger words inside a narrative get the emergency answer and a red alert."""
    if not result.crisis or crisis_handled(tracker):
        return
    dispatcher.utter_message(response="utter_crisis")
    try:
        case_service().raise_alert(tracker.sender_id, "red", "；".join(result.risk_reasons), result.original)
    except Exception as exc:  # noqa: BLE001 - the citizen already has the numbers
        log_failure("crisis alert", exc, sender=tracker.sender_id)


def say_understood(dispatcher: CollectingDispatcher, result: Analysis) -> None:
    """Say what the narrative was understood as (category and dispute type)."""
    dispatcher.utter_message(
        response="utter_narrative_noted",
        category=result.category or "其他",
        dispute_type_name=result.dispute_type_name or "待进一步核实",
    )


class ActionAnalyzeNarrative(Action):
    """Classify the free narrative and pre-fill what it already tells."""

    def name(self) -> str:
        return "action_analyze_narrative"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> list[EventType]:
        """Analyse the latest message and set the slots it fills."""
        text = original_text(tracker)
        result = analyse(text)
        crisis_net(dispatcher, tracker, result)
        say_understood(dispatcher, result)
        return [SlotSet(k, v) for k, v in analysis_slots(result).items()]


class ActionRecordConsent(Action):
    """Record that the citizen accepted the personal-data notice."""

    def name(self) -> str:
        return "action_record_consent"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> list[EventType]:
        """Set the consent slot; the form then asks for what is missing."""
        return [SlotSet("consent_given", True)]


class ActionDeclineConsent(Action):
    """Respect a refusal: forget what was collected and point to other channels."""

    def name(self) -> str:
        return "action_decline_consent"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> list[EventType]:
        """Clear every collected slot and explain the alternatives."""
        dispatcher.utter_message(response="utter_consent_declined")
        cleared = [*FORM_SLOTS, *ANALYSIS_SLOTS]
        return [SlotSet(name, None) for name in cleared] + [SlotSet("consent_given", False)]


def draft_from(tracker: Tracker) -> CaseDraft:
    """Build the case draft from the conversation's slots."""
    narrative = tracker.get_slot("narrative") or tracker.get_slot("complaint_subject") or ""
    result = analyse(narrative) if narrative else None
    location_code = tracker.get_slot("location_code")
    county = None
    if location_code:
        match = resolve_place(tracker.get_slot("complaint_location") or "")
        county = match.county.code if match and match.county else None
    category = tracker.get_slot("category") or (result.category if result else None)
    path = result.category_path if result and result.category == category else (category,)
    return CaseDraft(
        narrative_original=narrative,
        narrative_normalised=normalise(narrative),
        subject=(tracker.get_slot("complaint_subject") or narrative)[:500],
        channel=channel_of(tracker),
        channel_user_id=tracker.sender_id,
        conversation_id=tracker.sender_id,
        category=category,
        category_path=path,
        dispute_type=result.dispute_type if result else tracker.get_slot("dispute_type"),
        classifier_confidence=result.confidence if result else None,
        script=result.script if result else "simplified",
        location_text=tracker.get_slot("complaint_location"),
        location_code=location_code,
        county_code=county,
        respondent=tracker.get_slot("complaint_respondent"),
        demand=tracker.get_slot("complaint_demand"),
        contact_phone=find_phone(tracker.get_slot("contact_phone") or ""),
        **raised_risk(result, tracker.get_slot("wishes") or []),
    )


def raised_risk(result: Analysis | None, wishes: list[str]) -> dict[str, Any]:
    """The analysis' risk, raised to at least yellow when the citizen says it is urgent."""
    level = result.risk_level if result else "blue"
    reasons = tuple(result.risk_reasons) if result else ()
    if "urgent" in wishes:
        reasons = (*reasons, "群众称情况紧急")
        level = "yellow" if level == "blue" else level
    return {"risk_level": level, "risk_reasons": reasons}


class ActionFileCase(Action):
    """File the confirmed complaint; confirm only what the case store really stored."""

    def name(self) -> str:
        return "action_file_case"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> list[EventType]:
        """Store the case and tell its number, or say plainly that filing failed.

        Files only after an explicit confirmation of the summary shown last: the slot
        `summary_confirmed` holds that summary's fingerprint, and nothing changed since.
        """
        from actions.intake_form import fingerprint

        confirmed = tracker.get_slot("summary_confirmed")
        if not confirmed or confirmed != fingerprint(tracker) or confirmed != tracker.get_slot("summary_shown"):
            return []  # cancelled, or not confirmed: never a filing
        try:
            filed = case_service().file_case(draft_from(tracker))
        except Exception as exc:  # noqa: BLE001 - any storage failure must reach the citizen
            log_failure("action_file_case", exc, sender=tracker.sender_id)
            dispatcher.utter_message(response="utter_filing_failed")
            return []
        view = filed.view
        dispatcher.utter_message(
            response="utter_case_filed",
            case_number=view.case_number,
            handling_body=view.handling_body,
            tier=view.tier,
            due_date=view.due_date.isoformat() if view.due_date else "依法定期限",
        )
        wish_events = act_on_wishes(dispatcher, tracker, view, tracker.get_slot("wishes") or [])
        cleared = [*FORM_SLOTS, *ANALYSIS_SLOTS, *INTAKE_STATE_SLOTS]
        return [SlotSet(n, None) for n in cleared] + [
            SlotSet("pending_action", None),
            SlotSet("case_number", view.case_number),
            *wish_events,
        ]
