"""Webhooks after the Standard Webhooks specification: subscriptions, signing, the outbox.

Case events and alerts become one ``webhook_messages`` row per subscribed endpoint (unique per
source, so a rescan never doubles them); a sender (``gateway/open311/delivery.py``) posts them
with ``webhook-id`` (stable across retries), ``webhook-timestamp`` and ``webhook-signature``.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import ipaddress
import json
import random
import secrets
import socket
import uuid
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any
from urllib.parse import urlsplit

from sqlalchemy import func, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, sessionmaker

from routing.messaging_orm import RelayCursor
from routing.open311.fields import CLOSED, request_record, w3c
from routing.open311.tables import (
    ApiCaseMeta,
    ApiKey,
    WebhookAttempt,
    WebhookEndpoint,
    WebhookMessage,
)
from routing.orm import Alert, Case, CaseEvent, utcnow

EVENT_TYPES = ("case.filed", "case.assigned", "case.status_changed", "case.escalated", "case.overdue",
               "case.closed", "alert.raised", "alert.closed", "reception.booked")
# Delays after each failed attempt (seconds): about three days in all (Standard Webhooks'
# schedule, stretched), each with ±20 % jitter so a recovering receiver is not hit all at once.
SCHEDULE = (5, 300, 1800, 7200, 18000, 36000, 36000, 36000, 43200, 43200, 43200)
MAX_RETRY_AFTER = 86400
# An endpoint failing for this long without one success is disabled and the centre is told.
DISABLE_AFTER = timedelta(days=3)


class WebhookError(ValueError):
    """A subscription cannot be made as asked; the message says why."""


# ---------------------------------------------------------------------- signing
def new_secret() -> str:
    """Return a new signing secret (``whsec_`` + base64 of 24 random bytes)."""
    return "whsec_" + base64.b64encode(secrets.token_bytes(24)).decode()


def _key(secret: str) -> bytes:
    return base64.b64decode(secret.removeprefix("whsec_"))


def sign(secret: str, msg_id: str, timestamp: int, body: str) -> str:
    """Return ``v1,<base64 HMAC-SHA256 of id.timestamp.body>``."""
    mac = hmac.new(_key(secret), f"{msg_id}.{timestamp}.{body}".encode(), hashlib.sha256).digest()
    return "v1," + base64.b64encode(mac).decode()


def signature_header(secrets_: Iterable[str], msg_id: str, timestamp: int, body: str) -> str:
    """Sign with every live secret (two during a rotation), space-separated."""
    return " ".join(sign(s, msg_id, timestamp, body) for s in secrets_)


def verify(secret: str, headers: dict[str, str], body: str, now: int, tolerance: int = 300) -> bool:
    """Check a delivery's signature and timestamp as a receiver would (the README's example)."""
    msg_id, stamp = headers.get("webhook-id", ""), headers.get("webhook-timestamp", "")
    if not stamp.isdigit() or abs(now - int(stamp)) > tolerance:
        return False
    expected = sign(secret, msg_id, int(stamp), body).split(",", 1)[1]
    given = [s.split(",", 1)[1] for s in headers.get("webhook-signature", "").split() if s.startswith("v1,")]
    return any(hmac.compare_digest(expected, g) for g in given)


# ---------------------------------------------------------------------- the SSRF guard
def address_allowed(ip: str, allow_loopback: bool) -> bool:
    """Tell whether the sender may connect to `ip`: public addresses, loopback in development."""
    addr = ipaddress.ip_address(ip.split("%", 1)[0])
    if isinstance(addr, ipaddress.IPv6Address) and addr.ipv4_mapped:
        addr = addr.ipv4_mapped
    if addr.is_loopback:
        return allow_loopback
    return addr.is_global and not addr.is_multicast


def check_url(url: str, allow_loopback: bool = False,
              resolve: Callable[[str, int], list[str]] | None = None) -> str:
    """Check a subscriber URL: https only (http only to loopback in development), and every
    address the host resolves to must be public (never private, link-local, CGNAT, reserved).

    Raises:
        WebhookError: the URL is refused, with the reason.
    """
    parts = urlsplit(url.strip())
    if parts.scheme not in ("https", "http") or not parts.hostname:
        raise WebhookError("a webhook URL must be https://host/…")
    if parts.username or parts.password:
        raise WebhookError("a webhook URL may not carry credentials")
    port = parts.port or (443 if parts.scheme == "https" else 80)
    addresses = (resolve or _resolve)(parts.hostname, port)
    if not addresses:
        raise WebhookError(f"{parts.hostname} does not resolve")
    for ip in addresses:
        if not address_allowed(ip, allow_loopback):
            raise WebhookError(f"{parts.hostname} resolves to {ip}, a private or reserved address")
    loopback = all(ipaddress.ip_address(ip.split("%", 1)[0]).is_loopback for ip in addresses)
    if parts.scheme == "http" and not (allow_loopback and loopback):
        raise WebhookError("a webhook URL must use https (plain http only to loopback in development)")
    return parts.geturl()


def _resolve(host: str, port: int) -> list[str]:
    try:
        return sorted({str(info[4][0]) for info in socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)})
    except OSError:
        return []


# ---------------------------------------------------------------------- subscriptions
@dataclass(frozen=True)
class NewEndpoint:
    """A created subscription and its secret (shown once)."""

    id: int
    secret: str


def parse_events(text: str) -> list[str]:
    """Parse a comma list of event types (``*`` for all).

    Raises:
        WebhookError: an unknown type.
    """
    if text.strip() == "*":
        return list(EVENT_TYPES)
    wanted = [e.strip() for e in text.split(",") if e.strip()]
    unknown = [e for e in wanted if e not in EVENT_TYPES]
    if unknown or not wanted:
        raise WebhookError(f"events must be a comma list of {', '.join(EVENT_TYPES)}")
    return list(dict.fromkeys(wanted))


def add_endpoint(session: Session, key_name: str, url: str, events: list[str],
                 allow_loopback: bool = False, resolve: Callable[[str, int], list[str]] | None = None) -> NewEndpoint:
    """Subscribe an API client's URL to event types.

    Raises:
        WebhookError: unknown client, or a refused URL.
    """
    key = session.execute(select(ApiKey).where(ApiKey.name == key_name)).scalar()
    if key is None or key.revoked_at is not None:
        raise WebhookError(f"no live API key named {key_name!r}")
    checked = check_url(url, allow_loopback, resolve)
    secret = new_secret()
    row = WebhookEndpoint(api_key_id=key.id, url=checked, events=events, secrets=[secret], status="active")
    session.add(row)
    session.flush()
    return NewEndpoint(row.id, secret)


def endpoint(session: Session, endpoint_id: int) -> WebhookEndpoint:
    """Return an endpoint by id.

    Raises:
        WebhookError: no such endpoint.
    """
    row = session.get(WebhookEndpoint, endpoint_id)
    if row is None:
        raise WebhookError(f"no webhook endpoint {endpoint_id}")
    return row


def rotate_secret(session: Session, endpoint_id: int) -> str:
    """Start a rotation: a new secret signs alongside the newest old one until `end_rotation`."""
    row = endpoint(session, endpoint_id)
    fresh = new_secret()
    row.secrets = [fresh, row.secrets[0]]
    return fresh


def end_rotation(session: Session, endpoint_id: int) -> None:
    """Drop the old secret: only the newest signs from now on."""
    row = endpoint(session, endpoint_id)
    row.secrets = row.secrets[:1]


def set_enabled(session: Session, endpoint_id: int, enabled: bool, reason: str = "") -> None:
    """Enable or disable an endpoint (enabling clears its failure streak)."""
    row = endpoint(session, endpoint_id)
    row.status = "active" if enabled else "disabled"
    row.disabled_reason = None if enabled else (reason or "disabled by an operator")
    if enabled:
        row.failing_since = None


def replay(session: Session, endpoint_id: int, since: datetime | None = None,
           msg_ids: list[str] | None = None) -> int:
    """Queue messages of an endpoint again (same ``webhook-id``); return how many."""
    endpoint(session, endpoint_id)
    query = update(WebhookMessage).where(WebhookMessage.endpoint_id == endpoint_id)
    if msg_ids:
        query = query.where(WebhookMessage.msg_id.in_(msg_ids))
    if since is not None:
        query = query.where(WebhookMessage.created_at >= since)
    result = session.execute(query.values(status="pending", next_attempt_at=utcnow(), attempts=0))
    return int(getattr(result, "rowcount", 0) or 0)


def delivery_log(session: Session, endpoint_id: int, limit: int = 50) -> list[WebhookAttempt]:
    """Return an endpoint's latest attempts, newest first."""
    return list(session.execute(
        select(WebhookAttempt).where(WebhookAttempt.endpoint_id == endpoint_id)
        .order_by(WebhookAttempt.id.desc()).limit(limit)).scalars())


