"""Immutable case events: the audit trail (平安建设条例: 不得瞒报、漏报、拒报).

Every change to a case is an :class:`Event` with who, when, why and what. Events are frozen
dataclasses; there is no update or delete path in the domain. The service layer persists them
append-only and replays them with :func:`routing.cases.statuses.replay` to check the stored status.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from enum import StrEnum
from types import MappingProxyType
from typing import Any


class Actor(StrEnum):
    """Actors that are not a named person: the citizen (through a channel) and the system."""

    CITIZEN = "citizen"
    SYSTEM = "system"


class EventKind(StrEnum):
    """The kinds of case events the domain writes (``status_changed`` carries every status move)."""

    STATUS_CHANGED = "status_changed"
    ROUTED = "routed"
    ROUTING_ROUTE = "routing_route"
    ROUTING_ESCALATE = "routing_escalate"
    ROUTING_REFER = "routing_refer"
    ROUTING_RETURN = "routing_return"
    RISK_ASSESSED = "risk_assessed"
    RISK_ALERT = "risk_alert"
    ALERT_RAISED = "alert_raised"
    REPEAT_LINKED = "repeat_linked"
    HUMAN_REQUESTED = "human_requested"
    SUPERVISOR_FOLLOW_UP = "supervisor_follow_up"
    ESCALATION_BLOCKED = "escalation_blocked"
    DEADLINE_NEAR_DUE = "deadline_near_due"
    DEADLINE_OVERDUE = "deadline_overdue"
    CLOCK_EXTENDED = "clock_extended"
    CLOCK_PAUSED = "clock_paused"
    CLOCK_RESUMED = "clock_resumed"
    RECEPTION_DAY_PUBLISHED = "reception_day_published"
    RECEPTION_BOOKED = "reception_booked"
    RECEPTION_CANCELLED = "reception_cancelled"
    RECEPTION_RESCHEDULED = "reception_rescheduled"
    RECEPTION_RECORDED = "reception_recorded"
    RECEPTION_REMINDER = "reception_reminder"
    BAOAN_TAKEN = "baoan_taken"
    BAOAN_CLOSED = "baoan_closed"
    # notes: on the record, no status move (routing.cases.handling.note)
    URGED = "urged"
    MATERIAL_ADDED = "material_added"
    LEADER_REQUESTED = "leader_requested"
    NOTE = "note"
    CONTACT_LOGGED = "contact_logged"
    DEPARTMENT_UPDATE = "department_update"
    JUDICIAL_CONFIRMED = "judicial_confirmed"  # 人民调解法 第三十三条: a court confirmed the agreement
    PRIORITY_RAISED = "priority_raised"  # the citizen said it is urgent  # a department's progress note through the Open311 API


SYSTEM_ACTOR = Actor.SYSTEM.value
CITIZEN_ACTOR = Actor.CITIZEN.value


def citizen_actor(sender: str) -> str:
    """Return the actor of something a citizen did through a channel (``citizen:<sender>``)."""
    return f"{CITIZEN_ACTOR}:{sender}"


def is_citizen(actor: str) -> bool:
    """Tell whether an event was caused by the citizen (``citizen`` or ``citizen:<sender>``)."""
    return actor == CITIZEN_ACTOR or actor.startswith(f"{CITIZEN_ACTOR}:")


def _freeze(payload: Mapping[str, Any] | None) -> Mapping[str, Any]:
    return MappingProxyType(dict(payload or {}))


def utcnow() -> datetime:
    """Return the current time, timezone-aware (UTC)."""
    return datetime.now(UTC)


@dataclass(frozen=True, slots=True)
class Event:
    """One immutable fact about a case.

    Attributes:
        kind: what happened, an English snake_case code (``status_changed``, ``risk_alert`` ...).
        actor: who did it (a person id, ``citizen:<id>`` or ``system``).
        at: when it happened (timezone-aware).
        reason: why, in words a reviewer can read (may be Chinese).
        case_id: the case it belongs to ('' when not yet known; the service fills it).
        payload: read-only details (from/to status, body ids, dates as ISO strings ...).
    """

    kind: str
    actor: str
    at: datetime
    reason: str = ""
    case_id: str = ""
    payload: Mapping[str, Any] = field(default_factory=lambda: MappingProxyType({}))

    def __post_init__(self) -> None:
        if not self.kind:
            raise ValueError("an event needs a kind")
        if not self.actor:
            raise ValueError("an event needs an actor")
        if not isinstance(self.payload, MappingProxyType):
            object.__setattr__(self, "payload", _freeze(self.payload))

    def to_dict(self) -> dict[str, Any]:
        """Return a JSON-ready dict (``at`` as ISO 8601)."""
        return {
            "kind": self.kind,
            "actor": self.actor,
            "at": self.at.isoformat(),
            "reason": self.reason,
            "case_id": self.case_id,
            "payload": dict(self.payload),
        }


def make_event(
    kind: str,
    actor: str,
    reason: str = "",
    *,
    case_id: str = "",
    at: datetime | None = None,
    payload: Mapping[str, Any] | None = None,
) -> Event:
    """Build an event, stamping the current UTC time when ``at`` is not given.

    Args:
        kind: event code.
        actor: who caused it.
        reason: why.
        case_id: the case id, if known.
        at: the event time; defaults to now (UTC).
        payload: details, copied and frozen.

    Returns:
        The frozen event.
    """
    return Event(
        kind=kind,
        actor=actor,
        at=at or utcnow(),
        reason=reason,
        case_id=case_id,
        payload=_freeze(payload),
    )
