"""The centre's case events, written through the one event writer (routing.persistence.events)."""

from __future__ import annotations

from typing import Any

from sqlalchemy.orm import Session

from routing.cases.events import make_event
from routing.persistence.case_tables import Case
from routing.persistence.events import append_events


def append_event(session: Session, case: Case, kind: str, actor: str, reason: str | None = None,
                 payload: dict[str, Any] | None = None) -> None:
    """Append one centre event (supervision, 交办) to a case's record in the caller's transaction."""
    append_events(session, case, [make_event(kind, actor, reason or "", case_id=case.case_number,
                                             payload=payload or {})])
