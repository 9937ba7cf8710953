"""Intake: consent, narrative analysis, the complaint form, summary and filing."""

from __future__ import annotations

from typing import Any

from rasa_sdk import Action, FormValidationAction, Tracker
from rasa_sdk.events import EventType, SlotSet
from rasa_sdk.executor import CollectingDispatcher
from rasa_sdk.types import DomainDict

from actions.common import (
    FORM_SLOTS,
    channel_of,
    crisis_handled,
    log_failure,
    masked_phone,
    original_text,
)
from fengqiao.bootstrap import case_service
from routing.intake import Analysis, analyse, find_phone, is_no_party, resolve_place
from routing.service import CaseDraft
from routing.text import normalise

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
        slots["complaint_location"] = result.place.label
        slots["location_code"] = result.place.division.code
    if result.respondent:
        slots["complaint_respondent"] = result.respondent
    if result.demand:
        slots["complaint_demand"] = result.demand
    if result.phone:
        slots["contact_phone"] = result.phone
    # Low confidence: the form first offers the top three categories instead of guessing.
    slots["category_low_confidence"] = bool(result.low_confidence)
    slots["category_alternatives"] = [str(c) for c, _ in result.alternatives[:3]]
    slots["category_choice"] = None
    return slots


def _crisis_net(dispatcher: CollectingDispatcher, tracker: Tracker, result: Analysis) -> None:
    """Safety net: danger words inside a narrative get the emergency answer and a red alert."""
    if not result.crisis or crisis_handled(tracker):
        return
    dispatcher.utter_message(response="utter_crisis")
    try:
        case_service().raise_alert(tracker.sender_id, "red", "；".join(result.risk_reasons), result.original)
    except Exception as exc:  # noqa: BLE001 - the citizen already has the numbers
        log_failure("crisis alert", exc, sender=tracker.sender_id)


def _say_understood(dispatcher: CollectingDispatcher, result: Analysis) -> None:
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
        _crisis_net(dispatcher, tracker, result)
        _say_understood(dispatcher, result)
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


class ActionAskCategoryChoice(Action):
    """Offer the classifier's top three categories as buttons."""

    def name(self) -> str:
        return "action_ask_category_choice"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> list[EventType]:
        """Ask which category fits, one button per alternative plus 'none of these'."""
        options = list(tracker.get_slot("category_alternatives") or [])
        buttons = [
            {"title": name, "payload": f'/inform{{"category_choice": "{name}"}}'} for name in options
        ]
        buttons.append({"title": "都不是", "payload": '/inform{"category_choice": "都不是"}'})
        dispatcher.utter_message(response="utter_category_question", buttons=buttons)
        return []


