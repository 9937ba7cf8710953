"""messaging: durable inbox, outbox, conversation state (script, human owner), relay cursor

Revision ID: 0004_messaging
Revises: 0003_console
"""

import sqlalchemy as sa
from alembic import op

revision = "0004_messaging"
down_revision = "0003_console"
branch_labels = None
depends_on = None


def _ts(name: str, nullable: bool = True) -> sa.Column:
    return sa.Column(name, sa.DateTime(timezone=True), nullable=nullable)


def upgrade() -> None:
    op.create_table(
        "inbox_messages",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("channel", sa.String(16), nullable=False),
        sa.Column("external_key", sa.String(160), nullable=False),
        sa.Column("conversation_id", sa.String(128), nullable=False),
        sa.Column("kind", sa.String(16), nullable=False),
        sa.Column("text", sa.Text(), nullable=False),
        sa.Column("payload", sa.JSON(), nullable=False),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("delay_notified", sa.Boolean(), nullable=False),
        sa.Column("dispatched", sa.Boolean(), nullable=False, server_default=sa.false()),
        _ts("next_attempt_at"),
        _ts("created_at", nullable=False),
        _ts("processed_at"),
        sa.UniqueConstraint("channel", "external_key", name="uq_inbox_channel_key"),
    )
    op.create_index("ix_inbox_messages_conversation_id", "inbox_messages", ["conversation_id"])
    op.create_index("ix_inbox_pending", "inbox_messages", ["status", "conversation_id", "id"])
    op.create_table(
        "outbox_messages",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("channel", sa.String(16), nullable=False),
        sa.Column("conversation_id", sa.String(128), nullable=False),
        sa.Column("kind", sa.String(16), nullable=False),
        sa.Column("reply_to", sa.String(160), nullable=True),
        sa.Column("dedupe_key", sa.String(160), nullable=True, unique=True),
        sa.Column("text", sa.Text(), nullable=False),
        sa.Column("buttons", sa.JSON(), nullable=False),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("attempts", sa.Integer(), nullable=False),
        _ts("next_attempt_at"),
        sa.Column("last_error", sa.String(200), nullable=True),
        _ts("created_at", nullable=False),
        _ts("sent_at"),
    )
    op.create_index("ix_outbox_conversation", "outbox_messages", ["conversation_id", "id"])
    op.create_index("ix_outbox_pending", "outbox_messages", ["status", "channel", "id"])
    op.create_table(
        "chat_conversations",
        sa.Column("conversation_id", sa.String(128), primary_key=True),
        sa.Column("channel", sa.String(16), nullable=False),
        sa.Column("script", sa.String(12), nullable=False),
        sa.Column("agent_id", sa.String(64), nullable=True),
        _ts("agent_since"),
        _ts("updated_at", nullable=False),
    )
    op.create_table(
        "relay_cursors",
        sa.Column("name", sa.String(32), primary_key=True),
        sa.Column("position", sa.Integer(), nullable=False),
    )


def downgrade() -> None:
    op.drop_table("relay_cursors")
    op.drop_table("chat_conversations")
    op.drop_index("ix_outbox_pending", "outbox_messages")
    op.drop_index("ix_outbox_conversation", "outbox_messages")
    op.drop_table("outbox_messages")
    op.drop_index("ix_inbox_pending", "inbox_messages")
    op.drop_index("ix_inbox_messages_conversation_id", "inbox_messages")
    op.drop_table("inbox_messages")
