"""desk_api_indexes: hotspot candidates found by (problem, place, time) instead of (problem, time)

Revision ID: 0015_desk_api_indexes
Revises: 0011_desk_due_counts

A filing looks for the recent cases of its problem in its township. With ``(category_l2,
created_at)`` PostgreSQL read the whole province's week of that problem (thousands of rows at
1,000,000 cases) and intersected it with the place; ``(category_l2, location_code, created_at)``
goes straight to the township's few rows.
"""

from alembic import op

revision = "0015_desk_api_indexes"
down_revision = "0011_desk_due_counts"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.drop_index("ix_cases_hotspot", "cases")
    op.create_index("ix_cases_hotspot_place", "cases", ["category_l2", "location_code", "created_at"])


def downgrade() -> None:
    op.drop_index("ix_cases_hotspot_place", "cases")
    op.create_index("ix_cases_hotspot", "cases", ["category_l2", "created_at"])
