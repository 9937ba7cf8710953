"""Tracker fixtures for action tests (rasa_sdk's own Tracker and CollectingDispatcher)."""

from __future__ import annotations

from typing import Any

import pytest
from rasa_sdk import Tracker
from rasa_sdk.executor import CollectingDispatcher

from routing.understanding.text import normalise


def make_tracker(
    text: str = "",
    slots: dict[str, Any] | None = None,
    intent: str = "inform",
    entities: list[dict[str, Any]] | None = None,
    sender: str = "web:test-conversation",
    active_loop: str | None = None,
) -> Tracker:
    """Build the tracker an action receives after the citizen said `text`."""
    latest = {
        "text": normalise(text),
        "intent": {"name": intent, "confidence": 0.9},
        "entities": entities or [],
    }
    events = [
        {"event": "action", "name": "action_listen"},
        {"event": "user", "text": text, "parse_data": latest, "metadata": {}},
    ]
    return Tracker(
        sender_id=sender,
        slots=slots or {},
        latest_message=latest,
        events=events,
        paused=False,
        followup_action=None,
        active_loop={"name": active_loop} if active_loop else {},
        latest_action_name="action_listen",
    )


@pytest.fixture
def dispatcher() -> CollectingDispatcher:
    """A fresh dispatcher that collects what the action says."""
    return CollectingDispatcher()


def responses(dispatcher: CollectingDispatcher) -> list[str]:
    """Return the response names the action uttered, in order."""
    return [m.get("response") for m in dispatcher.messages]


def slot_events(events: list[dict[str, Any]]) -> dict[str, Any]:
    """Collapse SlotSet events into a name → value dict (last one wins)."""
    return {e["name"]: e["value"] for e in events if e.get("event") == "slot"}
