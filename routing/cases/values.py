"""The plain values of the case domain: drafts, routing results, views, and their errors.

Every layer reads these (actions, gateway, console, the use cases); none of them holds a
database session. ``routing.cases.service`` re-exports them for the callers that import them from there.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from typing import TYPE_CHECKING, Any

from routing.cases.deadlines import OFFICIAL, HolidayCalendar
from routing.cases.events import Event

if TYPE_CHECKING:
    from routing.persistence.case_tables import Case

STATUS_LABELS = {
    "accepted": "已受理",
    "assigned": "已分派",
    "handling": "办理中",
    "mediating": "调解中",
    "reception_booked": "已预约接访",
    "resolved": "已办结",
    "referred": "未达成协议，已告知其他途径",
    "follow_up": "回访评价中",
    "archived": "已归档",
    "rejected": "不予受理",
    "withdrawn": "已撤回",
    "escalated": "已升级",
    "review": "复查中",
    "recheck": "复核中",
}
CLOSED_STATUSES = {"archived", "rejected", "withdrawn"}


class CaseNotFound(LookupError):
    """No case with that number is visible to the requester."""


class CaseStateError(ValueError):
    """The requested change is not allowed in the case's current status."""


@dataclass(frozen=True)
class CaseDraft:
    """Everything the intake conversation collected, ready to be filed."""

    narrative_original: str
    narrative_normalised: str
    subject: str
    channel: str
    channel_user_id: str
    conversation_id: str
    category: str | None = None
    category_path: tuple[str | None, ...] = ()
    dispute_type: str | None = None
    classifier_confidence: float | None = None
    script: str = "simplified"
    location_text: str | None = None
    location_code: str | None = None
    county_code: str | None = None
    respondent: str | None = None
    demand: str | None = None
    contact_phone: str | None = None
    risk_level: str = "blue"
    risk_reasons: tuple[str, ...] = ()

    def idempotency_key(self) -> str:
        """Return the key that makes a retried filing return the same case (R2)."""
        material = "\x1f".join(
            str(x or "")
            for x in (
                self.channel,
                self.channel_user_id,
                self.narrative_normalised,
                self.location_text,
                self.respondent,
                self.demand,
                self.contact_phone,
            )
        )
        return hashlib.sha256(material.encode("utf-8")).hexdigest()


@dataclass(frozen=True)
class Routed:
    """Where a new case goes and by when (filled by the routing policy)."""

    handling_body: str
    tier: str
    explanation: str
    due_date: date | None
    status: str = "accepted"
    extra_events: tuple[tuple[str, str, dict[str, Any]], ...] = ()
    body_id: str | None = None
    person_id: str | None = None
    person_name: str | None = None
    confidential: bool = False
    hidden_from: tuple[str, ...] = ()
    risk_level: str | None = None
    clock: str | None = None
    rules: str = "stricter"
    calendar: HolidayCalendar = OFFICIAL


@dataclass(frozen=True)
class CaseView:
    """What a citizen or a caller may see of a case."""

    case_number: str
    status: str
    status_label: str
    category: str | None
    dispute_type: str | None
    handling_body: str | None
    tier: str | None
    due_date: date | None
    location_text: str | None
    created_at: datetime
    satisfaction: str | None = None
    events: list[dict[str, Any]] = field(default_factory=list)


@dataclass(frozen=True)
class FiledCase:
    """The result of filing: the view plus whether this call created it."""

    view: CaseView
    created: bool


RoutingPolicy = Callable[[CaseDraft, date], Routed]


def case_view(case: Case, events: Sequence[Event] | None = None) -> CaseView:
    """Return what a citizen or caller may see of a case (with its events when given)."""
    shown = [{"kind": e.kind, "actor": e.actor, "reason": e.reason or None, "at": e.at.isoformat()}
             for e in events or ()]
    return CaseView(
        case_number=case.case_number,
        status=case.status,
        status_label=STATUS_LABELS.get(case.status, case.status),
        category=case.category,
        dispute_type=case.dispute_type,
        handling_body=case.handling_body,
        tier=case.tier,
        due_date=case.due_date,
        location_text=case.location_text,
        created_at=case.created_at,
        satisfaction=case.satisfaction,
        events=shown,
    )


def utc_today() -> date:
    """Return today's date in China Standard Time (UTC+8), the date the law counts in."""
    return (datetime.now(UTC) + timedelta(hours=8)).date()