# ---------------------------------------------------------------------- events → messages
def event_type(kind: str, payload: dict[str, Any], status_after: str | None) -> str | None:
    """Map a case event to a webhook event type (None: not published)."""
    action = payload.get("action")
    if kind == "filed":
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
                queued += _queue(session, ep, f"case-event:{event.id}", kind or "", _body(kind or "", event.created_at, data))
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


# ---------------------------------------------------------------------- delivery bookkeeping
@dataclass(frozen=True)
class Outcome:
    """What one HTTP attempt gave."""

    status_code: int | None
    error: str | None = None
    retry_after: float | None = None
    duration_ms: int = 0


def next_delay(attempts: int, retry_after: float | None = None, scale: float = 1.0,
               rng: Callable[[], float] = random.random) -> float | None:
    """Return the wait before the next attempt after `attempts` failures (None: give up)."""
    if attempts > len(SCHEDULE):
        return None
    base = SCHEDULE[attempts - 1] * scale
    delay = base * (0.8 + 0.4 * rng())
    if retry_after is not None:
        delay = max(delay, min(retry_after, MAX_RETRY_AFTER))
    return delay


def record_outcome(session: Session, message_id: int, outcome: Outcome, scale: float = 1.0,
                   now: datetime | None = None) -> str:
    """Write an attempt to the log and move the message on; return its new status.

    2xx delivers; 410 disables the endpoint; anything else is retried on the schedule (honouring
    ``Retry-After``) until it gives up; an endpoint that failed for three days is disabled and
    the centre gets an alert.
    """
    now = now or utcnow()
    msg = session.get(WebhookMessage, message_id)
    if msg is None:
        return "gone"
    ep = session.get(WebhookEndpoint, msg.endpoint_id)
    session.add(WebhookAttempt(message_id=msg.id, endpoint_id=msg.endpoint_id, status_code=outcome.status_code,
                               error=(outcome.error or "")[:200] or None, duration_ms=outcome.duration_ms, at=now))
    msg.attempts += 1
    code = outcome.status_code
    if code is not None and 200 <= code < 300:
        msg.status, msg.delivered_at, msg.last_error = "delivered", now, None
        if ep is not None:
            ep.failing_since = None
        return msg.status
    msg.last_error = (outcome.error or f"HTTP {code}")[:200]
    if ep is not None and code == 410:
        msg.status = "failed"
        _disable(session, ep, "the receiver answered 410 Gone")
        return msg.status
    if ep is not None and ep.failing_since is None:
        ep.failing_since = now
    delay = next_delay(msg.attempts, outcome.retry_after, scale)
    since = ep.failing_since if ep is not None else None
    if since is not None and since.tzinfo is None:
        since = since.replace(tzinfo=now.tzinfo)
    if delay is None or (ep is not None and since is not None and now - since > DISABLE_AFTER * scale):
        msg.status = "failed"
        if ep is not None:
            _disable(session, ep, "deliveries failed for about three days")
        return msg.status
    msg.next_attempt_at = now + timedelta(seconds=delay)
    return msg.status


def _disable(session: Session, ep: WebhookEndpoint, reason: str) -> None:
    if ep.status == "disabled":
        return
    ep.status, ep.disabled_reason = "disabled", reason
    session.add(Alert(conversation_id=f"webhook:{ep.id}", case_id=None, level="yellow",
                      reason=f"数据共享推送地址已停用（{reason}）", excerpt=ep.url[:500]))


def due_messages(session: Session, limit: int = 50, now: datetime | None = None) -> list[tuple[WebhookMessage, WebhookEndpoint]]:
    """Return pending messages whose time has come, on active endpoints, oldest first."""
    now = now or utcnow()
    return list(session.execute(
        select(WebhookMessage, WebhookEndpoint).join(WebhookEndpoint, WebhookEndpoint.id == WebhookMessage.endpoint_id)
        .where(WebhookMessage.status == "pending", WebhookMessage.next_attempt_at <= now,
               WebhookEndpoint.status == "active")
        .order_by(WebhookMessage.next_attempt_at, WebhookMessage.id).limit(limit)).all())  # type: ignore[arg-type]
