"""leases: named claims with an expiry (a conversation's turn lock across gateways, the leader)

Revision ID: 0014_leases
Revises: 0013_privacy

Any number of gateways share the inbox: a conversation is processed by the gateway holding its
lease; a crashed gateway's leases expire and are taken over (issue 15).
"""

import sqlalchemy as sa
from alembic import op

revision = "0014_leases"
down_revision = "0013_privacy"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "leases",
        sa.Column("name", sa.String(160), primary_key=True),
        sa.Column("holder", sa.String(64), nullable=False),
        sa.Column("expires_at", sa.DateTime(timezone=True), nullable=False),
    )


def downgrade() -> None:
    op.drop_table("leases")