class ValidateComplaintForm(FormValidationAction):
    """Validate each answer of the complaint form."""

    def name(self) -> str:
        return "validate_complaint_form"

    async def required_slots(
        self,
        domain_slots: list[str],
        dispatcher: CollectingDispatcher,
        tracker: Tracker,
        domain: DomainDict,
    ) -> list[str]:
        """Ask for the category first, and only when the classifier was not sure."""
        rest = [name for name in domain_slots if name != "category_choice"]
        if tracker.get_slot("category_low_confidence") and tracker.get_slot("category_alternatives"):
            return ["category_choice", *rest]
        return rest

    async def validate_category_choice(
        self, value: Any, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> dict[str, Any]:
        """Take the category the citizen picked (a button, or its name typed)."""
        answer = normalise(str(value or ""))
        options = list(tracker.get_slot("category_alternatives") or [])
        picked = next((name for name in options if name in answer), None)
        if picked is None and any(word in answer for word in ("都不是", "不是", "其他", "不清楚")):
            return {"category_choice": "未确定", "category_low_confidence": False}
        if picked is None:
            dispatcher.utter_message(response="utter_invalid_category")
            return {"category_choice": None}
        return {"category_choice": picked, "category": picked, "category_low_confidence": False}

    async def validate_complaint_subject(
        self, value: Any, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> dict[str, Any]:
        """Accept a narrative of a few words and pre-fill what it contains."""
        text = original_text(tracker) or str(value or "")
        if len(normalise(text)) < 4:
            dispatcher.utter_message(response="utter_invalid_answer")
            return {"complaint_subject": None}
        result = analyse(text)
        _crisis_net(dispatcher, tracker, result)
        _say_understood(dispatcher, result)
        slots = analysis_slots(result)
        for name in FORM_SLOTS:
            if name != "complaint_subject" and tracker.get_slot(name):
                slots.pop(name, None)  # keep answers already given
        return slots

    async def validate_complaint_location(
        self, value: Any, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> dict[str, Any]:
        """Accept a place only when it resolves to a known administrative division."""
        match = resolve_place(str(value or ""))
        if match is None:
            dispatcher.utter_message(response="utter_invalid_location")
            return {"complaint_location": None}
        return {"complaint_location": match.label, "location_code": match.division.code}

    async def validate_complaint_respondent(
        self, value: Any, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> dict[str, Any]:
        """Accept any named party, or 'none'."""
        answer = normalise(str(value or ""))
        if is_no_party(answer):
            return {"complaint_respondent": "无明确对方"}
        if not answer:
            dispatcher.utter_message(response="utter_invalid_answer")
            return {"complaint_respondent": None}
        return {"complaint_respondent": answer[:200]}

    async def validate_complaint_demand(
        self, value: Any, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> dict[str, Any]:
        """Accept a demand of at least two characters."""
        answer = normalise(str(value or ""))
        if len(answer) < 2:
            dispatcher.utter_message(response="utter_invalid_answer")
            return {"complaint_demand": None}
        return {"complaint_demand": answer[:500]}

    async def validate_contact_phone(
        self, value: Any, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> dict[str, Any]:
        """Accept a mobile (11 digits) or a landline with area code."""
        phone = find_phone(str(value or ""))
        if phone is None:
            dispatcher.utter_message(response="utter_invalid_phone")
            return {"contact_phone": None}
        return {"contact_phone": phone}


class ActionConfirmSummary(Action):
    """Show the collected complaint and ask to confirm before filing."""

    def name(self) -> str:
        return "action_confirm_summary"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> list[EventType]:
        """Utter the summary with the phone masked."""
        subject = tracker.get_slot("complaint_subject") or ""
        dispatcher.utter_message(
            response="utter_summary",
            complaint_subject=subject if len(subject) <= 120 else subject[:118] + "……",
            masked_phone=masked_phone(tracker.get_slot("contact_phone")),
            category=tracker.get_slot("category") or "待分类",
        )
        return [SlotSet("pending_action", "file_case")]


class ActionResetComplaint(Action):
    """Clear the form answers (not the narrative) so the form asks again."""

    def name(self) -> str:
        return "action_reset_complaint"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> list[EventType]:
        """Reset location, party, demand and phone."""
        dispatcher.utter_message(response="utter_ask_what_to_change")
        names = [n for n in FORM_SLOTS if n != "complaint_subject"] + ["location_code"]
        return [SlotSet(n, None) for n in names] + [SlotSet("pending_action", None)]


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
        contact_phone=tracker.get_slot("contact_phone"),
        risk_level=result.risk_level if result else "blue",
        risk_reasons=result.risk_reasons if result else (),
    )


class ActionFileCase(Action):
    """File the confirmed complaint; confirm only what the case store really stored."""

    def name(self) -> str:
        return "action_file_case"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> list[EventType]:
        """Store the case and tell its number, or say plainly that filing failed."""
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
        cleared = [*FORM_SLOTS, *ANALYSIS_SLOTS]
        return [SlotSet(n, None) for n in cleared] + [
            SlotSet("pending_action", None),
            SlotSet("case_number", view.case_number),
        ]
