"""data sharing: API keys, idempotent answers, webhook endpoints, messages and attempts;
an index for the Open311 request list (created_at, id)

Revision ID: 0008_open311
Revises: 0007_crisis
"""

import sqlalchemy as sa
from alembic import op

revision = "0008_open311"
down_revision = "0007_crisis"
branch_labels = None
depends_on = None

TS = sa.DateTime(timezone=True)


def upgrade() -> None:
    op.create_table(
        "api_keys",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("name", sa.String(64), nullable=False, unique=True),
        sa.Column("prefix", sa.String(16), nullable=False),
        sa.Column("key_hash", sa.String(64), nullable=False, unique=True),
        sa.Column("scopes", sa.JSON(), nullable=False),
        sa.Column("rate_limit", sa.Integer(), nullable=False),
        sa.Column("created_at", TS, nullable=False),
        sa.Column("revoked_at", TS, nullable=True),
        sa.Column("last_used_at", TS, nullable=True),
    )
    op.create_table(
        "api_idempotency",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("api_key_id", sa.Integer(), sa.ForeignKey("api_keys.id"), nullable=False),
        sa.Column("idem_key", sa.String(200), nullable=False),
        sa.Column("fingerprint", sa.String(64), nullable=False),
        sa.Column("case_number", sa.String(20), nullable=True),
        sa.Column("answer", sa.JSON(), nullable=True),
        sa.Column("created_at", TS, nullable=False),
        sa.UniqueConstraint("api_key_id", "idem_key", name="uq_api_idem"),
    )
    op.create_table(
        "webhook_endpoints",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("api_key_id", sa.Integer(), sa.ForeignKey("api_keys.id"), nullable=False, index=True),
        sa.Column("url", sa.Text(), nullable=False),
        sa.Column("events", sa.JSON(), nullable=False),
        sa.Column("secrets", sa.JSON(), nullable=False),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("disabled_reason", sa.Text(), nullable=True),
        sa.Column("failing_since", TS, nullable=True),
        sa.Column("created_at", TS, nullable=False),
    )
    op.create_table(
        "webhook_messages",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("msg_id", sa.String(40), nullable=False, unique=True),
        sa.Column("endpoint_id", sa.Integer(), sa.ForeignKey("webhook_endpoints.id"), nullable=False, index=True),
        sa.Column("source_key", sa.String(64), nullable=False),
        sa.Column("event_type", sa.String(32), nullable=False),
        sa.Column("body", sa.Text(), nullable=False),
        sa.Column("status", sa.String(12), nullable=False),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("next_attempt_at", TS, nullable=False),
        sa.Column("last_error", sa.String(200), nullable=True),
        sa.Column("created_at", TS, nullable=False),
        sa.Column("delivered_at", TS, nullable=True),
        sa.UniqueConstraint("endpoint_id", "source_key", name="uq_webhook_source"),
    )
    op.create_index("ix_webhook_due", "webhook_messages", ["status", "next_attempt_at"])
    op.create_table(
        "webhook_attempts",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("message_id", sa.Integer(), sa.ForeignKey("webhook_messages.id"), nullable=False, index=True),
        sa.Column("endpoint_id", sa.Integer(), nullable=False, index=True),
        sa.Column("status_code", sa.Integer(), nullable=True),
        sa.Column("error", sa.String(200), nullable=True),
        sa.Column("duration_ms", sa.Integer(), nullable=False),
        sa.Column("at", TS, nullable=False),
        sa.Column("detail", sa.JSON(), nullable=False),
    )
    op.create_table(
        "api_case_meta",
        sa.Column("case_id", sa.Integer(), sa.ForeignKey("cases.id"), primary_key=True),
        sa.Column("api_key_id", sa.Integer(), sa.ForeignKey("api_keys.id"), nullable=False, index=True),
        sa.Column("service_code", sa.String(16), nullable=False),
        sa.Column("lat", sa.Float(), nullable=True),
        sa.Column("long", sa.Float(), nullable=True),
        sa.Column("address_string", sa.Text(), nullable=True),
        sa.Column("media_url", sa.Text(), nullable=True),
        sa.Column("contact", sa.JSON(), nullable=False),
        sa.Column("attributes", sa.JSON(), nullable=False),
    )
    # GET requests.json: newest first within a date window, optionally by category
    op.create_index("ix_cases_created", "cases", ["created_at", "id"])
    # … and by service (a category path), newest first: one ordered index range per service
    op.create_index("ix_cases_service_created", "cases", ["category", "category_l2", "category_l3", "created_at", "id"])


def downgrade() -> None:
    op.drop_index("ix_cases_service_created", "cases")
    op.drop_index("ix_cases_created", "cases")
    op.drop_table("api_case_meta")
    op.drop_table("webhook_attempts")
    op.drop_index("ix_webhook_due", "webhook_messages")
    op.drop_table("webhook_messages")
    op.drop_table("webhook_endpoints")
    op.drop_table("api_idempotency")
    op.drop_table("api_keys")
