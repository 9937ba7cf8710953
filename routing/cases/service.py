"""The case service the chat actions and the gateway call: filing, reading, notes, hand-offs, alerts.

Every change runs as one unit of work (``routing.cases.uow``) through a use case
(``routing.cases.filing``, ``routing.cases.handling``) and writes its events through the one
event writer in the same transaction, so a case's state always agrees with its audit trail.
Status changes after filing belong to :class:`routing.cases.life.CaseLife`.

The plain values (``CaseDraft``, ``Routed``, ``CaseView`` ...) live in ``routing.cases.values``
and are re-exported here for the callers that import them from this module.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import date
from typing import Any

from sqlalchemy.orm import sessionmaker

from routing.cases import handling
from routing.cases.events import CITIZEN_ACTOR
from routing.cases.filing import file_case
from routing.cases.steps import CaseContext
from routing.cases.uow import UnitOfWork, sql_units_of_work
from routing.cases.values import (
    CLOSED_STATUSES,
    STATUS_LABELS,
    CaseDraft,
    CaseNotFound,
    CaseStateError,
    CaseView,
    FiledCase,
    Routed,
    RoutingPolicy,
    case_view,
    utc_today,
)
from routing.understanding.text import mask_pii

__all__ = [
    "CLOSED_STATUSES", "STATUS_LABELS", "CaseDraft", "CaseNotFound", "CaseService", "CaseStateError", "CaseView",
    "FiledCase", "Routed", "RoutingPolicy", "case_view", "utc_today",
]


class CaseService:
    """Filing and the citizen-facing reads and notes, each in its own unit of work."""

    def __init__(self, sessions: sessionmaker | None, policy: RoutingPolicy, today: Callable[[], date], *,
                 uows: Callable[[], UnitOfWork] | None = None):
        """Wire the service.

        Args:
            sessions: session factory bound to the case database (or give ``uows``).
            policy: decides handling body, tier and first clock of a new case (it carries the
                deadline rules and the holiday calendar).
            today: the clock (injected so tests can fix the date).
            uows: opens a unit of work (a fake one in unit tests); default: SQL on ``sessions``.
        """
        if uows is None:
            if sessions is None:
                raise ValueError("CaseService needs sessions or uows")
            uows = sql_units_of_work(sessions)
        self._uows: Callable[[], UnitOfWork] = uows
        self._sessions = sessions
        self._policy = policy
        self._ctx = CaseContext(today)

    def file_case(self, draft: CaseDraft, actor: str = CITIZEN_ACTOR) -> FiledCase:
        """File a case, or return the one a previous identical filing created.

        Args:
            draft: the collected complaint.
            actor: who files (the citizen through the bot by default).

        Returns:
            The filed case's view and whether this call created it.
        """
        return file_case(self._uows, self._ctx, self._policy, draft, actor)

    def get_case(self, case_number: str, channel_user_id: str | None = None) -> CaseView:
        """Return a case by number; with `channel_user_id`, only if that user filed it.

        Raises:
            CaseNotFound: no such case, or it belongs to someone else.
        """
        with self._uows() as uow:
            return handling.view(uow, case_number, channel_user_id)

    def cases_for_user(self, channel: str, channel_user_id: str, limit: int = 10) -> list[CaseView]:
        """Return the user's cases, newest first."""
        with self._uows() as uow:
            return [case_view(c) for c in uow.cases.of_user(channel, channel_user_id, limit)]

    def latest_open_case(self, channel: str, channel_user_id: str) -> CaseView | None:
        """Return the user's newest case that is not closed, if any."""
        for view in self.cases_for_user(channel, channel_user_id):
            if view.status not in CLOSED_STATUSES:
                return view
        return None

    def record(self, case_number: str, kind: str, actor: str, reason: str | None = None,
               payload: dict[str, Any] | None = None, channel_user_id: str | None = None) -> CaseView:
        """Add an event that changes no status (催办, 补充材料 ...) to a case's record.

        Status changes go through :class:`routing.cases.life.CaseLife`, never through here.

        Raises:
            CaseNotFound: no such case visible to `channel_user_id`.
            ValueError: ``kind`` is not a note (``routing.cases.handling.NOTE_KINDS``).
        """
        with self._uows() as uow:
            view = handling.note(uow, self._ctx, case_number, kind, actor, reason or "", payload,
                                      owner=channel_user_id)
            uow.commit()
            return view

    def raise_priority(self, case_number: str, actor: str, reason: str,
                       channel_user_id: str | None = None) -> CaseView:
        """Raise a blue case to yellow because the citizen says it is urgent."""
        with self._uows() as uow:
            view = handling.raise_priority(uow, self._ctx, case_number, actor, reason, owner=channel_user_id)
            uow.commit()
            return view

    def request_human(self, conversation_id: str, channel: str, channel_user_id: str) -> str | None:
        """Flag the conversation (and its newest open case) for a human; return the case number."""
        with self._uows() as uow:
            number = handling.request_human(uow, self._ctx, conversation_id, channel, channel_user_id,
                                                 CITIZEN_ACTOR)
            uow.commit()
            return number

    def raise_alert(self, conversation_id: str, level: str, reason: str, text: str) -> int:
        """Store a risk alert (masked excerpt) and mark the conversation's open case with the level."""
        with self._uows() as uow:
            alert_id = handling.raise_alert(uow, self._ctx, conversation_id, level, reason,
                                                 mask_pii(text)[:500])
            uow.commit()
            return alert_id
