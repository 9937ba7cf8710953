"""rates: monthly rate tallies, stored situation reports, the public survey's answers

Revision ID: 0012_rates
Revises: 0011_desk_due_counts
"""

import sqlalchemy as sa
from alembic import op

revision = "0012_rates"
down_revision = "0011_desk_due_counts"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "rate_monthly",
        sa.Column("month", sa.String(7), primary_key=True),
        sa.Column("county_code", sa.String(16), primary_key=True),
        sa.Column("township", sa.String(16), primary_key=True),
        sa.Column("body_id", sa.String(64), primary_key=True),
        sa.Column("category", sa.String(32), primary_key=True),
        sa.Column("rate_id", sa.String(64), primary_key=True),
        sa.Column("numerator", sa.Float(), nullable=False),
        sa.Column("denominator", sa.Integer(), nullable=False),
    )
    op.create_index("ix_rate_monthly_township", "rate_monthly", ["township", "month"])
    op.create_index("ix_rate_monthly_rollup", "rate_monthly", ["county_code", "body_id", "category", "month"])
    op.create_table(
        "rate_refreshes",
        sa.Column("month", sa.String(7), primary_key=True),
        sa.Column("county_code", sa.String(16), primary_key=True),
        sa.Column("computed_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("cases", sa.Integer(), nullable=False),
    )
    op.create_table(
        "stored_reports",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("region", sa.String(16), nullable=False),
        sa.Column("period", sa.String(7), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("data", sa.JSON(), nullable=False),
        sa.Column("html", sa.Text(), nullable=False),
        sa.Column("generated_by", sa.String(64), nullable=False),
        sa.Column("generated_at", sa.DateTime(timezone=True), nullable=False),
        sa.UniqueConstraint("region", "period", "version"),
    )
    op.create_index("ix_stored_reports_region", "stored_reports", ["region"])
    op.create_table(
        "survey_answers",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("day", sa.Date(), nullable=False),
        sa.Column("visitor", sa.String(64), nullable=False),
        sa.Column("region", sa.String(16), nullable=False),
        sa.Column("participated", sa.String(8), nullable=False),
        sa.Column("satisfied", sa.String(12), nullable=False),
        sa.Column("aware", sa.String(8), nullable=False),
        sa.UniqueConstraint("day", "visitor"),
    )
    op.create_index("ix_survey_answers_day", "survey_answers", ["day"])


def downgrade() -> None:
    op.drop_table("survey_answers")
    op.drop_table("stored_reports")
    op.drop_table("rate_refreshes")
    op.drop_index("ix_rate_monthly_rollup", "rate_monthly")
    op.drop_index("ix_rate_monthly_township", "rate_monthly")
    op.drop_table("rate_monthly")
