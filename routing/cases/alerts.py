"""Crisis alerts: raised at once, seen by the on-duty staff of the region, escalated if nobody answers.

Every step of an alert's life is an append-only `AlertEvent` (raised, message, notified,
acknowledged, escalated, linked). A crisis alert with no known place is visible to everyone on
duty: over-alerting is better than a person in danger nobody sees.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import or_, select
from sqlalchemy.orm import Session

from routing.persistence.case_tables import Alert, AlertEvent, Case
from routing.understanding.safety.verdict import KIND_LABELS, DangerVerdict
from routing.understanding.text import mask_pii

CLOSED = ("closed", "withdrawn", "rejected", "archived")


def utcnow() -> datetime:
    """Return the current time, timezone-aware UTC."""
    return datetime.now(UTC)


def _aware(value: datetime | None) -> datetime | None:
    if value is None or value.tzinfo is not None:
        return value
    return value.replace(tzinfo=UTC)


def reason_of(verdict: DangerVerdict) -> str:
    """Return the alert's reason in Chinese: the kind, who is in danger and the cues found."""
    label = KIND_LABELS.get(verdict.kind, KIND_LABELS["unknown"])
    parts = [label]
    if verdict.third_party:
        parts.append("处于危险的是他人（家人、邻居、工友等）")
    if verdict.imminent:
        parts.append("危险可能正在发生")
    if verdict.failed:
        parts.append("危机识别未能完成，按最高级别处理")
    if verdict.evidence:
        parts.append("线索：" + "、".join(verdict.evidence[:5]))
    return "；".join(parts)


def record(session: Session, alert: Alert, kind: str, actor: str, reason: str | None = None,
           payload: dict[str, Any] | None = None) -> AlertEvent:
    """Append one step to the alert's history (the only writer of alert events)."""
    event = AlertEvent(alert_id=alert.id, kind=kind, actor=actor, reason=reason, payload=payload or {})
    session.add(event)
    return event


def _open_case(session: Session, conversation_id: str) -> Case | None:
    return session.execute(
        select(Case).where(Case.conversation_id == conversation_id, Case.status.not_in(CLOSED))
        .order_by(Case.id.desc())
    ).scalar()


def _mark_case(session: Session, case: Case, alert: Alert) -> None:
    from routing.cases.events import make_event
    from routing.persistence.events import append_events

    case.risk_level = "red"
    append_events(session, case, [make_event("alert_raised", "system", alert.reason, case_id=case.case_number,
                                             payload={"level": "red", "alert_id": alert.id, "kind": alert.kind})])


@dataclass(frozen=True)
class Where:
    """The place of the person, as far as known."""

    region_code: str | None = None
    place: str | None = None


def raise_crisis(session: Session, conversation_id: str, channel: str, verdict: DangerVerdict,
                 text: str, where: Where | None = None) -> Alert:
    """Store a red crisis alert for the conversation (and mark its open case red).

    Args:
        session: an open transaction.
        conversation_id: the citizen's conversation (the channel to reach them).
        channel: ``web`` or ``tg``.
        verdict: what the danger check found.
        text: the message (stored masked).
        where: the place, when known.
    """
    where = where or Where()
    case = _open_case(session, conversation_id)
    alert = Alert(conversation_id=conversation_id, case_id=case.id if case else None, level="red",
                  reason=reason_of(verdict), excerpt=mask_pii(text)[:500], acknowledged=False,
                  kind=verdict.kind, channel=channel, region_code=where.region_code, place=where.place,
                  escalations=0)
    session.add(alert)
    session.flush()
    record(session, alert, "raised", "system", alert.reason,
           {"kinds": list(verdict.kinds), "numbers": list(verdict.numbers), "failed": verdict.failed,
            "third_party": verdict.third_party, "imminent": verdict.imminent})
    if case is not None:
        _mark_case(session, case, alert)
    return alert


