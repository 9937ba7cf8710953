"""Tables of the mediator console: accounts, sessions, audit log and case work records."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from sqlalchemy import JSON, Boolean, Date, DateTime, ForeignKey, Index, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from routing.persistence.case_tables import utcnow
from routing.persistence.db import Base
from routing.privacy.fields import EncryptedText


class ConsoleUser(Base):
    """A staff member who signs in to the console."""

    __tablename__ = "console_users"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    username: Mapped[str] = mapped_column(String(64), unique=True)
    display_name: Mapped[str] = mapped_column(String(64))
    role: Mapped[str] = mapped_column(String(16))
    person_id: Mapped[str] = mapped_column(String(64), unique=True)
    password_hash: Mapped[str] = mapped_column(String(256))
    totp_secret: Mapped[str | None] = mapped_column(String(64))
    extra_permissions: Mapped[list[str]] = mapped_column(JSON, default=list)
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)


class ConsoleUserRegion(Base):
    """A division a user works in (a region covers its descendants)."""

    __tablename__ = "console_user_regions"

    user_id: Mapped[int] = mapped_column(ForeignKey("console_users.id", ondelete="CASCADE"), primary_key=True)
    division_code: Mapped[str] = mapped_column(String(16), primary_key=True)


class ConsoleSession(Base):
    """A server-side login session; the cookie holds a token whose SHA-256 is the key."""

    __tablename__ = "console_sessions"

    token_hash: Mapped[str] = mapped_column(String(64), primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("console_users.id", ondelete="CASCADE"), index=True)
    csrf_token: Mapped[str] = mapped_column(String(64))
    stage: Mapped[str] = mapped_column(String(8), default="full")  # "totp" until the code is given
    ip: Mapped[str] = mapped_column(String(64), default="")
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    last_seen: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    expires_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))


class LoginAttempt(Base):
    """One login attempt, kept for throttling per account and per IP address."""

    __tablename__ = "console_login_attempts"
    __table_args__ = (
        Index("ix_console_login_attempts_user_at", "username", "at"),
        Index("ix_console_login_attempts_ip_at", "ip", "at"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    username: Mapped[str] = mapped_column(String(64))
    ip: Mapped[str] = mapped_column(String(64))
    success: Mapped[bool] = mapped_column(Boolean)
    at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)


class AuditEntry(Base):
    """Who viewed, revealed, exported or changed what (RELIABILITY R8)."""

    __tablename__ = "console_audit"
    __table_args__ = (Index("ix_console_audit_at", "at"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    user_id: Mapped[int | None] = mapped_column(Integer, index=True)
    username: Mapped[str] = mapped_column(String(64))
    action: Mapped[str] = mapped_column(String(32), index=True)
    case_number: Mapped[str | None] = mapped_column(String(20), index=True)
    detail: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    ip: Mapped[str] = mapped_column(String(64), default="")
    at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)


class CaseNote(Base):
    """A private working note on a case (staff only, never shown to the citizen)."""

    __tablename__ = "case_notes"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    case_id: Mapped[int] = mapped_column(ForeignKey("cases.id"), index=True)
    author_id: Mapped[int] = mapped_column(ForeignKey("console_users.id"))
    author_name: Mapped[str] = mapped_column(String(64))
    body: Mapped[str] = mapped_column(EncryptedText("case_notes.body"))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)


class ContactLog(Base):
    """One contact with a party: a call, a visit, a message."""

    __tablename__ = "case_contacts"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    case_id: Mapped[int] = mapped_column(ForeignKey("cases.id"), index=True)
    author_id: Mapped[int] = mapped_column(ForeignKey("console_users.id"))
    author_name: Mapped[str] = mapped_column(String(64))
    method: Mapped[str] = mapped_column(String(16))
    party: Mapped[str] = mapped_column(EncryptedText("case_contacts.party"))
    summary: Mapped[str] = mapped_column(EncryptedText("case_contacts.summary"))
    contacted_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)


class MediationRecord(Base):
    """A mediation session held on a case (调解记录)."""

    __tablename__ = "mediation_records"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    case_id: Mapped[int] = mapped_column(ForeignKey("cases.id"), index=True)
    author_id: Mapped[int] = mapped_column(ForeignKey("console_users.id"))
    held_on: Mapped[date] = mapped_column(Date)
    place: Mapped[str] = mapped_column(String(128))
    mediators: Mapped[str] = mapped_column(String(256))
    attendees: Mapped[str] = mapped_column(Text)
    proceedings: Mapped[str] = mapped_column(Text)
    result: Mapped[str] = mapped_column(String(16))  # agreed | not_agreed | continued
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)


class MediationAgreement(Base):
    """调解协议书 with the matters 人民调解法 第二十九条 lists."""

    __tablename__ = "mediation_agreements"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    case_id: Mapped[int] = mapped_column(ForeignKey("cases.id"), index=True)
    number: Mapped[str] = mapped_column(String(32), unique=True)
    committee: Mapped[str] = mapped_column(String(128))
    # (一) 当事人的基本情况: [{"name", "role", "details"}]
    parties: Mapped[list[dict[str, str]]] = mapped_column(JSON)
    # (二) 纠纷的主要事实、争议事项以及各方当事人的责任
    facts: Mapped[str] = mapped_column(Text)
    issues: Mapped[str] = mapped_column(Text)
    responsibilities: Mapped[str] = mapped_column(Text)
    # (三) 达成调解协议的内容，履行的方式、期限
    terms: Mapped[str] = mapped_column(Text)
    performance_method: Mapped[str] = mapped_column(Text)
    performance_deadline: Mapped[date | None] = mapped_column(Date)
    mediators: Mapped[str] = mapped_column(String(256))
    signed_on: Mapped[date] = mapped_column(Date)
    author_id: Mapped[int] = mapped_column(ForeignKey("console_users.id"))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)


class CannedResponse(Base):
    """A reply text mediators reuse (may be limited to a category)."""

    __tablename__ = "canned_responses"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    title: Mapped[str] = mapped_column(String(64))
    body: Mapped[str] = mapped_column(Text)
    category: Mapped[str | None] = mapped_column(String(32))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
