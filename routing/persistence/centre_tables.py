"""Tables of the centre's desk: early-warning alerts with members and steps, 挂牌督办, run locks.

Alerts and supervisions change state only together with an appended step (``*_events``), so
their history, like a case's, is the record that nothing was hidden (不得瞒报、漏报、拒报).
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from sqlalchemy import JSON, Date, DateTime, ForeignKey, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from routing.persistence.case_tables import utcnow
from routing.persistence.db import Base


class CentreAlert(Base):
    """One early warning (预警): about a case, a body, or a hotspot of several cases.

    ``key`` makes raising idempotent: one alert per (kind, subject). An open hotspot's key is
    ``hotspot:<place>:<problem>``; closing it appends ``#<id>`` so a later cluster starts afresh.
    """

    __tablename__ = "centre_alerts"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    key: Mapped[str] = mapped_column(String(200), unique=True)
    kind: Mapped[str] = mapped_column(String(24), index=True)
    severity: Mapped[str] = mapped_column(String(8))  # red | orange | yellow
    state: Mapped[str] = mapped_column(String(12), default="open", index=True)
    county_code: Mapped[str | None] = mapped_column(String(16), index=True)
    division_code: Mapped[str | None] = mapped_column(String(16), index=True)
    body_id: Mapped[str | None] = mapped_column(String(64))
    case_id: Mapped[int | None] = mapped_column(ForeignKey("cases.id"))
    title: Mapped[str] = mapped_column(Text)
    place_label: Mapped[str | None] = mapped_column(String(200))
    problem: Mapped[str | None] = mapped_column(String(64))
    member_count: Mapped[int] = mapped_column(Integer, default=0)
    level: Mapped[int] = mapped_column(Integer, default=0)  # 0 its own centre, 1 one level up …
    assigned_kind: Mapped[str | None] = mapped_column(String(12))
    assigned_to: Mapped[str | None] = mapped_column(String(128))
    acknowledged_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    escalated_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    closed_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    last_member_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow, index=True)


class CentreAlertMember(Base):
    """A case that belongs to an alert (a hotspot has several)."""

    __tablename__ = "centre_alert_members"
    __table_args__ = (UniqueConstraint("alert_id", "case_id"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    alert_id: Mapped[int] = mapped_column(ForeignKey("centre_alerts.id"), index=True)
    case_id: Mapped[int] = mapped_column(ForeignKey("cases.id"), index=True)
    joined_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)


class CentreAlertEvent(Base):
    """One step of an alert (raised, joined, acknowledged, assessed, assigned, escalated, closed)."""

    __tablename__ = "centre_alert_events"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    alert_id: Mapped[int] = mapped_column(ForeignKey("centre_alerts.id"), index=True)
    kind: Mapped[str] = mapped_column(String(24))
    actor: Mapped[str] = mapped_column(String(64))
    reason: Mapped[str | None] = mapped_column(Text)
    payload: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)


class Supervision(Base):
    """挂牌督办 of a case or of a handling body, with a reason and a deadline for its answer."""

    __tablename__ = "supervisions"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    target_kind: Mapped[str] = mapped_column(String(8))  # case | body
    case_id: Mapped[int | None] = mapped_column(ForeignKey("cases.id"), index=True)
    body_id: Mapped[str | None] = mapped_column(String(64), index=True)
    body_name: Mapped[str | None] = mapped_column(String(128))
    county_code: Mapped[str | None] = mapped_column(String(16), index=True)
    division_code: Mapped[str | None] = mapped_column(String(16))
    reason: Mapped[str] = mapped_column(Text)
    deadline: Mapped[date] = mapped_column(Date)
    state: Mapped[str] = mapped_column(String(12), default="open", index=True)  # open|answered|overdue|lifted
    feedback: Mapped[str | None] = mapped_column(Text)
    created_by: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    answered_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    lifted_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))


class SupervisionEvent(Base):
    """One step of a supervision (placed, answered, overdue, lifted)."""

    __tablename__ = "supervision_events"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    supervision_id: Mapped[int] = mapped_column(ForeignKey("supervisions.id"), index=True)
    kind: Mapped[str] = mapped_column(String(16))
    actor: Mapped[str] = mapped_column(String(64))
    reason: Mapped[str | None] = mapped_column(Text)
    payload: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)


class RunLock(Base):
    """A lease on a periodic job (the sweep), so cron and the built-in scheduler never double-run."""

    __tablename__ = "run_locks"

    name: Mapped[str] = mapped_column(String(32), primary_key=True)
    holder: Mapped[str] = mapped_column(String(128))
    expires_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    last_run_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))


class DeskCount(Base):
    """How many cases of one (county, place, body, tier, status, risk, unassigned) are on a desk.

    Kept by row triggers on ``cases`` (migration 0008) in the writing transaction; read by the board
    when no filter narrows it; checked against the event log by ``fengqiao audit reconcile``.
    """

    __tablename__ = "desk_counts"

    county_code: Mapped[str] = mapped_column(String(16), primary_key=True)
    location_code: Mapped[str] = mapped_column(String(16), primary_key=True)
    body_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    tier: Mapped[str] = mapped_column(String(32), primary_key=True)
    status: Mapped[str] = mapped_column(String(32), primary_key=True)
    risk_level: Mapped[str] = mapped_column(String(8), primary_key=True)
    unassigned: Mapped[bool] = mapped_column(primary_key=True)
    n: Mapped[int] = mapped_column(Integer, default=0)


class DeskDueCount(Base):
    """How many open cases of one (county, due date, place, body) there are (triggers, migration 0009)."""

    __tablename__ = "desk_due_counts"

    county_code: Mapped[str] = mapped_column(String(16), primary_key=True)
    due_date: Mapped[date] = mapped_column(Date, primary_key=True)
    location_code: Mapped[str] = mapped_column(String(16), primary_key=True)
    body_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    n: Mapped[int] = mapped_column(Integer, default=0)
