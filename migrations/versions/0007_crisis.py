"""crisis: alert kind/place/channel/acknowledgement/escalation, alert events, conversation crisis state

Revision ID: 0007_crisis
Revises: 0006_status_events
"""

import sqlalchemy as sa
from alembic import op

revision = "0007_crisis"
down_revision = "0006_status_events"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("alerts") as batch:
        batch.add_column(sa.Column("kind", sa.String(24), nullable=True))
        batch.add_column(sa.Column("channel", sa.String(16), nullable=True))
        batch.add_column(sa.Column("region_code", sa.String(12), nullable=True))
        batch.add_column(sa.Column("place", sa.String(200), nullable=True))
        batch.add_column(sa.Column("acknowledged_by", sa.String(64), nullable=True))
        batch.add_column(sa.Column("acknowledged_at", sa.DateTime(timezone=True), nullable=True))
        batch.add_column(sa.Column("escalations", sa.Integer(), nullable=False, server_default="0"))
        batch.add_column(sa.Column("escalated_at", sa.DateTime(timezone=True), nullable=True))
        batch.create_index("ix_alerts_region_code", ["region_code"])
    op.create_table(
        "alert_events",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("alert_id", sa.Integer(), sa.ForeignKey("alerts.id"), nullable=False),
        sa.Column("kind", sa.String(24), nullable=False),
        sa.Column("actor", sa.String(64), nullable=False),
        sa.Column("reason", sa.Text(), nullable=True),
        sa.Column("payload", sa.JSON(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index("ix_alert_events_alert_id", "alert_events", ["alert_id"])
    with op.batch_alter_table("chat_conversations") as batch:
        batch.add_column(sa.Column("crisis_since", sa.DateTime(timezone=True), nullable=True))
        batch.add_column(sa.Column("crisis_alert_id", sa.Integer(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("chat_conversations") as batch:
        batch.drop_column("crisis_alert_id")
        batch.drop_column("crisis_since")
    op.drop_index("ix_alert_events_alert_id", table_name="alert_events")
    op.drop_table("alert_events")
    with op.batch_alter_table("alerts") as batch:
        batch.drop_index("ix_alerts_region_code")
        for name in ("escalated_at", "escalations", "acknowledged_at", "acknowledged_by", "place",
                     "region_code", "channel", "kind"):
            batch.drop_column(name)
