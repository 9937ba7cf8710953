"""Reopening a closed matter (重新办理) is a lifecycle move with a reason, and replays."""

from __future__ import annotations

import pytest

from routing.cases import statuses


def test_reopen_from_resolved_or_archived_goes_back_to_handling() -> None:
    for status in ("resolved", "referred", "follow_up", "archived"):
        new, event = statuses.transition(status, "reopen", "director", "群众提出新证据")
        assert new == "handling" and event.payload["action"] == "reopen"


def test_reopen_needs_a_reason_and_a_closed_matter() -> None:
    with pytest.raises(statuses.TransitionError):
        statuses.transition("resolved", "reopen", "director", "")
    with pytest.raises(statuses.TransitionError):
        statuses.transition("handling", "reopen", "director", "理由")


def test_a_reopened_case_replays_to_handling() -> None:
    status, events = None, []
    for action in ("accept", "assign", "start_handling", "resolve", "follow_up", "archive", "reopen"):
        status, event = statuses.transition(status, action, "system", "理由")
        events.append(event)
    assert statuses.replay(events) == "handling"
