"""Tables of the case life: statutory clocks, reception days, bookings and 包案 records."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from sqlalchemy import JSON, Date, DateTime, ForeignKey, Index, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from routing.persistence.case_tables import utcnow
from routing.persistence.db import Base

# Clock states. ``running``/``near_due`` are what the sweep looks at; ``overdue`` has been
# reported once; ``paused`` has no due date while the pause is open; ``stopped`` met its duty;
# ``window`` is a period that belongs to the citizen or to a receiving body (复查 request,
# transfer objection): it is shown on the case but never swept or escalated.
SWEPT_STATES = ("running", "near_due")
CLOCK_STATES = ("running", "near_due", "overdue", "paused", "stopped", "window")


class CaseClock(Base):
    """A statutory clock on a case (one row per started clock; a restarted clock is a new row)."""

    __tablename__ = "case_clocks"
    __table_args__ = (
        # The sweep: state IN ('running','near_due') AND due <= :horizon → two index range scans.
        Index("ix_case_clocks_sweep", "state", "due"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    case_id: Mapped[int] = mapped_column(ForeignKey("cases.id"), index=True)
    clock: Mapped[str] = mapped_column(String(32))
    rule_set: Mapped[str] = mapped_column(String(16))
    article: Mapped[str] = mapped_column(Text)
    start: Mapped[date] = mapped_column(Date)
    due: Mapped[date | None] = mapped_column(Date)
    pauses: Mapped[list[dict[str, Any]]] = mapped_column(JSON, default=list)
    paused_days: Mapped[int] = mapped_column(Integer, default=0)
    extended_days: Mapped[int] = mapped_column(Integer, default=0)
    extensions: Mapped[list[dict[str, Any]]] = mapped_column(JSON, default=list)
    extension_approver: Mapped[str | None] = mapped_column(String(64))
    extension_reason: Mapped[str | None] = mapped_column(Text)
    stopped_at: Mapped[date | None] = mapped_column(Date)
    state: Mapped[str] = mapped_column(String(12), default="running")
    body_id: Mapped[str | None] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)


class ReceptionDayRow(Base):
    """A leader's published reception day (浦江经验)."""

    __tablename__ = "reception_days"

    id: Mapped[str] = mapped_column(String(64), primary_key=True)
    leader: Mapped[str] = mapped_column(String(64))
    date: Mapped[date] = mapped_column(Date, index=True)
    start: Mapped[str] = mapped_column(String(5), default="09:00")
    place: Mapped[str] = mapped_column(Text)
    division: Mapped[str] = mapped_column(String(16))
    topics: Mapped[list[str]] = mapped_column(JSON, default=list)
    capacity: Mapped[int] = mapped_column(Integer)
    departments: Mapped[list[str]] = mapped_column(JSON, default=list)
    status: Mapped[str] = mapped_column(String(16), default="published")
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)


class ReceptionBookingRow(Base):
    """A case booked onto a reception day."""

    __tablename__ = "reception_bookings"

    id: Mapped[str] = mapped_column(String(64), primary_key=True)
    day_id: Mapped[str] = mapped_column(ForeignKey("reception_days.id"), index=True)
    case_number: Mapped[str] = mapped_column(ForeignKey("cases.case_number"), index=True)
    citizen_id: Mapped[str] = mapped_column(String(128))
    representatives: Mapped[int] = mapped_column(Integer, default=1)
    status: Mapped[str] = mapped_column(String(16), default="booked")
    reminded_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)


class BaoAnRow(Base):
    """A leader took a case in charge (包案) at a reception; tracked to closure."""

    __tablename__ = "baoan_records"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    case_number: Mapped[str] = mapped_column(ForeignKey("cases.case_number"), index=True)
    booking_id: Mapped[str | None] = mapped_column(ForeignKey("reception_bookings.id"))
    leader: Mapped[str] = mapped_column(String(64))
    taken_on: Mapped[date] = mapped_column(Date)
    target_date: Mapped[date] = mapped_column(Date)
    closed_on: Mapped[date | None] = mapped_column(Date)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
