"""Tables of the case store (SQLAlchemy 2 typed declarative style)."""

from __future__ import annotations

from datetime import UTC, date, datetime
from typing import Any

from sqlalchemy import (
    JSON,
    Boolean,
    Date,
    DateTime,
    Float,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    UniqueConstraint,
    event,
    text,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from routing.persistence.db import Base
from routing.privacy.fields import EncryptedText, phone_index


def utcnow() -> datetime:
    """Return the current time, timezone-aware UTC."""
    return datetime.now(UTC)


class CaseCounter(Base):
    """Last case number issued per year (FQ-YYYY-NNNNNN)."""

    __tablename__ = "case_counters"

    year: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    last: Mapped[int] = mapped_column(Integer, default=0)


# Statuses of a case still on someone's desk (the centre's partial indexes, migration 0009_centre).
DESK_STATUSES = ("accepted", "assigned", "handling", "mediating", "reception_booked", "escalated",
                 "review", "recheck", "follow_up")
DESK_WHERE = "status IN (" + ", ".join(f"'{s}'" for s in DESK_STATUSES) + ")"
# GeoReport's "open" (routing.open311.fields.statuses_for({"open"}); a test keeps them equal).
API_OPEN_STATUSES = ("accepted", "assigned", "escalated", "handling", "mediating", "reception_booked", "recheck",
                     "review")
API_OPEN_WHERE = "status IN (" + ", ".join(f"'{s}'" for s in API_OPEN_STATUSES) + ")"


class Case(Base):
    """One complaint, dispute or petition, from filing to archive."""

    __tablename__ = "cases"
    # Open311 request lists: newest first in a date window, and per service (a category path).
    __table_args__ = (
        Index("ix_cases_created", "created_at", "id"),
        Index("ix_cases_service_created", "category", "category_l2", "category_l3", "created_at", "id"),
        # The centre's desk (migration 0009_centre): open cases only, and hotspot lookups.
        Index("ix_cases_desk", "county_code", "location_code", "body_id", "tier", "status", "risk_level",
              "due_date", "assigned_person_id", postgresql_where=text(DESK_WHERE), sqlite_where=text(DESK_WHERE)),
        Index("ix_cases_desk_due", "county_code", "due_date", "id", "status", "risk_level", "assigned_person_id",
              "location_code", "body_id", postgresql_where=text(DESK_WHERE), sqlite_where=text(DESK_WHERE)),
        Index("ix_cases_hotspot_place", "category_l2", "location_code", "created_at"),  # 0015
        # Open311 ``status=open`` lists, newest first (0015): the open cases only.
        Index("ix_cases_open_created", "created_at", "id", postgresql_where=text(API_OPEN_WHERE),
              sqlite_where=text(API_OPEN_WHERE)),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    case_number: Mapped[str] = mapped_column(String(20), unique=True)
    idempotency_key: Mapped[str] = mapped_column(String(128), unique=True)
    status: Mapped[str] = mapped_column(String(32), index=True)
    category: Mapped[str | None] = mapped_column(String(32), index=True)
    category_l2: Mapped[str | None] = mapped_column(String(64))
    category_l3: Mapped[str | None] = mapped_column(String(64))
    dispute_type: Mapped[str | None] = mapped_column(String(32))
    classifier_confidence: Mapped[float | None] = mapped_column(Float)
    subject: Mapped[str] = mapped_column(EncryptedText("cases.subject"))
    narrative_original: Mapped[str] = mapped_column(EncryptedText("cases.narrative_original"))
    narrative_normalised: Mapped[str] = mapped_column(EncryptedText("cases.narrative_normalised"))
    script: Mapped[str] = mapped_column(String(12), default="simplified")
    location_text: Mapped[str | None] = mapped_column(EncryptedText("cases.location_text"))
    location_code: Mapped[str | None] = mapped_column(String(16), index=True)
    county_code: Mapped[str | None] = mapped_column(String(16), index=True)
    respondent: Mapped[str | None] = mapped_column(EncryptedText("cases.respondent"))
    demand: Mapped[str | None] = mapped_column(EncryptedText("cases.demand"))
    # Personal data is encrypted at rest (routing.privacy); the phone is found by its blind index.
    contact_phone: Mapped[str | None] = mapped_column(EncryptedText("cases.contact_phone"))
    contact_phone_index: Mapped[str | None] = mapped_column(String(32), index=True)
    channel: Mapped[str] = mapped_column(String(16))
    channel_user_id: Mapped[str] = mapped_column(String(128), index=True)
    conversation_id: Mapped[str] = mapped_column(String(128), index=True)
    risk_level: Mapped[str] = mapped_column(String(8), default="blue")
    human_requested: Mapped[bool] = mapped_column(Boolean, default=False)
    handling_body: Mapped[str | None] = mapped_column(String(128))
    body_id: Mapped[str | None] = mapped_column(String(64), index=True)
    assigned_person_id: Mapped[str | None] = mapped_column(String(64), index=True)
    assigned_person_name: Mapped[str | None] = mapped_column(String(64))
    confidential: Mapped[bool] = mapped_column(Boolean, default=False)
    hidden_from: Mapped[list[str]] = mapped_column(JSON, default=list)
    tier: Mapped[str | None] = mapped_column(String(32))
    routing_explanation: Mapped[str | None] = mapped_column(Text)
    due_date: Mapped[date | None] = mapped_column(Date, index=True)
    satisfaction: Mapped[str | None] = mapped_column(String(8))
    # Set when the retention purge removed the case's personal data (routing.privacy.retention).
    purged_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(
        DateTime(timezone=True), default=utcnow, onupdate=utcnow
    )

    events: Mapped[list[CaseEvent]] = relationship(
        back_populates="case", order_by="CaseEvent.seq", cascade="save-update"
    )


@event.listens_for(Case, "before_insert")
@event.listens_for(Case, "before_update")
def _index_phone(_mapper: Any, _connection: Any, case: Case) -> None:
    """Keep the phone's blind index in step with the phone (a citizen's other cases)."""
    case.contact_phone_index = phone_index(case.contact_phone)


class CaseEvent(Base):
    """An append-only audit entry: who did what to a case, when and why."""

    __tablename__ = "case_events"
    __table_args__ = (UniqueConstraint("case_id", "seq"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    case_id: Mapped[int] = mapped_column(ForeignKey("cases.id"), index=True)
    seq: Mapped[int] = mapped_column(Integer)
    kind: Mapped[str] = mapped_column(String(32), index=True)
    actor: Mapped[str] = mapped_column(String(64))
    reason: Mapped[str | None] = mapped_column(Text)
    status_after: Mapped[str | None] = mapped_column(String(32))
    payload: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)

    case: Mapped[Case] = relationship(back_populates="events")


class Alert(Base):
    """A risk alert for the governance centre (crisis words, red risk)."""

    __tablename__ = "alerts"
    __table_args__ = (Index("ix_alerts_open", "acknowledged", "created_at"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    conversation_id: Mapped[str] = mapped_column(String(128), index=True)
    case_id: Mapped[int | None] = mapped_column(ForeignKey("cases.id"))
    level: Mapped[str] = mapped_column(String(8))
    reason: Mapped[str] = mapped_column(Text)
    excerpt: Mapped[str] = mapped_column(EncryptedText("alerts.excerpt"))
    acknowledged: Mapped[bool] = mapped_column(Boolean, default=False)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    # Crisis alerts (the danger check): what kind, where, through which channel, who answered.
    kind: Mapped[str | None] = mapped_column(String(24))
    channel: Mapped[str | None] = mapped_column(String(16))
    region_code: Mapped[str | None] = mapped_column(String(12), index=True)
    place: Mapped[str | None] = mapped_column(String(200))
    acknowledged_by: Mapped[str | None] = mapped_column(String(64))
    acknowledged_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    escalations: Mapped[int] = mapped_column(Integer, default=0)
    escalated_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))


class AlertEvent(Base):
    """One step in an alert's life (raised, notified, message, acknowledged, escalated, linked).

    Append-only, like the case events: the record that no alert was hidden or left unanswered.
    """

    __tablename__ = "alert_events"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    alert_id: Mapped[int] = mapped_column(ForeignKey("alerts.id"), index=True)
    kind: Mapped[str] = mapped_column(String(24))
    actor: Mapped[str] = mapped_column(String(64))
    reason: Mapped[str | None] = mapped_column(Text)
    payload: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)


class HandoffRequest(Base):
    """A citizen's request for a human, with or without a case yet."""

    __tablename__ = "handoff_requests"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    conversation_id: Mapped[str] = mapped_column(String(128), index=True)
    channel: Mapped[str] = mapped_column(String(16))
    case_id: Mapped[int | None] = mapped_column(ForeignKey("cases.id"))
    status: Mapped[str] = mapped_column(String(16), default="open")
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
