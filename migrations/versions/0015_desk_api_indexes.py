"""desk_api_indexes: hotspot candidates by (problem, place, time); open cases newest first for Open311

Revision ID: 0015_desk_api_indexes
Revises: 0014_leases

A filing looks for the recent cases of its problem in its township. With ``(category_l2,
created_at)`` PostgreSQL read the whole province's week of that problem (thousands of rows at
1,000,000 cases) and intersected it with the place; ``(category_l2, location_code, created_at)``
goes straight to the township's few rows.

``GET requests.json?status=open`` wants the newest 1,000 open cases of a 90-day window: with
only ``(created_at, id)`` PostgreSQL intersected bitmaps of the whole window and the open
statuses and sorted them (hundreds of ms at 1,000,000 cases); the partial index of open cases
in ``(created_at, id)`` order answers it by reading 1,000 entries.
"""

import sqlalchemy as sa
from alembic import op

OPEN = ("accepted", "assigned", "escalated", "handling", "mediating", "reception_booked", "recheck", "review")
OPEN_WHERE = "status IN (" + ", ".join(f"'{s}'" for s in OPEN) + ")"

revision = "0015_desk_api_indexes"
down_revision = "0014_leases"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.drop_index("ix_cases_hotspot", "cases")
    op.create_index("ix_cases_hotspot_place", "cases", ["category_l2", "location_code", "created_at"])
    op.create_index("ix_cases_open_created", "cases", ["created_at", "id"], postgresql_where=sa.text(OPEN_WHERE),
                    sqlite_where=sa.text(OPEN_WHERE))


def downgrade() -> None:
    op.drop_index("ix_cases_open_created", "cases")
    op.drop_index("ix_cases_hotspot_place", "cases")
    op.create_index("ix_cases_hotspot", "cases", ["category_l2", "created_at"])