def add_message(session: Session, alert: Alert, text: str, verdict: DangerVerdict | None,
                where: Where | None = None) -> None:
    """Add a later message of the person to the alert (and the place, once it is known)."""
    if where is not None and where.region_code and not alert.region_code:
        alert.region_code, alert.place = where.region_code, where.place
    danger = bool(verdict and verdict.danger)
    record(session, alert, "message", "citizen", None,
           {"excerpt": mask_pii(text)[:300], "danger": danger, "place": where.place if where else None})
    if danger and alert.acknowledged:  # danger again after staff answered: needs eyes again
        alert.acknowledged = False
        record(session, alert, "reopened", "system", "确认后再次出现危险表述")


def acknowledge(session: Session, alert_id: int, actor: str, note: str = "") -> Alert | None:
    """Mark an alert as answered by a staff member; None when there is no such alert."""
    alert = session.get(Alert, alert_id)
    if alert is None:
        return None
    if not alert.acknowledged:
        alert.acknowledged = True
        alert.acknowledged_by = actor
        alert.acknowledged_at = utcnow()
        record(session, alert, "acknowledged", actor, note[:500] or None)
    return alert


def due_for_escalation(session: Session, now: datetime, minutes: float, max_level: int = 3) -> list[Alert]:
    """Return red alerts nobody acknowledged within `minutes` of raising (or of the last escalation)."""
    rows = session.execute(
        select(Alert).where(Alert.level == "red", Alert.acknowledged.is_(False),
                            Alert.escalations < max_level)
    ).scalars()
    limit = timedelta(minutes=minutes)
    due = []
    for alert in rows:
        since = _aware(alert.escalated_at) or _aware(alert.created_at)
        if since is not None and now - since >= limit:
            due.append(alert)
    return due


def escalate(session: Session, alert: Alert, now: datetime) -> int:
    """Raise the alert one level up (to the next level's centre); returns the new level."""
    alert.escalations = (alert.escalations or 0) + 1
    alert.escalated_at = now
    record(session, alert, "escalated", "system", f"预警未在规定时间内确认，第{alert.escalations}次升级",
           {"level": alert.escalations})
    return alert.escalations


def link_open_alerts(session: Session, case: Case, within_hours: int = 72) -> list[Alert]:
    """On filing: attach the conversation's recent crisis alerts to the new case.

    The caller (the filing use case) writes the case's ``alert_raised`` events and makes it red.
    """
    since = utcnow() - timedelta(hours=within_hours)
    alerts = session.execute(
        select(Alert).where(Alert.conversation_id == case.conversation_id, Alert.case_id.is_(None),
                            Alert.kind.is_not(None))
    ).scalars().all()
    linked = []
    for alert in alerts:
        created = _aware(alert.created_at)
        if created is not None and created < since:
            continue
        alert.case_id = case.id
        record(session, alert, "linked", "system", None, {"case_number": case.case_number})
        linked.append(alert)
    return linked


def visible_alerts(session: Session, codes: frozenset[str] | None, open_only: bool = True,
                   limit: int = 50) -> list[Alert]:
    """Return alerts for staff covering `codes` (None: all); alerts with no place are for everyone."""
    query = select(Alert).order_by(Alert.acknowledged, Alert.created_at.desc()).limit(limit)
    if open_only:
        query = query.where(Alert.acknowledged.is_(False))
    if codes is not None:
        query = query.where(or_(Alert.region_code.is_(None), Alert.region_code.in_(codes)))
    return list(session.execute(query).scalars())


def history(session: Session, alert_id: int) -> list[AlertEvent]:
    """Return the alert's steps, oldest first."""
    return list(session.execute(
        select(AlertEvent).where(AlertEvent.alert_id == alert_id).order_by(AlertEvent.id)
    ).scalars())


__all__ = ["KIND_LABELS", "Where", "acknowledge", "add_message", "due_for_escalation", "escalate",
           "history", "link_open_alerts", "raise_crisis", "reason_of", "record", "visible_alerts"]
