"""routing fields on cases: handling body id, assigned person, confidentiality

Revision ID: 0002
Revises: 0001
"""

import sqlalchemy as sa
from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("cases") as batch:
        batch.add_column(sa.Column("body_id", sa.String(64), nullable=True))
        batch.add_column(sa.Column("assigned_person_id", sa.String(64), nullable=True))
        batch.add_column(sa.Column("assigned_person_name", sa.String(64), nullable=True))
        batch.add_column(sa.Column("confidential", sa.Boolean(), nullable=False, server_default=sa.false()))
        batch.add_column(sa.Column("hidden_from", sa.JSON(), nullable=False, server_default="[]"))
        batch.create_index("ix_cases_body_id", ["body_id"])
        batch.create_index("ix_cases_assigned_person_id", ["assigned_person_id"])


def downgrade() -> None:
    with op.batch_alter_table("cases") as batch:
        batch.drop_index("ix_cases_assigned_person_id")
        batch.drop_index("ix_cases_body_id")
        for name in ("hidden_from", "confidential", "assigned_person_name", "assigned_person_id", "body_id"):
            batch.drop_column(name)
