"""Tables of the messaging layer: durable inbox, outbox, conversation state, relay cursor.

Every inbound message is stored under a unique key before it is acknowledged (RELIABILITY R1);
every outbound message, bot reply or notification, is a row of the outbox until delivered (R3).
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, Boolean, DateTime, Index, Integer, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from routing.persistence.case_tables import utcnow
from routing.persistence.db import Base
from routing.privacy.fields import EncryptedText


class InboxMessage(Base):
    """One inbound message, unique per (channel, external key), processed in id order."""

    __tablename__ = "inbox_messages"
    __table_args__ = (
        UniqueConstraint("channel", "external_key", name="uq_inbox_channel_key"),
        Index("ix_inbox_pending", "status", "conversation_id", "id"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    channel: Mapped[str] = mapped_column(String(16))
    external_key: Mapped[str] = mapped_column(String(160))
    conversation_id: Mapped[str] = mapped_column(String(128), index=True)
    kind: Mapped[str] = mapped_column(String(16), default="text")
    text: Mapped[str] = mapped_column(EncryptedText("inbox_messages.text"), default="")
    payload: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    status: Mapped[str] = mapped_column(String(16), default="pending")
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    delay_notified: Mapped[bool] = mapped_column(Boolean, default=False)
    dispatched: Mapped[bool] = mapped_column(Boolean, default=False)
    next_attempt_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    processed_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))


class OutboxMessage(Base):
    """One outbound message to a citizen; `dedupe_key` makes re-enqueueing harmless."""

    __tablename__ = "outbox_messages"
    __table_args__ = (
        Index("ix_outbox_conversation", "conversation_id", "id"),
        Index("ix_outbox_pending", "status", "channel", "id"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    channel: Mapped[str] = mapped_column(String(16))
    conversation_id: Mapped[str] = mapped_column(String(128))
    kind: Mapped[str] = mapped_column(String(16), default="reply")
    reply_to: Mapped[str | None] = mapped_column(String(160))
    dedupe_key: Mapped[str | None] = mapped_column(String(160), unique=True)
    text: Mapped[str] = mapped_column(EncryptedText("outbox_messages.text"), default="")
    buttons: Mapped[list[dict[str, str]]] = mapped_column(JSON, default=list)
    status: Mapped[str] = mapped_column(String(16), default="pending")
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    next_attempt_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    last_error: Mapped[str | None] = mapped_column(String(200))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    sent_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))


class ChatConversation(Base):
    """Per-conversation state: the script the citizen writes, and the human who owns it."""

    __tablename__ = "chat_conversations"

    conversation_id: Mapped[str] = mapped_column(String(128), primary_key=True)
    channel: Mapped[str] = mapped_column(String(16))
    script: Mapped[str] = mapped_column(String(12), default="simplified")
    agent_id: Mapped[str | None] = mapped_column(String(64))
    agent_since: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    updated_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    # The danger check found a person in danger: the ordinary intake pauses until the citizen
    # says they are safe or asks to go on; their messages are held, not lost.
    crisis_since: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    crisis_alert_id: Mapped[int | None] = mapped_column(Integer)


class RelayCursor(Base):
    """How far a relay has read an append-only stream (e.g. case events for notifications)."""

    __tablename__ = "relay_cursors"

    name: Mapped[str] = mapped_column(String(32), primary_key=True)
    position: Mapped[int] = mapped_column(Integer, default=0)


class Lease(Base):
    """A named claim with an expiry, held by one process at a time (issue 15).

    ``inbox:<conversation id>`` is a conversation's turn lock across gateways; ``gateway-leader``
    elects the one gateway that polls Telegram and runs the singleton loops. A holder that
    dies stops renewing, the row expires and another process takes it over.
    """

    __tablename__ = "leases"

    name: Mapped[str] = mapped_column(String(160), primary_key=True)
    holder: Mapped[str] = mapped_column(String(64))
    expires_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
