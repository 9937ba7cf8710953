"""Case-store service functions: the one entry point actions and web apps call.

Every change to a case writes an append-only `CaseEvent` in the same transaction, so the
case's state always agrees with its audit trail.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from typing import Any

from sqlalchemy import insert, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, sessionmaker

from routing.orm import Alert, Case, CaseCounter, CaseEvent, HandoffRequest
from routing.text import mask_pii

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


def case_view(case: Case, with_events: bool = False) -> CaseView:
    """Return what a citizen or caller may see of a stored case (used by ``routing.case_life``)."""
    return _view(case, with_events)


def _view(case: Case, with_events: bool = False) -> CaseView:
    events = []
    if with_events:
        events = [
            {"kind": e.kind, "actor": e.actor, "reason": e.reason, "at": e.created_at.isoformat()}
            for e in case.events
        ]
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
        events=events,
    )


def _next_case_number(session: Session, year: int) -> str:
    """Issue the next number of `year` atomically on SQLite and PostgreSQL."""
    bumped = session.execute(
        update(CaseCounter)
        .where(CaseCounter.year == year)
        .values(last=CaseCounter.last + 1)
        .returning(CaseCounter.last)
    ).scalar()
    if bumped is None:
        try:
            with session.begin_nested():
                session.execute(insert(CaseCounter).values(year=year, last=1))
            bumped = 1
        except IntegrityError:
            return _next_case_number(session, year)
    return f"FQ-{year}-{bumped:06d}"


def append_event(
    session: Session,
    case: Case,
    kind: str,
    actor: str,
    reason: str | None = None,
    payload: dict[str, Any] | None = None,
) -> CaseEvent:
    """Append an audit event to `case` (the only write path for events)."""
    last = session.execute(
        select(CaseEvent.seq).where(CaseEvent.case_id == case.id).order_by(CaseEvent.seq.desc())
    ).scalar()
    event = CaseEvent(
        case_id=case.id,
        seq=(last or 0) + 1,
        kind=kind,
        actor=actor,
        reason=reason,
        status_after=case.status,
        payload=payload or {},
    )
    session.add(event)
    return event


class CaseService:
    """Use cases of the case store, each in its own transaction."""

    def __init__(self, sessions: sessionmaker, policy: RoutingPolicy, today: Callable[[], date]):
        """Wire the service.

        Args:
            sessions: session factory bound to the case database.
            policy: decides handling body, tier and due date for a new case.
            today: the clock (injected so tests can fix the date).
        """
        self._sessions = sessions
        self._policy = policy
        self._today = today

    def file_case(self, draft: CaseDraft, actor: str = "citizen") -> FiledCase:
        """File a case, or return the one a previous identical filing created.

        Args:
            draft: the collected complaint.
            actor: who files (the citizen through the bot by default).

        Returns:
            The filed case's view and whether this call created it.
        """
        key = draft.idempotency_key()
        with self._sessions() as session:
            existing = session.execute(select(Case).where(Case.idempotency_key == key)).scalar()
            if existing is not None:
                return FiledCase(_view(existing), created=False)
        try:
            return FiledCase(self._insert_case(draft, key, actor), created=True)
        except IntegrityError:
            # A concurrent retry with the same key won the race: answer with its case.
            with self._sessions() as session:
                case = session.execute(select(Case).where(Case.idempotency_key == key)).scalar_one()
                return FiledCase(_view(case), created=False)

    def _insert_case(self, draft: CaseDraft, key: str, actor: str) -> CaseView:
        today = self._today()
        routed = self._policy(draft, today)
        path = list(draft.category_path) + [None, None, None]
        with self._sessions.begin() as session:
            case = Case(
                case_number=_next_case_number(session, today.year),
                idempotency_key=key,
                status=routed.status,
                category=draft.category,
                category_l2=path[1],
                category_l3=path[2],
                dispute_type=draft.dispute_type,
                classifier_confidence=draft.classifier_confidence,
                subject=draft.subject,
                narrative_original=draft.narrative_original,
                narrative_normalised=draft.narrative_normalised,
                script=draft.script,
                location_text=draft.location_text,
                location_code=draft.location_code,
                county_code=draft.county_code,
                respondent=draft.respondent,
                demand=draft.demand,
                contact_phone=draft.contact_phone,
                channel=draft.channel,
                channel_user_id=draft.channel_user_id,
                conversation_id=draft.conversation_id,
                risk_level=routed.risk_level or draft.risk_level,
                handling_body=routed.handling_body,
                body_id=routed.body_id,
                assigned_person_id=routed.person_id,
                assigned_person_name=routed.person_name,
                confidential=routed.confidential,
                hidden_from=list(routed.hidden_from),
                tier=routed.tier,
                routing_explanation=routed.explanation,
                due_date=routed.due_date,
            )
            session.add(case)
            session.flush()
            from routing.case_life import record_filing  # local: case_life imports this module

            record_filing(session, case, routed, today, actor)
            # A crisis the danger check raised in this conversation before filing joins the case.
            from routing.safety.alerts import link_open_alerts

            link_open_alerts(session, case)
            # The centre's early warnings that a filing raises at once (red risk, repeat, hotspot).
            from routing.centre.watch import on_filed

            on_filed(session, case)
            return _view(case)

    def get_case(self, case_number: str, channel_user_id: str | None = None) -> CaseView:
        """Return a case by number; with `channel_user_id`, only if that user filed it.

        Raises:
            CaseNotFound: no such case, or it belongs to someone else.
        """
        with self._sessions() as session:
            case = self._owned(session, case_number, channel_user_id)
            return _view(case, with_events=True)

    def cases_for_user(self, channel: str, channel_user_id: str, limit: int = 10) -> list[CaseView]:
        """Return the user's cases, newest first."""
        with self._sessions() as session:
            rows = session.execute(
                select(Case)
                .where(Case.channel == channel, Case.channel_user_id == channel_user_id)
                .order_by(Case.id.desc())
                .limit(limit)
            ).scalars()
            return [_view(c) for c in rows]

    def latest_open_case(self, channel: str, channel_user_id: str) -> CaseView | None:
        """Return the user's newest case that is not closed, if any."""
        for view in self.cases_for_user(channel, channel_user_id):
            if view.status not in CLOSED_STATUSES:
                return view
        return None

    def record(
        self,
        case_number: str,
        kind: str,
        actor: str,
        reason: str | None = None,
        payload: dict[str, Any] | None = None,
        channel_user_id: str | None = None,
        new_status: str | None = None,
        allowed_from: set[str] | None = None,
        **fields: Any,
    ) -> CaseView:
        """Append an event to a case, optionally moving its status and setting fields.

        Raises:
            CaseNotFound: no such case visible to `channel_user_id`.
            CaseStateError: the case's status is not in `allowed_from`.
        """
        with self._sessions.begin() as session:
            case = self._owned(session, case_number, channel_user_id)
            if allowed_from is not None and case.status not in allowed_from:
                raise CaseStateError(case.status)
            if new_status:
                case.status = new_status
            for name, value in fields.items():
                setattr(case, name, value)
            append_event(session, case, kind, actor, reason, payload)
            session.flush()
            return _view(case)

    def request_human(self, conversation_id: str, channel: str, channel_user_id: str) -> str | None:
        """Flag the conversation (and its newest open case) for a human; return the case number."""
        with self._sessions.begin() as session:
            case = session.execute(
                select(Case)
                .where(Case.channel == channel, Case.channel_user_id == channel_user_id)
                .where(Case.status.not_in(CLOSED_STATUSES))
                .order_by(Case.id.desc())
            ).scalar()
            session.add(
                HandoffRequest(
                    conversation_id=conversation_id, channel=channel, case_id=case.id if case else None
                )
            )
            if case is None:
                return None
            case.human_requested = True
            append_event(session, case, "human_requested", "citizen", "群众要求转人工")
            return case.case_number

    def raise_alert(self, conversation_id: str, level: str, reason: str, text: str) -> int:
        """Store a risk alert (masked excerpt) and mark the conversation's open case red."""
        with self._sessions.begin() as session:
            case = session.execute(
                select(Case)
                .where(Case.conversation_id == conversation_id)
                .where(Case.status.not_in(CLOSED_STATUSES))
                .order_by(Case.id.desc())
            ).scalar()
            alert = Alert(
                conversation_id=conversation_id,
                case_id=case.id if case else None,
                level=level,
                reason=reason,
                excerpt=mask_pii(text)[:500],
            )
            session.add(alert)
            if case is not None:
                case.risk_level = level
                append_event(session, case, "alert_raised", "system", reason, {"level": level})
            session.flush()
            return alert.id

    @staticmethod
    def _owned(session: Session, case_number: str, channel_user_id: str | None) -> Case:
        case = session.execute(
            select(Case).where(Case.case_number == case_number.strip().upper())
        ).scalar()
        if case is None or (channel_user_id is not None and case.channel_user_id != channel_user_id):
            raise CaseNotFound(case_number)
        return case


def utc_today() -> date:
    """Return today's date in China Standard Time (UTC+8), the date the law counts in."""
    from datetime import timedelta

    return (datetime.now(UTC) + timedelta(hours=8)).date()
