"""Webhooks after the Standard Webhooks specification: subscriptions, the outbox, delivery rules.

Case events and alerts become one ``webhook_messages`` row per subscribed endpoint (unique per
source, so a rescan never doubles them); a sender (``gateway/open311/delivery.py``) posts them
with ``webhook-id`` (stable across retries), ``webhook-timestamp`` and ``webhook-signature``.
Signing and the SSRF guard live in ``signing``, the event scan in ``scanner``; their names are
re-exported here.
"""

from __future__ import annotations

import random
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from routing.open311.scanner import WebhookScanner, _queue, event_type
from routing.open311.signing import (
    WebhookError,
    address_allowed,
    check_url,
    new_secret,
    sign,
    signature_header,
    verify,
)
from routing.persistence.case_tables import Alert, utcnow
from routing.persistence.open311_tables import (
    ApiKey,
    WebhookAttempt,
    WebhookEndpoint,
    WebhookMessage,
)

EVENT_TYPES = ("case.filed", "case.assigned", "case.status_changed", "case.escalated", "case.overdue",
               "case.closed", "alert.raised", "alert.closed", "reception.booked")
# Delays after each failed attempt (seconds): about three days in all (Standard Webhooks'
# schedule, stretched), each with ±20 % jitter so a recovering receiver is not hit all at once.
SCHEDULE = (5, 300, 1800, 7200, 18000, 36000, 36000, 36000, 43200, 43200, 43200)
MAX_RETRY_AFTER = 86400
# An endpoint failing for this long without one success is disabled and the centre is told.
DISABLE_AFTER = timedelta(days=3)


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


__all__ = ["WebhookError", "WebhookScanner", "_queue", "address_allowed", "check_url", "event_type", "new_secret",
           "sign", "signature_header", "verify"]
