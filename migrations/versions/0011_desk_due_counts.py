"""desk_due_counts: open cases by (county, due date, place, body), kept by triggers on cases

Revision ID: 0011_desk_due_counts
Revises: 0010_desk_counts

The board's near-due and overdue numbers are a range over due dates; for a city or the province
this summary answers them from a few thousand rows instead of every open case due by then.
"""

import sqlalchemy as sa
from alembic import op

revision = "0011_desk_due_counts"
down_revision = "0010_desk_counts"
branch_labels = None
depends_on = None

OPEN = "('accepted', 'assigned', 'handling', 'mediating', 'reception_booked', 'escalated', 'review', 'recheck')"
KEYS = ("county_code", "due_date", "location_code", "body_id")
WATCHED = "county_code, location_code, body_id, status, due_date"


def _exprs(row: str) -> list[str]:
    return [f"coalesce({row}.county_code, '')", f"{row}.due_date", f"coalesce({row}.location_code, '')",
            f"coalesce({row}.body_id, '')"]


def _counted(row: str) -> str:
    return f"{row}.status IN {OPEN} AND {row}.due_date IS NOT NULL"


def _plus(row: str) -> str:
    return (f"INSERT INTO desk_due_counts ({', '.join(KEYS)}, n) VALUES ({', '.join(_exprs(row))}, 1) "
            f"ON CONFLICT ({', '.join(KEYS)}) DO UPDATE SET n = desk_due_counts.n + 1")


def _minus(row: str) -> str:
    match = " AND ".join(f"{k} = {v}" for k, v in zip(KEYS, _exprs(row), strict=True))
    return f"UPDATE desk_due_counts SET n = n - 1 WHERE {match}"


REFILL = (f"INSERT INTO desk_due_counts ({', '.join(KEYS)}, n) SELECT {', '.join(_exprs('cases'))}, count(*) "
          f"FROM cases WHERE {_counted('cases')} GROUP BY 1, 2, 3, 4")


def upgrade() -> None:
    op.create_table(
        "desk_due_counts",
        sa.Column("county_code", sa.String(16), nullable=False),
        sa.Column("due_date", sa.Date(), nullable=False),
        sa.Column("location_code", sa.String(16), nullable=False),
        sa.Column("body_id", sa.String(64), nullable=False),
        sa.Column("n", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint(*KEYS),
    )
    op.execute(REFILL)
    if op.get_bind().dialect.name == "postgresql":
        op.execute(f"""
CREATE FUNCTION desk_due_counts_apply() RETURNS trigger AS $$
BEGIN
  IF TG_OP IN ('UPDATE', 'DELETE') AND {_counted('OLD')} THEN
    {_minus('OLD')};
  END IF;
  IF TG_OP IN ('INSERT', 'UPDATE') AND {_counted('NEW')} THEN
    {_plus('NEW')};
  END IF;
  RETURN NULL;
END $$ LANGUAGE plpgsql""")
        op.execute("CREATE TRIGGER cases_desk_due_ins AFTER INSERT OR DELETE ON cases "
                   "FOR EACH ROW EXECUTE FUNCTION desk_due_counts_apply()")
        old = ", ".join(f"OLD.{c.strip()}" for c in WATCHED.split(","))
        new = ", ".join(f"NEW.{c.strip()}" for c in WATCHED.split(","))
        op.execute(f"CREATE TRIGGER cases_desk_due_upd AFTER UPDATE OF {WATCHED} ON cases FOR EACH ROW "
                   f"WHEN (({old}) IS DISTINCT FROM ({new})) EXECUTE FUNCTION desk_due_counts_apply()")
        return
    op.execute(f"CREATE TRIGGER cases_desk_due_ins AFTER INSERT ON cases WHEN {_counted('NEW')} "
               f"BEGIN {_plus('NEW')}; END")
    op.execute(f"CREATE TRIGGER cases_desk_due_del AFTER DELETE ON cases WHEN {_counted('OLD')} "
               f"BEGIN {_minus('OLD')}; END")
    op.execute(f"CREATE TRIGGER cases_desk_due_upd_old AFTER UPDATE OF {WATCHED} ON cases "
               f"WHEN {_counted('OLD')} BEGIN {_minus('OLD')}; END")
    op.execute(f"CREATE TRIGGER cases_desk_due_upd_new AFTER UPDATE OF {WATCHED} ON cases "
               f"WHEN {_counted('NEW')} BEGIN {_plus('NEW')}; END")


def downgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.execute("DROP TRIGGER IF EXISTS cases_desk_due_upd ON cases")
        op.execute("DROP TRIGGER IF EXISTS cases_desk_due_ins ON cases")
        op.execute("DROP FUNCTION IF EXISTS desk_due_counts_apply()")
    else:
        for name in ("ins", "del", "upd_old", "upd_new"):
            op.execute(f"DROP TRIGGER IF EXISTS cases_desk_due_{name}")
    op.drop_table("desk_due_counts")
