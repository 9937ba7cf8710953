"""centre: early-warning alerts (members, steps), 挂牌督办 (steps), run locks, desk indexes

Revision ID: 0009_centre
Revises: 0008_open311
"""

import sqlalchemy as sa
from alembic import op

revision = "0009_centre"
down_revision = "0008_open311"
branch_labels = None
depends_on = None

# The board counts only cases still on someone's desk; a partial covering index keeps those
# counts an index-only scan however many closed cases the table holds.
DESK_STATUSES = ("accepted", "assigned", "handling", "mediating", "reception_booked", "escalated",
                 "review", "recheck", "follow_up")
DESK_WHERE = "status IN (" + ", ".join(f"'{s}'" for s in DESK_STATUSES) + ")"


def _steps(name: str, parent: str, fk: str, kind_len: int) -> None:
    op.create_table(
        name,
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column(fk, sa.Integer(), sa.ForeignKey(f"{parent}.id"), nullable=False),
        sa.Column("kind", sa.String(kind_len), nullable=False),
        sa.Column("actor", sa.String(64), nullable=False),
        sa.Column("reason", sa.Text(), nullable=True),
        sa.Column("payload", sa.JSON(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index(f"ix_{name}_{fk}", name, [fk])


def upgrade() -> None:
    op.create_table(
        "centre_alerts",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("key", sa.String(200), nullable=False),
        sa.Column("kind", sa.String(24), nullable=False),
        sa.Column("severity", sa.String(8), nullable=False),
        sa.Column("state", sa.String(12), nullable=False),
        sa.Column("county_code", sa.String(16), nullable=True),
        sa.Column("division_code", sa.String(16), nullable=True),
        sa.Column("body_id", sa.String(64), nullable=True),
        sa.Column("case_id", sa.Integer(), sa.ForeignKey("cases.id"), nullable=True),
        sa.Column("title", sa.Text(), nullable=False),
        sa.Column("place_label", sa.String(200), nullable=True),
        sa.Column("problem", sa.String(64), nullable=True),
        sa.Column("member_count", sa.Integer(), nullable=False, server_default="0"),
        sa.Column("level", sa.Integer(), nullable=False, server_default="0"),
        sa.Column("assigned_kind", sa.String(12), nullable=True),
        sa.Column("assigned_to", sa.String(128), nullable=True),
        sa.Column("acknowledged_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("escalated_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("closed_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("last_member_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("key"),
    )
    for col in ("kind", "state", "county_code", "division_code", "created_at"):
        op.create_index(f"ix_centre_alerts_{col}", "centre_alerts", [col])
    op.create_table(
        "centre_alert_members",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("alert_id", sa.Integer(), sa.ForeignKey("centre_alerts.id"), nullable=False),
        sa.Column("case_id", sa.Integer(), sa.ForeignKey("cases.id"), nullable=False),
        sa.Column("joined_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("alert_id", "case_id"),
    )
    op.create_index("ix_centre_alert_members_alert_id", "centre_alert_members", ["alert_id"])
    op.create_index("ix_centre_alert_members_case_id", "centre_alert_members", ["case_id"])
    _steps("centre_alert_events", "centre_alerts", "alert_id", 24)
    op.create_table(
        "supervisions",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("target_kind", sa.String(8), nullable=False),
        sa.Column("case_id", sa.Integer(), sa.ForeignKey("cases.id"), nullable=True),
        sa.Column("body_id", sa.String(64), nullable=True),
        sa.Column("body_name", sa.String(128), nullable=True),
        sa.Column("county_code", sa.String(16), nullable=True),
        sa.Column("division_code", sa.String(16), nullable=True),
        sa.Column("reason", sa.Text(), nullable=False),
        sa.Column("deadline", sa.Date(), nullable=False),
        sa.Column("state", sa.String(12), nullable=False),
        sa.Column("feedback", sa.Text(), nullable=True),
        sa.Column("created_by", sa.String(64), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("answered_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("lifted_at", sa.DateTime(timezone=True), nullable=True),
        sa.PrimaryKeyConstraint("id"),
    )
    for col in ("case_id", "body_id", "county_code", "state"):
        op.create_index(f"ix_supervisions_{col}", "supervisions", [col])
    _steps("supervision_events", "supervisions", "supervision_id", 16)
    op.create_table(
        "run_locks",
        sa.Column("name", sa.String(32), nullable=False),
        sa.Column("holder", sa.String(128), nullable=False),
        sa.Column("expires_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("last_run_at", sa.DateTime(timezone=True), nullable=True),
        sa.PrimaryKeyConstraint("name"),
    )
    op.create_index(
        "ix_cases_desk", "cases",
        ["county_code", "location_code", "body_id", "tier", "status", "risk_level", "due_date",
         "assigned_person_id"],
        postgresql_where=sa.text(DESK_WHERE), sqlite_where=sa.text(DESK_WHERE),
    )
    # the drill-down lists: open cases of a county in due order, filtered on the index alone
    op.create_index(
        "ix_cases_desk_due", "cases",
        ["county_code", "due_date", "id", "status", "risk_level", "assigned_person_id", "location_code", "body_id"],
        postgresql_where=sa.text(DESK_WHERE), sqlite_where=sa.text(DESK_WHERE),
    )
    op.create_index("ix_cases_hotspot", "cases", ["category_l2", "created_at"])


def downgrade() -> None:
    op.drop_index("ix_cases_hotspot", "cases")
    op.drop_index("ix_cases_desk_due", "cases")
    op.drop_index("ix_cases_desk", "cases")
    for name in ("run_locks", "supervision_events", "supervisions", "centre_alert_events",
                 "centre_alert_members", "centre_alerts"):
        op.drop_table(name)
