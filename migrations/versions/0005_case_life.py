"""case life: statutory clocks, reception days, bookings, 包案 records

Revision ID: 0005_case_life
Revises: 0004_messaging
"""

import sqlalchemy as sa
from alembic import op

revision = "0005_case_life"
down_revision = "0004_messaging"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "case_clocks",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("case_id", sa.Integer(), sa.ForeignKey("cases.id"), nullable=False),
        sa.Column("clock", sa.String(32), nullable=False),
        sa.Column("rule_set", sa.String(16), nullable=False),
        sa.Column("article", sa.Text(), nullable=False),
        sa.Column("start", sa.Date(), nullable=False),
        sa.Column("due", sa.Date(), nullable=True),
        sa.Column("pauses", sa.JSON(), nullable=False),
        sa.Column("paused_days", sa.Integer(), nullable=False),
        sa.Column("extended_days", sa.Integer(), nullable=False),
        sa.Column("extensions", sa.JSON(), nullable=False),
        sa.Column("extension_approver", sa.String(64), nullable=True),
        sa.Column("extension_reason", sa.Text(), nullable=True),
        sa.Column("stopped_at", sa.Date(), nullable=True),
        sa.Column("state", sa.String(12), nullable=False),
        sa.Column("body_id", sa.String(64), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index("ix_case_clocks_case_id", "case_clocks", ["case_id"])
    op.create_index("ix_case_clocks_sweep", "case_clocks", ["state", "due"])

    op.create_table(
        "reception_days",
        sa.Column("id", sa.String(64), nullable=False),
        sa.Column("leader", sa.String(64), nullable=False),
        sa.Column("date", sa.Date(), nullable=False),
        sa.Column("start", sa.String(5), nullable=False),
        sa.Column("place", sa.Text(), nullable=False),
        sa.Column("division", sa.String(16), nullable=False),
        sa.Column("topics", sa.JSON(), nullable=False),
        sa.Column("capacity", sa.Integer(), nullable=False),
        sa.Column("departments", sa.JSON(), nullable=False),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index("ix_reception_days_date", "reception_days", ["date"])

    op.create_table(
        "reception_bookings",
        sa.Column("id", sa.String(64), nullable=False),
        sa.Column("day_id", sa.String(64), sa.ForeignKey("reception_days.id"), nullable=False),
        sa.Column("case_number", sa.String(20), sa.ForeignKey("cases.case_number"), nullable=False),
        sa.Column("citizen_id", sa.String(128), nullable=False),
        sa.Column("representatives", sa.Integer(), nullable=False),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("reminded_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index("ix_reception_bookings_day_id", "reception_bookings", ["day_id"])
    op.create_index("ix_reception_bookings_case_number", "reception_bookings", ["case_number"])

    op.create_table(
        "baoan_records",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("case_number", sa.String(20), sa.ForeignKey("cases.case_number"), nullable=False),
        sa.Column("booking_id", sa.String(64), sa.ForeignKey("reception_bookings.id"), nullable=True),
        sa.Column("leader", sa.String(64), nullable=False),
        sa.Column("taken_on", sa.Date(), nullable=False),
        sa.Column("target_date", sa.Date(), nullable=False),
        sa.Column("closed_on", sa.Date(), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index("ix_baoan_records_case_number", "baoan_records", ["case_number"])


def downgrade() -> None:
    op.drop_index("ix_baoan_records_case_number", "baoan_records")
    op.drop_table("baoan_records")
    op.drop_index("ix_reception_bookings_case_number", "reception_bookings")
    op.drop_index("ix_reception_bookings_day_id", "reception_bookings")
    op.drop_table("reception_bookings")
    op.drop_index("ix_reception_days_date", "reception_days")
    op.drop_table("reception_days")
    op.drop_index("ix_case_clocks_sweep", "case_clocks")
    op.drop_index("ix_case_clocks_case_id", "case_clocks")
    op.drop_table("case_clocks")
