"""Case events and alerts → webhook messages (a cursor per stream, unique per endpoint and source)."""

from __future__ import annotations

import json
import uuid
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, sessionmaker

from routing.open311.fields import CLOSED, request_record, w3c
from routing.persistence.case_tables import Alert, Case, CaseEvent, utcnow
from routing.persistence.console_tables import AuditEntry
from routing.persistence.messaging_tables import RelayCursor
from routing.persistence.open311_tables import ApiCaseMeta, ApiKey, WebhookEndpoint, WebhookMessage


def event_type(kind: str, payload: dict[str, Any], status_after: str | None) -> str | None:
    """Map a case event to a webhook event type (None: not published)."""
    action = payload.get("action")
    if kind == "filed" or (kind == "status_changed" and action == "accept" and payload.get("from") is None):
        return "case.filed"
    if kind == "assigned" or action == "assign":
        return "case.assigned"
    if kind == "escalated" or action == "escalate":
        return "case.escalated"
    if kind == "deadline_overdue":
        return "case.overdue"
    if kind == "reception_booked" or (kind == "status_changed" and payload.get("to") == "reception_booked"):
        return "reception.booked"
    if kind == "status_changed":
        was_open = payload.get("from") not in CLOSED
        return "case.closed" if was_open and payload.get("to") in CLOSED else "case.status_changed"
    return None


def _body(kind: str, at: datetime, data: dict[str, Any]) -> str:
    return json.dumps({"type": kind, "timestamp": w3c(at), "data": data}, ensure_ascii=False,
                      separators=(",", ":"))


class WebhookScanner:
    """Turns new case events and alerts into webhook messages (cursor + unique source key)."""

    CASES, ALERTS = "webhooks:case_events", "webhooks:alerts"
    SETTLE = 1.0

    def __init__(self, sessions: sessionmaker) -> None:
        """Wire the scanner to the database."""
        self.sessions = sessions

    def scan(self, batch: int = 500) -> int:
        """Queue messages for new events; return how many were queued."""
        settled = utcnow() - timedelta(seconds=self.SETTLE)
        with self.sessions.begin() as session:
            endpoints = list(session.execute(
                select(WebhookEndpoint, ApiKey.scopes).join(ApiKey, ApiKey.id == WebhookEndpoint.api_key_id)
                .where(WebhookEndpoint.status == "active", ApiKey.revoked_at.is_(None))).all())
            queued = self._cases(session, endpoints, settled, batch)
            queued += self._alerts(session, endpoints, settled, batch)
        return queued

    @staticmethod
    def _cursor(session: Session, name: str, newest: int) -> RelayCursor | None:
        cursor = session.get(RelayCursor, name)
        if cursor is None:  # first start: history is not news
            session.add(RelayCursor(name=name, position=newest))
        return cursor

    def _cases(self, session: Session, endpoints: list[Any], settled: datetime, batch: int) -> int:
        newest = session.execute(select(func.max(CaseEvent.id))).scalar() or 0
        cursor = self._cursor(session, self.CASES, newest)
        if cursor is None:
            return 0
        events = list(session.execute(
            select(CaseEvent).where(CaseEvent.id > cursor.position, CaseEvent.created_at <= settled)
            .order_by(CaseEvent.id).limit(batch)).scalars())
        queued = 0
        for event in events:
            cursor.position = event.id
            kind = event_type(event.kind, event.payload or {}, event.status_after)
            subscribed = [(e, s) for e, s in endpoints if kind and kind in e.events]
            if not subscribed:
                continue
            row = session.execute(
                select(Case, ApiCaseMeta.lat, ApiCaseMeta.long, ApiCaseMeta.media_url)
                .outerjoin(ApiCaseMeta, ApiCaseMeta.case_id == Case.id).where(Case.id == event.case_id)).one()
            for ep, scopes in subscribed:
                data = request_record(_Flat(row), geo="geo" in scopes, personal="personal" in scopes)
                data["event"] = {"kind": event.kind, "seq": event.seq, "status": event.status_after}
                added = _queue(session, ep, f"case-event:{event.id}", kind or "", _body(kind or "", event.created_at, data))
                if added and "personal" in scopes:  # personal data leaves the system: audited like a read
                    session.add(AuditEntry(user_id=None, username=f"webhook:{ep.id}", action="webhook_personal",
                                           case_number=row[0].case_number, detail={"event": kind}, ip="",
                                           at=utcnow()))
                queued += added
        return queued

    def _alerts(self, session: Session, endpoints: list[Any], settled: datetime, batch: int) -> int:
        newest = session.execute(select(func.max(Alert.id))).scalar() or 0
        cursor = self._cursor(session, self.ALERTS, newest)
        if cursor is None:
            return 0
        wanted = [(e, s) for e, s in endpoints if {"alert.raised", "alert.closed"} & set(e.events)]
        alerts = list(session.execute(
            select(Alert, Case.case_number).outerjoin(Case, Case.id == Alert.case_id)
            .where(Alert.id > cursor.position, Alert.created_at <= settled).order_by(Alert.id).limit(batch)).all())
        queued = 0
        for alert, number in alerts:
            cursor.position = alert.id
            data = {"alert_id": alert.id, "level": alert.level, "service_request_id": number or ""}
            for ep, _scopes in wanted:
                if "alert.raised" in ep.events:
                    queued += _queue(session, ep, f"alert:{alert.id}", "alert.raised",
                                     _body("alert.raised", alert.created_at, data))
        since = utcnow() - timedelta(days=30)
        closed = list(session.execute(
            select(Alert, Case.case_number).outerjoin(Case, Case.id == Alert.case_id)
            .where(Alert.acknowledged.is_(True), Alert.created_at >= since, Alert.id <= cursor.position)).all())
        for alert, number in closed:
            data = {"alert_id": alert.id, "level": alert.level, "service_request_id": number or ""}
            for ep, _scopes in wanted:
                if "alert.closed" in ep.events:
                    queued += _queue(session, ep, f"alert-closed:{alert.id}", "alert.closed",
                                     _body("alert.closed", utcnow(), data))
        return queued


class _Flat:
    """A case row joined with its API meta, read like the API's column rows."""

    def __init__(self, row: Any) -> None:
        case, self.lat, self.long, self.media_url = row
        self._case = case

    def __getattr__(self, name: str) -> Any:
        return getattr(self._case, name)


def _queue(session: Session, ep: WebhookEndpoint, source: str, kind: str, body: str) -> int:
    exists = session.execute(select(WebhookMessage.id).where(
        WebhookMessage.endpoint_id == ep.id, WebhookMessage.source_key == source)).scalar()
    if exists is not None:
        return 0
    try:
        with session.begin_nested():
            session.add(WebhookMessage(msg_id="msg_" + uuid.uuid4().hex, endpoint_id=ep.id, source_key=source,
                                       event_type=kind, body=body, status="pending", next_attempt_at=utcnow()))
    except IntegrityError:
        return 0
    return 1
