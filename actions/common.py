"""Helpers shared by the action modules: who is talking, on which channel, which case."""

from __future__ import annotations

import logging
from typing import Any

from rasa_sdk import Tracker

from routing.cases import channels
from routing.cases.numbers import canonical_case_number, find_case_numbers
from routing.understanding.text import clean, mask_pii

log = logging.getLogger("fengqiao.actions")

FORM_SLOTS = (
    "complaint_subject",
    "complaint_location",
    "complaint_respondent",
    "complaint_demand",
    "contact_phone",
)


def channel_of(tracker: Tracker) -> str:
    """Return the channel name encoded in the sender id (``web:…``, ``tg:…``), else ``rest``."""
    return channels.channel_of(tracker.sender_id or "")


def original_text(tracker: Tracker) -> str:
    """Return the citizen's latest message exactly as written (kept as evidence)."""
    for event in reversed(tracker.events):
        if event.get("event") == "user":
            return event.get("text") or ""
    return ""


def crisis_handled(tracker: Tracker) -> bool:
    """Tell whether the gateway's danger check already answered this message's danger.

    A grievance held during a crisis reaches the dialogue later with ``crisis_handled`` in its
    metadata: the emergency answer is not repeated.
    """
    metadata = (tracker.latest_message or {}).get("metadata") or {}
    return bool(metadata.get("crisis_handled"))


def normalised_text(tracker: Tracker) -> str:
    """Return the latest message as NLU saw it (NFKC + Simplified)."""
    return (tracker.latest_message or {}).get("text") or ""


def case_number_in(tracker: Tracker) -> str | None:
    """Return a case number from the latest message, the slot, or None."""
    for entity in (tracker.latest_message or {}).get("entities", []):
        if entity.get("entity") == "case_number" and entity.get("value"):
            return _canonical(str(entity["value"]))
    found = find_case_numbers(clean(original_text(tracker)))
    if found:
        return found[0]
    slot = tracker.get_slot("case_number")
    return _canonical(slot) if slot else None


def _canonical(raw: str) -> str | None:
    return canonical_case_number(clean(raw))


def due_text(view: Any) -> str:
    """Return a case's due date for a citizen, or the legal-period wording when none is set."""
    return view.due_date.isoformat() if view.due_date else "依法定期限"


def say_status(dispatcher: Any, view: Any, missing_body: str = "待分派") -> None:
    """Utter `utter_case_status` for a case view."""
    dispatcher.utter_message(
        response="utter_case_status",
        case_number=view.case_number,
        category=view.category or "待分类",
        status_label=view.status_label,
        handling_body=view.handling_body or missing_body,
        due_date=due_text(view),
    )


def masked_phone(phone: str | None) -> str:
    """Return the phone number masked for display."""
    return mask_pii(phone) if phone else "（未提供）"


def log_failure(action: str, exc: BaseException, **context: Any) -> None:
    """Log an action failure without personal data (no message text, masked ids)."""
    safe = {k: mask_pii(str(v)) for k, v in context.items()}
    log.error("%s failed: %s %s", action, type(exc).__name__, safe)
