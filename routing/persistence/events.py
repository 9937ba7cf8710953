"""Domain events ⇄ ``case_events`` rows (append-only; the database refuses UPDATE and DELETE).

Mapping: ``Event.kind/actor/reason/payload`` are stored as they are, ``Event.at`` becomes
``created_at``, ``case_id`` (a case number in the domain) becomes the row's case foreign key,
and ``status_after`` is the status the event leaves the case in (``payload["to"]`` for a
``status_changed`` event, the case's current status otherwise).

Every status change is a ``status_changed`` event carrying the lifecycle's from/to/action, so
``routing.cases.statuses.replay`` over the stored trail agrees with ``cases.status`` (rows written by
older versions under other kinds were rewritten by migration ``0006_status_events``). This module
is the one writer of ``case_events``: the unit of work (``routing.cases.uow``) appends through it.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import UTC
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from routing.cases.events import Event
from routing.persistence.case_tables import Case, CaseEvent


def _jsonable(value: Any) -> Any:
    if isinstance(value, dict) or hasattr(value, "items"):
        return {str(k): _jsonable(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_jsonable(v) for v in value]
    if hasattr(value, "isoformat"):
        return value.isoformat()
    return value


def append_events(session: Session, case: Case, events: Iterable[Event]) -> list[CaseEvent]:
    """Append domain events to a case in the caller's transaction.

    Args:
        session: the open session (the caller commits).
        case: the case row (its id must be flushed).
        events: the events, in order.

    Returns:
        The new rows.
    """
    events = list(events)
    last = session.execute(select(func.max(CaseEvent.seq)).where(CaseEvent.case_id == case.id)).scalar()
    seq = last or 0
    rows = []
    for ev, after in zip(events, statuses_after(events, case.status), strict=True):
        seq += 1
        row = CaseEvent(case_id=case.id, seq=seq, kind=ev.kind, actor=ev.actor[:64], reason=ev.reason or None,
                        status_after=after, payload=_jsonable(dict(ev.payload)), created_at=ev.at)
        session.add(row)
        rows.append(row)
    session.flush()
    return rows


def statuses_after(events: Sequence[Event], final_status: str) -> list[str]:
    """Return the status each event of a batch leaves the case in.

    A ``status_changed`` event leaves its ``to``; any other event the status at its place in the
    batch: the ``from`` of the next status change, or the case's final status after the last one.
    """
    out: list[str] = []
    for k, ev in enumerate(events):
        if ev.kind == "status_changed":
            out.append(ev.payload.get("to") or final_status)
            continue
        later = next((e for e in events[k + 1:] if e.kind == "status_changed"), None)
        out.append(later.payload.get("from") or final_status if later is not None else final_status)
    return out


def to_domain(rows: Iterable[CaseEvent], case_number: str) -> list[Event]:
    """Turn stored rows (in ``seq`` order) into domain events."""
    out: list[Event] = []
    for row in rows:
        at = row.created_at if row.created_at.tzinfo else row.created_at.replace(tzinfo=UTC)
        out.append(Event(kind=row.kind, actor=row.actor, at=at, reason=row.reason or "", case_id=case_number,
                         payload=dict(row.payload or {})))
    return out
