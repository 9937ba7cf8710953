"""A small stand-in for Rasa's form loop, to drive `validate_complaint_form` turn by turn.

It builds the tracker Rasa's FormAction hands the validation action (the user event, the form's
ActionExecuted, then the slot candidates from the domain's from_text mappings), applies the
returned events, and runs `action_file_case` when the form ends — as the rule does.
"""

from __future__ import annotations

from typing import Any

from rasa_sdk import Tracker
from rasa_sdk.executor import CollectingDispatcher

from actions.intake import ActionFileCase
from actions.intake_form import (
    ActionAskCategoryChoice,
    ActionAskSummaryConfirmed,
    ValidateComplaintForm,
)
from routing.understanding.text import normalise

REPAIRS = ["crisis", "request_human", "cancel", "decline", "ask_why", "correct", "none_of_these", "request_leader"]
NOT_INTENT = {
    "complaint_subject": [*REPAIRS, "greet", "goodbye"],
    "complaint_location": REPAIRS,
    "complaint_respondent": REPAIRS,
    "complaint_demand": REPAIRS,
    "contact_phone": REPAIRS,
    "summary_confirmed": ["crisis", "request_human"],
    "category_choice": ["crisis", "request_human"],
}
DOMAIN_SLOTS = ["category_choice", "complaint_subject", "complaint_location", "complaint_respondent",
                "complaint_demand", "contact_phone", "summary_confirmed"]
DOMAIN = {"forms": {"complaint_form": {"required_slots": DOMAIN_SLOTS}}, "slots": {}}


class FormSim:
    """One conversation inside the complaint form."""

    def __init__(self, slots: dict[str, Any], sender: str = "web:sim") -> None:
        self.slots = dict(slots)
        self.sender = sender
        self.active = True
        self.messages: list[dict[str, Any]] = []
        self.filed: list[str] = []

    def _tracker(self, text: str, intent: str, extra: list[dict[str, Any]]) -> Tracker:
        latest = {"text": normalise(text), "intent": {"name": intent, "confidence": 0.9}, "entities": []}
        events = [
            {"event": "action", "name": "action_listen"},
            {"event": "user", "text": text, "parse_data": latest, "metadata": {}},
            {"event": "action", "name": "complaint_form"},
            *extra,
        ]
        slots = dict(self.slots)
        for e in extra:
            slots[e["name"]] = e["value"]
        return Tracker(self.sender, slots, latest, events, False, None, {"name": "complaint_form"}, "complaint_form")

    async def ask(self) -> list[str]:
        """Ask the requested slot the way the form does (the summary and category have actions)."""
        action = {"summary_confirmed": ActionAskSummaryConfirmed, "category_choice": ActionAskCategoryChoice}.get(
            self.slots.get("requested_slot") or "")
        if action is None:
            return []
        d = CollectingDispatcher()
        events = await action().run(d, self._tracker("", "inform", []), DOMAIN)
        self.messages += d.messages
        self._apply(events)
        return [m.get("response") for m in d.messages]

    async def say(self, text: str, intent: str = "inform") -> list[str]:
        """One citizen turn; returns the response names the bot uttered."""
        requested = self.slots.get("requested_slot")
        extra = [{"event": "slot", "name": "requested_slot", "value": requested}]
        if requested and intent not in NOT_INTENT.get(requested, []):
            extra.append({"event": "slot", "name": requested, "value": normalise(text)})
        d = CollectingDispatcher()
        tracker = self._tracker(text, intent, extra)
        events = await ValidateComplaintForm().run(d, tracker, DOMAIN)
        self.slots.update({e["name"]: e["value"] for e in extra if e["name"] != "requested_slot"})
        self._apply(events)
        self.messages += d.messages
        said = [m.get("response") for m in d.messages]
        if self.active and self._done(events):
            self.active = False
            fd = CollectingDispatcher()
            file_events = await ActionFileCase().run(fd, self._tracker(text, intent, []), DOMAIN)
            self._apply(file_events)
            self.filed += [m["case_number"] for m in fd.messages if m.get("response") == "utter_case_filed"]
            said += [m.get("response") for m in fd.messages]
        elif self.active:
            asked = await self.ask()
            if asked and asked[0] in ("utter_ask_what_to_change", "utter_tell_more"):
                said += asked  # the question the repair opened
        return said

    def _done(self, events: list[dict[str, Any]]) -> bool:
        if any(e.get("event") == "active_loop" and e.get("name") is None for e in events):
            return True
        missing = [s for s in DOMAIN_SLOTS if self.slots.get(s) is None]
        if not (self.slots.get("category_low_confidence") and self.slots.get("category_alternatives")):
            missing = [s for s in missing if s != "category_choice"]
        return not missing

    def _apply(self, events: list[dict[str, Any]]) -> None:
        for e in events:
            if e.get("event") == "slot":
                self.slots[e["name"]] = e["value"]
