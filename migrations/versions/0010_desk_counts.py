"""desk_counts: the centre board's summary of open cases, kept by triggers on cases

Revision ID: 0010_desk_counts
Revises: 0009_centre

One row per (county, place, body, tier, status, risk, unassigned) of the cases on someone's desk,
with their number. Row triggers on ``cases`` keep it in the same transaction as every insert,
update and delete, so it is right under concurrent writes (the upsert locks the one row it
changes); ``fengqiao audit reconcile`` checks it against the event log and ``--rebuild`` refills it.
"""

import sqlalchemy as sa
from alembic import op

revision = "0010_desk_counts"
down_revision = "0009_centre"
branch_labels = None
depends_on = None

STATUSES = "('accepted', 'assigned', 'handling', 'mediating', 'reception_booked', 'escalated', 'review', " \
           "'recheck', 'follow_up')"
KEYS = ("county_code", "location_code", "body_id", "tier", "status", "risk_level", "unassigned")
WATCHED = "county_code, location_code, body_id, tier, status, risk_level, assigned_person_id"


def _exprs(row: str) -> list[str]:
    return [f"coalesce({row}.county_code, '')", f"coalesce({row}.location_code, '')",
            f"coalesce({row}.body_id, '')", f"coalesce({row}.tier, '')", f"{row}.status",
            f"coalesce({row}.risk_level, '')", f"({row}.assigned_person_id IS NULL)"]


def _values(row: str) -> str:
    return ", ".join(_exprs(row))


def _match(row: str) -> str:
    return " AND ".join(f"{k} = {v}" for k, v in zip(KEYS, _exprs(row), strict=True))


def _plus(row: str) -> str:
    return (f"INSERT INTO desk_counts ({', '.join(KEYS)}, n) VALUES ({_values(row)}, 1) "
            f"ON CONFLICT ({', '.join(KEYS)}) DO UPDATE SET n = desk_counts.n + 1")


def _minus(row: str) -> str:
    return f"UPDATE desk_counts SET n = n - 1 WHERE {_match(row)}"


REFILL = (f"INSERT INTO desk_counts ({', '.join(KEYS)}, n) SELECT {_values('cases')}, count(*) FROM cases "
          f"WHERE status IN {STATUSES} GROUP BY 1, 2, 3, 4, 5, 6, 7")


def upgrade() -> None:
    op.create_table(
        "desk_counts",
        sa.Column("county_code", sa.String(16), nullable=False),
        sa.Column("location_code", sa.String(16), nullable=False),
        sa.Column("body_id", sa.String(64), nullable=False),
        sa.Column("tier", sa.String(32), nullable=False),
        sa.Column("status", sa.String(32), nullable=False),
        sa.Column("risk_level", sa.String(8), nullable=False),
        sa.Column("unassigned", sa.Boolean(), nullable=False),
        sa.Column("n", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint(*KEYS),
    )
    op.execute(REFILL)
    if op.get_bind().dialect.name == "postgresql":
        op.execute(f"""
CREATE FUNCTION desk_counts_apply() RETURNS trigger AS $$
BEGIN
  IF TG_OP IN ('UPDATE', 'DELETE') AND OLD.status IN {STATUSES} THEN
    {_minus('OLD')};
  END IF;
  IF TG_OP IN ('INSERT', 'UPDATE') AND NEW.status IN {STATUSES} THEN
    {_plus('NEW')};
  END IF;
  RETURN NULL;
END $$ LANGUAGE plpgsql""")
        op.execute("CREATE TRIGGER cases_desk_counts_ins AFTER INSERT OR DELETE ON cases "
                   "FOR EACH ROW EXECUTE FUNCTION desk_counts_apply()")
        op.execute(f"CREATE TRIGGER cases_desk_counts_upd AFTER UPDATE OF {WATCHED} ON cases FOR EACH ROW "
                   f"WHEN (({_values('OLD')}) IS DISTINCT FROM ({_values('NEW')})) "
                   "EXECUTE FUNCTION desk_counts_apply()")
        return
    op.execute(f"CREATE TRIGGER cases_desk_counts_ins AFTER INSERT ON cases WHEN NEW.status IN {STATUSES} "
               f"BEGIN {_plus('NEW')}; END")
    op.execute(f"CREATE TRIGGER cases_desk_counts_del AFTER DELETE ON cases WHEN OLD.status IN {STATUSES} "
               f"BEGIN {_minus('OLD')}; END")
    op.execute(f"CREATE TRIGGER cases_desk_counts_upd_old AFTER UPDATE OF {WATCHED} ON cases "
               f"WHEN OLD.status IN {STATUSES} BEGIN {_minus('OLD')}; END")
    op.execute(f"CREATE TRIGGER cases_desk_counts_upd_new AFTER UPDATE OF {WATCHED} ON cases "
               f"WHEN NEW.status IN {STATUSES} BEGIN {_plus('NEW')}; END")


def downgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.execute("DROP TRIGGER IF EXISTS cases_desk_counts_upd ON cases")
        op.execute("DROP TRIGGER IF EXISTS cases_desk_counts_ins ON cases")
        op.execute("DROP FUNCTION IF EXISTS desk_counts_apply()")
    else:
        for name in ("ins", "del", "upd_old", "upd_new"):
            op.execute(f"DROP TRIGGER IF EXISTS cases_desk_counts_{name}")
    op.drop_table("desk_counts")
